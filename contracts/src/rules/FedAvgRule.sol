// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafRule} from "./LeafRule.sol";

/// @title FedAvgRule
/// @notice Rule 0, weighted FedAvg (docs/protocol.md section 4.1): center_c = tdiv(S_c, Wt) with
/// S_c = sum of w_u * x_u[c] and Wt = sum of w_u, the weights min(sampleCount, sampleCap). The only rule secure
/// mode can apply, since it needs only the weighted sum S, which is what secure aggregation unmasks.
library FedAvgRule {
    /// @notice Execution gas bound of one coordinate of one update in `center` (measured in AvailabilityGas.t.sol).
    uint256 internal constant GAS_PER_VALUE = 80;

    /// @notice This rule as the fraud proofs apply it.
    function leafRule() internal pure returns (LeafRule memory) {
        return LeafRule({center: center, accepts: accepts, proofGas: proofGas, normed: false});
    }

    /// @notice Thrown when the values do not hold `updates` values per coordinate, or the weights one per update.
    error ShapeMismatch(uint256 values, uint256 updates, uint256 weights);

    /// @notice tdiv(sum of weights[u] * values[c * updates + u], sum of weights) for every coordinate c. The
    /// weighted sums are in assembly (one multiply-add per value of every fraud proof); they are exact, since
    /// |value| < 2^31, weight <= 2^20 and at most 256 updates keep |sum| < 2^59.
    function center(int256[] memory values, uint256 updates, uint256[] memory weights, uint256)
        internal
        pure
        returns (int256[] memory centers)
    {
        if (updates == 0 || values.length % updates != 0 || weights.length != updates) {
            revert ShapeMismatch(values.length, updates, weights.length);
        }
        uint256 totalWeight = 0;
        for (uint256 u = 0; u < updates; ++u) {
            totalWeight += weights[u];
        }
        return centerOfSums(weightedSums(values, updates, weights), totalWeight);
    }

    /// @notice sum of weights[u] * values[c * updates + u] for every coordinate c, exact (see `center`); the
    /// caller has checked the shapes.
    function weightedSums(int256[] memory values, uint256 updates, uint256[] memory weights)
        internal
        pure
        returns (int256[] memory sums)
    {
        uint256 coordinates = values.length / updates;
        sums = new int256[](coordinates);
        assembly ("memory-safe") {
            let valuePtr := add(values, 0x20)
            let weightsStart := add(weights, 0x20)
            let weightsEnd := add(weightsStart, shl(5, updates))
            let sumPtr := add(sums, 0x20)
            for { let c := 0 } lt(c, coordinates) { c := add(c, 1) } {
                let sum := 0
                for { let w := weightsStart } lt(w, weightsEnd) { w := add(w, 0x20) } {
                    sum := add(sum, mul(mload(w), mload(valuePtr)))
                    valuePtr := add(valuePtr, 0x20)
                }
                mstore(add(sumPtr, shl(5, c)), sum)
            }
        }
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
