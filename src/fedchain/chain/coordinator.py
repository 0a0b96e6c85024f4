"""A thin typed client over the coordinator contracts (docs/protocol.md §7-11; the Solidity is final).

One method per view and per transaction, each transaction sent through :meth:`Chain.send` with a
descriptive ``kind`` label so the gas report can group by action. Structs come back as frozen
dataclasses; enums as :class:`enum.IntEnum`. There is no protocol logic here: the agents in
:mod:`fedchain.roles` decide what to send and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from typing import Any, ClassVar, Self

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput
from web3.logs import DISCARD
from web3.types import TxReceipt

from fedchain.chain.audits import AuditCalls
from fedchain.chain.connection import Chain
from fedchain.chain.errors import ContractRevertError
from fedchain.chain.metrics import decode_metrics, encode_metrics
from fedchain.chain.scoring import ScoringCalls
from fedchain.commit.chunks import Chunk

COORDINATOR_CONTRACT = "FedCoordinator"
COORDINATOR_INTERFACE = "IFedCoordinator"
LEAF_VERIFIER_CONTRACT = "LeafVerifier"
REGISTRY_CONTRACT = "Registry"
AVAILABILITY_CONTRACT = "Availability"
TOKEN_CONTRACT = "DevToken"
FIRST_BLOCK = 0
DEV_TOKEN_NAME = "Fedchain Dev Token"
DEV_TOKEN_SYMBOL = "FDEV"


class TaskStatus(IntEnum):
    """Lifecycle of a task (FedTypes.TaskStatus)."""

    NONE = 0
    RUNNING = 1
    COMPLETED = 2
    ABANDONED = 3


class RoundStatus(IntEnum):
    """Stored status of a round (FedTypes.RoundStatus)."""

    ACTIVE = 0
    FINALIZED = 1
    FAILED = 2


class RoundPhase(IntEnum):
    """Phase of a round at the current block time (FedTypes.RoundPhase)."""

    NOT_OPEN = 0
    COMMIT = 1
    REVEAL = 2
    AWAITING_FAILURE = 3
    PROPOSE = 4
    PROPOSE_EXPIRED = 5
    CHALLENGE = 6
    FINALIZABLE = 7
    FINALIZED = 8
    FAILED = 9
    ADVERTISE = 10
    UPLOAD = 11
    UNMASK = 12
    AVAILABILITY = 13
    SCORE = 14


class EntryState(IntEnum):
    """State of a member's entry in one round (FedTypes.EntryState); Empty once the entry is settled."""

    EMPTY = 0
    COMMITTED = 1
    REVEALED = 2
    DROPPED = 3
    FORFEITED = 4
    ADVERTISED = 5


class ChallengeStatus(IntEnum):
    """State of an availability challenge on a round input (FedTypes.ChallengeStatus)."""

    NONE = 0
    OPEN = 1
    RESOLVED = 2
    UNAVAILABLE = 3


class DisputeStatus(IntEnum):
    """State of a model dispute (FedTypes.DisputeStatus)."""

    NONE = 0
    AWAITING_ANSWER = 1
    AWAITING_CHOICE = 2
    LEAF_OPENED = 3
    SETTLED = 4


class DisputeOutcome(IntEnum):
    """How a model dispute ended (FedTypes.DisputeOutcome)."""

    MOOT = 0
    PROPOSAL_UNOPENED = 1
    CHALLENGER_LAPSED = 2


class Mode(IntEnum):
    """How updates travel (FedTypes.Mode): plain on FedCoordinator, secure on SecureCoordinator."""

    PLAIN = 0
    SECURE = 1

    @property
    def label(self) -> str:
        """The mode as configuration files and the command line name it: "plain" or "secure"."""
        return self.name.lower()


@dataclass(frozen=True, kw_only=True)
class TaskParams:
    """The immutable rules of a task, field for field (and in the order of) FedTypes.TaskParams.

    ``mode``, ``neighbours`` and ``threshold`` default to a plain task (secure mode sets all three); ``rule_param``
    to 0 (a rule without a parameter).
    """

    commit_window: int
    reveal_window: int
    cohort_cap: int
    sample_cap: int
    min_stake: int
    token: str
    mode: int = Mode.PLAIN
    rule: int
    scale_bits: int
    words_per_leaf: int
    clip: int
    min_participants: int
    max_silent_rounds: int
    num_params: int
    server_lr_bps: int
    unbonding_delay: int
    allowlist: bool
    missed_reveal_slash_bps: int
    silence_slash_bps: int
    violation_slash_bps: int
    aggregator_slash_bps: int
    bounty_bps: int
    aggregator_fee_bps: int
    rule_param: int = 0
    propose_window: int
    challenge_window: int
    num_rounds: int
    aggregator_bond: int
    availability_window: int
    reward_per_round: int
    availability_bond: int
    neighbours: int = 0
    threshold: int = 0
    model_spec_hash: bytes

    def as_abi(self) -> tuple[Any, ...]:
        """The struct as the ABI tuple the contract takes."""
        return tuple(Web3.to_checksum_address(value) if spec.name == "token" else value
                     for spec, value in zip(fields(self), astuple(self), strict=True))

    @classmethod
    def from_abi(cls, raw: Sequence[Any]) -> TaskParams:
        """Parse the tuple a view returns."""
        return cls(**{spec.name: value for spec, value in zip(fields(cls), raw, strict=True)})


