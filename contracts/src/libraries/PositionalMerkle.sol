// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title PositionalMerkle
/// @notice The position-binding Merkle tree of docs/protocol.md section 3. A leaf's index is hashed into the
/// leaf and its path is walked by the index bits, so a proof for leaf i can never pass for another position.
/// (OpenZeppelin's MerkleProof sorts pairs and binds no position; it is deliberately not used.)
library PositionalMerkle {
    /// @notice Domain byte of a leaf hash.
    uint8 internal constant LEAF_TAG = 0x00;
    /// @notice Domain byte of an inner-node hash.
    uint8 internal constant NODE_TAG = 0x01;
    /// @notice Largest supported tree depth (2^40 leaves).
    uint256 internal constant MAX_DEPTH = 40;

    /// @notice keccak(0x00 ‖ uint256(index) ‖ words[0] ‖ ... ‖ words[W-1]).
    function leafHash(uint256 index, bytes32[] calldata words) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := shl(5, words.length)
            mstore8(ptr, 0x00)
            mstore(add(ptr, 1), index)
            calldatacopy(add(ptr, 33), words.offset, size)
            hash := keccak256(ptr, add(33, size))
        }
    }

    /// @notice keccak(0x01 ‖ left ‖ right).
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            mstore(add(ptr, 1), left)
            mstore(add(ptr, 33), right)
            hash := keccak256(ptr, 65)
        }
    }

    /// @notice Walks `siblings` upwards from `leaf` at position `index`: at level k the node is
    /// nodeHash(node, sibling) when bit k of index is 0, nodeHash(sibling, node) otherwise.
    function rootFrom(bytes32 leaf, uint256 index, bytes32[] calldata siblings) internal pure returns (bytes32 node) {
        node = leaf;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            for { let k := 0 } lt(k, siblings.length) { k := add(k, 1) } {
                let sibling := calldataload(add(siblings.offset, shl(5, k)))
                switch and(shr(k, index), 1)
                case 0 {
                    mstore(add(ptr, 1), node)
                    mstore(add(ptr, 33), sibling)
                }
                default {
                    mstore(add(ptr, 1), sibling)
                    mstore(add(ptr, 33), node)
                }
                node := keccak256(ptr, 65)
            }
        }
    }

    /// @notice True iff `words` are leaf `index` of the depth-`depth` tree with root `root`.
    /// Requires depth <= MAX_DEPTH, index < 2^depth and exactly `depth` siblings.
    function verify(bytes32 root, uint256 depth, uint256 index, bytes32[] calldata words, bytes32[] calldata siblings)
        internal
        pure
        returns (bool)
    {
        if (depth > MAX_DEPTH || siblings.length != depth || index >> depth != 0) return false;
        return rootFrom(leafHash(index, words), index, siblings) == root;
    }

    /// @notice Tree depth D = ceil(log2(ceil(numParams / (8 * wordsPerLeaf)))), 0 for a single leaf.
    function depthFor(uint256 numParams, uint256 wordsPerLeaf) internal pure returns (uint256 depth) {
        uint256 coordsPerLeaf = 8 * wordsPerLeaf;
        uint256 leaves = (numParams + coordsPerLeaf - 1) / coordsPerLeaf;
        while ((uint256(1) << depth) < leaves) ++depth;
    }
}
