"""Training audits on chain (docs/protocol.md section 13; the IAudits interface that IFedCoordinator extends).

The structs come back as frozen dataclasses; :class:`AuditCalls` holds one method per IAudits function and view,
each transaction labelled with its function's name, and the events a role needs. It is mixed into the plain
:class:`~fedchain.chain.coordinator.Coordinator` (secure tasks are not audited). Beside them, the section's formats,
all of them keccak over fixed-width fields, so that a hospital builds exactly the trees the contract checks:
trajectory and dataset leaves, the trees over them, the batch a step trains on, and the draw.

The proof itself is made off chain (``fedchain.zk``); the contract builds its public instances from what the chain
holds (:meth:`AuditCalls.step_instances` reads them back), never from the prover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from fedchain.chain.connection import Chain

if TYPE_CHECKING:
    from fedchain.chain.coordinator import TaskParams

FIELD_MODULUS: Final = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""BN254's scalar field: every public instance is one of its elements (the contract's FIELD_MODULUS)."""

TRAJECTORY_TAG: Final = 0x02
DATASET_TAG: Final = 0x03
NODE_TAG: Final = 0x01
BPS: Final = 10_000
ZERO_HASH: Final = bytes(32)


class AuditStatus(IntEnum):
    """Where an audit of one step stands (FedTypes.AuditStatus)."""

    NONE = 0
    OPEN = 1
    PROVEN = 2
    FAILED = 3
    MOOT = 4


@dataclass(frozen=True, kw_only=True)
class AuditParams:
    """An audited task's rules, field for field (and in the order of) FedTypes.AuditParams; the contract checks their
    ranges (docs/protocol.md section 13.1)."""

    verifier: str
    steps: int
    batch_size: int
    audit_bps: int
    audit_steps: int
    proof_window: int
    demand_bond: int

    @property
    def audited(self) -> bool:
        """Whether these are an audited task's (a task without audits reads all zeros)."""
        return int(self.verifier, 16) != 0

    def as_abi(self) -> tuple[Any, ...]:
        """The struct as the ABI tuple the contract takes."""
        return (Web3.to_checksum_address(self.verifier), *astuple(self)[1:])

    @classmethod
    def from_abi(cls, raw: Sequence[Any]) -> AuditParams:
        """Parse the tuple a view or an event returns."""
        names = [spec.name for spec in fields(cls)]
        return cls(verifier=str(raw[0]), **{name: int(value) for name, value in zip(names[1:], raw[1:], strict=True)})


@dataclass(frozen=True)
class Dataset:
    """A member's registered training data (FedTypes.Dataset; ``batches`` 0 when none)."""

    root: bytes
    batches: int


@dataclass(frozen=True)
class Audit:
    """The audit of one step of one update (FedTypes.Audit)."""

    challenger: str
    deadline: int
    weight: int
    bonded: bool
    status: AuditStatus
    root: bytes


@dataclass(frozen=True)
class TrajectoryLeaf:
    """One opened trajectory leaf (FedTypes.TrajectoryLeaf): the model's packed words, its Poseidon hash as
    committed, and its path in the trajectory tree."""

    words: tuple[bytes, ...]
    poseidon: int
    path: tuple[bytes, ...]

    def as_abi(self) -> tuple[Any, ...]:
        return (list(self.words), self.poseidon, list(self.path))


@dataclass(frozen=True)
class StepOpening:
    """What a step's proof is checked against (FedTypes.StepOpening): trajectory leaves 0, t, t + 1 and S, and the
    step's batch hash with its dataset path."""

    leaves: tuple[TrajectoryLeaf, TrajectoryLeaf, TrajectoryLeaf, TrajectoryLeaf]
    batch_hash: int
    batch_path: tuple[bytes, ...]

    def as_abi(self) -> tuple[Any, ...]:
        return ([leaf.as_abi() for leaf in self.leaves], self.batch_hash, list(self.batch_path))


@dataclass(frozen=True)
class AuditOpening:
    """One AuditOpened event: the audit of step ``step`` of ``participant``'s update in ``round`` (``bond`` 0 for a
    drawn audit, demandBond for a demanded one), to be proven before ``deadline``."""

    round: int
    participant: str
    step: int
    challenger: str
    bond: int
    deadline: int


@dataclass(frozen=True)
class AuditSettlement:
    """One AuditSettled event: an audit whose deadline passed without a valid proof."""

    round: int
    participant: str
    step: int
    status: AuditStatus
    challenger: str
    slashed: int
    bounty: int


# -- formats (docs/protocol.md sections 13.2 to 13.4) -----------------------------------------------------------


def field_element(value: int) -> int:
    """A signed integer as the BN254 field element that stands for it (negatives wrap to p - |v|)."""
    return value % FIELD_MODULUS


def trajectory_leaf(index: int, model_root: bytes, poseidon: int) -> bytes:
    """keccak(0x02 ‖ uint256(index) ‖ modelRoot ‖ uint256(poseidon)): model ``index`` of a trajectory."""
    return Web3.keccak(bytes([TRAJECTORY_TAG]) + index.to_bytes(32, "big") + model_root + poseidon.to_bytes(32, "big"))


