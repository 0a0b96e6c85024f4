"""What the aggregator and the watcher do about contribution scores (docs/protocol.md section 12.4): once a scored
round's score windows have ended, every included update whose median score is below the task's ``minScoreBps``
is dropped (``dropLowScore``: its owner is slashed, the caller paid the bounty), and so is every update that no
validator scored (an empty or silent committee: no slash, no bounty), so the round aggregates, and pays, only the
updates the committee found worth something; a round left with fewer than ``minParticipants`` can only fail. The
validator itself is :mod:`fedchain.roles.validator`."""

from __future__ import annotations

from collections.abc import Iterable

from fedchain.chain.coordinator import Coordinator
from fedchain.chain.scoring import ScoringParams
from fedchain.roles.agent import Agent


def drop_low_scores(agent: Agent, coordinator: Coordinator, round: int, participants: Iterable[str],
                    scoring: ScoringParams) -> int:
    """Drop each of ``participants`` (owners of included updates of the current ``round``, whose score windows have
    ended) that no validator scored or whose median is below ``scoring.min_score_bps``, as ``agent``; how many it
    dropped."""
    dropped = 0
    for participant in participants:
        count, median = coordinator.median_score(agent.task_id, round, participant)
        if not count or median < scoring.min_score_bps:
            coordinator.drop_low_score(agent.task_id, participant, sender=agent.account)
            agent.log(f"dropLowScore {round} {participant}", round=round, participant=participant,
                      median=median if count else None, scored=bool(count))
            dropped += 1
    return dropped