@dataclass(frozen=True)
class TaskState:
    """Mutable state of a task (FedTypes.TaskState)."""

    pool: int
    owed_rewards: int
    current_round: int
    spare_rounds: int
    depth: int
    status: TaskStatus
    last_reward_per_weight: int
    members: int
    created_at: int
    sampled: bool
    scored: bool
    model_root: bytes
    model_blob_ref: bytes
    requester: str


@dataclass(frozen=True)
class RoundView:
    """A round's stored state, its phase now and its deadlines (FedTypes.RoundView, flattened)."""

    start: int
    propose_start_stored: int
    proposed_at: int
    commits: int
    reveals: int
    included: int
    total_weight: int
    status: RoundStatus
    proposals: int
    open_challenges: int
    open_disputes: int
    aggregator: str
    reward_per_weight: int
    proposed_root: bytes
    proposed_blob_ref: bytes
    settled_at: int
    sampled_from: int
    cohort_seed: int
    phase: RoundPhase
    commit_end: int
    reveal_end: int
    propose_start: int
    propose_end: int
    challenge_end: int

    @property
    def has_proposal(self) -> bool:
        """Whether a proposal is pending."""
        return self.proposed_at != 0


@dataclass(frozen=True)
class InputChallenge:
    """An availability challenge on one member's input of one round (FedTypes.InputChallenge)."""

    challenger: str
    deadline: int
    chunks_posted: int
    leaf_words: int
    status: ChallengeStatus
    root: bytes
    bound_entry: bytes
    dropped_entry: bytes
    weight: int
    index: int
    chunks: int
    chunk_levels: int


@dataclass(frozen=True)
class Dispute:
    """A challenger's model dispute in one round (FedTypes.Dispute)."""

    deadline: int
    index: int
    proposal: int
    level: int
    status: DisputeStatus
    node: bytes


@dataclass(frozen=True)
class ChallengeOpened:
    """One InputChallenged event."""

    owner: str
    challenger: str
    root: bytes
    chunks: int
    deadline: int


@dataclass(frozen=True)
class PostedChunk:
    """One ChunkPosted event: a chunk of a challenged input, on chain."""

    owner: str
    chunk: Chunk
    poster: str


@dataclass(frozen=True)
class DisputeStep:
    """One step of a model dispute as its events tell it: ``kind`` is "opened", "answered" (``left``,
    ``right`` are the node's children), "descended" (``node`` the chosen child) or "leaf" (``words``)."""

    kind: str
    challenger: str
    level: int
    index: int
    deadline: int
    left: bytes = b""
    right: bytes = b""
    node: bytes = b""
    words: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class MemberInfo:
    """A member's stake, booked rewards and entry word (FedTypes.Member)."""

    stake: int
    rewards: int
    activity_mark: int
    last_commit_round: int
    exiting: bool
    joined: bool
    entry: bytes
    exit_requested_at: int


@dataclass(frozen=True)
class AggregatorInfo:
    """An aggregator's bond record (FedTypes.Aggregator)."""

    bond: int
    exit_requested_at: int
    barred_round: int
    bonded: bool


@dataclass(frozen=True)
class Reveal:
    """One Revealed event: a participant's update root, sample count, weight and blob reference."""

    participant: str
    root: bytes
    sample_count: int
    weight: int
    blob_ref: bytes


@dataclass(frozen=True)
class Proposal:
    """One Proposed event."""

    aggregator: str
    root: bytes
    blob_ref: bytes


@dataclass(frozen=True)
class FinalizedModel:
    """One RoundFinalized event: the global model round ``round`` produced, and the transaction (0x-hex hash,
    block) that anchored it."""

    round: int
    root: bytes
    blob_ref: bytes
    tx_hash: str
    block: int


@dataclass(frozen=True)
class Evaluation:
    """One ModelEvaluated event: ``evaluator``'s metrics of the model round ``round`` anchored."""

    round: int
    evaluator: str
    metrics: dict[str, float]
    block: int


@dataclass(frozen=True)
class LeafProof:
    """One leaf's words and Merkle path (FedTypes.LeafProof)."""

    words: tuple[bytes, ...]
    siblings: tuple[bytes, ...]

    def as_abi(self) -> tuple[list[bytes], list[bytes]]:
        """The struct as an ABI tuple."""
        return list(self.words), list(self.siblings)


@dataclass(frozen=True)
class IncludedLeaf:
    """One included update in an aggregate fraud proof: its owner, revealed weight, leaf and path."""

    participant: str
    weight: int
    leaf: LeafProof
    norm: tuple[bytes, int] | None = None
    """A norm-bounded task's (rule 3) update also carries its member's declaration (normRoot, normSq) of the round,
    or (32 zero bytes, 0) for a member that declared none (docs/protocol.md section 4.4); None for other rules."""

    def flat_words(self) -> list[bytes]:
        """The update's run in the proof's flat update list: head word (participant << 96 | weight), for rule 3 the
        declaration's two words, leaf words, siblings (docs/protocol.md section 9.1; the update's root is
        recomputed on chain)."""
        head = (int(self.participant, 16) << 96) | self.weight
        norm = [] if self.norm is None else [self.norm[0], self.norm[1].to_bytes(32, "big")]
        return [head.to_bytes(32, "big"), *norm, *self.leaf.words, *self.leaf.siblings]


