// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Section 4 of docs/protocol.md fixes the order tdiv(center * lr, 10000) after each rule's own division and the
// int32 clamp; the casts below are range-checked (clampInt32) or bounded by TaskParams.
// forge-lint: disable-start(unsafe-typecast,divide-before-multiply)

import {Lanes} from "./Lanes.sol";

/// @title LeafRules
/// @notice What every leaf-local aggregation rule shares (docs/protocol.md section 4): the coordinate-major
/// values it reads, the padding it ignores, the server step that turns its centers into the next model, and the
/// participant violations one leaf can show (section 9). The rules themselves are in src/rules.
library LeafRules {
    /// @notice Basis-point denominator of the server learning rate.
    int256 internal constant LR_DENOMINATOR = 10_000;

    /// @notice Thrown when the values buffer does not hold 8 coordinates per word for every update.
    error ValuesLengthMismatch(uint256 values, uint256 words, uint256 updates);

    /// @notice Writes lane c of update `u`'s leaf `words` to values[c * updates + u] (the coordinate-major
    /// layout every LeafRule reads); written in assembly because it runs once per coordinate per update in every
    /// fraud proof.
    function storeLanes(int256[] memory values, uint256 updates, uint256 u, bytes32[] calldata words) internal pure {
        if (values.length != 8 * words.length * updates || u >= updates) {
            revert ValuesLengthMismatch(values.length, words.length, updates);
        }
        assembly ("memory-safe") {
            let stride := shl(5, updates) // bytes between coordinates c and c + 1 of one update
            let p := add(add(values, 0x20), shl(5, u))
            for { let k := 0 } lt(k, words.length) { k := add(k, 1) } {
                let word := calldataload(add(words.offset, shl(5, k)))
                // lane j sits at bits [224 - 32j, 256 - 32j); signextend(3, .) reads it as int32
                for { let shift := 224 } 1 { shift := sub(shift, 32) } {
                    mstore(p, signextend(3, shr(shift, word)))
                    p := add(p, stride)
                    if iszero(shift) { break }
                }
            }
        }
    }

    /// @notice The shared tail of every rule (docs/protocol.md section 4): the new model leaf
    /// g'_c = clamp(g_c + tdiv(center_c * lrBps, 10000), int32 range) from the rule's centers.
    function applyStep(int256[] memory centers, bytes32[] calldata previous, uint256 serverLrBps)
        internal
        pure
        returns (bytes32[] memory next)
    {
        // serverLrBps <= 100000
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 lr = int256(serverLrBps);
        next = new bytes32[](previous.length);
        for (uint256 k = 0; k < previous.length; ++k) {
            bytes32 word = bytes32(0);
            for (uint256 j = 0; j < 8; ++j) {
                int256 delta = (centers[8 * k + j] * lr) / LR_DENOMINATOR;
                word = Lanes.set(word, j, clampInt32(int256(Lanes.get(previous[k], j)) + delta));
            }
            next[k] = word;
        }
    }

    /// @notice Zeroes the centers of leaf `leafIndex`'s padding coordinates (positions >= numParams; the leaf
    /// holds sums.length coordinates), so that no rule's aggregate depends on what updates hold there.
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
