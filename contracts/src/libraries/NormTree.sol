// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Lanes} from "./Lanes.sol";

/// @title NormTree
/// @notice The Merkle sum tree of an update's per-leaf squared L2 norms, and the norm declaration word
/// (docs/protocol.md section 4.4). Leaf i of the tree holds the sum of the squares of the coordinates of the
/// update's leaf i (padding coordinates included); an inner node hashes its children's hashes and their sums, so
/// a node's sum is its children's by construction and the root's sum is the update's squared norm. The tree has
/// the update tree's shape (2^depth leaves, a leaf past the list of real leaves holding 0).
library NormTree {
    /// @notice Deepest norm tree a task with a norm-bounded rule may have (2^11 leaves: a declaration's list of
    /// squared norms stays within 64 KiB of calldata; TaskParamsValidator refuses a deeper task).
    uint256 internal constant MAX_DEPTH = 11;
    /// @notice Largest squared norm a leaf may hold (exclusive): 2^128, far above 64 * (2^31)^2, so no sum overflows.
    uint256 internal constant VALUE_LIMIT = 1 << 128;

    /// @notice Thrown when a declared leaf value is 2^128 or more.
    error NormValueTooLarge(uint256 index, uint256 value);

    /// @notice keccak(abi.encodePacked(uint8(0x02), uint256 index, uint256 value)).
    function leafHash(uint256 index, uint256 value) internal pure returns (bytes32 hash) {
        // in free memory, without moving the free memory pointer (a tree hashes thousands of these)
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x02)
            mstore(add(ptr, 1), index)
            mstore(add(ptr, 33), value)
            hash := keccak256(ptr, 65)
        }
    }

    /// @notice keccak(abi.encodePacked(uint8(0x03), leftHash, uint256 leftSum, rightHash, uint256 rightSum)).
    function nodeHash(bytes32 leftHash, uint256 leftSum, bytes32 rightHash, uint256 rightSum)
        internal
        pure
        returns (bytes32 hash)
    {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x03)
            mstore(add(ptr, 1), leftHash)
            mstore(add(ptr, 33), leftSum)
            mstore(add(ptr, 65), rightHash)
            mstore(add(ptr, 97), rightSum)
            hash := keccak256(ptr, 129)
        }
    }

    /// @notice Root hash and sum of the tree of depth `depth` whose first leaves hold `values` (the others 0).
    /// The caller has checked values.length <= 2^depth.
    function build(uint256[] calldata values, uint256 depth) internal pure returns (bytes32 root, uint256 total) {
        uint256 width = uint256(1) << depth;
        bytes32[] memory hashes = new bytes32[](width);
        uint256[] memory sums = new uint256[](width);
        for (uint256 i = 0; i < width; ++i) {
            uint256 value = i < values.length ? values[i] : 0;
            if (value >= VALUE_LIMIT) revert NormValueTooLarge(i, value);
            hashes[i] = leafHash(i, value);
            sums[i] = value;
        }
        for (; width > 1; width >>= 1) {
            for (uint256 i = 0; i < width / 2; ++i) {
                uint256 left = 2 * i;
                hashes[i] = nodeHash(hashes[left], sums[left], hashes[left + 1], sums[left + 1]);
                sums[i] = sums[left] + sums[left + 1];
            }
        }
        return (hashes[0], sums[0]);
    }

    /// @notice Root hash and sum reached from leaf `index` holding `value` with the path's sibling hashes and
    /// sums, from the leaf level up (at level k the sibling is on the left iff bit k of `index` is 1).
    function rootFrom(uint256 index, uint256 value, bytes32[] calldata hashes, uint256[] calldata sums)
        internal
        pure
        returns (bytes32 hash, uint256 sum)
    {
        hash = leafHash(index, value);
        sum = value;
        for (uint256 k = 0; k < hashes.length; ++k) {
            if ((index >> k) & 1 == 0) {
                hash = nodeHash(hash, sum, hashes[k], sums[k]);
            } else {
                hash = nodeHash(hashes[k], sums[k], hash, sum);
            }
            sum += sums[k];
        }
    }

    /// @notice The sum of the squares of the 8 * words.length int32 coordinates of a leaf.
    function leafNormSq(bytes32[] calldata words) internal pure returns (uint256 sum) {
        for (uint256 k = 0; k < words.length; ++k) {
            for (uint256 j = 0; j < 8; ++j) {
                int256 value = Lanes.get(words[k], j);
                sum += uint256(value * value);
            }
        }
    }

    /// @notice The member's declaration word of round r: the top 224 bits of keccak(abi.encode(uint256 r,
    /// bytes32 normRoot, uint256 normSq)), then r + 1 in the low 32 bits (so `declaredIn` reads the round).
    function declaration(uint256 r, bytes32 normRoot, uint256 normSq) internal pure returns (bytes32) {
        return bytes32((uint256(keccak256(abi.encode(r, normRoot, normSq))) & ~uint256(type(uint32).max)) | (r + 1));
    }

    /// @notice Whether `word` is a declaration of round r.
    function declaredIn(bytes32 word, uint256 r) internal pure returns (bool) {
        return uint32(uint256(word)) == r + 1;
    }
}
