"""The aggregation rules a task can pick, by name and by on-chain id (docs/protocol.md section 4).

Adding a rule: its module in this package (a subclass of :class:`~fedchain.aggregate.rules.AggregationRule`), one
line below, and its library in contracts/src/rules with one line in RuleRegistry.sol.
"""

from typing import Final

from fedchain.aggregate.errors import AggregationError
from fedchain.aggregate.fedavg import FedAvg
from fedchain.aggregate.median import CoordinateMedian
from fedchain.aggregate.norm_bounded import NormBounded
from fedchain.aggregate.rules import AggregationRule
from fedchain.aggregate.trimmed_mean import TrimmedMean

RULES: Final[dict[str, type[AggregationRule]]] = {rule.name: rule for rule in (
    FedAvg,
    CoordinateMedian,
    TrimmedMean,
    NormBounded,
)}
"""Every rule by its name in a task file."""
RULES_BY_ID: Final[dict[int, type[AggregationRule]]] = {rule.rule_id: rule for rule in RULES.values()}


def rule_for(rule_id: int, *, sample_cap: int, server_lr_bps: int, param: int, clip: int | None = None,
             num_params: int | None = None) -> AggregationRule:
    """The rule with on-chain id ``rule_id`` and these parameters (a task's TaskParams). ``clip`` and
    ``num_params`` are needed by the rule whose bound is relative to them (norm_bounded) and ignored otherwise."""
    if rule_id not in RULES_BY_ID:
        raise AggregationError(f"no aggregation rule has id {rule_id} (known: {sorted(RULES_BY_ID)})")
    if rule_id == NormBounded.rule_id:
        if clip is None or num_params is None:
            raise AggregationError(f"{NormBounded.name} needs the task's clip and numParams")
        return NormBounded(sample_cap=sample_cap, server_lr_bps=server_lr_bps, param=param, clip=clip,
                           num_params=num_params)
    return RULES_BY_ID[rule_id](sample_cap=sample_cap, server_lr_bps=server_lr_bps, param=param)
