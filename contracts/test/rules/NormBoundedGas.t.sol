// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(unsafe-typecast,block-timestamp)

import {PlainGasBench} from "../Gas.t.sol";
import {NormHarness} from "../utils/NormHarness.sol";
import {AggregateFraudProof, AggregationRule, LeafProof, NormProof} from "../../src/FedTypes.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";
import {NormBoundedRule} from "../../src/rules/NormBoundedRule.sol";
import {TaskParamsValidator} from "../../src/TaskParamsValidator.sol";

/// @dev Gas of rule 3 (norm-bounded averaging, docs/protocol.md section 4.4), logged for BENCHMARKS.md
/// (`forge test --match-contract NormBoundedGasTest -vv`), measured as GasMeter says: a member's declaration by
/// model size (the one call rule 3 adds to a participant's round), and a fraud proof against FedAvg's at the same
/// size. W = 2 (fedchain's default).
contract NormBoundedGasTest is PlainGasBench {
    NormHarness internal norms = new NormHarness();

    /// @dev declareNorm in round 1 (the member's declaration slot is rewritten, the steady state) and in round 0
    /// (a fresh slot), at N = 2, 64, 512 and 2048 leaves (32 to 32,768 parameters).
    function test_gasDeclareNormByModelSize() external {
        rule = uint256(AggregationRule.NormBounded);
        ruleParam = 1_000;
        uint256[4] memory leaves = [uint256(2), 64, 512, 2048];
        for (uint256 s = 0; s < leaves.length; ++s) {
            uint256 numParams = 16 * leaves[s];
            _setUp(numParams, 2, keccak256("model"));
            for (uint256 r = 0; r < 2; ++r) {
                for (uint256 i = 0; i < 2; ++i) {
                    bytes32 hash = _commitHash(r, i);
                    vm.prank(members[i]);
                    coordinator.commit(taskId, hash);
                }
                vm.warp(block.timestamp + WINDOW);
                for (uint256 i = 0; i < 2; ++i) {
                    vm.prank(members[i]);
                    coordinator.reveal(taskId, _updateRoot(r, i), 1000 + i, bytes32(i), keccak256("blob"));
                }
                bytes memory data = abi.encodeCall(coordinator.declareNorm, (taskId, _values(leaves[s], r)));
                Cost memory c = _measure(members[0], data);
                _log(string.concat("declareNorm round ", vm.toString(r), " leaves ", vm.toString(leaves[s])), c);
                vm.prank(members[1]);
                coordinator.declareNorm(taskId, _values(leaves[s], r + 7));
                vm.warp(block.timestamp + WINDOW);
                vm.prank(aggregator);
                coordinator.propose(taskId, keccak256(abi.encode("next", r)), keccak256("nb"));
                vm.warp(block.timestamp + WINDOW);
                coordinator.finalize(taskId);
            }
        }
    }

    /// @dev A fraud proof of rule 3 and of rule 0 at cohorts 16 and 64, W = 2, 4,096 parameters (depth 8).
    function test_gasFraudProofNormBoundedAgainstFedAvg() external {
        rule = 0;
        _fraudProofGas(4096, 16);
        _fraudProofGas(4096, 64);
        rule = uint256(AggregationRule.NormBounded);
        ruleParam = 1_000;
        _normedProofGas(4096, 16);
        _normedProofGas(4096, 64);
    }

    /// @dev proveNormViolation (a false value at leaf 5) and dropUndeclared, W = 2, 4,096 parameters (depth 8).
    function test_gasNormViolationAndUndeclared() external {
        rule = uint256(AggregationRule.NormBounded);
        ruleParam = 1_000;
        uint256 leafIndex = 5;
        depth = 8;
        _setUp(4096, 2, keccak256("model"));
        for (uint256 i = 0; i < 2; ++i) {
            bytes32 hash =
                coordinator.commitmentOf(taskId, 0, members[i], _rootOf(_leaf(i, leafIndex), leafIndex), 100, 0);
            vm.prank(members[i]);
            coordinator.commit(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(members[i]);
            coordinator.reveal(taskId, _rootOf(_leaf(i, leafIndex), leafIndex), 100, 0, keccak256("blob"));
        }
        uint256[] memory values = _values(256, 1); // not the update's norms: leaf 5 is false
        vm.prank(members[0]);
        coordinator.declareNorm(taskId, values);
        vm.warp(block.timestamp + WINDOW);
        NormProof memory proof;
        (proof.normRoot, proof.normSq) = norms.build(values, depth);
        proof.leafIndex = leafIndex;
        proof.leaf = _leaf(0, leafIndex);
        proof.value = values[leafIndex];
        (proof.hashes, proof.sums) = _path(values, leafIndex);
        bytes32 root = _rootOf(proof.leaf, leafIndex);
        _log(
            "proveNormViolation depth 8",
            _measure(
                address(0xC4A11), abi.encodeCall(coordinator.proveNormViolation, (taskId, members[0], root, 100, proof))
            )
        );
        root = _rootOf(_leaf(1, leafIndex), leafIndex);
        _log(
            "dropUndeclared",
            _measure(address(0xC4A11), abi.encodeCall(coordinator.dropUndeclared, (taskId, members[1], root, 100)))
        );
    }

    /// @dev The path of leaf `index` of the norm tree over `values` (a full tree of 2^depth leaves).
    function _path(uint256[] memory values, uint256 index)
        internal
        view
        returns (bytes32[] memory h, uint256[] memory s)
    {
        bytes32[] memory hashes = new bytes32[](values.length);
        uint256[] memory sums = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            (hashes[i], sums[i]) = (keccak256(abi.encodePacked(uint8(2), i, values[i])), values[i]);
        }
        h = new bytes32[](depth);
        s = new uint256[](depth);
        for (uint256 k = 0; k < depth; ++k) {
            uint256 sibling = (index >> k) ^ 1;
            (h[k], s[k]) = (hashes[sibling], sums[sibling]);
            for (uint256 i = 0; i < (values.length >> (k + 1)); ++i) {
                hashes[i] = keccak256(
                    abi.encodePacked(uint8(3), hashes[2 * i], sums[2 * i], hashes[2 * i + 1], sums[2 * i + 1])
                );
                sums[i] = sums[2 * i] + sums[2 * i + 1];
            }
        }
    }

    /// @dev Member i reveals, declares and lists its update in the flat list; returns its packed weight.
    function _revealAndDeclare(uint256 i, uint256 leafIndex, uint256 numParams, bytes32[] memory list, uint256 stride)
        internal
        returns (uint256)
    {
        LeafProof memory leaf = _leaf(i, leafIndex);
        vm.prank(members[i]);
        coordinator.reveal(taskId, _rootOf(leaf, leafIndex), 100 + i, bytes32(i), keccak256("blob"));
        uint256[] memory values = _values(numParams / 16, i);
        values[0] = i * 1e17; // some updates above the bound B^2 ~ 3.7e17
        vm.prank(members[i]);
        coordinator.declareNorm(taskId, values);
        (bytes32 normRoot, uint256 normSq) = norms.build(values, depth);
        list[i * stride] = bytes32((uint256(uint160(members[i])) << 96) | (100 + i));
        list[i * stride + 1] = normRoot;
        list[i * stride + 2] = bytes32(normSq);
        for (uint256 k = 0; k < words; ++k) {
            list[i * stride + 3 + k] = leaf.words[k];
        }
        for (uint256 d = 0; d < depth; ++d) {
            list[i * stride + 3 + words + d] = leaf.siblings[d];
        }
        return (100 + i) << 128
            | NormBoundedRule.effectiveWeight(100 + i, normSq, type(uint32).max >> 1, numParams, ruleParam);
    }

    /// @dev Values of a declaration: N squared norms of about 2^40 to 2^48 (six nonzero bytes each).
    function _values(uint256 n, uint256 seed) internal pure returns (uint256[] memory values) {
        values = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            values[i] = uint256(keccak256(abi.encode(seed, i))) % (1 << 48);
        }
    }

    function _normedProofGas(uint256 numParams, uint256 cohort) internal {
        uint256 leafIndex = 5;
        depth = PositionalMerkle.depthFor(numParams, words);
        LeafProof memory previous = _leaf(type(uint256).max, leafIndex);
        _setUp(numParams, cohort, _rootOf(previous, leafIndex));
        bytes32[][] memory leafUpdates = new bytes32[][](cohort);
        uint256[] memory packed = new uint256[](cohort);
        uint256 stride = 3 + words + depth;
        AggregateFraudProof memory proof;
        proof.leafIndex = leafIndex;
        proof.previous = previous;
        proof.updates = new bytes32[](cohort * stride);
        for (uint256 i = 0; i < cohort; ++i) {
            LeafProof memory leaf = _leaf(i, leafIndex);
            leafUpdates[i] = leaf.words;
            bytes32 hash =
                coordinator.commitmentOf(taskId, 0, members[i], _rootOf(leaf, leafIndex), 100 + i, bytes32(i));
            vm.prank(members[i]);
            coordinator.commit(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < cohort; ++i) {
            packed[i] = _revealAndDeclare(i, leafIndex, numParams, proof.updates, stride);
        }
        vm.warp(block.timestamp + WINDOW);
        bytes32[] memory correct = norms.leaf(previous.words, leafUpdates, packed, 10_000);
        correct[words - 1] = Lanes.set(correct[words - 1], 4, Lanes.get(correct[words - 1], 4) - 1);
        proof.proposed = LeafProof({words: correct, siblings: _leaf(7777, leafIndex).siblings});
        vm.prank(aggregator);
        coordinator.propose(taskId, _rootOf(proof.proposed, leafIndex), keccak256("nb"));
        bytes memory data = abi.encodeCall(coordinator.challengeAggregate, (taskId, proof));
        Cost memory c = _measure(address(0xC4A11), data);
        _log(_fraudProofLabel(numParams, cohort), c);
        (uint256 gasBound, uint256 sizeBound) =
            TaskParamsValidator(address(coordinator.PARAMS_VALIDATOR())).worstFraudProof(_taskParams(numParams, cohort));
        assertTrue(_tx(c) <= gasBound && data.length <= sizeBound, "the validator's bound holds the real proof");
        assertTrue(coordinator.aggregatorOf(taskId, aggregator).bond < 100e18, "challenge succeeded");
    }
}