@dataclass(frozen=True)
class NormProof:
    """Proof that a norm declaration is false at one leaf (FedTypes.NormProof, docs/protocol.md section 4.4): the
    declaration, the update's leaf under its revealed root, and the norm leaf's value with its path."""

    norm_root: bytes
    norm_sq: int
    leaf_index: int
    leaf: LeafProof
    value: int
    hashes: tuple[bytes, ...]
    sums: tuple[int, ...]

    def as_abi(self) -> tuple[Any, ...]:
        """The struct as an ABI tuple."""
        return (self.norm_root, self.norm_sq, self.leaf_index, self.leaf.as_abi(), self.value, list(self.hashes),
                list(self.sums))


@dataclass(frozen=True)
class NormDeclaration:
    """A NormDeclared event: a member's per-leaf squared norms of its update in a round, their tree's root and sum."""

    participant: str
    norm_root: bytes
    norm_sq: int
    leaf_norms: tuple[int, ...]


@dataclass(frozen=True)
class AggregateFraudProof:
    """Fraud proof against a pending proposal at one leaf (FedTypes.AggregateFraudProof)."""

    leaf_index: int
    previous: LeafProof
    proposed: LeafProof
    updates: tuple[IncludedLeaf, ...]

    def as_abi(self) -> tuple[Any, ...]:
        """The struct as an ABI tuple, the updates flattened into one word list."""
        flat = [word for update in self.updates for word in update.flat_words()]
        return self.leaf_index, self.previous.as_abi(), self.proposed.as_abi(), flat


def _record(cls: type[Any], raw: Sequence[Any]) -> Any:
    """Build dataclass ``cls`` from an ABI tuple, converting enum fields by their annotation."""
    values = []
    for spec, value in zip(fields(cls), raw, strict=True):
        kind = {"TaskStatus": TaskStatus, "RoundStatus": RoundStatus, "RoundPhase": RoundPhase,
                "ChallengeStatus": ChallengeStatus, "DisputeStatus": DisputeStatus}.get(str(spec.type))
        values.append(kind(value) if kind is not None else value)
    return cls(*values)


