"""`fedchain status`: a task's state as the chain tells it, as plain data (``--json``) or as text.

Everything comes from views and events of the coordinator at one block (``block``): the task's status and
mode, the current round's phase and deadlines, who committed and revealed, the pending proposal, the current
model, every closed round, and the stakes and bonds of everyone who joined or bonded. A secure task's round
also has its advertised, committed and uploaded sets (U1, U2, U3), whether its seed is fixed, who published
an unmask bundle, and its advertise and upload deadlines (``secure``). Every availability challenge and
model dispute of the current round is listed with its state and deadline (``challenges``, ``disputes``;
docs/protocol.md section 11). Each finalized round's published evaluations (``evaluations``: who measured the
anchored model and its metrics, section 8.10) come with it. Amounts are base units of the
task's token (the text view also shows them in whole tokens); roots and references are 0x-hex; times
are the chain's (seconds since the epoch).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import (
    Coordinator,
    CoordinatorClient,
    EntryState,
    RoundStatus,
    RoundView,
    TaskParams,
    TaskStatus,
    Token,
)
from fedchain.chain.metrics import format_metrics
from fedchain.chain.secure_coordinator import SecureCoordinator, advertise_end, upload_end
from fedchain.deploy.errors import DeployError

SCHEMA = "fedchain-status/1"


@dataclass(frozen=True)
class Deadlines:
    """The current round's deadlines (``challenge_end`` 0 while no proposal is pending)."""

    commit_end: int
    reveal_end: int
    propose_start: int
    propose_end: int
    challenge_end: int


@dataclass(frozen=True)
class Proposal:
    """The pending proposal of the current round."""

    aggregator: str
    root: str
    blob_ref: str
    proposed_at: int


@dataclass(frozen=True)
class ClosedRound:
    """A round that is over: finalized (with the model it anchored) or failed."""

    round: int
    status: str
    model_root: str | None


@dataclass(frozen=True)
class EvaluationReport:
    """Metrics of the model round ``round`` anchored, as ``evaluator`` published them (``by_requester``: the
    task's requester did)."""

    round: int
    evaluator: str
    by_requester: bool
    metrics: dict[str, float]


@dataclass(frozen=True)
class MemberReport:
    """A participant's stake record and what a claim would pay it now."""

    address: str
    stake: int
    joined: bool
    exiting: bool
    claimable: int


@dataclass(frozen=True)
class Bonded:
    """An aggregator's bond record and unclaimed fees."""

    address: str
    bond: int
    bonded: bool
    exiting: bool
    fees: int


@dataclass(frozen=True)
class Challenge:
    """An availability challenge on a member's input of the current round: ``status`` OPEN (its owner must post
    ``chunks`` chunks before ``deadline``; ``chunks_posted`` are on chain), RESOLVED or UNAVAILABLE."""

    owner: str
    challenger: str
    status: str
    chunks_posted: int
    chunks: int
    deadline: int


@dataclass(frozen=True)
class Dispute:
    """A model dispute of the current round: ``status`` AWAITING_ANSWER (the proposal's holder must open the
    node at height ``level``, position ``index``, before ``deadline``), AWAITING_CHOICE, LEAF_OPENED or
    SETTLED."""

    challenger: str
    status: str
    level: int
    index: int
    deadline: int


@dataclass(frozen=True)
class SecureRoundReport:
    """What a secure round has that a plain one has not: the task's neighbours and threshold, the round's
    advertised (U1, by advertise index) and uploaded (U3) members, whether its seed is fixed, who published an
    unmask bundle, and the deadlines inside its commit and reveal spans."""

    neighbours: int
    threshold: int
    seed_fixed: bool
    advertised: list[str]
    uploaded: list[str]
    unmask_published: list[str]
    advertise_end: int
    upload_end: int


@dataclass(frozen=True)
class TaskReport:
    """A task's state as of block ``block``, whose time is ``now``. ``round`` is the contract's current round:
    ``num_rounds`` once the task has completed, the stalled round if it was abandoned (``phase`` then
    NOT_OPEN); the per-round fields describe that round. ``waiting_for_members`` is how many more members
    round 0 needs before it opens (0 once it has). In a secure task ``committed`` is the round's
    committed set (U2), ``revealed`` is empty (nothing is revealed) and ``secure`` has the rest; it is None
    for a plain task."""

    chain_id: int
    coordinator: str
    task_id: int
    mode: str
    status: str
    round: int
    num_rounds: int
    phase: str
    waiting_for_members: int
    block: int
    now: int
    deadlines: Deadlines
    committed: list[str]
    revealed: list[str]
    included: int
    proposal: Proposal | None
    model_root: str
    model_blob_ref: str
    rounds: list[ClosedRound]
    members: list[MemberReport]
    aggregators: list[Bonded]
    pool: int
    owed_rewards: int
    token: str
    token_decimals: int
    secure: SecureRoundReport | None
    challenges: list[Challenge]
    disputes: list[Dispute]
    evaluations: list[EvaluationReport]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"schema": SCHEMA, **asdict(self)}


