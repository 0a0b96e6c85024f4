// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {PositionalMerkle} from "./PositionalMerkle.sol";

/// @title Chunks
/// @notice How a challenged tree goes on chain (docs/protocol.md section 11.2): in chunks, each the whole
/// subtree of 2^c consecutive leaves (padding leaves included) with the path from the subtree's root to the
/// tree's root, so each chunk is checked on its own and fits one transaction whatever the model's size.
library Chunks {
    /// @notice Most leaf words in one chunk (64 KiB of calldata).
    uint256 internal constant MAX_CHUNK_WORDS = 2048;
    /// @notice log2(MAX_CHUNK_WORDS).
    uint256 internal constant MAX_CHUNK_WORDS_LOG2 = 11;

    /// @notice Height c of a chunk's subtree: the largest with 2^c * leafWords <= MAX_CHUNK_WORDS, at most the
    /// tree's depth. `leafWords` is a power of two up to 8.
    function levels(uint256 depth, uint256 leafWords) internal pure returns (uint256 c) {
        c = MAX_CHUNK_WORDS_LOG2;
        while (leafWords > 1) {
            leafWords >>= 1;
            --c;
        }
        if (c > depth) c = depth;
    }

    /// @notice Chunks that hold the tree's non-padding leaves: ceil(ceil(numParams / coordsPerLeaf) / 2^c).
    /// The padding-only subtrees after them are never posted (readers take their hashes from the paths).
    function count(uint256 numParams, uint256 coordsPerLeaf, uint256 c) internal pure returns (uint256) {
        uint256 leaves = (numParams + coordsPerLeaf - 1) / coordsPerLeaf;
        uint256 size = uint256(1) << c;
        return (leaves + size - 1) / size;
    }

    /// @notice Root of the subtree of chunk `chunkIndex`: its 2^c leaves (each `leafWords` consecutive words of
    /// `words`, leaf i of the chunk being leaf chunkIndex * 2^c + i of the tree) hashed as docs/protocol.md
    /// section 3 says.
    function subtreeRoot(uint256 chunkIndex, uint256 c, uint256 leafWords, bytes32[] calldata words)
        internal
        pure
        returns (bytes32)
    {
        uint256 width = uint256(1) << c;
        uint256 first = chunkIndex << c;
        bytes32[] memory nodes = new bytes32[](width);
        for (uint256 i = 0; i < width; ++i) {
            nodes[i] = PositionalMerkle.leafHash(first + i, words[i * leafWords:(i + 1) * leafWords]);
        }
        for (; width > 1; width >>= 1) {
            for (uint256 i = 0; i < width / 2; ++i) {
                nodes[i] = PositionalMerkle.nodeHash(nodes[2 * i], nodes[2 * i + 1]);
            }
        }
        return nodes[0];
    }
}