def dataset_leaf(index: int, batch_hash: int) -> bytes:
    """keccak(0x03 ‖ uint256(index) ‖ uint256(batchHash)): batch ``index`` of a dataset."""
    return Web3.keccak(bytes([DATASET_TAG]) + index.to_bytes(32, "big") + batch_hash.to_bytes(32, "big"))


def _node(left: bytes, right: bytes) -> bytes:
    return Web3.keccak(bytes([NODE_TAG]) + left + right)


def tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """The levels of a tree over leaf hashes (padded with zero hashes to a power of two), leaves first."""
    if not leaves:
        raise ValueError("a tree needs at least one leaf")
    width = 1
    while width < len(leaves):
        width *= 2
    levels = [list(leaves) + [ZERO_HASH] * (width - len(leaves))]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([_node(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)])
    return levels


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """The root of :func:`tree_levels`."""
    return tree_levels(leaves)[-1][0]


def tree_path(leaves: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """The siblings of leaf ``index``, bottom up (section 3's walk)."""
    levels = tree_levels(leaves)
    return tuple(levels[level][(index >> level) ^ 1] for level in range(len(levels) - 1))


def batch_index(round: int, steps: int, step: int, batches: int) -> int:
    """The batch step ``step`` of round ``round`` trains on: (round * steps + step) mod batches."""
    return (round * steps + step) % batches


def selected(seed: int, participant: str, audit_bps: int) -> bool:
    """Whether the draw ``seed`` selects ``participant``'s update: keccak(abi.encode(seed, participant)) mod 10000 <
    auditBps."""
    digest = Web3.keccak(encode(["uint256", "address"], [seed, Web3.to_checksum_address(participant)]))
    return int.from_bytes(digest, "big") % BPS < audit_bps


def drawn_step(seed: int, participant: str, draw: int, steps: int) -> int:
    """The step of draw ``draw`` of a selected update: keccak(abi.encode(seed, participant, draw)) mod steps."""
    digest = Web3.keccak(encode(["uint256", "address", "uint256"],
                                [seed, Web3.to_checksum_address(participant), draw]))
    return int.from_bytes(digest, "big") % steps


def catch_probability(audit_bps: int, audit_steps: int, steps: int, faked: int, rounds: int = 1) -> float:
    """The chance that a member faking ``faked`` of ``steps`` steps every round has a faked step drawn in at least
    one of ``rounds`` rounds by the draw alone (demands only add to it): per round
    q (1 - (1 - k/S)^m) with q = auditBps / 10000 and m draws; over R rounds 1 - (1 - that)^R."""
    per_round = audit_bps / BPS * (1.0 - (1.0 - faked / steps) ** audit_steps)
    return 1.0 - (1.0 - per_round) ** rounds


class AuditCalls:
    """IAudits' functions, views and events, for a coordinator client (the plain one) that has ``chain`` and the
    coordinator's interface ``contract``."""

    chain: Chain
    contract: Contract

    if TYPE_CHECKING:  # what the coordinator client this is mixed into provides
        def _logs(self, event: str, **filters: Any) -> list[Any]: ...

        def created_task_id(self, receipt: TxReceipt) -> int: ...

    # -- views ------------------------------------------------------------------------------------------

    def audits_module(self) -> str:
        """Address of the Audits module (deployed by the Scoring module, reached through its fallback)."""
        return str(self.chain.call(self.contract.functions.AUDITS()))

    def audit_params(self, task_id: int) -> AuditParams:
        """Task ``task_id``'s audit rules (all zero, ``audited`` False, for a task without audits)."""
        return AuditParams.from_abi(self.chain.call(self.contract.functions.auditParams(task_id)))

    def dataset_of(self, task_id: int, member: str) -> Dataset:
        """``member``'s registered dataset (``batches`` 0 when none)."""
        root, batches = self.chain.call(self.contract.functions.datasetOf(task_id, Web3.to_checksum_address(member)))
        return Dataset(bytes(root), int(batches))

    def trajectory_of(self, task_id: int, round: int, member: str) -> bytes:
        """``member``'s trajectory root of ``round`` (zero bytes when none)."""
        call = self.contract.functions.trajectoryOf(task_id, round, Web3.to_checksum_address(member))
        return bytes(self.chain.call(call))

    def audit_seed(self, task_id: int, round: int) -> int:
        """The seed of ``round``'s audits (0 until drawn)."""
        return int(self.chain.call(self.contract.functions.auditSeed(task_id, round)))

    def audit_draw(self, task_id: int, round: int, participant: str) -> tuple[bool, tuple[int, ...]]:
        """Whether the draw selected ``participant``'s update, and its drawn steps."""
        call = self.contract.functions.auditDraw(task_id, round, Web3.to_checksum_address(participant))
        chosen, steps = self.chain.call(call)
        return bool(chosen), tuple(int(step) for step in steps)

    def audit_of(self, task_id: int, round: int, participant: str, step: int) -> Audit:
        """The audit of step ``step`` of ``participant``'s update in ``round`` (status NONE without one)."""
        call = self.contract.functions.auditOf(task_id, round, Web3.to_checksum_address(participant), step)
        challenger, deadline, weight, bonded, status, root = self.chain.call(call)
        return Audit(str(challenger), int(deadline), int(weight), bool(bonded), AuditStatus(status), bytes(root))

    def step_instances(self, task_id: int, round: int, participant: str, step: int, root: bytes, weight: int,
                       opening: StepOpening) -> tuple[int, ...]:
        """The public instances the contract builds for the step's proof (it reverts where proveStep would)."""
        call = self.contract.functions.stepInstances(task_id, round, Web3.to_checksum_address(participant), step,
                                                     root, weight, opening.as_abi())
        return tuple(int(value) for value in self.chain.call(call))

    # -- events -----------------------------------------------------------------------------------------

    def audit_settlements(self, task_id: int) -> list[AuditSettlement]:
        """Every AuditSettled event of the task, in chain order."""
        return [AuditSettlement(round=int(log.args.round), participant=str(log.args.participant),
                                step=int(log.args.step), status=AuditStatus(log.args.status),
                                challenger=str(log.args.challenger), slashed=int(log.args.slashed),
                                bounty=int(log.args.bounty))
                for log in self._logs("AuditSettled", taskId=task_id)]

    def audits_opened(self, task_id: int, round: int) -> list[AuditOpening]:
        """Every AuditOpened event of ``round`` of the task, in chain order."""
        return [AuditOpening(round=int(log.args.round), participant=str(log.args.participant), step=int(log.args.step),
                             challenger=str(log.args.challenger), bond=int(log.args.bond),
                             deadline=int(log.args.deadline))
                for log in self._logs("AuditOpened", taskId=task_id, round=round)]

    def proven_steps(self, task_id: int) -> list[tuple[int, str, int]]:
        """(round, participant, step) of every StepProven event of the task, in chain order."""
        return [(int(log.args.round), str(log.args.participant), int(log.args.step))
                for log in self._logs("StepProven", taskId=task_id)]

    # -- transactions -----------------------------------------------------------------------------------

    def create_audited_task(self, params: TaskParams, audits: AuditParams, model_root: bytes, model_blob_ref: bytes,
                            *, sender: LocalAccount) -> int:
        """Create a plain task whose members' training is audited (escrow pulled from ``sender``, who must have
        approved it); return its id."""
        call = self.contract.functions.createAuditedTask(params.as_abi(), audits.as_abi(), model_root, model_blob_ref)
        return self.created_task_id(self.chain.send(call, kind="createAuditedTask", sender=sender))

    def register_dataset(self, task_id: int, root: bytes, batches: int, *, sender: LocalAccount) -> TxReceipt:
        """Register ``sender``'s training data: once, before its first commit."""
        return self.chain.send(self.contract.functions.registerDataset(task_id, root, batches),
                               kind="registerDataset", sender=sender)

    def commit_trajectory(self, task_id: int, root: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Commit to ``sender``'s trajectory of the current round, before the reveal deadline."""
        return self.chain.send(self.contract.functions.commitTrajectory(task_id, root), kind="commitTrajectory",
                               sender=sender)

    def draw_audits(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Draw the current round's audits (after its reveal deadline, once)."""
        return self.chain.send(self.contract.functions.drawAudits(task_id), kind="drawAudits", sender=sender)

    def open_audit(self, task_id: int, participant: str, root: bytes, weight: int, draw: int, *,
                   sender: LocalAccount) -> TxReceipt:
        """Open draw ``draw`` of the audit the draw selected for ``participant``'s update (no bond)."""
        call = self.contract.functions.openAudit(task_id, Web3.to_checksum_address(participant), root, weight, draw)
        return self.chain.send(call, kind="openAudit", sender=sender)

    def demand_audit(self, task_id: int, participant: str, root: bytes, weight: int, step: int, *,
                     sender: LocalAccount) -> TxReceipt:
        """Demand the audit of step ``step`` of ``participant``'s update, against demandBond (approve first)."""
        call = self.contract.functions.demandAudit(task_id, Web3.to_checksum_address(participant), root, weight, step)
        return self.chain.send(call, kind="demandAudit", sender=sender)

    def prove_step(self, task_id: int, round: int, participant: str, step: int, opening: StepOpening, proof: bytes,
                   *, sender: LocalAccount) -> TxReceipt:
        """Post the proof of an audited step with its openings, before the audit's deadline."""
        call = self.contract.functions.proveStep(task_id, round, Web3.to_checksum_address(participant), step,
                                                 opening.as_abi(), proof)
        return self.chain.send(call, kind="proveStep", sender=sender)

    def settle_audit(self, task_id: int, round: int, participant: str, step: int, *,
                     sender: LocalAccount) -> TxReceipt:
        """Settle an audit whose deadline passed without a valid proof."""
        call = self.contract.functions.settleAudit(task_id, round, Web3.to_checksum_address(participant), step)
        return self.chain.send(call, kind="settleAudit", sender=sender)
