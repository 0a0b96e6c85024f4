// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafRule} from "./LeafRule.sol";
import {OrderStatistics} from "./OrderStatistics.sol";

/// @title TrimmedMeanRule
/// @notice Rule 2, coordinate-wise trimmed mean (docs/protocol.md section 4.3): per coordinate, drop the
/// k = floor(n * ruleParam / 10000) smallest and k largest of the n included values and take tdiv(sum of the
/// rest, n - 2k). ruleParam is the trimmed fraction at each end in basis points, 1 to 4999, so n - 2k >= 1.
/// Unweighted; plain mode only.
library TrimmedMeanRule {
    /// @notice Basis-point denominator of ruleParam.
    uint256 internal constant BPS = 10_000;
    /// @notice Largest ruleParam: under half at each end, so at least one value is kept.
    uint256 internal constant MAX_TRIM_BPS = 4_999;
    /// @notice Execution gas bound of summing one kept value.
    uint256 internal constant GAS_PER_VALUE = 400;

    /// @notice This rule as the fraud proofs apply it.
    function leafRule() internal pure returns (LeafRule memory) {
        return LeafRule({center: center, accepts: accepts, proofGas: proofGas, normed: false});
    }

    /// @notice The trimmed mean of values[c * updates .. (c + 1) * updates) for every coordinate c (sorts in
    /// place).
    function center(int256[] memory values, uint256 updates, uint256[] memory, uint256 ruleParam)
        internal
        pure
        returns (int256[] memory centers)
    {
        // k = floor(n * ruleParam / 10000) by definition (docs/protocol.md section 4.3)
        // slither-disable-next-line divide-before-multiply
        uint256 trimmed = updates * ruleParam / BPS;
        // kept <= 256
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 kept = int256(updates - 2 * trimmed);
        centers = new int256[](values.length / updates);
        for (uint256 c = 0; c < centers.length; ++c) {
            uint256 start = c * updates;
            OrderStatistics.sortRange(values, start, updates);
            int256 sum = 0;
            for (uint256 i = start + trimmed; i < start + updates - trimmed; ++i) {
                sum += values[i];
            }
            centers[c] = sum / kept;
        }
    }

    /// @notice A trim of 1 to 4999 basis points at each end; plain mode only.
    function accepts(uint256 ruleParam, bool secure) internal pure returns (bool) {
        return ruleParam >= 1 && ruleParam <= MAX_TRIM_BPS && !secure;
    }

    /// @notice One sort of `updates` values per coordinate, then a sum of the kept ones.
    function proofGas(uint256 updates, uint256 coordinates) internal pure returns (uint256) {
        return coordinates * (OrderStatistics.sortGas(updates) + GAS_PER_VALUE * updates);
    }
}
