// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Lanes are int32 by definition: the narrowing casts below select 32-bit lanes on purpose.
// forge-lint: disable-start(unsafe-typecast)

/// @title Lanes
/// @notice Eight int32 lanes packed big-endian into one 32-byte word (docs/protocol.md section 2).
/// Lane j occupies bytes [4j, 4j + 4) of the word, in two's complement.
library Lanes {
    /// @notice Number of int32 lanes in one 32-byte word.
    uint256 internal constant LANES_PER_WORD = 8;

    /// @notice Reads lane `j` (0..7) of `word` as a signed 32-bit integer.
    function get(bytes32 word, uint256 j) internal pure returns (int32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int32(uint32(uint256(word) >> (224 - 32 * j)));
    }

    /// @notice Returns `word` with lane `j` (0..7) replaced by `value`.
    function set(bytes32 word, uint256 j, int32 value) internal pure returns (bytes32) {
        uint256 shift = 224 - 32 * j;
        uint256 cleared = uint256(word) & ~(uint256(0xffffffff) << shift);
        return bytes32(cleared | (uint256(uint32(value)) << shift));
    }

    /// @notice Packs eight int32 values into one word, lane 0 first.
    function pack(int32[8] memory values) internal pure returns (bytes32 word) {
        for (uint256 j = 0; j < LANES_PER_WORD; ++j) {
            word = set(word, j, values[j]);
        }
    }

    /// @notice Unpacks one word into its eight int32 lanes, lane 0 first.
    function unpack(bytes32 word) internal pure returns (int32[8] memory values) {
        for (uint256 j = 0; j < LANES_PER_WORD; ++j) {
            values[j] = get(word, j);
        }
    }
}
// forge-lint: disable-end(unsafe-typecast)
