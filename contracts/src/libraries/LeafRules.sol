// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Section 4 of docs/protocol.md fixes the order tdiv(tdiv(S, Wt) * lr, 10000) and the int32 clamp; the
// casts below are range-checked (clampInt32) or bounded by TaskParams.
// forge-lint: disable-start(unsafe-typecast,divide-before-multiply)

import {Lanes} from "./Lanes.sol";

/// @title LeafRules
/// @notice Leaf-local integer rules: weighted FedAvg with capped sample counts and a server learning rate
/// (docs/protocol.md section 4) and the participant violations one leaf can show (section 9).
library LeafRules {
    /// @notice Basis-point denominator of the server learning rate.
    int256 internal constant LR_DENOMINATOR = 10_000;

    /// @notice Thrown when the sums buffer does not hold 8 coordinates per word.
    error SumsLengthMismatch(uint256 sums, uint256 words);

    /// @notice Adds weight * lane for every coordinate of one update leaf into `sums` (length 8 * words).
    /// Exact for |weight| <= 2^20 and up to 256 updates (|sum| < 2^59, see docs/protocol.md section 4);
    /// written in assembly because it runs once per coordinate per update in every fraud proof.
    function accumulate(int256[] memory sums, bytes32[] calldata words, uint256 weight) internal pure {
        if (sums.length != 8 * words.length) revert SumsLengthMismatch(sums.length, words.length);
        assembly ("memory-safe") {
            let sumPtr := add(sums, 0x20)
            for { let k := 0 } lt(k, words.length) { k := add(k, 1) } {
                let word := calldataload(add(words.offset, shl(5, k)))
                let p := add(sumPtr, shl(8, k))
                // lane j sits at bits [224 - 32j, 256 - 32j); signextend(3, .) reads it as int32
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(224, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(192, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(160, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(128, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(96, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(64, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, shr(32, word)))))
                p := add(p, 0x20)
                mstore(p, add(mload(p), mul(weight, signextend(3, word))))
            }
        }
    }

    /// @notice New model leaf: g'_i = clamp(g_i + tdiv(tdiv(S_i, Wt) * lrBps, 10000), int32 range).
    function applyAverage(int256[] memory sums, bytes32[] calldata previous, uint256 totalWeight, uint256 serverLrBps)
        internal
        pure
        returns (bytes32[] memory next)
    {
        next = new bytes32[](previous.length);
        for (uint256 k = 0; k < previous.length; ++k) {
            next[k] = averageWord(sums, 8 * k, previous[k], totalWeight, serverLrBps);
        }
    }

    /// @notice One output word: lanes j of `previous` plus tdiv(tdiv(sums[base + j], Wt) * lrBps, 10000).
    function averageWord(int256[] memory sums, uint256 base, bytes32 previous, uint256 totalWeight, uint256 serverLrBps)
        internal
        pure
        returns (bytes32 word)
    {
        int256 wt = int256(totalWeight);
        int256 lr = int256(serverLrBps);
        for (uint256 j = 0; j < 8; ++j) {
            // Intended: docs/protocol.md section 4 defines the rule as tdiv(tdiv(S, Wt) * lr, 10000), the
            // average first, exactly as the Python side computes it in int64; reordering would change bits.
            // slither-disable-next-line divide-before-multiply
            int256 delta = ((sums[base + j] / wt) * lr) / LR_DENOMINATOR;
            word = Lanes.set(word, j, clampInt32(int256(Lanes.get(previous, j)) + delta));
        }
    }

    /// @notice Rule 0 on one whole leaf: previous model leaf, update leaves and their revealed sample counts.
    function fedAvgLeaf(
        bytes32[] calldata previous,
        bytes32[][] calldata updates,
        uint256[] calldata sampleCounts,
        uint256 sampleCap,
        uint256 serverLrBps
    ) internal pure returns (bytes32[] memory) {
        int256[] memory sums = new int256[](8 * previous.length);
        uint256 totalWeight = 0;
        for (uint256 u = 0; u < updates.length; ++u) {
            uint256 weight = sampleCounts[u] < sampleCap ? sampleCounts[u] : sampleCap;
            totalWeight += weight;
            accumulate(sums, updates[u], weight);
        }
        return applyAverage(sums, previous, totalWeight, serverLrBps);
    }

    /// @notice Zeroes the sums of leaf `leafIndex`'s padding coordinates (positions >= numParams; the leaf holds
    /// sums.length coordinates), so that the aggregate rule ignores what updates hold there.
    function clearPadding(int256[] memory sums, uint256 leafIndex, uint256 numParams) internal pure {
        uint256 first = leafIndex * sums.length;
        for (uint256 j = numParams > first ? numParams - first : 0; j < sums.length; ++j) {
            sums[j] = 0;
        }
    }

    /// @notice Saturates `value` to the int32 range.
    function clampInt32(int256 value) internal pure returns (int32) {
        if (value > type(int32).max) return type(int32).max;
        if (value < type(int32).min) return type(int32).min;
        return int32(value);
    }

    /// @notice First coordinate of leaf `leafIndex` that breaks the update rules: outside [-clip, clip], or
    /// nonzero at a padding position (>= numParams). Returns (false, 0) when the leaf is valid.
    function findViolation(bytes32[] calldata words, uint256 leafIndex, uint256 clip, uint256 numParams)
        internal
        pure
        returns (bool found, uint256 coordinate)
    {
        int256 bound = int256(clip);
        uint256 first = leafIndex * 8 * words.length;
        for (uint256 k = 0; k < words.length; ++k) {
            for (uint256 j = 0; j < 8; ++j) {
                int256 value = Lanes.get(words[k], j);
                uint256 position = first + 8 * k + j;
                if (value > bound || value < -bound || (position >= numParams && value != 0)) {
                    return (true, position);
                }
            }
        }
        return (false, 0);
    }
}
// forge-lint: disable-end(unsafe-typecast,divide-before-multiply)
