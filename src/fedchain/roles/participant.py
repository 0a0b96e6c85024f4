"""The participant (a hospital): joins with a stake, trains each round, commits, reveals, claims rewards.

:class:`BaseParticipant` is what a participant does in either mode (join, train and quantize its update,
claim and withdraw at the end); :class:`Participant` adds the plain round, and
:class:`fedchain.roles.secure_participant.SecureParticipant` the secure one.

Rewards need no bookkeeping here: the contract books each finalized round's reward to the member at its
next commit (docs/protocol.md section 8.5), so after the task's end one claim collects everything.

Crash safety: the trained update is journaled and its blob uploaded, then the salt, root, sample count and
blob reference of the round are written to the journal, and only then is the commit sent. A participant
rebuilt from the same journal after a crash at any point therefore (1) waits while a transaction it sent may
still be mined (`Agent.in_flight`), (2) finds its commitment on chain and reveals it from the journal, or (3)
commits the journaled update again with the same salt; it never trains a second, different update for a
round it has journaled. Rewards already claimed read as zero on chain, so a claim is never sent twice.

Training as a job: a participant starts its round's training (:func:`fedchain.client.jobs.start_fit`) and keeps
stepping; while the job runs it sends nothing for the round and says so through :meth:`BaseParticipant.pending_job`
(the simulator then waits for the job instead of moving the clock), and the step that finds the job done journals
the update and goes on as above. A plain client's ``fit`` runs inside the step that starts it, so its job is done
at once. Nothing is journaled or sent while a job runs, so a crash then only loses the training: the restarted
participant trains again for a round that has no journaled update, and reuses the journaled one otherwise.

Availability: while its round is open, a participant checks at every step that the blob of its revealed
update is whole in the store, and puts it back from its journal when it is missing or corrupt there, so the
aggregators and watchers can read it again without a challenge. It also answers an availability challenge
on its update by itself, posting the update's chunks from its journal (docs/protocol.md section 11.2), so
withholding by the store never costs an honest participant its stake.

Logging: a participant says once when it cannot enter a round because it started too late (the round's entry
window closed before it was ready) or because round 0 waits for the task's minimum number of members, and
logs one summary line per closed round: what it did, and the reward its update earned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from eth_account.signers.local import LocalAccount
from numpy.typing import NDArray

from fedchain.chain.cohort import cohort_includes
from fedchain.chain.coordinator import (
    Coordinator,
    CoordinatorClient,
    EntryState,
    RoundPhase,
    RoundStatus,
    RoundView,
    TaskState,
    TaskStatus,
)
from fedchain.client.api import ROUND_KEY, Client, Config
from fedchain.client.jobs import FitResult, TrainingJob, start_fit
from fedchain.client.params import flatten, unflatten
from fedchain.commit.commitment import commit_hash, new_salt
from fedchain.commit.merkle import MerkleTree
from fedchain.commit.norms import leaf_norms
from fedchain.commit.quantize import dequantize, quantize_update
from fedchain.roles.agent import Agent, utc_time
from fedchain.roles.availability import WithheldStore, post_missing_chunks
from fedchain.roles.journal import CommitRecord, Journal, JournalError, TrainedUpdate
from fedchain.roles.norms import declare_norm, norm_rule, within_hard_limit
from fedchain.roles.task import fetch_model, put_update
from fedchain.storage import BlobNotFoundError, BlobStore, CorruptBlobError, StorageError, ref_hex

MODEL_DTYPE = np.float32


@dataclass(frozen=True)
class Training:
    """A round's training under way: the global model it started from and its job."""

    round: int
    global_model: NDArray[np.int32]
    job: TrainingJob


