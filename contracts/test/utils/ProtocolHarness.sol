// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Chunks} from "../../src/libraries/Chunks.sol";
import {LeafRules} from "../../src/libraries/LeafRules.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";
import {LeafRule} from "../../src/rules/LeafRule.sol";
import {OrderStatistics} from "../../src/rules/OrderStatistics.sol";
import {RuleRegistry} from "../../src/rules/RuleRegistry.sol";
import {Scores} from "../../src/libraries/Scores.sol";

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

    function scoresHash(
        uint256 chainId,
        address coordinator,
        uint256 taskId,
        uint256 round,
        address validator,
        address[] calldata participants,
        uint16[] calldata scores,
        bytes32 salt
    ) external pure returns (bytes32) {
        return Scores.commitHash(chainId, coordinator, taskId, round, validator, participants, scores, salt);
    }

    function leafHash(uint256 index, bytes32[] calldata words) external pure returns (bytes32) {
        return PositionalMerkle.leafHash(index, words);
    }

    function rootFrom(bytes32 leaf, uint256 index, bytes32[] calldata siblings) external pure returns (bytes32) {
        return PositionalMerkle.rootFrom(leaf, index, siblings);
    }

    /// @dev One whole leaf of the rule `rule` (as the fraud proofs apply it, src/rules), padding ignored.
    function ruleLeaf(
        uint256 rule,
        uint256 ruleParam,
        bytes32[] calldata previous,
        bytes32[][] calldata updates,
        uint256[] calldata sampleCounts,
        uint256 sampleCap,
        uint256 serverLrBps
    ) external pure returns (bytes32[] memory) {
        int256[] memory centers = _center(rule, ruleParam, previous.length, updates, sampleCounts, sampleCap);
        return LeafRules.applyStep(centers, previous, serverLrBps);
    }

    function _columns(
        uint256 wordsPerLeaf,
        bytes32[][] calldata updates,
        uint256[] calldata sampleCounts,
        uint256 sampleCap
    ) internal pure returns (int256[] memory values, uint256[] memory weights) {
        uint256 n = updates.length;
        values = new int256[](8 * wordsPerLeaf * n);
        weights = new uint256[](n);
        for (uint256 u = 0; u < n; ++u) {
            LeafRules.storeLanes(values, n, u, updates[u]);
            weights[u] = sampleCounts[u] < sampleCap ? sampleCounts[u] : sampleCap;
        }
    }

    function _center(
        uint256 rule,
        uint256 ruleParam,
        uint256 wordsPerLeaf,
        bytes32[][] calldata updates,
        uint256[] calldata sampleCounts,
        uint256 sampleCap
    ) internal pure returns (int256[] memory) {
        (int256[] memory values, uint256[] memory weights) = _columns(wordsPerLeaf, updates, sampleCounts, sampleCap);
        (bool found, LeafRule memory leafRule) = RuleRegistry.find(rule);
        require(found, "unknown rule");
        return leafRule.center(values, updates.length, weights, ruleParam);
    }

    function sortRange(int256[] memory values, uint256 start, uint256 n) external pure returns (int256[] memory) {
        OrderStatistics.sortRange(values, start, n);
        return values;
    }

    function storeLanes(int256[] memory values, uint256 updates, uint256 u, bytes32[] calldata words)
        external
        pure
        returns (int256[] memory)
    {
        LeafRules.storeLanes(values, updates, u, words);
        return values;
    }

    function findViolation(bytes32[] calldata words, uint256 leafIndex, uint256 clip, uint256 numParams)
        external
        pure
        returns (bool, uint256)
    {
        return LeafRules.findViolation(words, leafIndex, clip, numParams);
    }
}