def task_report(coordinator: CoordinatorClient, task_id: int) -> TaskReport:
    """Read task ``task_id``'s state from ``coordinator``, every view and event at one block."""
    with coordinator.chain.pinned() as block:
        return _report_at(coordinator, task_id, block)


def _report_at(coordinator: CoordinatorClient, task_id: int, block: int) -> TaskReport:
    state = coordinator.task_state(task_id)
    if state.status == TaskStatus.NONE:
        raise DeployError(f"task {task_id} does not exist on coordinator {coordinator.address}")
    params = coordinator.task_params(task_id)
    round = state.current_round
    view = coordinator.round_view(task_id, round)
    secure = None
    if isinstance(coordinator, SecureCoordinator):
        committed = [commitment.participant for commitment in coordinator.share_commitments(task_id, round)]
        revealed: list[str] = []
        secure = _secure_round(coordinator, task_id, round, params, view)
    elif isinstance(coordinator, Coordinator):
        committed = coordinator.committers(task_id, round)
        revealed = [reveal.participant for reveal in coordinator.reveals(task_id, round)
                    if coordinator.entry_state(task_id, round, reveal.participant)
                    in (EntryState.REVEALED, EntryState.EMPTY)]
    else:
        raise DeployError(f"no status for a {type(coordinator).__name__} client")
    finalized = {model.round: model for model in coordinator.finalized_models(task_id)}
    closed = list(range(round)) + ([round] if view.status != RoundStatus.ACTIVE else [])
    token = Token(coordinator.chain, params.token)
    return TaskReport(
        chain_id=coordinator.chain.chain_id, coordinator=coordinator.address, task_id=task_id,
        mode=coordinator.MODE.name, status=state.status.name, round=round, num_rounds=params.num_rounds,
        phase=view.phase.name,
        waiting_for_members=max(0, params.min_participants - state.members) if view.start == 0 and round == 0 else 0,
        block=block, now=coordinator.chain.now(),
        deadlines=Deadlines(commit_end=view.commit_end, reveal_end=view.reveal_end,
                            propose_start=view.propose_start, propose_end=view.propose_end,
                            challenge_end=view.challenge_end if view.has_proposal else 0),
        committed=committed, revealed=revealed, included=view.included,
        proposal=Proposal(aggregator=view.aggregator, root=_hex(view.proposed_root),
                          blob_ref=_hex(view.proposed_blob_ref), proposed_at=view.proposed_at)
        if view.has_proposal else None,
        model_root=_hex(state.model_root), model_blob_ref=_hex(state.model_blob_ref),
        rounds=[ClosedRound(round=r, status="FINALIZED" if r in finalized else "FAILED",
                            model_root=_hex(finalized[r].root) if r in finalized else None) for r in closed],
        members=[_member(coordinator, task_id, address) for address in coordinator.members(task_id)],
        aggregators=[_bonded(coordinator, task_id, address) for address in coordinator.aggregators(task_id)],
        pool=state.pool, owed_rewards=state.owed_rewards, token=token.address, token_decimals=token.decimals(),
        secure=secure, challenges=_challenges(coordinator, task_id, round),
        disputes=_disputes(coordinator, task_id, round),
        evaluations=[EvaluationReport(round=evaluation.round, evaluator=evaluation.evaluator,
                                      by_requester=evaluation.evaluator == state.requester, metrics=evaluation.metrics)
                     for evaluation in coordinator.evaluations(task_id)],
    )


def _challenges(coordinator: CoordinatorClient, task_id: int, round: int) -> list[Challenge]:
    return [Challenge(owner=owner, challenger=challenge.challenger, status=challenge.status.name,
                      chunks_posted=challenge.chunks_posted, chunks=challenge.chunks, deadline=challenge.deadline)
            for owner, challenge in coordinator.input_challenges(task_id, round).items()]


def _disputes(coordinator: CoordinatorClient, task_id: int, round: int) -> list[Dispute]:
    return [Dispute(challenger=challenger, status=dispute.status.name, level=dispute.level, index=dispute.index,
                    deadline=dispute.deadline)
            for challenger, dispute in coordinator.disputes(task_id, round).items()]

def _secure_round(coordinator: SecureCoordinator, task_id: int, round: int, params: TaskParams,
                  view: RoundView) -> SecureRoundReport:
    published = [announcement.participant for announcement in coordinator.unmask_announcements(task_id, round)]
    return SecureRoundReport(
        neighbours=params.neighbours, threshold=params.threshold,
        seed_fixed=coordinator.secure_round(task_id, round).seed_fixed,
        advertised=[advert.participant for advert in coordinator.advertisements(task_id, round)],
        uploaded=[upload.participant for upload in coordinator.uploads(task_id, round)],
        unmask_published=list(dict.fromkeys(published)),  # a survivor may publish again; listed once
        advertise_end=advertise_end(view, params), upload_end=upload_end(view, params))