class BaseParticipant(Agent):
    """A member that trains with ``client`` and stakes ``stake`` (at least the task's minStake); its
    ``journal`` keeps what it must not forget across a crash.

    Each round the client's ``fit`` gets ``fit_config`` (the task's training settings and own keys, as a
    Flower strategy's ``on_fit_config_fn`` sends them) with the round number under ``"server-round"``.

    A mode names its ``INPUT`` (what a member publishes in a round), its ``ENTRY_WINDOW`` (the window in which
    a member enters a round) and, in ``ENTRY_WORDS``, what each state of a closed round's entry says the member
    did.
    """

    ROLE = "participant"
    INPUT: ClassVar[str]
    ENTRY_WINDOW: ClassVar[str]
    ENTRY_WORDS: ClassVar[Mapping[EntryState, str]]

    def __init__(self, coordinator: CoordinatorClient, store: BlobStore, task_id: int, account: LocalAccount, *,
                 client: Client, journal: Journal, stake: int | None = None, fit_config: Config | None = None) -> None:
        super().__init__(coordinator, store, task_id, account)
        if journal.task_id != task_id or journal.owner != self.address.lower():
            raise ValueError(f"journal {journal.path} is not {self.address}'s journal for task {task_id}")
        self.client = client
        self.fit_config: Config = dict(fit_config or {})
        self.journal = journal
        self.stake = stake
        self._entry_window_seen: int | None = None
        self._joined = False
        self._training: Training | None = None
        self._waiting_on: TrainingJob | None = None

    def start_training(self, round: int, global_model: NDArray[np.int32]) -> TrainingJob:
        """Start the training of ``round`` from the global model: the ``fit`` of :meth:`training_client` with the
        round's config."""
        rules = self.rules
        start = dequantize(global_model, rules.quantization)
        shapes = [(shape.name, shape.dims) for shape in rules.shapes]
        parameters = unflatten(start, shapes, dtype=MODEL_DTYPE)
        return start_fit(self.training_client(round), parameters, {**self.fit_config, ROUND_KEY: round})

    def training_client(self, round: int) -> Client:
        """The client that trains ``round``: this member's own (a simulated attacker may train another on other
        data)."""
        return self.client

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        """The quantized, clipped update and the sample count of ``fitted``, what training ``round`` from the global
        model returned."""
        trained, sample_count, _ = fitted
        local, _ = flatten(trained)
        update = quantize_update(local, global_model, self.rules.quantization)
        rule = norm_rule(self.rules)
        if rule is not None:  # a norm-bounded task refuses a norm over its hard limit: scale down to the bound
            update = within_hard_limit(rule, update, self.rules.layout)
        return update, int(sample_count)

    def pending_job(self) -> TrainingJob | None:
        """The training job this member's last step found running (its round goes no further until the job is done
        and a step has taken its result). A job that finished since is still pending until the next step: that step,
        not the clock, must come next."""
        return self._waiting_on

    def trained_update(self, round: int, model_root: bytes, model_blob_ref: bytes) -> TrainedUpdate | None:
        """This member's update of ``round``: the journaled one if there is one (never a second, different one),
        else the result of the training it started from the global model ``model_root`` / ``model_blob_ref``,
        journaled as soon as the job is done; None while the job runs (the first call starts it). A job of an
        earlier round is dropped."""
        trained = self.journal.trained_update(round)
        if trained is not None:
            return trained
        training = self._training
        if training is None or training.round != round:
            global_model = fetch_model(self.store, self.rules, model_root, model_blob_ref, verified=self.verified)
            training = self._training = Training(round, global_model, self.start_training(round, global_model))
        if not training.job.done():
            self._waiting_on = training.job
            self.note("training", f"round {round}: training runs as a job; the round goes on for this member once it "
                      "is done", round=round, once=("training", round))
            return None
        self._training = None
        update, sample_count = self.make_update(round, training.global_model, training.job.result())
        trained = TrainedUpdate.of(round, update, sample_count)
        self.journal.record_trained_update(trained)
        return trained

    def finished(self) -> bool:
        """The task has ended, every reward is claimed and the stake withdrawn."""
        return (super().finished() and self.coordinator.claimable(self.task_id, self.address) == 0
                and not self.coordinator.member(self.task_id, self.address).joined)

    def step(self) -> None:
        """Join, then take part in the current round while the task runs; once it has ended, claim and leave."""
        self._waiting_on = None
        if self.in_flight():
            return
        state = self.coordinator.task_state(self.task_id)
        self.report_closed_rounds(state)
        if state.status != TaskStatus.RUNNING:
            self._settle()
            return
        self._ensure_member()
        self.play_round(state)

    def play_round(self, state: TaskState) -> None:
        """This mode's part of the current round of the running task (the caller is a member)."""
        raise NotImplementedError

    def entered(self, round: int) -> bool:
        """Whether the journal holds this member's entry into ``round`` (journaled before it is sent)."""
        raise NotImplementedError

    def entry(self, round: int) -> EntryState:
        """This member's entry in ``round``: EMPTY without asking the chain when the journal holds none (nothing is
        sent for a round before it is journaled, so a member left out of a round reads nothing of its own)."""
        if not self.entered(round):
            return EntryState.EMPTY
        return self.coordinator.entry_state(self.task_id, round, self.address)

    def reward_units(self, round: int) -> int:
        """What the reward of this member's input of closed ``round`` is paid per, as the chain fixed it (it entered
        the round): its weight, or in a scored task its median score (docs/protocol.md section 12.6)."""
        raise NotImplementedError

    def published_ref(self, round: int) -> bytes:
        """The reference of the blob this member published as its input of ``round`` (the chain has it)."""
        raise NotImplementedError

    def republish(self, round: int) -> bytes:
        """Put this member's input of ``round`` in the store again, rebuilt from the journal; returns its reference."""
        raise NotImplementedError

    def round_summary(self, round: int, view: RoundView) -> tuple[str, dict[str, object]]:
        """What this member did in closed ``round`` (its entry's state) and the reward its input earned."""
        entry = self.entry(round)
        text = f"{self.outcome(round, view)}: {self.ENTRY_WORDS[entry]}"
        fields: dict[str, object] = {"entry": entry.name.lower()}
        if entry == EntryState.REVEALED:
            reward = self.reward_units(round) * view.reward_per_weight
            text += f", reward {self.tokens(reward)}" if view.status == RoundStatus.FINALIZED else ", no reward"
            fields["reward"] = reward
        return text, fields

    def entry_window_open(self, round: int) -> None:
        """Note that this agent saw the entry window of ``round`` open (it was in time for the round)."""
        self._entry_window_seen = round

    def picked(self, state: TaskState, round: int, view: RoundView) -> bool:
        """Whether this member may enter the current ``round`` as far as its cohort goes: always, unless the round's
        cohort was sampled (more members than it takes) and the chain's randomness left this member out, which is
        said once (docs/protocol.md section 8.2)."""
        if not state.sampled or cohort_includes(view.cohort_seed, view.sampled_from, self.rules.params.cohort_cap,
                                                self.address):
            return True
        self.note("not_sampled", f"round {round}'s cohort was sampled ({self.rules.params.cohort_cap} of "
                  f"{view.sampled_from} members) and this member was not picked; waiting for the next round",
                  round=round, once=("sampled", round), members=view.sampled_from)
        return False

    def wait_for_round(self, round: int, view: RoundView, window_end: int) -> None:
        """Say once why this member is not in the current ``round``, whose entry window ends at ``window_end``: round
        0 has not opened (it waits for members), or the window closed before this agent saw it open."""
        if view.phase == RoundPhase.NOT_OPEN:
            if view.start == 0:
                members = self.coordinator.task_state(self.task_id).members  # this step's join counts
                self.note("waiting_for_members", f"round {round} opens when the task's minimum number of members "
                          f"({self.rules.params.min_participants}) has joined ({members} so far); waiting",
                          round=round, once=("members", round), members=members)
        elif self._entry_window_seen != round:
            ago = self.coordinator.chain.now() - window_end
            then = ("it is the task's last round" if round + 1 >= self.rules.params.num_rounds
                    else f"waiting for round {round + 1}")
            self.note("late_start", f"round {round}'s {self.ENTRY_WINDOW} window closed at {utc_time(window_end)} "
                      f"({ago} s ago), before this agent was ready; {then}", round=round, once=("late", round),
                      window_end=window_end)

    def keep_published(self, round: int) -> None:
        """Check that the blob of this member's input of ``round`` is whole in the store; when it is missing or
        corrupt, put it back from the journal (others read it from the store until the round closes). Each action
        is logged; the warnings are said once a round, so a store that cannot keep the blob is not reported at
        every step."""
        if not self.publishes(round):
            return
        ref = self.published_ref(round)
        try:
            self.store.get(ref)
            return
        except (BlobNotFoundError, CorruptBlobError) as error:
            self.warn(f"round {round}: its {self.INPUT} blob {ref_hex(ref)} is unusable in the store ({error}); "
                      "republishing it from the journal", event="input_damaged", round=round, once=("damaged", round),
                      blob=ref_hex(ref))
        rebuilt = self.republish(round)
        if rebuilt != ref:
            raise JournalError(f"round {round}: {self.journal.path} rebuilds {self.INPUT} blob {ref_hex(rebuilt)}, "
                               f"not the published {ref_hex(ref)}")
        try:
            self.store.get(ref)
        except StorageError as error:
            self.warn(f"round {round}: the store keeps its {self.INPUT} blob unusable after republishing it "
                      f"({error}); an availability challenge would put it on chain instead", round=round,
                      once=("unrepaired", round))
            return
        self.log(f"republish {round}", round=round, blob=ref_hex(ref))

    def publishes(self, round: int) -> bool:
        """Whether to put the input of ``round`` in the store and answer availability challenges on it (an
        honest participant always does; a withholding one keeps its blob to itself)."""
        return True

    def store_for(self, round: int) -> BlobStore:
        """Where the input of ``round`` goes: the task's store, or nowhere when it is withheld."""
        return self.store if self.publishes(round) else WithheldStore()

    def _answer_challenge(self, round: int, tree: Callable[[], MerkleTree]) -> None:
        """Post the missing chunks of this member's input of ``round`` (whose Merkle tree ``tree`` builds) if
        an availability challenge on it is open (docs/protocol.md section 11.2)."""
        if not self.publishes(round):
            return
        posted = post_missing_chunks(self.coordinator, self.task_id, round, self.address, tree, sender=self.account)
        if posted:
            self.log(f"postChunk {round} x{posted}", round=round, chunks=posted)

    def _ensure_member(self) -> None:
        """Join unless already a member (once seen joined, only this member's own withdrawal ends it)."""
        if self._joined or self.coordinator.member(self.task_id, self.address).joined:
            self._joined = True
            return
        amount = self.rules.params.min_stake if self.stake is None else self.stake
        self.ensure_allowance(amount)
        self._send("join", lambda: self.coordinator.join(self.task_id, amount, sender=self.account))

    def _stake_suffices(self, round: int) -> bool:
        """Whether the stake reaches the task's minimum, as entering ``round`` requires (a slash may have taken
        it below; the member must add stake first)."""
        stake, minimum = self.coordinator.member(self.task_id, self.address).stake, self.rules.params.min_stake
        if stake < minimum:
            self.warn(f"round {round}: stake {self.tokens(stake)} is below the task's minimum {self.tokens(minimum)}; "
                      "add stake to take part", event="stake_too_low", round=round, once=("stake", round),
                      stake=stake, min_stake=minimum)
        return stake >= minimum

    def _settle(self) -> None:
        """After the task's end: claim every reward, then take the stake back (no unbonding delay then)."""
        if self.coordinator.claimable(self.task_id, self.address) > 0:
            self._send("claim", lambda: self.coordinator.claim_rewards(self.task_id, sender=self.account))
        if self.coordinator.member(self.task_id, self.address).joined:
            self._send("withdrawStake", lambda: self.coordinator.withdraw_stake(self.task_id, sender=self.account))
            self._joined = False

    def _send(self, action: str, send: Callable[[], object], round: int | None = None) -> None:
        send()
        self.log(action, round=round)


