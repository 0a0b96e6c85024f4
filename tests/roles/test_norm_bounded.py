"""Rule 3, norm-bounded averaging, played by the roles on the embedded chain (docs/protocol.md section 4.4): every
honest member declares its update's norm after its reveal and the round finalizes under the rule; a member that
sends a big update and declares a small norm is proven at one leaf from its NormDeclared event, dropped and
slashed, and the round finalizes without it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.roles.conftest import STAKE, make_federation, task_template

from fedchain.aggregate.norm_bounded import NormBounded
from fedchain.chain.coordinator import EntryState
from fedchain.commit.norms import NormTree
from fedchain.learn import FederatedSplit
from fedchain.roles import NormLiarParticipant, Participant

BOUND_BPS = 100
"""B = 1% of the clip's largest norm: about 1.26 in model units for the 62 parameters of the test's logreg."""


def test_a_norm_bounded_round_finalizes_and_a_member_that_understates_its_norm_is_slashed(
        tmp_path: Path, breast_cancer_clients: FederatedSplit) -> None:
    template = replace(task_template(2), rule=3, rule_param=BOUND_BPS)
    federations = make_federation(tmp_path, breast_cancer_clients, template)
    federation = next(federations)
    try:
        honest = [federation.add_participant(client) for client in (1, 2, 3)]
        liar = federation.add_participant(0, NormLiarParticipant, rounds=frozenset({0}), factor=30)
        aggregator = federation.add_aggregator(6)
        watcher = federation.add_watcher(7)
        coordinator, task_id = federation.coordinator, federation.task_id

        federation.run_rounds(1)

        declared = {d.participant: d for d in coordinator.norm_declarations(task_id, 0)}
        assert set(declared) == {member.address for member in [*honest, liar]}, "everyone declared after revealing"
        for member in honest:
            vector = member._trained(0).vector
            tree = NormTree.of_vector(vector, member.rules.layout)
            assert (declared[member.address].norm_root, declared[member.address].norm_sq) == (tree.root, tree.total)
        rule = honest[0].rules.rule
        assert isinstance(rule, NormBounded)
        big = liar._trained(0).vector
        assert rule.over_limit(sum(NormTree.of_vector(big, liar.rules.layout).values)), "its true norm is over 4 B"
        assert not rule.over_limit(declared[liar.address].norm_sq), "its declaration is within the bound"
        proofs = [action for agent in (aggregator, watcher) for action in agent.actions
                  if action.startswith(f"proveNormViolation 0 {liar.address}")]
        assert len(proofs) == 1, "the false declaration is proven once, at one leaf"
        assert coordinator.entry_state(task_id, 0, liar.address) == EntryState.DROPPED
        assert coordinator.member(task_id, liar.address).stake == STAKE // 2
        assert all(coordinator.entry_state(task_id, 0, m.address) == EntryState.REVEALED for m in honest)
        (finalized,) = coordinator.finalized_models(task_id)
        assert finalized.round == 0 and coordinator.round_view(task_id, 0).included == 3
        assert not any(action.startswith("challengeAggregate") for action in watcher.actions), \
            "the aggregator's norm-bounded model is the one the watcher recomputes"

        federation.run_rounds(2)  # round 1: the liar's stake is below minStake now; the others declare again
        assert {d.participant for d in coordinator.norm_declarations(task_id, 1)} == {m.address for m in honest}
        assert [model.round for model in coordinator.finalized_models(task_id)] == [0, 1]
    finally:
        federations.close()


class OversizedParticipant(NormLiarParticipant):
    """Sends its honest update times ``factor`` (over the hard limit) and would declare its true norms."""

    norm_values = Participant.norm_values


def test_a_member_over_the_hard_limit_cannot_declare_and_is_dropped_and_slashed(
        tmp_path: Path, breast_cancer_clients: FederatedSplit) -> None:
    template = replace(task_template(2), rule=3, rule_param=BOUND_BPS)
    federations = make_federation(tmp_path, breast_cancer_clients, template)
    federation = next(federations)
    try:
        honest = [federation.add_participant(client) for client in (1, 2, 3)]
        oversized = federation.add_participant(0, OversizedParticipant, rounds=frozenset({0}), factor=30)
        aggregator = federation.add_aggregator(6)
        watcher = federation.add_watcher(7)
        coordinator, task_id = federation.coordinator, federation.task_id

        federation.run_rounds(1)

        rule = honest[0].rules.rule
        assert isinstance(rule, NormBounded)
        assert rule.over_limit(sum(oversized.norm_values(0))), "its true norm is over 4 B"
        declared = {d.participant for d in coordinator.norm_declarations(task_id, 0)}
        assert declared == {member.address for member in honest}, "the chain would refuse its norm: never sent"
        drops = [action for agent in (aggregator, watcher) for action in agent.actions
                 if action.startswith(f"dropUndeclared 0 {oversized.address}")]
        assert len(drops) == 1, "the undeclared update is dropped once"
        assert coordinator.entry_state(task_id, 0, oversized.address) == EntryState.DROPPED
        assert coordinator.member(task_id, oversized.address).stake == STAKE // 2
        (finalized,) = coordinator.finalized_models(task_id)
        assert finalized.round == 0 and coordinator.round_view(task_id, 0).included == 3
    finally:
        federations.close()
