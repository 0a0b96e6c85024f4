"""The secure-mode participant (docs/protocol.md section 10): nobody but the hospital ever sees its update.

A round, phase by phase (each `step()` does what is due now):

- **advertise**: draw the round's secrets (a BN254 mask key pair, an X25519 encryption key pair, the self
  seed and the randomness of its Shamir sharings), journal them, then advertise the two public keys;
- **commit**: fix the round seed if nobody has yet; train from the global model (the quantized update and
  its sample count are journaled; a training that runs as a job holds the member here until it is done);
  share the self seed and the mask key among the neighbours the seed gives, encrypted to each, and commit
  that share bundle (on chain) with the self-seed hash and the sample count;
- **upload**: only if its commitment is on chain (the committed set is final by then), weight the update,
  add the self mask and the pairwise masks, store the masked vector and upload its root;
- **availability**: from its upload until the round closes, check that the blob of its masked vector is whole
  in the store and put it back, rebuilt from the journal (the same bytes), when it is missing or corrupt; if its
  masked vector is challenged, post its chunks (docs/protocol.md section 11.2);
- **unmask**: if it uploaded and the round may be unmasked (every survivor keeps ``threshold`` surviving
  neighbours and the survivors' graph is connected: ``SecureRound.check_unmaskable``), decrypt what its
  neighbours' bundles hold for it and publish its unmask bundle: its own self seed, each surviving
  neighbour's self-seed share and each dropped neighbour's mask-key share;
- after the task's end: erase the journaled secrets, claim and withdraw (:class:`BaseParticipant`).

Crash safety: every secret is journaled before anything that depends on it is sent, and everything sent
is rebuilt from the journal and the chain, deterministically. A participant restarted at any point
advertises the journaled keys (never new ones), rebuilds the very same share bundle (same randomness,
same reference) and commits it at most once (the chain's entry says whether it did), masks the journaled
update and publishes its unmask bundle once (the chain's announcements say whether it did).
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from fedchain.chain.coordinator import EntryState, RoundPhase, TaskState
from fedchain.chain.secure_coordinator import SecureCoordinator, advertise_end
from fedchain.client.api import Client, Config
from fedchain.roles.journal import Journal, JournalError, RoundSecrets, TrainedUpdate
from fedchain.roles.participant import BaseParticipant
from fedchain.roles.secure_round import ChainRound, masked_tree_of, neighbour_share_bundles, put_masked, read_round
from fedchain.roles.task import RoleError
from fedchain.secagg.derive import new_self_seed, self_seed_hash
from fedchain.secagg.errors import RoundFailedError
from fedchain.secagg.keys import new_round_keys
from fedchain.secagg.masking import mask_update, weighted_update
from fedchain.secagg.roster import Commitment, Member, SecureRound
from fedchain.secagg.shares import new_share_randomness, share_bundle, unmask_bundle
from fedchain.storage import BlobStore


class SecureStep(IntEnum):
    """The steps of a secure round after advertising, in order (what a dropping participant stops before)."""

    COMMIT = 1
    UPLOAD = 2
    UNMASK = 3


class SecureParticipant(BaseParticipant):
    """A secure-mode member that trains with ``client`` and stakes ``stake``."""

    COORDINATOR = SecureCoordinator
    coordinator: SecureCoordinator
    INPUT = "masked update"
    ENTRY_WINDOW = "advertise"
    ENTRY_WORDS = MappingProxyType({
        EntryState.EMPTY: "did not take part",
        EntryState.ADVERTISED: "advertised, never committed shares",
        EntryState.COMMITTED: "advertised, committed shares, never uploaded",
        EntryState.REVEALED: "advertised, committed shares, uploaded",
        EntryState.DROPPED: "advertised, committed shares, uploaded, its masked update was dropped",
        EntryState.FORFEITED: "advertised, missed a step of the round (slashed)",
    })

    def __init__(self, coordinator: SecureCoordinator, store: BlobStore, task_id: int, account: LocalAccount, *,
                 client: Client, journal: Journal, stake: int | None = None, fit_config: Config | None = None) -> None:
        super().__init__(coordinator, store, task_id, account, client=client, journal=journal, stake=stake,
                         fit_config=fit_config)
        self._stopped: set[int] = set()

    def play_round(self, state: TaskState) -> None:
        """Advertise, commit, upload or publish unmask shares, as the current round's phase asks; keep the uploaded
        masked vector's blob whole in the store; say why the round goes on without this member."""
        round = state.current_round
        if round in self._stopped:
            return
        view = self.coordinator.round_view(self.task_id, round)
        if view.phase == RoundPhase.ADVERTISE:
            self.entry_window_open(round)
            if self.picked(state, round, view):
                self._advertise(round, view.commits)
            return
        entry = self.entry(round)
        if view.phase == RoundPhase.NOT_OPEN or entry == EntryState.EMPTY:
            self.wait_for_round(round, view, advertise_end(view, self.rules.params))
        elif view.phase == RoundPhase.COMMIT and entry == EntryState.ADVERTISED:
            self._commit(round, state)
        elif view.phase == RoundPhase.UPLOAD and entry == EntryState.COMMITTED:
            self._upload(round)
        elif entry == EntryState.REVEALED:
            self.keep_published(round)
            # an uploaded masked vector may be challenged from its upload on, in the upload and availability phases
            if view.open_challenges and view.phase in (RoundPhase.UPLOAD, RoundPhase.AVAILABILITY):
                self._answer_challenge(round, lambda: masked_tree_of(self.verified, self.rules, self._masked(round)[0]))
            if view.phase == RoundPhase.UNMASK:
                self._publish_unmask_bundle(round)

    def reward_units(self, round: int) -> int:
        """The weight of this member's share commitment of ``round``."""
        (weight,) = [commitment.weight for commitment in self.coordinator.share_commitments(self.task_id, round)
                     if commitment.participant.lower() == self.address.lower()]
        return weight

    def published_ref(self, round: int) -> bytes:
        """The blob reference of this member's upload of ``round``, as the chain has it."""
        (ref,) = [upload.blob_ref for upload in self.coordinator.uploads(self.task_id, round)
                  if upload.participant.lower() == self.address.lower()]
        return ref

    def republish(self, round: int) -> bytes:
        """Store the masked vector of ``round`` again, masked anew from the journal (the same bytes)."""
        return put_masked(self.store, self.rules, self._masked(round)[0], verified=self.verified).ref

    def _settle(self) -> None:
        """After the task's end: erase every journaled secret, then claim and take the stake back."""
        self.journal.erase_round_secrets()
        super()._settle()

    # -- hook for adversarial variants ---------------------------------------------------------------

    def takes_part(self, round: int, step: SecureStep) -> bool:
        """Whether to go on with ``step`` of ``round`` (an honest participant always does)."""
        return True

    # -- actions -------------------------------------------------------------------------------------

    def _advertise(self, round: int, advertised: int) -> None:
        if self.entry(round) != EntryState.EMPTY or advertised >= self.rules.params.cohort_cap:
            return
        if not self._stake_suffices(round):
            return
        secrets = self.journal.round_secrets(round) or self._draw_secrets(round)
        (pk_x, pk_y), encryption_key = secrets.keys.mask.public, secrets.keys.encryption.public
        self._send(f"advertise:{round}", lambda: self.coordinator.advertise(
            self.task_id, pk_x, pk_y, encryption_key, sender=self.account), round)

    def _draw_secrets(self, round: int) -> RoundSecrets:
        """Fresh secrets for ``round`` from the OS random source, journaled (before anything is sent)."""
        secrets = RoundSecrets(round=round, keys=new_round_keys(), self_seed=new_self_seed(),
                               share_randomness=new_share_randomness(self.rules.params.threshold))
        self.journal.record_round_secrets(secrets)
        return secrets

    def _commit(self, round: int, state: TaskState) -> None:
        if not self.takes_part(round, SecureStep.COMMIT):
            return
        secrets = self._secrets(round)
        if not self.coordinator.secure_round(self.task_id, round).seed_fixed:
            self._send(f"fixRoundSeed:{round}", lambda: self.coordinator.fix_round_seed(self.task_id,
                                                                                       sender=self.account), round)
        trained = self._train(round, state)
        if trained is None:  # training
            return
        sets = self._read(round).sets
        me = self._me(sets, secrets)
        try:
            bundle = share_bundle(round=sets, owner=me, keys=secrets.keys, self_seed=secrets.self_seed,
                                  randomness=secrets.share_randomness)
        except RoundFailedError as error:
            self._stop(round, f"cannot share its secrets: {error}")
            return
        seed_hash = self_seed_hash(secrets.self_seed)
        self._send(f"commitShares:{round}", lambda: self.coordinator.commit_shares(
            self.task_id, me.index, me.public[0], me.public[1], seed_hash, bundle, trained.sample_count,
            sender=self.account), round)

    def _train(self, round: int, state: TaskState) -> TrainedUpdate | None:
        """The update of ``round``: journaled, or trained from the round's global model and journaled (before
        anything depends on it); None while the training runs."""
        if (journaled := self.journal.trained_update(round)) is not None:
            return journaled
        trained = self.trained_update(round, state.model_root, state.model_blob_ref)
        if trained is not None:
            self.log(f"trained round {round}", round=round)
        return trained

    def _upload(self, round: int) -> None:
        if not self.takes_part(round, SecureStep.UPLOAD):
            return
        masked, me, commitment = self._masked(round)
        stored = put_masked(self.store_for(round), self.rules, masked, verified=self.verified)
        self._send(f"upload:{round}", lambda: self.coordinator.upload(
            self.task_id, me.index, me.public[0], me.public[1], commitment.self_seed_hash,
            commitment.share_bundle_ref, commitment.weight, stored.header.root, stored.ref, sender=self.account), round)

    def _masked(self, round: int) -> tuple[NDArray[np.uint64], Member, Commitment]:
        """This member's masked vector of ``round`` (from its journaled update and secrets, so the same bytes
        every time), with its advertised entry and its commitment."""
        secrets = self._secrets(round)
        trained = self.journal.trained_update(round)
        if trained is None:
            raise JournalError(f"round {round}: shares are committed on chain but {self.journal.path} holds no "
                               "trained update")
        sets = self._read(round).sets
        me = self._me(sets, secrets)
        commitment = sets.committed[me.address]
        if commitment.self_seed_hash != self_seed_hash(secrets.self_seed):
            raise JournalError(f"round {round}: the self seed in {self.journal.path} is not the committed one")
        weighted = weighted_update(trained.vector, commitment.weight, self.rules.params.clip)
        masked = mask_update(weighted, round=sets, owner=me, keys=secrets.keys.mask, self_seed=secrets.self_seed)
        return masked, me, commitment

    def _publish_unmask_bundle(self, round: int) -> None:
        if not self.takes_part(round, SecureStep.UNMASK):
            return
        published = {announcement.participant.lower()
                     for announcement in self.coordinator.unmask_announcements(self.task_id, round)}
        if self.address.lower() in published:
            return
        secrets = self._secrets(round)
        chain_round = self._read(round)
        sets = chain_round.sets
        me = self._me(sets, secrets)
        min_participants = self.rules.params.min_participants
        try:
            sets.check_unmaskable(min_participants)
        except RoundFailedError as error:
            self._stop(round, f"releases no shares: {error}")
            return
        bundle = unmask_bundle(round=sets, holder=me, keys=secrets.keys, self_seed=secrets.self_seed,
                               bundles=neighbour_share_bundles(chain_round, me), min_participants=min_participants)
        bundle_ref = self.store.put(bundle.encode())
        self._send(f"publishUnmaskBundle:{round}", lambda: self.coordinator.publish_unmask_bundle(
            self.task_id, bundle_ref, sender=self.account), round)

    # -- reading -------------------------------------------------------------------------------------

    def entered(self, round: int) -> bool:
        """Whether the journal holds the secrets of ``round`` (drawn and written before the advertisement is sent)."""
        return self.journal.round_secrets(round) is not None

    def _secrets(self, round: int) -> RoundSecrets:
        secrets = self.journal.round_secrets(round)
        if secrets is None:
            raise JournalError(f"round {round}: keys are advertised on chain but {self.journal.path} holds no "
                               "secrets for the round")
        return secrets

    def _read(self, round: int) -> ChainRound:
        chain_round = read_round(self.coordinator, self.rules, self.task_id, round)
        if chain_round is None:
            raise RoleError(f"round {round}: the chain shows no round seed or no advertisement yet")
        return chain_round

    def _me(self, sets: SecureRound, secrets: RoundSecrets) -> Member:
        """This participant's advertised entry, checked against the journaled keys."""
        me = sets.member(self.address)
        if me.public != secrets.keys.mask.public or me.encryption != secrets.keys.encryption.public:
            raise JournalError(f"the keys advertised on chain are not the ones in {self.journal.path}")
        return me

    def _stop(self, round: int, reason: str) -> None:
        """Take no further part in ``round`` (said once)."""
        self._stopped.add(round)
        self.warn(f"round {round}: {reason}", event="round_left", round=round)


class WithholdingSecureParticipant(SecureParticipant):
    """Adversarial: in ``rounds`` it uploads a masked root whose vector it never publishes nor puts on chain
    when challenged (it is dropped from the round, slashed, and counts as a dropout)."""

    def __init__(self, *args: Any, rounds: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.withheld_rounds = rounds

    def publishes(self, round: int) -> bool:
        """Never in a withheld round."""
        return round not in self.withheld_rounds


class DroppingParticipant(SecureParticipant):
    """Adversarial, or just unlucky: in ``rounds`` it drops out before ``before`` (COMMIT: advertised only;
    UPLOAD: committed its shares, never uploads; UNMASK: uploaded, never publishes its unmask bundle)."""

    def __init__(self, *args: Any, rounds: frozenset[int], before: SecureStep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drop_rounds = rounds
        self.drops_before = before

    def takes_part(self, round: int, step: SecureStep) -> bool:
        """Nothing from ``drops_before`` on in a dropped round."""
        return round not in self.drop_rounds or step < self.drops_before
