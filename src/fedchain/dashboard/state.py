"""The dashboard's state: what the page shows, as JSON, read from the chain at one block.

`Follower` reads it: the task's report as ``fedchain status`` reads it (every view and event at one block),
and the task's events up to that block (`fedchain.dashboard.activity`, read incrementally). `page_state`
turns both into the page's JSON (schema ``fedchain-dashboard/1``): amounts in whole tokens, deadlines with
the seconds left from the chain's time at that block.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fedchain.chain.amounts import whole_tokens
from fedchain.chain.coordinator import CoordinatorClient, TaskStatus
from fedchain.dashboard.activity import ChallengeEvent, TaskActivity
from fedchain.deploy.status import TaskReport, task_report

SCHEMA = "fedchain-dashboard/1"


class Follower:
    """Follows task ``task_id`` on ``coordinator``: each :meth:`read` returns the page's state at the chain's latest
    block, reading the chain again only when a new block has come."""

    def __init__(self, coordinator: CoordinatorClient, task_id: int) -> None:
        self.coordinator = coordinator
        self.task_id = task_id
        self.activity = TaskActivity(coordinator, task_id)
        self._state: dict[str, Any] | None = None

    def read(self) -> dict[str, Any]:
        """The page's state at the latest block (the one read before, if no block came since)."""
        chain = self.coordinator.chain
        latest = chain.query(lambda: chain.w3.eth.block_number)
        if self._state is None or latest != self._state["task"]["block"]:
            report = task_report(self.coordinator, self.task_id)
            self.activity.update(report.block)
            self._state = page_state(report, self.activity)
        return self._state


def page_state(report: TaskReport, activity: TaskActivity) -> dict[str, Any]:
    """The page's JSON: ``report`` and what ``activity`` read up to the report's block."""
    def tokens(units: int) -> str:
        return whole_tokens(units, report.token_decimals)

    slashes = activity.slashes()
    slashed: Counter[str] = Counter()
    for slash in slashes:
        slashed[slash.address] += slash.amount
    claimed = activity.claimed()
    return {
        "schema": SCHEMA,
        "task": {"id": report.task_id, "chain_id": report.chain_id, "coordinator": report.coordinator,
                 "mode": report.mode, "status": report.status, "round": report.round,
                 "num_rounds": report.num_rounds, "phase": report.phase,
                 "waiting_for_members": report.waiting_for_members, "block": report.block, "now": report.now},
        "deadlines": _deadlines(report),
        "current": {"committed": len(report.committed), "revealed": len(report.revealed),
                    "included": report.included,
                    "proposal": None if report.proposal is None else {
                        "aggregator": report.proposal.aggregator, "root": report.proposal.root}},
        "model_root": report.model_root,
        "rounds": [{"round": closed.round, "status": closed.status, "model_root": closed.model_root,
                    "evaluations": [{"evaluator": evaluation.evaluator, "by_requester": evaluation.by_requester,
                                     "metrics": evaluation.metrics}
                                    for evaluation in report.evaluations if evaluation.round == closed.round]}
                   for closed in report.rounds],
        "members": [{"address": member.address, "stake": tokens(member.stake), "claimable": tokens(member.claimable),
                     "claimed": tokens(claimed[member.address]), "slashed": tokens(slashed[member.address]),
                     "state": _standing(member.joined, member.exiting)} for member in report.members],
        "aggregators": [{"address": bonded.address, "bond": tokens(bonded.bond), "fees": tokens(bonded.fees),
                         "claimed": tokens(claimed[bonded.address]), "slashed": tokens(slashed[bonded.address]),
                         "state": _standing(bonded.bonded, bonded.exiting)} for bonded in report.aggregators],
        "slashes": [{"round": slash.round, "address": slash.address, "role": slash.role, "kind": slash.kind,
                     "reason": slash.reason, "amount": tokens(slash.amount), "bounty": tokens(slash.bounty),
                     "challenger": slash.challenger, "block": slash.block, "tx_hash": slash.tx_hash}
                    for slash in slashes],
        "challenges": [_challenge(challenge, report) for challenge in activity.challenges()],
        "gas": [{"kind": use.kind, "transactions": use.transactions, "gas": use.gas,
                 "mean": use.gas // use.transactions} for use in activity.gas()],
        "pool": tokens(report.pool),
        "owed_rewards": tokens(report.owed_rewards),
        "token": report.token,
    }


def _deadlines(report: TaskReport) -> list[dict[str, Any]]:
    """The current round's deadlines in order, each with the seconds left at the report's block (negative once
    passed); none once the task has ended."""
    if report.status != TaskStatus.RUNNING.name:
        return []
    deadlines, secure = report.deadlines, report.secure
    named = ([("advertise", secure.advertise_end), ("commit", deadlines.commit_end), ("upload", secure.upload_end),
              ("unmask", deadlines.reveal_end)] if secure else
             [("commit", deadlines.commit_end), ("reveal", deadlines.reveal_end)])
    named += [("propose", deadlines.propose_end), ("challenge", deadlines.challenge_end)]
    return [{"name": name, "at": at, "in_s": at - report.now} for name, at in named if at]


def _challenge(challenge: ChallengeEvent, report: TaskReport) -> dict[str, Any]:
    """A challenge or dispute as the page lists it; an open one of the current round says what it waits for."""
    detail = ""
    if challenge.outcome == "open" and challenge.round == report.round:
        if challenge.kind == "availability":
            for current in report.challenges:
                if current.owner == challenge.subject:
                    detail = (f"{current.chunks_posted} of {current.chunks} chunks on chain, "
                              f"{current.deadline - report.now} s left")
        else:
            for dispute in report.disputes:
                if dispute.challenger == challenge.challenger:
                    detail = (f"{dispute.status.lower().replace('_', ' ')} at level {dispute.level}, node "
                              f"{dispute.index}, {dispute.deadline - report.now} s left")
    return {"round": challenge.round, "kind": challenge.kind, "subject": challenge.subject,
            "challenger": challenge.challenger, "outcome": challenge.outcome, "detail": detail}


def _standing(active: bool, exiting: bool) -> str:
    if not active:
        return "left"
    return "exiting" if exiting else "active"