def render(report: TaskReport) -> list[str]:
    """The report as lines of text for a terminal."""
    def tokens(units: int) -> str:
        return whole_tokens(units, report.token_decimals)

    def when(moment: int) -> str:
        if moment == 0:
            return "-"
        delta = moment - report.now
        return f"{moment} ({'in ' + str(delta) + ' s' if delta > 0 else 'passed'})"

    deadlines = report.deadlines
    lines = [f"task        {report.task_id} on chain {report.chain_id}, coordinator {report.coordinator}, "
             f"as of block {report.block}"]
    if report.status == TaskStatus.RUNNING.name:
        proposal, secure = report.proposal, report.secure
        lines.append(f"status      {report.status}, round {report.round} of 0..{report.num_rounds - 1}, phase "
                     f"{report.phase}" + (f" (secure: {secure.neighbours} neighbours, threshold {secure.threshold})"
                                          if secure else ""))
        if report.waiting_for_members:
            lines.append(f"waiting     round 0 opens when {report.waiting_for_members} more member"
                         f"{'s' if report.waiting_for_members > 1 else ''} have joined")
        if secure is None:
            lines += [f"deadlines   commit {when(deadlines.commit_end)}, reveal {when(deadlines.reveal_end)}, "
                      f"propose {when(deadlines.propose_end)}, challenge {when(deadlines.challenge_end)}",
                      listed("committed", report.committed), listed("revealed", report.revealed)]
        else:
            lines += [f"deadlines   advertise {when(secure.advertise_end)}, commit {when(deadlines.commit_end)}, "
                      f"upload {when(secure.upload_end)}, unmask {when(deadlines.reveal_end)}, "
                      f"propose {when(deadlines.propose_end)}, challenge {when(deadlines.challenge_end)}",
                      "seed        " + ("fixed" if secure.seed_fixed else "not fixed yet"),
                      listed("advertised", secure.advertised), listed("committed", report.committed),
                      listed("uploaded", secure.uploaded), listed("unmasked by", secure.unmask_published)]
        lines.append("proposal    " + (f"{proposal.root} by {proposal.aggregator}" if proposal else "none pending"))
        lines += [f"challenge   input of {challenge.owner} by {challenge.challenger}: {challenge.status.lower()}, "
                  f"{challenge.chunks_posted} of {challenge.chunks} chunks on chain"
                  + (f", deadline {when(challenge.deadline)}" if challenge.status == "OPEN" else "")
                  for challenge in report.challenges]
        lines += [f"dispute     by {dispute.challenger}: {dispute.status.lower()}"
                  + (f" at level {dispute.level}, node {dispute.index}, deadline {when(dispute.deadline)}"
                     if dispute.status != "SETTLED" else "")
                  for dispute in report.disputes]
    else:
        finalized = sum(closed.status == "FINALIZED" for closed in report.rounds)
        lines.append(f"status      {report.status}: {finalized} of {report.num_rounds} rounds finalized")
    lines.append(f"model       root {report.model_root}, blob {report.model_blob_ref}")
    lines += [f"metrics     round {evaluation.round}: {format_metrics(evaluation.metrics)} (by "
              f"{'the requester' if evaluation.by_requester else evaluation.evaluator})"
              for evaluation in report.evaluations]
    lines.append("rounds      " + (", ".join(f"{closed.round} {closed.status.lower()}" for closed in report.rounds)
                                   or "none closed yet"))
    lines += [f"member      {member.address} stake {tokens(member.stake)}, claimable {tokens(member.claimable)}"
              f"{'' if member.joined else ' (left)'}{' (exiting)' if member.exiting else ''}"
              for member in report.members]
    lines += [f"aggregator  {bonded.address} bond {tokens(bonded.bond)}, unclaimed fees {tokens(bonded.fees)}"
              f"{'' if bonded.bonded else ' (withdrawn)'}" for bonded in report.aggregators]
    lines.append(f"pool        {tokens(report.pool)} (owed to participants {tokens(report.owed_rewards)})")
    return lines


def listed(label: str, addresses: list[str]) -> str:
    """One line of a set of addresses: its label, its size and its members."""
    return f"{label:<11} {len(addresses)}: {', '.join(addresses) or '-'}"


def _member(coordinator: CoordinatorClient, task_id: int, address: str) -> MemberReport:
    record = coordinator.member(task_id, address)
    return MemberReport(address=address, stake=record.stake, joined=record.joined, exiting=record.exiting,
                  claimable=coordinator.claimable(task_id, address))


def _bonded(coordinator: CoordinatorClient, task_id: int, address: str) -> Bonded:
    record = coordinator.aggregator(task_id, address)
    return Bonded(address=address, bond=record.bond, bonded=record.bonded, exiting=record.exit_requested_at != 0,
                  fees=coordinator.fees_of(task_id, address))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
