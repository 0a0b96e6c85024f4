// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafRule} from "./LeafRule.sol";

/// @title FedAvgRule
/// @notice Rule 0, weighted FedAvg (docs/protocol.md section 4.1): center_c = tdiv(S_c, Wt) with
/// S_c = sum of w_u * x_u[c] and Wt = sum of w_u, the weights min(sampleCount, sampleCap). The only rule secure
/// mode can apply, since it needs only the weighted sum S, which is what secure aggregation unmasks.
library FedAvgRule {
    /// @notice Execution gas bound of one coordinate of one update in `center` (measured in AvailabilityGas.t.sol).
    uint256 internal constant GAS_PER_VALUE = 300;

    /// @notice This rule as the fraud proofs apply it.
    function leafRule() internal pure returns (LeafRule memory) {
        return LeafRule({center: center, accepts: accepts, proofGas: proofGas});
    }

    /// @notice tdiv(sum of weights[u] * values[c * updates + u], sum of weights) for every coordinate c.
    function center(int256[] memory values, uint256 updates, uint256[] memory weights, uint256)
        internal
        pure
        returns (int256[] memory centers)
    {
        uint256 coordinates = values.length / updates;
        int256[] memory sums = new int256[](coordinates);
        uint256 totalWeight = 0;
        for (uint256 u = 0; u < updates; ++u) {
            totalWeight += weights[u];
        }
        for (uint256 c = 0; c < coordinates; ++c) {
            int256 sum = 0;
            uint256 base = c * updates;
            for (uint256 u = 0; u < updates; ++u) {
                // |x| < 2^31, w <= 2^20, at most 256 updates: |sum| < 2^59
                // forge-lint: disable-next-line(unsafe-typecast)
                sum += int256(weights[u]) * values[base + u];
            }
            sums[c] = sum;
        }
        return centerOfSums(sums, totalWeight);
    }

    /// @notice tdiv(sums[c], totalWeight) for every c: FedAvg's center from the weighted sums (secure mode's
    /// unmasked sums, docs/protocol.md section 10.9). Solidity's signed division truncates toward zero.
    function centerOfSums(int256[] memory sums, uint256 totalWeight) internal pure returns (int256[] memory centers) {
        // totalWeight <= 256 * 2^20
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 wt = int256(totalWeight);
        centers = new int256[](sums.length);
        for (uint256 c = 0; c < sums.length; ++c) {
            centers[c] = sums[c] / wt;
        }
    }

    /// @notice FedAvg takes no parameter (ruleParam 0) and works in both modes.
    function accepts(uint256 ruleParam, bool) internal pure returns (bool) {
        return ruleParam == 0;
    }

    /// @notice Linear in the values: GAS_PER_VALUE per coordinate per update.
    function proofGas(uint256 updates, uint256 coordinates) internal pure returns (uint256) {
        return GAS_PER_VALUE * updates * coordinates;
    }
}
