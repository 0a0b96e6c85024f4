"""The aggregation rules a task can pick, by name and by on-chain id (docs/protocol.md section 4).

Adding a rule: its module in this package (a subclass of :class:`~fedchain.aggregate.rules.AggregationRule`), one
line below, and its library in contracts/src/rules with one line in RuleRegistry.sol.
"""

from typing import Final

from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.fedavg import FedAvg
from fedchain.aggregate.median import CoordinateMedian
from fedchain.aggregate.rules import AggregationRule
from fedchain.aggregate.trimmed_mean import TrimmedMean

RULES: Final[dict[str, type[AggregationRule]]] = {rule.name: rule for rule in (
    FedAvg,
    CoordinateMedian,
    TrimmedMean,
)}
"""Every rule by its name in a task file."""
RULES_BY_ID: Final[dict[int, type[AggregationRule]]] = {rule.rule_id: rule for rule in RULES.values()}


def rule_for(rule_id: int, *, sample_cap: int, server_lr_bps: int, param: int) -> AggregationRule:
    """The rule with on-chain id ``rule_id`` and these parameters (a task's TaskParams)."""
    if rule_id not in RULES_BY_ID:
        raise AggregationError(f"no aggregation rule has id {rule_id} (known: {sorted(RULES_BY_ID)})")
    return RULES_BY_ID[rule_id](sample_cap=sample_cap, server_lr_bps=server_lr_bps, param=param)