class Participant(BaseParticipant):
    """A plain-mode participant: commits to its update, then reveals it (docs/protocol.md section 7)."""

    COORDINATOR = Coordinator
    coordinator: Coordinator
    INPUT = "update"
    ENTRY_WINDOW = "commit"
    ENTRY_WORDS = MappingProxyType({
        EntryState.EMPTY: "did not take part",
        EntryState.COMMITTED: "committed, never revealed",
        EntryState.REVEALED: "committed, revealed",
        EntryState.DROPPED: "committed, revealed, its update was dropped from the round",
        EntryState.FORFEITED: "committed, missed the reveal (slashed)",
    })

    def play_round(self, state: TaskState) -> None:
        """Commit or reveal, as the current round's phase asks; keep the revealed update's blob whole in the store
        and answer a challenge on it (through a scored round's Score phase too, while the validators read it); say
        why the round goes on without this member."""
        round = state.current_round
        view = self.coordinator.round_view(self.task_id, round)
        if view.phase == RoundPhase.COMMIT:
            self.entry_window_open(round)
            if self.picked(state, round, view):
                self._commit(round, view.commits, state.model_root, state.model_blob_ref)
            return
        entry = self.entry(round)
        if view.phase == RoundPhase.NOT_OPEN or entry == EntryState.EMPTY:
            self.wait_for_round(round, view, view.commit_end)
        elif view.phase == RoundPhase.REVEAL and entry == EntryState.COMMITTED:
            self._reveal(round)
        elif entry == EntryState.REVEALED:
            if view.phase == RoundPhase.REVEAL and (rule := norm_rule(self.rules)) is not None:
                declare_norm(self, self.coordinator, rule, round, self.norm_values(round))
            self.keep_published(round)
            # a revealed update may be challenged from its reveal on, so this is checked in the reveal phase too
            if view.open_challenges:
                self._answer_challenge(round, lambda: self.verified.tree(self._trained(round).vector,
                                                                         self.rules.layout))

    def entered(self, round: int) -> bool:
        """Whether the journal holds a commitment of ``round`` (written before the commit is sent)."""
        return self.journal.commit_record(round) is not None

    def reward_units(self, round: int) -> int:
        """The weight of this member's reveal of ``round``; in a scored task its median score."""
        if self.rules.scoring is not None:
            return self.coordinator.median_score(self.task_id, round, self.address)[1]
        (weight,) = [reveal.weight for reveal in self.coordinator.reveals(self.task_id, round)
                     if reveal.participant.lower() == self.address.lower()]
        return weight

    def published_ref(self, round: int) -> bytes:
        """The blob reference journaled with the commitment of ``round`` (the one revealed)."""
        return self._record(round).blob_ref

    def republish(self, round: int) -> bytes:
        """Store the journaled update of ``round`` again (the same blob: the encoding is deterministic)."""
        return put_update(self.store, self.rules, self._trained(round).vector, verified=self.verified).ref

    # -- hook for adversarial variants ---------------------------------------------------------------

    def wants_to_reveal(self, round: int) -> bool:
        """Whether to reveal the commitment of ``round`` (an honest participant always does)."""
        return True

    # -- actions -------------------------------------------------------------------------------------

    def _commit(self, round: int, commits: int, model_root: bytes, model_blob_ref: bytes) -> None:
        if self.entry(round) != EntryState.EMPTY:
            return
        if commits >= self.rules.params.cohort_cap or not self._stake_suffices(round):
            return
        record = self.journal.commit_record(round) or self._prepare(round, model_root, model_blob_ref)
        if record is None:  # training
            return
        digest = commit_hash(chain_id=self.coordinator.chain.chain_id, coordinator=self.coordinator.address,
                             task_id=self.task_id, round=round, participant=self.address, root=record.root,
                             sample_count=record.sample_count, salt=record.salt)
        self._send(f"commit:{round}", lambda: self.coordinator.commit(self.task_id, digest, sender=self.account), round)

    def _prepare(self, round: int, model_root: bytes, model_blob_ref: bytes) -> CommitRecord | None:
        """Train (the update is journaled), upload the update blob and journal the commitment (before anything is
        sent); None while the training runs."""
        trained = self.trained_update(round, model_root, model_blob_ref)
        if trained is None:
            return None
        stored = put_update(self.store_for(round), self.rules, trained.vector, verified=self.verified)
        record = CommitRecord(round=round, salt=new_salt(), root=stored.header.root,
                              sample_count=trained.sample_count, blob_ref=stored.ref)
        self.journal.record_commit(record)
        self.log(f"prepared round {round}", round=round)
        return record

    def _trained(self, round: int) -> TrainedUpdate:
        trained = self.journal.trained_update(round)
        if trained is None:
            raise JournalError(f"round {round}: an update is revealed on chain but {self.journal.path} holds none")
        return trained

    def _record(self, round: int) -> CommitRecord:
        record = self.journal.commit_record(round)
        if record is None:
            raise JournalError(f"round {round}: an update is revealed on chain but {self.journal.path} holds no "
                               "commitment for it")
        return record

    def _reveal(self, round: int) -> None:
        """Reveal the commitment of ``round`` (this member's entry is committed) from the journal."""
        record = self.journal.commit_record(round)
        if record is None or not self.wants_to_reveal(round):
            return
        self._send(f"reveal:{round}", lambda: self.coordinator.reveal(
            self.task_id, record.root, record.sample_count, record.salt, record.blob_ref, sender=self.account), round)
        if (rule := norm_rule(self.rules)) is not None:  # a norm-bounded task: declare its norm (section 4.4)
            declare_norm(self, self.coordinator, rule, round, self.norm_values(round))

    def norm_values(self, round: int) -> tuple[int, ...]:
        """What this member declares in a norm-bounded task: its revealed update's per-leaf squared norms."""
        return leaf_norms(self._trained(round).vector, self.rules.layout)


