// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafRules} from "../../src/libraries/LeafRules.sol";
import {NormTree} from "../../src/libraries/NormTree.sol";
import {NormBoundedRule} from "../../src/rules/NormBoundedRule.sol";

/// @dev Exposes NormBoundedRule and NormTree to the tests (calldata arguments).
contract NormHarness {
    /// @dev One leaf of rule 3 as the fraud proof applies it: updates (one word each) and their packed weights
    /// (w << 128 | e).
    function leaf(bytes32[] calldata previous, bytes32[][] calldata updates, uint256[] memory packed, uint256 lrBps)
        external
        pure
        returns (bytes32[] memory)
    {
        int256[] memory values = new int256[](8 * previous.length * updates.length);
        for (uint256 u = 0; u < updates.length; ++u) {
            LeafRules.storeLanes(values, updates.length, u, updates[u]);
        }
        return
            LeafRules.applyStep(NormBoundedRule.leafRule().center(values, updates.length, packed, 0), previous, lrBps);
    }

    function scale(uint256 normSq, uint256 clip, uint256 numParams, uint256 ruleParam) external pure returns (uint256) {
        return NormBoundedRule.scale(normSq, clip, numParams, ruleParam);
    }

    function build(uint256[] calldata values, uint256 depth) external pure returns (bytes32, uint256) {
        return NormTree.build(values, depth);
    }

    function rootFrom(uint256 index, uint256 value, bytes32[] calldata hashes, uint256[] calldata sums)
        external
        pure
        returns (bytes32, uint256)
    {
        return NormTree.rootFrom(index, value, hashes, sums);
    }

    function declaration(uint256 r, bytes32 normRoot, uint256 normSq) external pure returns (bytes32) {
        return NormTree.declaration(r, normRoot, normSq);
    }

    function effectiveWeight(uint256 weight, uint256 normSq, uint256 clip, uint256 numParams, uint256 ruleParam)
        external
        pure
        returns (uint256)
    {
        return NormBoundedRule.effectiveWeight(weight, normSq, clip, numParams, ruleParam);
    }
}
