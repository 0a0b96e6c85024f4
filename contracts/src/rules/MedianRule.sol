// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafRule} from "./LeafRule.sol";
import {OrderStatistics} from "./OrderStatistics.sol";

/// @title MedianRule
/// @notice Rule 1, coordinate-wise median (docs/protocol.md section 4.2): per coordinate, the middle of the
/// sorted values of the included updates, for an even count tdiv(lower + upper middle, 2). Unweighted: a
/// declared sample count buys no influence. Plain mode only (it needs each update, not their sum).
library MedianRule {
    /// @notice This rule as the fraud proofs apply it.
    function leafRule() internal pure returns (LeafRule memory) {
        return LeafRule({center: center, accepts: accepts, proofGas: proofGas, normed: false});
    }

    /// @notice The median of values[c * updates .. (c + 1) * updates) for every coordinate c (sorts in place).
    function center(int256[] memory values, uint256 updates, uint256[] memory, uint256)
        internal
        pure
        returns (int256[] memory centers)
    {
        centers = new int256[](values.length / updates);
        for (uint256 c = 0; c < centers.length; ++c) {
            uint256 start = c * updates;
            OrderStatistics.sortRange(values, start, updates);
            uint256 middle = start + updates / 2;
            centers[c] = updates % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
        }
    }

    /// @notice No parameter (ruleParam 0); plain mode only.
    function accepts(uint256 ruleParam, bool secure) internal pure returns (bool) {
        return ruleParam == 0 && !secure;
    }

    /// @notice One sort of `updates` values per coordinate.
    function proofGas(uint256 updates, uint256 coordinates) internal pure returns (uint256) {
        return coordinates * OrderStatistics.sortGas(updates);
    }
}
