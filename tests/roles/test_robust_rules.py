"""Robust rules on a real chain: the aggregator applies the task's rule, a tampered median or trimmed-mean
aggregate is proven wrong at one leaf and slashed, and the honest one finalizes (docs/protocol.md sections 4, 9.1)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tests.roles.conftest import BOND, make_federation, task_template
from tests.roles.test_happy_path import recompute_anchor

from fedchain.learn import FederatedSplit
from fedchain.roles import TamperingAggregator


@pytest.mark.parametrize(("rule", "rule_param"), [(1, 0), (2, 2_500)], ids=["median", "trimmed_mean"])
def test_a_tampered_robust_aggregate_is_proven_and_the_honest_one_finalizes(
        tmp_path: Path, breast_cancer_clients: FederatedSplit, rule: int, rule_param: int) -> None:
    template = replace(task_template(1), rule=rule, rule_param=rule_param)
    for federation in make_federation(tmp_path, breast_cancer_clients, template):
        for client in range(4):
            federation.add_participant(client)
        cheat = federation.add_aggregator(5, TamperingAggregator, rounds=frozenset({0}), coordinate=3, delta=7)
        honest = federation.add_aggregator(6)
        watcher = federation.add_watcher(7)
        initial_ref = federation.state().model_blob_ref

        federation.run_rounds(1)

        assert cheat.actions.count("propose 0") == 1 and honest.actions.count("propose 0") == 1
        assert watcher.actions == ["challengeAggregate 0 " + cheat.address + " leaf 0"]
        record = federation.coordinator.aggregator(federation.task_id, cheat.address)
        assert record.barred_round == 1
        assert cheat.actions.count("postBond") == 2 and record.bond == BOND  # slashed, then topped up
        (finalized,) = federation.coordinator.finalized_models(federation.task_id)
        assert (finalized.root, finalized.blob_ref) == recompute_anchor(federation, 0, initial_ref)
