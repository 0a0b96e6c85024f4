// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Chunks} from "../../src/libraries/Chunks.sol";
import {LeafRules} from "../../src/libraries/LeafRules.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";

/// @dev Exposes the calldata-based protocol libraries to tests (an external call turns memory into calldata).
contract ProtocolHarness {
    function verify(bytes32 root, uint256 depth, uint256 index, bytes32[] calldata words, bytes32[] calldata siblings)
        external
        pure
        returns (bool)
    {
        return PositionalMerkle.verify(root, depth, index, words, siblings);
    }

    function subtreeRoot(uint256 chunkIndex, uint256 c, uint256 leafWords, bytes32[] calldata words)
        external
        pure
        returns (bytes32)
    {
        return Chunks.subtreeRoot(chunkIndex, c, leafWords, words);
    }

    function leafHash(uint256 index, bytes32[] calldata words) external pure returns (bytes32) {
        return PositionalMerkle.leafHash(index, words);
    }

    function rootFrom(bytes32 leaf, uint256 index, bytes32[] calldata siblings) external pure returns (bytes32) {
        return PositionalMerkle.rootFrom(leaf, index, siblings);
    }

    function fedAvgLeaf(
        bytes32[] calldata previous,
        bytes32[][] calldata updates,
        uint256[] calldata sampleCounts,
        uint256 sampleCap,
        uint256 serverLrBps
    ) external pure returns (bytes32[] memory) {
        return LeafRules.fedAvgLeaf(previous, updates, sampleCounts, sampleCap, serverLrBps);
    }

    function accumulate(int256[] memory sums, bytes32[] calldata words, uint256 weight)
        external
        pure
        returns (int256[] memory)
    {
        LeafRules.accumulate(sums, words, weight);
        return sums;
    }

    function findViolation(bytes32[] calldata words, uint256 leafIndex, uint256 clip, uint256 numParams)
        external
        pure
        returns (bool, uint256)
    {
        return LeafRules.findViolation(words, leafIndex, clip, numParams);
    }
}
