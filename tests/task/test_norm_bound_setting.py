"""The task file's norm-bounded rule (docs/tasks.md, docs/protocol.md section 4.4): its name, its `norm_bound` in
basis points on chain, and the refusals that name the problem."""

from __future__ import annotations

import pytest

from fedchain.task import TaskSpecError, task_params
from fedchain.task.read import parse_task

TOKEN = "0x" + "11" * 20


def test_norm_bounded_is_rule_3_with_its_bound_in_basis_points() -> None:
    default = task_params(parse_task({"mode": "plain", "rule": {"name": "norm_bounded"}}), token=TOKEN,
                          decimals=18, hospitals=5)
    assert (default.rule, default.rule_param) == (3, 20), "the bound defaults to 0.2% of clip * sqrt(params)"
    set_bound = parse_task({"mode": "plain", "rule": {"name": "norm_bounded", "norm_bound": 0.05}})
    assert task_params(set_bound, token=TOKEN, decimals=18, hospitals=5).rule_param == 500


@pytest.mark.parametrize(("raw", "message"), [
    ({"rule": {"name": "norm_bounded"}}, r"^rule.name: 'norm_bounded' works in plain mode only"),
    ({"mode": "plain", "rule": {"name": "fedavg", "norm_bound": 0.1}},
     r"^rule.norm_bound: not a setting of rule 'fedavg'"),
    ({"mode": "plain", "rule": {"name": "norm_bounded", "trim": 0.1}},
     r"^rule.trim: not a setting of rule 'norm_bounded'"),
    ({"mode": "plain", "rule": {"name": "norm_bounded", "norm_bound": 1.5}}, r"^rule.norm_bound: must be <= 1"),
    ({"mode": "plain", "rule": {"name": "norm_bounded", "norm_bound": 0}}, r"^rule.norm_bound: must be >= 0.0001"),
])
def test_a_bad_norm_bound_is_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TaskSpecError, match=message):
        parse_task(raw)
