"""Norm-bounded tasks (rule 3, docs/protocol.md section 4.4) in the plain roles.

- A participant keeps its update within the hard limit (scaled down to the bound if it is over: the chain would
  refuse its declaration and drop it) and declares its per-leaf squared norms right after its reveal.
- The aggregator and the watcher, once the reveal deadline has passed, drop every included update whose owner
  declared nothing and prove every false declaration at its first false leaf, from the NormDeclared event alone;
  only then do they aggregate (every update left is declared truthfully, so the rule over the true norms is the
  chain's rule over the declared ones), and the watcher's aggregate fraud proofs carry each update's declaration.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fedchain.aggregate.norm_bounded import SCALE_ONE, NormBounded
from fedchain.chain.coordinator import Coordinator, EntryState, LeafProof, NormProof, RoundView
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.commit.norms import NormTree, declared_in, leaf_norms
from fedchain.roles.agent import Agent
from fedchain.roles.task import IncludedUpdate, TaskRules


def norm_rule(rules: TaskRules) -> NormBounded | None:
    """The task's rule if it is norm-bounded, else None."""
    return rules.rule if isinstance(rules.rule, NormBounded) else None


def within_hard_limit(rule: NormBounded, update: NDArray[np.int32], layout: LeafLayout) -> NDArray[np.int32]:
    """``update``, or scaled down to the bound (each coordinate times s / 2^16, truncated) if its norm is over the
    hard limit, which the chain refuses to record."""
    norm_sq = sum(leaf_norms(update, layout))
    if not rule.over_limit(norm_sq):
        return update
    scaled = update.astype(np.int64) * rule.scale(norm_sq)
    truncated: NDArray[np.int32] = ((scaled - np.fmod(scaled, SCALE_ONE)) // SCALE_ONE).astype(np.int32)
    return truncated


def declare_norm(agent: Agent, coordinator: Coordinator, rule: NormBounded, round: int,
                 values: tuple[int, ...]) -> None:
    """Declare ``values`` (an honest member: its revealed update's per-leaf squared norms) in ``round``, unless the
    agent already did. A norm over the hard limit is not sent (the chain refuses it, ``NormOverLimit``): the update
    stays undeclared and anyone may drop it (an honest member never gets there: :func:`within_hard_limit`)."""
    if declared_in(coordinator.norm_declaration_of(agent.task_id, agent.address), round):
        return
    if rule.over_limit(sum(values)):
        agent.note("normOverLimit", f"round {round}: the update's norm is over the task's hard limit, which the chain "
                   "refuses to record: it stays undeclared", round=round, once=("normOverLimit", round))
        return
    coordinator.declare_norm(agent.task_id, values, sender=agent.account)
    agent.log(f"declareNorm:{round}", round=round)


def police_norms(agent: Agent, coordinator: Coordinator, rules: TaskRules, round: int, view: RoundView,
                 updates: list[IncludedUpdate]) -> int:
    """After the reveal deadline, drop each of ``updates`` whose owner declared no norm and prove each false
    declaration at its first false leaf, as ``agent``; how many updates it dropped."""
    if coordinator.chain.now() < view.reveal_end:
        return 0
    declared = {d.participant.lower(): d for d in coordinator.norm_declarations(agent.task_id, round)}
    dropped = 0
    for update in updates:
        reveal = update.reveal
        if coordinator.entry_state(agent.task_id, round, reveal.participant) != EntryState.REVEALED:
            continue
        declaration = declared.get(reveal.participant.lower())
        if declaration is None:
            coordinator.drop_undeclared(agent.task_id, reveal.participant, reveal.root, reveal.weight,
                                        sender=agent.account)
            agent.log(f"dropUndeclared {round} {reveal.participant}", round=round, participant=reveal.participant)
            dropped += 1
            continue
        true_norms = leaf_norms(update.vector, rules.layout)
        wrong = next((i for i, (said, true) in enumerate(zip(declaration.leaf_norms, true_norms, strict=True))
                      if said != true), None)
        if wrong is None:
            continue
        tree = NormTree(declaration.leaf_norms, rules.layout.depth)
        path = tree.path(wrong)
        update_tree = MerkleTree(update.vector, rules.layout)
        proof = NormProof(norm_root=tree.root, norm_sq=tree.total, leaf_index=wrong,
                          leaf=LeafProof(words=update_tree.leaf_words(wrong), siblings=update_tree.proof(wrong)),
                          value=declaration.leaf_norms[wrong], hashes=path.hashes, sums=path.sums)
        coordinator.prove_norm_violation(agent.task_id, reveal.participant, reveal.root, reveal.weight, proof,
                                         sender=agent.account)
        agent.log(f"proveNormViolation {round} {reveal.participant} leaf {wrong}", round=round,
                  participant=reveal.participant, leaf=wrong)
        dropped += 1
    return dropped


def declared_words(coordinator: Coordinator, task_id: int, round: int) -> dict[str, tuple[bytes, int]]:
    """Each declared member's (normRoot, normSq) of ``round``, by lower-case address: what an aggregate fraud
    proof of a norm-bounded task carries beside each update (a member absent here carries (0, 0))."""
    return {d.participant.lower(): (d.norm_root, d.norm_sq) for d in coordinator.norm_declarations(task_id, round)}
