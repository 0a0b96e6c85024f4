// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {TestBase} from "./utils/TestBase.sol";
import {DevToken} from "../src/DevToken.sol";
import {FedCoordinator} from "../src/FedCoordinator.sol";
import {AggregateFraudProof, ClaimItem, LeafProof, TaskParams} from "../src/FedTypes.sol";
import {UpdateLeaf, UpdateLists} from "./utils/UpdateLists.sol";
import {Lanes} from "../src/libraries/Lanes.sol";
import {ProtocolHarness} from "./utils/ProtocolHarness.sol";
import {Trees} from "./utils/Trees.sol";
import {PositionalMerkle} from "../src/libraries/PositionalMerkle.sol";

/// @dev Gas of plain-mode rounds, logged for BENCHMARKS.md (run `forge test --match-contract GasTest -vv`).
/// Every measured call runs with the coordinator's and token's storage cooled (vm.cool), so each reads and
/// writes as a fresh transaction would; the measured figure includes a cold CALL (2,600) that a real
/// transaction does not pay. tx = 21,000 + calldata (4 per zero byte, 16 per nonzero) + execution; under
/// EIP-7623 (Prague) a transaction pays at least 21,000 + 10 * (zeros + 4 * nonzeros), reported as floor.
contract GasTest is TestBase {
    uint256 internal constant WINDOW = 1000;
    /// @dev Leaf width of the task under test: fedchain's default (commit/constants.py) unless a test sets it.
    uint256 internal words = 2;

    DevToken internal token;
    FedCoordinator internal coordinator;
    address internal aggregator = address(0xA66);
    address[] internal members;
    uint256 internal taskId;
    uint256 internal depth;

    struct Cost {
        uint256 execution;
        uint256 calldataGas;
        uint256 floor;
    }

    function _setUp(uint256 numParams, uint256 cohort, bytes32 modelRoot) internal {
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        coordinator = new FedCoordinator();
        TaskParams memory p;
        p.commitWindow = uint32(WINDOW);
        p.revealWindow = uint32(WINDOW);
        p.proposeWindow = uint32(WINDOW);
        p.challengeWindow = uint32(WINDOW);
        p.cohortCap = uint16(cohort);
        p.minParticipants = 1;
        p.sampleCap = 1 << 20;
        p.numRounds = 100;
        p.maxSilentRounds = 3;
        p.token = address(token);
        p.scaleBits = 16;
        p.wordsPerLeaf = uint8(words);
        p.clip = type(uint32).max >> 1;
        p.numParams = uint64(numParams);
        p.serverLrBps = 10_000;
        p.unbondingDelay = 1;
        p.bountyBps = 5000;
        p.aggregatorSlashBps = 5000;
        p.aggregatorFeeBps = 500;
        p.minStake = 1e18;
        p.aggregatorBond = 100e18;
        p.rewardPerRound = 1e18;
        p.modelSpecHash = keccak256("spec");
        depth = PositionalMerkle.depthFor(numParams, words);
        _fund(address(this));
        taskId = coordinator.createTask(p, modelRoot, keccak256("blob"));
        _fund(aggregator);
        vm.prank(aggregator);
        coordinator.postBond(taskId, 100e18);
        delete members;
        for (uint256 i = 0; i < cohort; ++i) {
            address m = address(uint160(0x10000 + i));
            members.push(m);
            _fund(m);
            vm.prank(m);
            coordinator.join(taskId, 1e18);
        }
    }

    function _fund(address who) internal {
        token.mint(who, 1e24);
        vm.prank(who);
        token.approve(address(coordinator), type(uint256).max);
    }

    function _measure(address sender, bytes memory data) internal returns (Cost memory c) {
        vm.cool(address(coordinator));
        vm.cool(address(token));
        // `.call(data)` copies `data` to fresh memory first: pre-pay that memory expansion (then release the
        // region) so the measurement holds the coordinator's gas only, not this test's memory growth.
        uint256 freePointer;
        assembly {
            freePointer := mload(0x40)
        }
        new bytes(data.length + 4096);
        assembly {
            mstore(0x40, freePointer)
        }
        vm.prank(sender);
        uint256 before = gasleft();
        (bool ok, bytes memory reason) = address(coordinator).call(data);
        c.execution = before - gasleft();
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
        uint256 tokens;
        for (uint256 i = 0; i < data.length; ++i) {
            if (data[i] == 0) {
                c.calldataGas += 4;
                tokens += 1;
            } else {
                c.calldataGas += 16;
                tokens += 4;
            }
        }
        c.floor = 21_000 + 10 * tokens;
    }

    function _tx(Cost memory c) internal pure returns (uint256) {
        uint256 standard = 21_000 + c.calldataGas + c.execution;
        return standard > c.floor ? standard : c.floor;
    }

    function _log(string memory what, Cost memory c) internal {
        emit log_named_uint(string.concat(what, " execution"), c.execution);
        emit log_named_uint(string.concat(what, " tx total"), _tx(c));
    }

    // ---------------------------------------------------------------- per participant per round

    /// @dev Returns the per-participant tx total and the summed execution gas (calldata varies with the
    /// random-looking hashes, execution must not vary with numParams).
    function _perParticipant(uint256 numParams, uint256 cohort)
        internal
        returns (uint256 perParticipant, uint256 executionSum)
    {
        _setUp(numParams, cohort, keccak256("model"));
        uint256 commitTotal;
        uint256 revealTotal;
        for (uint256 i = 0; i < cohort; ++i) {
            bytes32 hash =
                coordinator.commitmentOf(taskId, 0, members[i], keccak256(abi.encode(i)), 1000 + i, bytes32(i));
            Cost memory c = _measure(members[i], abi.encodeCall(coordinator.commit, (taskId, hash)));
            commitTotal += _tx(c);
            executionSum += c.execution;
            if (i == 0) _log("commit", c);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < cohort; ++i) {
            Cost memory c = _measure(
                members[i],
                abi.encodeCall(
                    coordinator.reveal, (taskId, keccak256(abi.encode(i)), 1000 + i, bytes32(i), keccak256("blob"))
                )
            );
            revealTotal += _tx(c);
            executionSum += c.execution;
            if (i == 0) _log("reveal", c);
        }
        vm.warp(block.timestamp + WINDOW);
        Cost memory proposeCost =
            _measure(aggregator, abi.encodeCall(coordinator.propose, (taskId, keccak256("next"), keccak256("nb"))));
        _log("propose", proposeCost);
        vm.warp(block.timestamp + WINDOW);
        Cost memory finalizeCost = _measure(address(0xF1), abi.encodeCall(coordinator.finalize, (taskId)));
        _log("finalize", finalizeCost);
        ClaimItem[] memory items = new ClaimItem[](1);
        items[0] = ClaimItem({round: 0, root: keccak256(abi.encode(uint256(0))), weight: 1000});
        Cost memory claimCost = _measure(members[0], abi.encodeCall(coordinator.claimRewards, (taskId, items)));
        _log("claim (one round, unbatched)", claimCost);
        executionSum += proposeCost.execution + finalizeCost.execution + claimCost.execution;
        perParticipant = (commitTotal + revealTotal + _tx(proposeCost) + _tx(finalizeCost)) / cohort + _tx(claimCost);
        emit log_named_uint("per participant per round, tx totals, claim unbatched", perParticipant);
    }

    function test_gasPerParticipantIsFlatInModelSize() external {
        (, uint256 small) = _perParticipant(1000, 8);
        (, uint256 large) = _perParticipant(10_000_000, 8);
        assertEq(small, large, "execution gas is flat in numParams");
    }

    function test_gasClaimBatchOfTenRounds() external {
        _setUp(1000, 1, keccak256("model"));
        ClaimItem[] memory items = new ClaimItem[](10);
        for (uint256 r = 0; r < 10; ++r) {
            bytes32 root = keccak256(abi.encode(r));
            bytes32 hash = coordinator.commitmentOf(taskId, r, members[0], root, 10, bytes32(r));
            vm.prank(members[0]);
            coordinator.commit(taskId, hash);
            vm.warp(block.timestamp + WINDOW);
            vm.prank(members[0]);
            coordinator.reveal(taskId, root, 10, bytes32(r), keccak256("blob"));
            vm.warp(block.timestamp + WINDOW);
            vm.prank(aggregator);
            coordinator.propose(taskId, keccak256(abi.encode("next", r)), keccak256("nb"));
            vm.warp(block.timestamp + WINDOW);
            coordinator.finalize(taskId);
            items[r] = ClaimItem({round: uint32(r), root: root, weight: 10});
        }
        Cost memory c = _measure(members[0], abi.encodeCall(coordinator.claimRewards, (taskId, items)));
        _log("claim batch of 10 rounds", c);
        emit log_named_uint("claim per round in a batch of 10", _tx(c) / 10);
    }

    // ---------------------------------------------------------------- fraud proof

    function _leaf(uint256 seed, uint256 leafIndex) internal view returns (LeafProof memory leaf) {
        leaf.words = new bytes32[](words);
        for (uint256 k = 0; k < words; ++k) {
            int32[8] memory lanes;
            for (uint256 j = 0; j < 8; ++j) {
                lanes[j] = int32(int256(uint256(keccak256(abi.encode(seed, k, j))) % 2001) - 1000);
            }
            leaf.words[k] = Lanes.pack(lanes);
        }
        leaf.siblings = new bytes32[](depth);
        for (uint256 d = 0; d < depth; ++d) {
            leaf.siblings[d] = keccak256(abi.encode("sibling", seed, d));
        }
        leafIndex; // siblings are arbitrary: the root is whatever they lead to
    }

    function _rootOf(LeafProof memory leaf, uint256 leafIndex) internal pure returns (bytes32) {
        return Trees.rootFrom(Trees.leafHash(leafIndex, leaf.words), leafIndex, leaf.siblings);
    }

    function _fraudProofGas(uint256 numParams, uint256 cohort) internal returns (uint256) {
        uint256 leafIndex = 5;
        depth = PositionalMerkle.depthFor(numParams, words);
        LeafProof memory previous = _leaf(type(uint256).max, leafIndex);
        _setUp(numParams, cohort, _rootOf(previous, leafIndex));
        AggregateFraudProof memory proof;
        proof.leafIndex = leafIndex;
        proof.previous = previous;
        UpdateLeaf[] memory updates = new UpdateLeaf[](cohort);
        bytes32[][] memory leafUpdates = new bytes32[][](cohort);
        uint256[] memory counts = new uint256[](cohort);
        for (uint256 i = 0; i < cohort; ++i) {
            LeafProof memory leaf = _leaf(i, leafIndex);
            bytes32 root = _rootOf(leaf, leafIndex);
            updates[i] = UpdateLeaf({participant: members[i], weight: 100 + i, leaf: leaf});
            leafUpdates[i] = leaf.words;
            counts[i] = 100 + i;
            bytes32 hash = coordinator.commitmentOf(taskId, 0, members[i], root, 100 + i, bytes32(i));
            vm.prank(members[i]);
            coordinator.commit(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < cohort; ++i) {
            vm.prank(members[i]);
            coordinator.reveal(
                taskId, _rootOf(updates[i].leaf, leafIndex), 100 + i, bytes32(i), keccak256("blob")
            );
        }
        proof.updates = UpdateLists.encode(updates);
        vm.warp(block.timestamp + WINDOW);
        bytes32[] memory correct =
            new ProtocolHarness().fedAvgLeaf(previous.words, leafUpdates, counts, 1 << 20, 10_000);
        correct[words - 1] = Lanes.set(correct[words - 1], 4, Lanes.get(correct[words - 1], 4) - 1); // one wrong coordinate
        proof.proposed = LeafProof({words: correct, siblings: _leaf(7777, leafIndex).siblings});
        vm.prank(aggregator);
        coordinator.propose(taskId, _rootOf(proof.proposed, leafIndex), keccak256("nb"));
        Cost memory c = _measure(address(0xC4A11), abi.encodeCall(coordinator.challengeAggregate, (taskId, proof)));
        string memory label = _fraudProofLabel(numParams, cohort);
        _log(label, c);
        emit log_named_uint(string.concat(label, " calldata+exec (pre-7623)"), 21_000 + c.calldataGas + c.execution);
        assertTrue(coordinator.aggregatorOf(taskId, aggregator).bond < 100e18, "challenge succeeded");
        return _tx(c);
    }

    function _fraudProofLabel(uint256 numParams, uint256 cohort) internal view returns (string memory) {
        return string.concat(
            "fraud proof W ",
            vm.toString(words),
            " cohort ",
            vm.toString(cohort),
            " depth ",
            vm.toString(depth),
            " params ",
            vm.toString(numParams)
        );
    }

    function test_gasFraudProofCohort8() external {
        _fraudProofGas(1_000_000, 8);
        _fraudProofGas(10_000_000, 8);
    }

    function test_gasFraudProofCohort32() external {
        _fraudProofGas(1_000_000, 32);
        _fraudProofGas(10_000_000, 32);
    }

    function test_gasFraudProofCohort64() external {
        _fraudProofGas(1_000_000, 64);
        _fraudProofGas(10_000_000, 64);
        _fraudProofGas(100_000_000, 64);
    }

    /// @dev The same proofs at every allowed leaf width (BENCHMARKS.md: wider leaves mean more proof bytes).
    function test_gasFraudProofCohort64ByLeafWidth() external {
        for (words = 1; words <= 8; words *= 2) {
            _fraudProofGas(10_000_000, 64);
        }
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