class CoordinatorClient:
    """What every coordinator contract shares (ICoordinator: CoordinatorBase and its Registry and Availability
    modules): tasks, stakes, bonds, the proposal lifecycle, rewards, slashing, availability challenges, model
    disputes, views and events. :class:`Coordinator` (plain mode) and
    :class:`fedchain.chain.secure_coordinator.SecureCoordinator` add their rounds.

    Each kind names its contract, the interface it is called through (``INTERFACE``: its whole ABI, modules
    included), the mode of its tasks, and the stateless verifier its constructor deploys (``VERIFIER``, whose
    address the view ``VERIFIER_VIEW`` returns): only that kind of coordinator answers that view, which is how
    :meth:`deployed_at` tells the kinds apart on chain."""

    CONTRACT: ClassVar[str]
    INTERFACE: ClassVar[str]
    MODE: ClassVar[Mode]
    VERIFIER: ClassVar[str]
    VERIFIER_VIEW: ClassVar[str]

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.contract: Contract = chain.contract(self.INTERFACE, address)

    @classmethod
    def deploy(cls, chain: Chain, *, sender: LocalAccount | None = None) -> Self:
        """Deploy a fresh coordinator: its Registry and Availability modules first, then the coordinator with
        their addresses (its constructor deploys its stateless helpers)."""
        registry = chain.deploy(REGISTRY_CONTRACT, sender=sender).address
        availability = chain.deploy(AVAILABILITY_CONTRACT, sender=sender).address
        return cls(chain, chain.deploy(cls.CONTRACT, registry, availability, sender=sender).address)

    @classmethod
    def deployed_at(cls, chain: Chain, address: str) -> bool:
        """Whether the contract at ``address`` is this kind of coordinator: it answers ``VERIFIER_VIEW`` with
        the address of a contract (any other contract reverts, or returns nothing, on that call)."""
        try:
            verifier = cls(chain, address).verifier_address()
        except (ContractRevertError, BadFunctionCallOutput):
            return False
        return bool(chain.w3.eth.get_code(Web3.to_checksum_address(verifier)))

    @property
    def address(self) -> str:
        """The contract's checksum address."""
        return str(self.contract.address)

    def verifier_address(self) -> str:
        """Address of the stateless verifier (``VERIFIER``) this coordinator deployed."""
        return str(self.chain.call(getattr(self.contract.functions, self.VERIFIER_VIEW)()))

    def deployed_contracts(self) -> dict[str, str]:
        """This coordinator, its modules and the verifier it deployed, by contract name."""
        return {self.CONTRACT: self.address, self.VERIFIER: self.verifier_address(),
                REGISTRY_CONTRACT: str(self.chain.call(self.contract.functions.REGISTRY())),
                AVAILABILITY_CONTRACT: str(self.chain.call(self.contract.functions.AVAILABILITY()))}

    # -- views ------------------------------------------------------------------------------------------

    def task_params(self, task_id: int) -> TaskParams:
        """The immutable rules of task ``task_id``."""
        return TaskParams.from_abi(self.chain.call(self.contract.functions.taskParams(task_id)))

    def task_state(self, task_id: int) -> TaskState:
        """The mutable state of task ``task_id``."""
        state: TaskState = _record(TaskState, self.chain.call(self.contract.functions.taskState(task_id)))
        return state

    def round_view(self, task_id: int, round: int) -> RoundView:
        """Round ``round`` of task ``task_id``: stored state, phase now and deadlines."""
        stored, phase, *deadlines = self.chain.call(self.contract.functions.roundView(task_id, round))
        view: RoundView = _record(RoundView, (*stored, phase, *deadlines))
        return view

    def in_cohort(self, task_id: int, round: int, account: str) -> bool:
        """Whether ``account`` is in round ``round``'s cohort: always, unless it was sampled (docs/protocol.md
        section 8.2)."""
        return bool(self.chain.call(self.contract.functions.inCohort(task_id, round,
                                                                     Web3.to_checksum_address(account))))

    def entry_state(self, task_id: int, round: int, participant: str) -> EntryState:
        """Decoded state of ``participant``'s entry in ``round`` (Empty unless it is the round of its last commit
        and the entry is not settled yet)."""
        call = self.contract.functions.entryState(task_id, round, Web3.to_checksum_address(participant))
        return EntryState(self.chain.call(call))

    def member(self, task_id: int, member: str) -> MemberInfo:
        """``member``'s stake record and entry (``joined`` False if none)."""
        call = self.contract.functions.memberOf(task_id, Web3.to_checksum_address(member))
        info: MemberInfo = _record(MemberInfo, self.chain.call(call))
        return info

    def claimable(self, task_id: int, account: str) -> int:
        """What a claim by ``account`` would pay now: its booked rewards, plus its last reveal's if that round
        finalized and the entry is not settled yet."""
        return int(self.chain.call(self.contract.functions.claimable(task_id, Web3.to_checksum_address(account))))

    def aggregator(self, task_id: int, aggregator: str) -> AggregatorInfo:
        """``aggregator``'s bond record (``bonded`` False if none)."""
        call = self.contract.functions.aggregatorOf(task_id, Web3.to_checksum_address(aggregator))
        info: AggregatorInfo = _record(AggregatorInfo, self.chain.call(call))
        return info

    def fees_of(self, task_id: int, aggregator: str) -> int:
        """Aggregator fees claimable by ``aggregator``."""
        return int(self.chain.call(self.contract.functions.feesOf(task_id, Web3.to_checksum_address(aggregator))))

    def idle_at(self, task_id: int) -> int:
        """Chain time from which anyone may end the running task as idle (2^256 - 1 while its round cannot idle:
        a proposal pending or an availability challenge open)."""
        return int(self.chain.call(self.contract.functions.idleAt(task_id)))

    def input_challenge(self, task_id: int, round: int, owner: str) -> InputChallenge:
        """The availability challenge on ``owner``'s input of ``round`` (status NONE if none)."""
        call = self.contract.functions.inputChallenge(task_id, round, Web3.to_checksum_address(owner))
        raw = self.chain.call(call)
        return InputChallenge(str(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]), ChallengeStatus(raw[4]),
                              bytes(raw[5]), bytes(raw[6]), bytes(raw[7]), int(raw[8]), int(raw[9]), int(raw[10]),
                              int(raw[11]))

    def input_challenges(self, task_id: int, round: int) -> dict[str, InputChallenge]:
        """Every availability challenge of ``round`` (InputChallenged events), by owner, in chain order."""
        owners = dict.fromkeys(opened.owner for opened in self.challenges_opened(task_id, round))
        return {owner: self.input_challenge(task_id, round, owner) for owner in owners}

    def disputes(self, task_id: int, round: int) -> dict[str, Dispute]:
        """Every challenger's model dispute of ``round`` (DisputeOpened events), by challenger, in the order of
        its first dispute."""
        logs = self._logs("DisputeOpened", taskId=task_id, round=round)
        challengers = dict.fromkeys(str(log.args.challenger) for log in logs)
        return {challenger: self.dispute(task_id, round, challenger) for challenger in challengers}

    def dispute(self, task_id: int, round: int, challenger: str) -> Dispute:
        """``challenger``'s model dispute in ``round`` (status NONE if none)."""
        call = self.contract.functions.disputeOf(task_id, round, Web3.to_checksum_address(challenger))
        deadline, index, proposal, level, status, node = self.chain.call(call)
        return Dispute(int(deadline), int(index), int(proposal), int(level), DisputeStatus(status), bytes(node))

    # -- events -----------------------------------------------------------------------------------------

    def members(self, task_id: int) -> list[str]:
        """Every address that ever joined the task (its first StakeDeposited), in chain order."""
        joined = [str(log.args.member) for log in self._logs("StakeDeposited", taskId=task_id)]
        return list(dict.fromkeys(joined))

    def aggregators(self, task_id: int) -> list[str]:
        """Every address that ever posted an aggregator bond for the task (its first BondDeposited), in chain order."""
        bonded = [str(log.args.aggregator) for log in self._logs("BondDeposited", taskId=task_id)]
        return list(dict.fromkeys(bonded))

    def proposals(self, task_id: int, round: int) -> list[Proposal]:
        """Every Proposed event of ``round``, in chain order."""
        return [Proposal(aggregator=log.args.aggregator, root=bytes(log.args.root), blob_ref=bytes(log.args.blobRef))
                for log in self._logs("Proposed", taskId=task_id, round=round)]

    def finalized_models(self, task_id: int) -> list[FinalizedModel]:
        """Every RoundFinalized event of the task: the global model each finalized round produced."""
        return [FinalizedModel(round=int(log.args.round), root=bytes(log.args.modelRoot),
                               blob_ref=bytes(log.args.modelBlobRef), tx_hash=log.transactionHash.to_0x_hex(),
                               block=int(log.blockNumber))
                for log in self._logs("RoundFinalized", taskId=task_id)]

    def initial_model(self, task_id: int) -> tuple[bytes, bytes]:
        """The root and blob reference of the task's initial model (its TaskCreated event)."""
        (created,) = self._logs("TaskCreated", taskId=task_id)
        return bytes(created.args.modelRoot), bytes(created.args.modelBlobRef)

    def evaluations(self, task_id: int) -> list[Evaluation]:
        """Every ModelEvaluated event of the task whose metrics parse (docs/protocol.md section 8.10), in chain
        order; anyone may publish, so each is attributed to its evaluator and malformed ones are left out."""
        evaluations = []
        for log in self._logs("ModelEvaluated", taskId=task_id):
            metrics = decode_metrics(str(log.args.metrics))
            if metrics is not None:
                evaluations.append(Evaluation(round=int(log.args.round), evaluator=str(log.args.evaluator),
                                              metrics=metrics, block=int(log.blockNumber)))
        return evaluations

    def challenges_opened(self, task_id: int, round: int) -> list[ChallengeOpened]:
        """Every InputChallenged event of ``round``, in chain order."""
        return [ChallengeOpened(owner=str(log.args.owner), challenger=str(log.args.challenger),
                                root=bytes(log.args.root), chunks=int(log.args.chunks),
                                deadline=int(log.args.deadline))
                for log in self._logs("InputChallenged", taskId=task_id, round=round)]

    def posted_chunks(self, task_id: int, round: int, owner: str) -> list[PostedChunk]:
        """Every ChunkPosted event of ``owner``'s challenged input of ``round``, in chain order."""
        logs = self._logs("ChunkPosted", taskId=task_id, round=round, owner=Web3.to_checksum_address(owner))
        return [PostedChunk(owner=str(log.args.owner), poster=str(log.args.poster),
                            chunk=Chunk(index=int(log.args.chunkIndex),
                                        words=tuple(bytes(word) for word in log.args.words),
                                        path=tuple(bytes(word) for word in log.args.path)))
                for log in logs]

    def unavailable_inputs(self, task_id: int, round: int) -> list[str]:
        """The members whose input of ``round`` was dropped as unavailable (InputUnavailable), in chain order."""
        return [str(log.args.owner) for log in self._logs("InputUnavailable", taskId=task_id, round=round)]

    def dispute_steps(self, task_id: int, round: int, challenger: str | None = None) -> list[DisputeStep]:
        """Every model-dispute event of ``round`` (of ``challenger`` only, if given), in chain order."""
        filters: dict[str, Any] = {"taskId": task_id, "round": round}
        if challenger is not None:
            filters["challenger"] = Web3.to_checksum_address(challenger)
        steps: list[tuple[tuple[int, int], DisputeStep]] = []
        for event in ("DisputeOpened", "DisputeAnswered", "DisputeDescended", "DisputeLeafOpened"):
            for log in self._logs(event, **filters):
                args = log.args
                if event == "DisputeOpened":
                    step = DisputeStep("opened", str(args.challenger), -1, 0, int(args.deadline))
                elif event == "DisputeAnswered":
                    step = DisputeStep("answered", str(args.challenger), int(args.level), int(args.index),
                                       int(args.deadline), left=bytes(args.left), right=bytes(args.right))
                elif event == "DisputeDescended":
                    step = DisputeStep("descended", str(args.challenger), int(args.level), int(args.index),
                                       int(args.deadline), node=bytes(args.node))
                else:
                    step = DisputeStep("leaf", str(args.challenger), 0, int(args.index), int(args.deadline),
                                       words=tuple(bytes(word) for word in args.words))
                steps.append(((int(log.blockNumber), int(log.logIndex)), step))
        return [step for _, step in sorted(steps, key=lambda item: item[0])]

    def disputed_rounds(self, task_id: int, challenger: str) -> list[int]:
        """The rounds in which ``challenger`` opened a model dispute, in chain order, each once."""
        logs = self._logs("DisputeOpened", taskId=task_id, challenger=Web3.to_checksum_address(challenger))
        return list(dict.fromkeys(int(log.args.round) for log in logs))

    def created_task_id(self, receipt: TxReceipt) -> int:
        """The id of the task a createTask receipt created."""
        (event,) = self.contract.events.TaskCreated().process_receipt(receipt, errors=DISCARD)
        return int(event.args.taskId)

    def _logs(self, event: str, **filters: Any) -> list[Any]:
        """Events up to the chain's read block (the latest, or the one :meth:`Chain.pinned` holds)."""
        handle = getattr(self.contract.events, event)()
        to_block = self.chain.read_block
        return list(self.chain.query(lambda: handle.get_logs(from_block=FIRST_BLOCK, to_block=to_block,
                                                             argument_filters=filters)))

    # -- transactions -----------------------------------------------------------------------------------

    def create_task(self, params: TaskParams, model_root: bytes, model_blob_ref: bytes, *,
                    sender: LocalAccount) -> int:
        """Create a task (escrow pulled from ``sender``, who must have approved it); return its id."""
        call = self.contract.functions.createTask(params.as_abi(), model_root, model_blob_ref)
        return self.created_task_id(self.chain.send(call, kind="createTask", sender=sender))

    def approve_members(self, task_id: int, accounts: Sequence[str], *, sender: LocalAccount) -> TxReceipt:
        """Approve members of an allowlisted task (requester only)."""
        addresses = [Web3.to_checksum_address(account) for account in accounts]
        return self.chain.send(self.contract.functions.approveMembers(task_id, addresses), kind="approveMembers",
                               sender=sender)

    def join(self, task_id: int, amount: int, *, sender: LocalAccount) -> TxReceipt:
        """Join with stake ``amount``."""
        return self.chain.send(self.contract.functions.join(task_id, amount), kind="join", sender=sender)

    def add_stake(self, task_id: int, amount: int, *, sender: LocalAccount) -> TxReceipt:
        """Add stake."""
        return self.chain.send(self.contract.functions.addStake(task_id, amount), kind="addStake", sender=sender)

    def request_exit(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Start the member's unbonding delay."""
        return self.chain.send(self.contract.functions.requestExit(task_id), kind="requestExit", sender=sender)

    def withdraw_stake(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Withdraw the whole stake."""
        return self.chain.send(self.contract.functions.withdrawStake(task_id), kind="withdrawStake", sender=sender)

    def post_bond(self, task_id: int, amount: int, *, sender: LocalAccount) -> TxReceipt:
        """Post or add aggregator bond."""
        return self.chain.send(self.contract.functions.postBond(task_id, amount), kind="postBond", sender=sender)

    def request_bond_exit(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Start the bond's unbonding delay."""
        return self.chain.send(self.contract.functions.requestBondExit(task_id), kind="requestBondExit",
                               sender=sender)

    def withdraw_bond(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Withdraw the whole bond."""
        return self.chain.send(self.contract.functions.withdrawBond(task_id), kind="withdrawBond", sender=sender)

    def reopen_aggregation(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Open a new propose window after one passed without a proposal."""
        return self.chain.send(self.contract.functions.reopenAggregation(task_id), kind="reopenAggregation",
                               sender=sender)

    def fail_round(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Fail a round with too few included updates."""
        return self.chain.send(self.contract.functions.failRound(task_id), kind="failRound", sender=sender)

    def finalize(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Finalize the round after its challenge window."""
        return self.chain.send(self.contract.functions.finalize(task_id), kind="finalize", sender=sender)

    def slash_missed_reveal(self, task_id: int, round: int, participant: str, *, sender: LocalAccount) -> TxReceipt:
        """Slash a member that committed in ``round`` but did not reveal."""
        call = self.contract.functions.slashMissedReveal(task_id, round, Web3.to_checksum_address(participant))
        return self.chain.send(call, kind="slashMissedReveal", sender=sender)

    def slash_silence(self, task_id: int, member: str, *, sender: LocalAccount) -> TxReceipt:
        """Slash a member silent for more than maxSilentRounds rounds."""
        call = self.contract.functions.slashSilence(task_id, Web3.to_checksum_address(member))
        return self.chain.send(call, kind="slashSilence", sender=sender)

    def claim_rewards(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Claim every reward booked to ``sender`` (its last entry is settled first if its round closed)."""
        return self.chain.send(self.contract.functions.claimRewards(task_id), kind="claimRewards", sender=sender)

    def claim_fees(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Claim accrued aggregator fees."""
        return self.chain.send(self.contract.functions.claimFees(task_id), kind="claimFees", sender=sender)

    def end_idle_task(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """End a task idle for too long."""
        return self.chain.send(self.contract.functions.endIdleTask(task_id), kind="endIdleTask", sender=sender)

    def withdraw_pool(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Withdraw the unallocated pool of an ended task (requester only)."""
        return self.chain.send(self.contract.functions.withdrawPool(task_id), kind="withdrawPool", sender=sender)

    def publish_evaluation(self, task_id: int, round: int, metrics: Mapping[str, float], *,
                           sender: LocalAccount) -> TxReceipt:
        """Publish ``sender``'s metrics of the model finalized round ``round`` anchored (a ModelEvaluated event)."""
        call = self.contract.functions.publishEvaluation(task_id, round, encode_metrics(metrics))
        return self.chain.send(call, kind="publishEvaluation", sender=sender)

    # -- availability challenges and model disputes (docs/protocol.md §11) -------------------------------

    def post_chunk(self, task_id: int, round: int, owner: str, chunk: Chunk, *, sender: LocalAccount) -> TxReceipt:
        """Post the next chunk of ``owner``'s challenged input of ``round``."""
        call = self.contract.functions.postChunk(task_id, round, Web3.to_checksum_address(owner), chunk.index,
                                                 list(chunk.words), list(chunk.path))
        return self.chain.send(call, kind="postChunk", sender=sender)

    def drop_unavailable(self, task_id: int, round: int, owner: str, *, sender: LocalAccount) -> TxReceipt:
        """Drop ``owner``'s challenged input of ``round``, not put on chain in time, and slash its owner."""
        call = self.contract.functions.dropUnavailable(task_id, round, Web3.to_checksum_address(owner))
        return self.chain.send(call, kind="dropUnavailable", sender=sender)

    def open_dispute(self, task_id: int, *, sender: LocalAccount) -> TxReceipt:
        """Dispute the pending proposal: its tree must be opened to a leaf."""
        return self.chain.send(self.contract.functions.openDispute(task_id), kind="openDispute", sender=sender)

    def answer_dispute(self, task_id: int, challenger: str, left: bytes, right: bytes, *,
                       sender: LocalAccount) -> TxReceipt:
        """Post the children of ``challenger``'s disputed node."""
        call = self.contract.functions.answerDispute(task_id, Web3.to_checksum_address(challenger), left, right)
        return self.chain.send(call, kind="answerDispute", sender=sender)

    def open_leaf(self, task_id: int, challenger: str, words: Sequence[bytes], *, sender: LocalAccount) -> TxReceipt:
        """Post the words of ``challenger``'s disputed leaf."""
        call = self.contract.functions.openLeaf(task_id, Web3.to_checksum_address(challenger), list(words))
        return self.chain.send(call, kind="openLeaf", sender=sender)

    def choose_child(self, task_id: int, left: bytes, right: bytes, go_right: bool, *,
                     sender: LocalAccount) -> TxReceipt:
        """Descend into one child of the sender's answered node."""
        call = self.contract.functions.chooseChild(task_id, left, right, go_right)
        return self.chain.send(call, kind="chooseChild", sender=sender)

    def settle_dispute(self, task_id: int, round: int, challenger: str, *, sender: LocalAccount) -> TxReceipt:
        """End ``challenger``'s dispute of ``round`` (its deadline passed, or its proposal is gone)."""
        call = self.contract.functions.settleDispute(task_id, round, Web3.to_checksum_address(challenger))
        return self.chain.send(call, kind="settleDispute", sender=sender)


class Coordinator(AuditCalls, ScoringCalls, CoordinatorClient):
    """A FedCoordinator (plain mode, docs/protocol.md sections 7-9): commit-reveal, proposals, fraud proofs, and
    contribution scores (section 12, :class:`~fedchain.chain.scoring.ScoringCalls`)."""

    CONTRACT: ClassVar[str] = COORDINATOR_CONTRACT
    INTERFACE: ClassVar[str] = COORDINATOR_INTERFACE
    MODE: ClassVar[Mode] = Mode.PLAIN
    VERIFIER: ClassVar[str] = LEAF_VERIFIER_CONTRACT
    VERIFIER_VIEW: ClassVar[str] = "LEAF_VERIFIER"

    def commitment_of(self, task_id: int, round: int, participant: str, root: bytes, sample_count: int,
                      salt: bytes) -> bytes:
        """The commit hash the contract expects (docs/protocol.md §5)."""
        call = self.contract.functions.commitmentOf(task_id, round, Web3.to_checksum_address(participant), root,
                                                    sample_count, salt)
        return bytes(self.chain.call(call))

    def reveals(self, task_id: int, round: int) -> list[Reveal]:
        """Every Revealed event of ``round``, in chain order."""
        logs = self._logs("Revealed", taskId=task_id, round=round)
        return [Reveal(participant=log.args.participant, root=bytes(log.args.root), sample_count=log.args.sampleCount,
                       weight=log.args.weight, blob_ref=bytes(log.args.blobRef)) for log in logs]

    def committers(self, task_id: int, round: int) -> list[str]:
        """Addresses that committed in ``round``, in chain order."""
        return [str(log.args.participant) for log in self._logs("Committed", taskId=task_id, round=round)]

    def norm_declarations(self, task_id: int, round: int) -> list[NormDeclaration]:
        """Every NormDeclared event of ``round`` (a norm-bounded task), in chain order."""
        return [NormDeclaration(participant=str(log.args.participant), norm_root=bytes(log.args.normRoot),
                                norm_sq=int(log.args.normSq), leaf_norms=tuple(int(v) for v in log.args.leafNorms))
                for log in self._logs("NormDeclared", taskId=task_id, round=round)]

    def norm_declaration_of(self, task_id: int, member: str) -> bytes:
        """The member's stored declaration word (0 if it never declared; docs/protocol.md section 4.4)."""
        return bytes(self.chain.call(self.contract.functions.normDeclarationOf(task_id,
                                                                               Web3.to_checksum_address(member))))

    def declare_norm(self, task_id: int, leaf_norms: Sequence[int], *, sender: LocalAccount) -> TxReceipt:
        """Declare the per-leaf squared norms of the sender's revealed update (a norm-bounded task)."""
        return self.chain.send(self.contract.functions.declareNorm(task_id, list(leaf_norms)), kind="declareNorm",
                               sender=sender)

    def drop_undeclared(self, task_id: int, participant: str, root: bytes, weight: int, *,
                        sender: LocalAccount) -> TxReceipt:
        """Drop a revealed update whose norm was not declared by the reveal deadline."""
        call = self.contract.functions.dropUndeclared(task_id, Web3.to_checksum_address(participant), root, weight)
        return self.chain.send(call, kind="dropUndeclared", sender=sender)

    def prove_norm_violation(self, task_id: int, participant: str, root: bytes, weight: int, proof: NormProof, *,
                             sender: LocalAccount) -> TxReceipt:
        """Prove a norm declaration false at one leaf."""
        call = self.contract.functions.proveNormViolation(task_id, Web3.to_checksum_address(participant), root,
                                                           weight, proof.as_abi())
        return self.chain.send(call, kind="proveNormViolation", sender=sender)

    def commit(self, task_id: int, commit_hash: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Commit to an update in the current round."""
        return self.chain.send(self.contract.functions.commit(task_id, commit_hash), kind="commit", sender=sender)

    def reveal(self, task_id: int, root: bytes, sample_count: int, salt: bytes, blob_ref: bytes, *,
               sender: LocalAccount) -> TxReceipt:
        """Reveal the committed update of the current round."""
        call = self.contract.functions.reveal(task_id, root, sample_count, salt, blob_ref)
        return self.chain.send(call, kind="reveal", sender=sender)

    def propose(self, task_id: int, root: bytes, blob_ref: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Propose the next global model."""
        return self.chain.send(self.contract.functions.propose(task_id, root, blob_ref), kind="propose",
                               sender=sender)

    def challenge_aggregate(self, task_id: int, proof: AggregateFraudProof, *, sender: LocalAccount) -> TxReceipt:
        """Submit a fraud proof against the pending proposal."""
        return self.chain.send(self.contract.functions.challengeAggregate(task_id, proof.as_abi()),
                               kind="challengeAggregate", sender=sender)

    def challenge_update(self, task_id: int, participant: str, root: bytes, weight: int, *,
                         sender: LocalAccount) -> TxReceipt:
        """Demand that ``participant``'s revealed update (``root``, ``weight``) be put on chain."""
        call = self.contract.functions.challengeUpdate(task_id, Web3.to_checksum_address(participant), root, weight)
        return self.chain.send(call, kind="challengeUpdate", sender=sender)

    def prove_violation(self, task_id: int, participant: str, root: bytes, weight: int, leaf_index: int,
                        leaf: LeafProof, *, sender: LocalAccount) -> TxReceipt:
        """Prove that a revealed update breaks the rules at one leaf."""
        call = self.contract.functions.proveViolation(task_id, Web3.to_checksum_address(participant), root, weight,
                                                      leaf_index, leaf.as_abi())
        return self.chain.send(call, kind="proveViolation", sender=sender)


class Token:
    """The ERC-20 a task pays and stakes in (any ERC-20; ``mint`` only on the DevToken)."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.contract: Contract = chain.contract(TOKEN_CONTRACT, address)

    @classmethod
    def deploy_dev(cls, chain: Chain, name: str = DEV_TOKEN_NAME, symbol: str = DEV_TOKEN_SYMBOL, *,
                   sender: LocalAccount | None = None) -> Token:
        """Deploy a DevToken (open mint) for tests and demos."""
        return cls(chain, chain.deploy(TOKEN_CONTRACT, name, symbol, sender=sender).address)

    @property
    def address(self) -> str:
        """The token's checksum address."""
        return str(self.contract.address)

    def decimals(self) -> int:
        """How many decimals the token's amounts have (base units per whole token: 10**decimals)."""
        return int(self.chain.call(self.contract.functions.decimals()))

    def balance_of(self, account: str) -> int:
        """``account``'s balance."""
        return int(self.chain.call(self.contract.functions.balanceOf(Web3.to_checksum_address(account))))

    def allowance(self, owner: str, spender: str) -> int:
        """What ``spender`` may still pull from ``owner``."""
        call = self.contract.functions.allowance(Web3.to_checksum_address(owner), Web3.to_checksum_address(spender))
        return int(self.chain.call(call))

    def approve(self, spender: str, amount: int, *, sender: LocalAccount) -> TxReceipt:
        """Allow ``spender`` to pull ``amount``."""
        call = self.contract.functions.approve(Web3.to_checksum_address(spender), amount)
        return self.chain.send(call, kind="approve", sender=sender)

    def mint(self, to: str, amount: int, *, sender: LocalAccount) -> TxReceipt:
        """Mint on a DevToken."""
        call = self.contract.functions.mint(Web3.to_checksum_address(to), amount)
        return self.chain.send(call, kind="mint", sender=sender)
