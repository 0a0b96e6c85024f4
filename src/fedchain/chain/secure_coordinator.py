"""A thin typed client over the SecureCoordinator contract (secure mode, docs/protocol.md section 10).

Everything tasks, stakes, bonds, rewards and slashing need comes from :class:`CoordinatorClient`; this
adds the secure round: advertise, fix the seed, commit shares, upload, publish unmask bundles, propose
with the transcript, challenge at one leaf. One method per contract function, no protocol logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from fedchain.chain.coordinator import CoordinatorClient, Mode, RoundView, TaskParams
from fedchain.secagg.proofs import SecureFraudProof

SECURE_COORDINATOR_CONTRACT = "SecureCoordinator"
SECURE_COORDINATOR_INTERFACE = "ISecureCoordinator"
SECURE_VERIFIER_CONTRACT = "SecureLeafVerifier"


def advertise_end(view: RoundView, params: TaskParams) -> int:
    """When a secure round's advertise window closes (its commit window opens): a commit window after its start
    (docs/protocol.md section 10.12; in a plain round, the commit deadline). Like every deadline of this module,
    0 for a round that has not opened, as roundView's are."""
    return _opened(view, view.start + params.commit_window)


def upload_end(view: RoundView, params: TaskParams) -> int:
    """When a secure round's upload window closes (its availability phase opens): a reveal window after the
    commit deadline (docs/protocol.md section 10.12)."""
    return _opened(view, view.commit_end + params.reveal_window)


def masked_challenge_end(view: RoundView, params: TaskParams) -> int:
    """Until when a secure round's masked vectors may be challenged: an availability window after the upload
    deadline (docs/protocol.md section 11.2)."""
    return _opened(view, upload_end(view, params) + params.availability_window)


def unmask_start(view: RoundView, params: TaskParams) -> int:
    """When a secure round's unmask window opens: two availability windows after the upload deadline, when
    every masked-vector challenge has been settled (docs/protocol.md section 10.12)."""
    return _opened(view, upload_end(view, params) + 2 * params.availability_window)


def _opened(view: RoundView, deadline: int) -> int:
    """``deadline``, or 0 while the round has not opened (its start is 0)."""
    return deadline if view.start else 0


@dataclass(frozen=True)
class SecureRoundState:
    """A round's secure state (SecureCoordinator.SecureRound)."""

    digest: bytes
    seed: bytes
    randomness: int
    uploaded: int
    transcript_hash: bytes

    @property
    def seed_fixed(self) -> bool:
        """Whether fixRoundSeed has run for the round."""
        return self.seed != bytes(32)


@dataclass(frozen=True)
class Advertisement:
    """One Advertised event: a member's round keys and advertise index."""

    participant: str
    index: int
    pk_x: int
    pk_y: int
    encryption_key: bytes


@dataclass(frozen=True)
class ShareCommitment:
    """One SharesCommitted event, the share bundle itself included (it travels on chain)."""

    participant: str
    self_seed_hash: bytes
    share_bundle_ref: bytes
    sample_count: int
    weight: int
    share_bundle: bytes


@dataclass(frozen=True)
class MaskedUpload:
    """One Uploaded event: a survivor's masked root and the blob holding its masked vector."""

    participant: str
    masked_root: bytes
    blob_ref: bytes


@dataclass(frozen=True)
class UnmaskAnnouncement:
    """One UnmaskBundlePublished event."""

    participant: str
    bundle_ref: bytes


@dataclass(frozen=True)
class MaskedRecord:
    """A member's record as uploaded (FedTypes.MaskedRecord; docs/protocol.md section 10.4)."""

    index: int
    pk_x: int
    pk_y: int
    self_seed_hash: bytes
    share_bundle_ref: bytes
    weight: int
    masked_root: bytes

    def as_abi(self) -> tuple[int, int, int, bytes, bytes, int, bytes]:
        """The struct as an ABI tuple."""
        return (self.index, self.pk_x, self.pk_y, self.self_seed_hash, self.share_bundle_ref, self.weight,
                self.masked_root)


