// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AggregationRule} from "../FedTypes.sol";
import {FedAvgRule} from "./FedAvgRule.sol";
import {LeafRule} from "./LeafRule.sol";
import {MedianRule} from "./MedianRule.sol";
import {NormBoundedRule} from "./NormBoundedRule.sol";
import {TrimmedMeanRule} from "./TrimmedMeanRule.sol";

/// @title RuleRegistry
/// @notice The aggregation rules a task can pick, by their id (the AggregationRule enum, docs/protocol.md
/// section 4). Adding a rule: its library in this folder, its enum value, one line here.
library RuleRegistry {
    /// @notice The rule with id `rule`; `found` is false for an id no rule has.
    function find(uint256 rule) internal pure returns (bool found, LeafRule memory leafRule) {
        if (rule == uint8(AggregationRule.WeightedFedAvg)) return (true, FedAvgRule.leafRule());
        if (rule == uint8(AggregationRule.CoordinateMedian)) return (true, MedianRule.leafRule());
        if (rule == uint8(AggregationRule.TrimmedMean)) return (true, TrimmedMeanRule.leafRule());
        if (rule == uint8(AggregationRule.NormBounded)) return (true, NormBoundedRule.leafRule());
    }
}
