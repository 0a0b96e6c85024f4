// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @dev Straightforward reference implementation of docs/protocol.md section 3 (whole tree in memory),
/// written independently of PositionalMerkle with plain abi.encodePacked, used to build test vectors.
library Trees {
    function leafHash(uint256 index, bytes32[] memory words) internal pure returns (bytes32 hash) {
        bytes memory packed = abi.encodePacked(uint8(0), index, words); // an array packs as its bare words
        hash = keccak256(packed);
        assembly {
            mstore(0x40, packed) // free the preimage: trees of thousands of leaves stay cheap in memory
        }
    }

    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(1), left, right));
    }

    function rootFrom(bytes32 leaf, uint256 index, bytes32[] memory siblings) internal pure returns (bytes32 node) {
        node = leaf;
        for (uint256 k = 0; k < siblings.length; ++k) {
            node = ((index >> k) & 1) == 0 ? nodeHash(node, siblings[k]) : nodeHash(siblings[k], node);
        }
    }

    /// @dev leaves[i] are the words of leaf i; leaves.length must be a power of two.
    function levels(bytes32[][] memory leaves) internal pure returns (bytes32[][] memory tree) {
        uint256 depth = 0;
        while ((uint256(1) << depth) < leaves.length) ++depth;
        require((uint256(1) << depth) == leaves.length, "leaf count must be a power of two");
        tree = new bytes32[][](depth + 1);
        tree[0] = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            tree[0][i] = leafHash(i, leaves[i]);
        }
        for (uint256 level = 1; level <= depth; ++level) {
            uint256 width = leaves.length >> level;
            tree[level] = new bytes32[](width);
            for (uint256 i = 0; i < width; ++i) {
                tree[level][i] = nodeHash(tree[level - 1][2 * i], tree[level - 1][2 * i + 1]);
            }
        }
    }

    function root(bytes32[][] memory leaves) internal pure returns (bytes32) {
        bytes32[][] memory tree = levels(leaves);
        return tree[tree.length - 1][0];
    }

    function proof(bytes32[][] memory leaves, uint256 index) internal pure returns (bytes32[] memory siblings) {
        bytes32[][] memory tree = levels(leaves);
        siblings = new bytes32[](tree.length - 1);
        for (uint256 level = 0; level + 1 < tree.length; ++level) {
            siblings[level] = tree[level][(index >> level) ^ 1];
        }
    }

    /// @dev The node at height `level` (0: a leaf hash), position `index`: what a model dispute opens.
    function nodeAt(bytes32[][] memory leaves, uint256 level, uint256 index) internal pure returns (bytes32) {
        return levels(leaves)[level][index];
    }

    /// @dev Chunk `index` of the tree as docs/protocol.md section 11.2 posts it: the words of its 2^c leaves in
    /// order, and the path of its subtree (height c) to the root, bottom up.
    function chunk(bytes32[][] memory leaves, uint256 index, uint256 c)
        internal
        pure
        returns (bytes32[] memory words, bytes32[] memory path)
    {
        uint256 width = leaves[0].length;
        words = new bytes32[]((uint256(1) << c) * width);
        for (uint256 i = 0; i < (uint256(1) << c); ++i) {
            for (uint256 k = 0; k < width; ++k) {
                words[i * width + k] = leaves[(index << c) + i][k];
            }
        }
        bytes32[][] memory tree = levels(leaves);
        path = new bytes32[](tree.length - 1 - c);
        for (uint256 level = c; level + 1 < tree.length; ++level) {
            path[level - c] = tree[level][(index >> (level - c)) ^ 1];
        }
    }
}