class SecureCoordinator(CoordinatorClient):
    """A SecureCoordinator deployed at ``address`` (it deploys its SecureLeafVerifier)."""

    CONTRACT: ClassVar[str] = SECURE_COORDINATOR_CONTRACT
    INTERFACE: ClassVar[str] = SECURE_COORDINATOR_INTERFACE
    MODE: ClassVar[Mode] = Mode.SECURE
    VERIFIER: ClassVar[str] = SECURE_VERIFIER_CONTRACT
    VERIFIER_VIEW: ClassVar[str] = "SECURE_VERIFIER"

    # -- views ---------------------------------------------------------------------------------------

    def secure_round(self, task_id: int, round: int) -> SecureRoundState:
        """Digest, seed, randomness, uploaded bitmap and transcript hash of ``round``."""
        digest, seed, randomness, uploaded, transcript_hash = self.chain.call(
            self.contract.functions.secureRound(task_id, round))
        return SecureRoundState(bytes(digest), bytes(seed), int(randomness), int(uploaded), bytes(transcript_hash))

    # -- events --------------------------------------------------------------------------------------

    def advertisements(self, task_id: int, round: int) -> list[Advertisement]:
        """Every Advertised event of ``round``, in advertise-index order."""
        return [Advertisement(participant=str(log.args.participant), index=int(log.args.index), pk_x=int(log.args.pkX),
                              pk_y=int(log.args.pkY), encryption_key=bytes(log.args.encryptionKey))
                for log in self._logs("Advertised", taskId=task_id, round=round)]

    def share_commitments(self, task_id: int, round: int) -> list[ShareCommitment]:
        """Every SharesCommitted event of ``round``, in chain order."""
        return [ShareCommitment(participant=str(log.args.participant), self_seed_hash=bytes(log.args.selfSeedHash),
                                share_bundle_ref=bytes(log.args.shareBundleRef),
                                sample_count=int(log.args.sampleCount), weight=int(log.args.weight),
                                share_bundle=bytes(log.args.shareBundle))
                for log in self._logs("SharesCommitted", taskId=task_id, round=round)]

    def uploads(self, task_id: int, round: int) -> list[MaskedUpload]:
        """Every Uploaded event of ``round``, in chain order."""
        return [MaskedUpload(participant=str(log.args.participant), masked_root=bytes(log.args.maskedRoot),
                             blob_ref=bytes(log.args.blobRef))
                for log in self._logs("Uploaded", taskId=task_id, round=round)]

    def unmask_announcements(self, task_id: int, round: int) -> list[UnmaskAnnouncement]:
        """Every UnmaskBundlePublished event of ``round``, in chain order (a survivor may republish)."""
        return [UnmaskAnnouncement(participant=str(log.args.participant), bundle_ref=bytes(log.args.bundleRef))
                for log in self._logs("UnmaskBundlePublished", taskId=task_id, round=round)]

    def transcripts(self, task_id: int, round: int) -> list[tuple[bytes, ...]]:
        """The transcript of every proposal of ``round``, in chain order (the last is the pending one)."""
        return [tuple(bytes(word) for word in log.args.transcript)
                for log in self._logs("TranscriptProposed", taskId=task_id, round=round)]

    # -- transactions --------------------------------------------------------------------------------

    def advertise(self, task_id: int, pk_x: int, pk_y: int, encryption_key: bytes, *,
                  sender: LocalAccount) -> TxReceipt:
        """Advertise the round's mask key (BN254) and encryption key (X25519)."""
        call = self.contract.functions.advertise(task_id, pk_x, pk_y, encryption_key)
        return self.chain.send(call, kind="advertise", sender=sender)

    def fix_round_seed(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Fix the current round's seed (anyone, once, after the advertise window)."""
        return self.chain.send(self.contract.functions.fixRoundSeed(task_id), kind="fixRoundSeed", sender=sender)

    def commit_shares(self, task_id: int, index: int, pk_x: int, pk_y: int, self_seed_hash: bytes,
                      share_bundle: bytes, sample_count: int, *, sender: LocalAccount) -> TxReceipt:
        """Commit the self-seed hash, the share bundle (on chain; its sha256 becomes the record's reference)
        and the sample count (restating the advertised keys)."""
        call = self.contract.functions.commitShares(task_id, index, pk_x, pk_y, self_seed_hash, share_bundle,
                                                    sample_count)
        return self.chain.send(call, kind="commitShares", sender=sender)

    def upload(self, task_id: int, index: int, pk_x: int, pk_y: int, self_seed_hash: bytes, share_bundle_ref: bytes,
               weight: int, masked_root: bytes, blob_ref: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Upload the masked vector's root and blob reference (restating the committed record)."""
        call = self.contract.functions.upload(task_id, index, pk_x, pk_y, self_seed_hash, share_bundle_ref, weight,
                                              masked_root, blob_ref)
        return self.chain.send(call, kind="upload", sender=sender)

    def challenge_masked_vector(self, task_id: int, participant: str, record: MaskedRecord, *,
                                sender: LocalAccount) -> TxReceipt:
        """Demand that ``participant``'s uploaded masked vector (its ``record``) be put on chain."""
        call = self.contract.functions.challengeMaskedVector(task_id, Web3.to_checksum_address(participant),
                                                             record.as_abi())
        return self.chain.send(call, kind="challengeMaskedVector", sender=sender)

    def publish_unmask_bundle(self, task_id: int, bundle_ref: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Announce the sender's unmask bundle."""
        call = self.contract.functions.publishUnmaskBundle(task_id, bundle_ref)
        return self.chain.send(call, kind="publishUnmaskBundle", sender=sender)

    def propose(self, task_id: int, root: bytes, blob_ref: bytes, transcript: Sequence[bytes], *,
                sender: LocalAccount) -> TxReceipt:
        """Propose the next global model with the round's transcript."""
        call = self.contract.functions.propose(task_id, root, blob_ref, list(transcript))
        return self.chain.send(call, kind="propose", sender=sender)

    def challenge_aggregate(self, task_id: int, leaf_index: int, proof: SecureFraudProof, *,
                            sender: LocalAccount) -> TxReceipt:
        """Prove the pending proposal wrong at ``leaf_index``."""
        call = self.contract.functions.challengeAggregate(task_id, leaf_index, proof.as_abi())
        return self.chain.send(call, kind="challengeAggregate", sender=sender)