class OutOfRangeParticipant(Participant):
    """Adversarial: in ``rounds`` it puts ``clip + 1`` at ``coordinate`` of its update (a provable violation)."""

    def __init__(self, *args: Any, rounds: frozenset[int], coordinate: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bad_rounds = rounds
        self.coordinate = coordinate

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        """The honest update, with one coordinate pushed just outside the clip in a bad round."""
        update, sample_count = super().make_update(round, global_model, fitted)
        if round in self.bad_rounds:
            update = update.copy()
            update[self.coordinate] = self.rules.params.clip + 1
        return update, sample_count


class NormLiarParticipant(Participant):
    """Adversarial, for a norm-bounded task: in ``rounds`` it sends its honest update times ``factor`` (clamped to
    the clip) and declares the norms of the honest one, a small norm for a big update (provable at one leaf)."""

    def __init__(self, *args: Any, rounds: frozenset[int], factor: int = 30, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lying_rounds = rounds
        self.factor = factor
        self._honest: dict[int, NDArray[np.int32]] = {}

    def make_update(self, round: int, global_model: NDArray[np.int32],
                    fitted: FitResult) -> tuple[NDArray[np.int32], int]:
        """The honest update, scaled up in a lying round."""
        update, sample_count = super().make_update(round, global_model, fitted)
        if round not in self.lying_rounds:
            return update, sample_count
        self._honest[round] = update
        clip = self.rules.params.clip
        return np.clip(update.astype(np.int64) * self.factor, -clip, clip).astype(np.int32), sample_count

    def norm_values(self, round: int) -> tuple[int, ...]:
        """The honest update's norms in a lying round."""
        if round in self._honest:
            return leaf_norms(self._honest[round], self.rules.layout)
        return super().norm_values(round)


class WithholdingParticipant(Participant):
    """Adversarial: in ``rounds`` it reveals an update whose blob it never publishes nor puts on chain when
    challenged (it is dropped from the round and slashed)."""

    def __init__(self, *args: Any, rounds: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.withheld_rounds = rounds

    def publishes(self, round: int) -> bool:
        """Never in a withheld round."""
        return round not in self.withheld_rounds


class SilentParticipant(Participant):
    """Adversarial: commits in ``rounds`` but never reveals them (slashable after the reveal deadline)."""

    def __init__(self, *args: Any, rounds: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent_rounds = rounds

    def wants_to_reveal(self, round: int) -> bool:
        """Never reveals a silent round."""
        return round not in self.silent_rounds
