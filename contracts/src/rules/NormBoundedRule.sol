// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FedAvgRule} from "./FedAvgRule.sol";
import {LeafRule} from "./LeafRule.sol";

/// @title NormBoundedRule
/// @notice Rule 3, norm-bounded averaging (docs/protocol.md section 4.4): each included update u is scaled down
/// to the task's L2 bound B by its declared squared norm N_u, s_u = min(1, B / sqrt(N_u)) in units of 2^-16,
/// and counts with the effective weight e_u = floor(w_u * s_u / 2^16); center_c = tdiv(sum of e_u * x_u[c],
/// sum of w_u). ruleParam (1..10000) is B as a fraction, in basis points, of the largest norm the clip allows:
/// B^2 = clip^2 * numParams * ruleParam^2 / 10^8. A declared norm above HARD_LIMIT times B cannot be declared
/// (the member is then dropped as undeclared). Plain mode only.
library NormBoundedRule {
    /// @notice Unit of a scale: s = 2^16 is 1.
    uint256 internal constant SCALE_ONE = 1 << 16;
    /// @notice Denominator of ruleParam^2 (basis points, squared).
    uint256 internal constant BPS_SQUARED = 1e8;
    /// @notice Largest ruleParam: the bound equals the largest norm the clip allows.
    uint256 internal constant MAX_BOUND_BPS = 10_000;
    /// @notice The hard limit, as a multiple of the bound: a squared norm above HARD_LIMIT^2 * B^2 is refused.
    uint256 internal constant HARD_LIMIT = 4;
    /// @notice Execution gas bound of one coordinate of one update in `center` (as FedAvg).
    uint256 internal constant GAS_PER_VALUE = 80;
    /// @notice Execution gas bound of one update's declaration in a fraud proof: its two words, its scale (a
    /// square root) and the coordinator's check of its stored declaration (a cold SLOAD and a keccak).
    uint256 internal constant GAS_PER_UPDATE = 6_000;

    /// @notice This rule as the fraud proofs apply it.
    function leafRule() internal pure returns (LeafRule memory) {
        return LeafRule({center: center, accepts: accepts, proofGas: proofGas, normed: true});
    }

    /// @notice tdiv(sum of e_u * values[c * updates + u], sum of w_u) for every coordinate c, with
    /// packed[u] = w_u << 128 | e_u (see LeafRule.normed). Exact: e_u <= w_u keeps FedAvg's bounds.
    function center(int256[] memory values, uint256 updates, uint256[] memory packed, uint256)
        internal
        pure
        returns (int256[] memory centers)
    {
        if (updates == 0 || values.length % updates != 0 || packed.length != updates) {
            revert FedAvgRule.ShapeMismatch(values.length, updates, packed.length);
        }
        uint256[] memory effective = new uint256[](updates);
        uint256 totalWeight = 0;
        for (uint256 u = 0; u < updates; ++u) {
            totalWeight += packed[u] >> 128;
            effective[u] = uint128(packed[u]);
        }
        return FedAvgRule.centerOfSums(FedAvgRule.weightedSums(values, updates, effective), totalWeight);
    }

    /// @notice clip^2 * numParams * ruleParam^2: B^2 times 10^8 (below 2^130 within the TaskParams ranges).
    function boundSqScaled(uint256 clip, uint256 numParams, uint256 ruleParam) internal pure returns (uint256) {
        return clip * clip * numParams * ruleParam * ruleParam;
    }

    /// @notice s = 2^16 when normSq * 10^8 <= clip^2 * numParams * ruleParam^2 (the update is within the bound),
    /// else isqrt(floor(2^32 * clip^2 * numParams * ruleParam^2 / (10^8 * normSq))), which is below 2^16.
    function scale(uint256 normSq, uint256 clip, uint256 numParams, uint256 ruleParam) internal pure returns (uint256) {
        uint256 k = boundSqScaled(clip, numParams, ruleParam);
        if (normSq * BPS_SQUARED <= k) return SCALE_ONE;
        return Math.sqrt((k << 32) / (normSq * BPS_SQUARED));
    }

    /// @notice e = floor(weight * s / 2^16).
    function effectiveWeight(uint256 weight, uint256 normSq, uint256 clip, uint256 numParams, uint256 ruleParam)
        internal
        pure
        returns (uint256)
    {
        return weight * scale(normSq, clip, numParams, ruleParam) >> 16;
    }

    /// @notice Whether normSq is above the hard limit: normSq * 10^8 > HARD_LIMIT^2 * clip^2 * numParams *
    /// ruleParam^2.
    function overLimit(uint256 normSq, uint256 clip, uint256 numParams, uint256 ruleParam)
        internal
        pure
        returns (bool)
    {
        return normSq * BPS_SQUARED > HARD_LIMIT * HARD_LIMIT * boundSqScaled(clip, numParams, ruleParam);
    }

    /// @notice A bound of 1 to 10000 basis points of the largest norm; plain mode only.
    function accepts(uint256 ruleParam, bool secure) internal pure returns (bool) {
        return ruleParam >= 1 && ruleParam <= MAX_BOUND_BPS && !secure;
    }

    /// @notice FedAvg's work plus each update's declaration.
    function proofGas(uint256 updates, uint256 coordinates) internal pure returns (uint256) {
        return GAS_PER_VALUE * updates * coordinates + GAS_PER_UPDATE * updates;
    }
}
