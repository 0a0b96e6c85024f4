// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {GasMeter} from "./utils/GasMeter.sol";
import {DevToken} from "../src/DevToken.sol";
import {IFedCoordinator} from "../src/IFedCoordinator.sol";
import {Deployments} from "./utils/Deployments.sol";
import {AggregateFraudProof, LeafProof, TaskParams} from "../src/FedTypes.sol";
import {UpdateLeaf, UpdateLists} from "./utils/UpdateLists.sol";
import {Lanes} from "../src/libraries/Lanes.sol";
import {ProtocolHarness} from "./utils/ProtocolHarness.sol";
import {Trees} from "./utils/Trees.sol";
import {PositionalMerkle} from "../src/libraries/PositionalMerkle.sol";

/// @dev A plain-mode task of any size and cohort, rounds played on it, and a real fraud proof against an arbitrary
/// proposal, measured as GasMeter says. The leaf width is storage (fedchain's default W = 2 unless a test sets it).
abstract contract PlainGasBench is GasMeter {
    uint256 internal constant WINDOW = 1000;
    /// @dev Rounds between a participant's reward claims when sharing the claim's cost per round (the demo's task).
    uint256 internal constant ROUNDS_PER_CLAIM = 20;
    /// @dev Leaf width of the task under test: fedchain's default (commit/constants.py) unless a test sets it.
    uint256 internal words = 2;
    /// @dev Aggregation rule of the task under test, and its parameter (FedAvg unless a test sets them).
    uint256 internal rule;
    uint256 internal ruleParam;

    DevToken internal token;
    IFedCoordinator internal coordinator;
    address internal aggregator = address(0xA66);
    address[] internal members;
    uint256 internal taskId;
    uint256 internal depth;

    function _setUp(uint256 numParams, uint256 cohort, bytes32 modelRoot) internal {
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        coordinator = Deployments.plain();
        TaskParams memory p = _taskParams(numParams, cohort);
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

    /// @dev The rules of the bench's task (token: the current one).
    function _taskParams(uint256 numParams, uint256 cohort) internal view returns (TaskParams memory p) {
        p.commitWindow = uint32(WINDOW);
        p.revealWindow = uint32(WINDOW);
        p.proposeWindow = uint32(WINDOW);
        p.challengeWindow = uint32(WINDOW);
        p.availabilityWindow = uint32(WINDOW);
        p.availabilityBond = 1e18;
        p.missedRevealSlashBps = 1000;
        p.violationSlashBps = 5000;
        p.cohortCap = uint16(cohort);
        p.minParticipants = 1;
        p.sampleCap = 1 << 20;
        p.numRounds = 100;
        p.maxSilentRounds = 3;
        p.token = address(token);
        p.scaleBits = 16;
        p.wordsPerLeaf = uint8(words);
        p.rule = uint8(rule);
        p.ruleParam = uint16(ruleParam);
        p.clip = type(uint32).max >> 1;
        p.numParams = uint64(numParams);
        p.serverLrBps = 10_000;
        p.unbondingDelay = 1;
        p.bountyBps = 2000;
        p.aggregatorSlashBps = 5000;
        p.aggregatorFeeBps = 500;
        p.minStake = 1e18;
        p.aggregatorBond = 100e18;
        p.rewardPerRound = 1e18;
        p.modelSpecHash = keccak256("spec");
    }

    function _fund(address who) internal {
        token.mint(who, 1e24);
        vm.prank(who);
        token.approve(address(coordinator), type(uint256).max);
    }

    function _measure(address sender, bytes memory data) internal returns (Cost memory c) {
        return _measure(address(coordinator), address(token), sender, data);
    }

    /// @dev Commits and reveals for every member, proposes and finalizes: one whole round, unmeasured.
    function _playRound(uint256 r) internal {
        for (uint256 i = 0; i < members.length; ++i) {
            bytes32 hash = _commitHash(r, i);
            vm.prank(members[i]);
            coordinator.commit(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.reveal(taskId, _updateRoot(r, i), 1000 + i, bytes32(i), keccak256("blob"));
        }
        vm.warp(block.timestamp + WINDOW);
        vm.prank(aggregator);
        coordinator.propose(taskId, keccak256(abi.encode("next", r)), keccak256("nb"));
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
    }

    function _updateRoot(uint256 r, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode(r, i));
    }

    function _commitHash(uint256 r, uint256 i) internal view returns (bytes32) {
        return coordinator.commitmentOf(taskId, r, members[i], _updateRoot(r, i), 1000 + i, bytes32(i));
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
        (Cost memory c,) = _fraudProofCost(numParams, cohort);
        return _tx(c);
    }

    /// @dev Plays a round of `cohort` members at `numParams` and measures a fraud proof that passes every check
    /// (the proposal is wrong at one coordinate); returns its cost and its calldata bytes.
    function _fraudProofCost(uint256 numParams, uint256 cohort) internal returns (Cost memory c, uint256 size) {
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
            coordinator.reveal(taskId, _rootOf(updates[i].leaf, leafIndex), 100 + i, bytes32(i), keccak256("blob"));
        }
        proof.updates = UpdateLists.encode(updates);
        vm.warp(block.timestamp + WINDOW);
        bytes32[] memory correct =
            new ProtocolHarness().ruleLeaf(rule, ruleParam, previous.words, leafUpdates, counts, 1 << 20, 10_000);
        correct[words - 1] = Lanes.set(correct[words - 1], 4, Lanes.get(correct[words - 1], 4) - 1); // one wrong coordinate
        proof.proposed = LeafProof({words: correct, siblings: _leaf(7777, leafIndex).siblings});
        vm.prank(aggregator);
        coordinator.propose(taskId, _rootOf(proof.proposed, leafIndex), keccak256("nb"));
        bytes memory data = abi.encodeCall(coordinator.challengeAggregate, (taskId, proof));
        size = data.length;
        c = _measure(address(0xC4A11), data);
        string memory label = _fraudProofLabel(numParams, cohort);
        _log(label, c);
        emit log_named_uint(string.concat(label, " calldata+exec (pre-7623)"), 21_000 + c.calldataGas + c.execution);
        assertTrue(coordinator.aggregatorOf(taskId, aggregator).bond < 100e18, "challenge succeeded");
    }

    function _fraudProofLabel(uint256 numParams, uint256 cohort) internal view returns (string memory) {
        return string.concat(
            "fraud proof rule ",
            vm.toString(rule),
            " W ",
            vm.toString(words),
            " cohort ",
            vm.toString(cohort),
            " depth ",
            vm.toString(depth),
            " params ",
            vm.toString(numParams)
        );
    }
}

/// @dev Gas of plain-mode rounds, logged for BENCHMARKS.md (run `forge test --match-contract GasTest -vv`),
/// measured as GasMeter says. The per-participant figures in BENCHMARKS.md come from real transactions
/// (bench/bench_round_gas.py); a fraud proof pays the calldata floor, which is exact.
contract GasTest is PlainGasBench {
    // ---------------------------------------------------------------- per participant per round

    /// @dev Per participant per round in the steady state: round 2 of a task, so each commit books the
    /// previous round's reward into earnings that are already nonzero, as in every round but the first two.
    /// Each member then claims once per ROUNDS_PER_CLAIM rounds. Returns the per-participant tx total and
    /// the summed execution gas (calldata varies with the random-looking hashes; execution must not vary
    /// with numParams).
    function _perParticipant(uint256 numParams, uint256 cohort)
        internal
        returns (uint256 perParticipant, uint256 executionSum)
    {
        _setUp(numParams, cohort, keccak256("model"));
        _playRound(0);
        _playRound(1);
        uint256 r = 2;
        uint256 commitTotal;
        uint256 revealTotal;
        for (uint256 i = 0; i < cohort; ++i) {
            Cost memory c = _measure(members[i], abi.encodeCall(coordinator.commit, (taskId, _commitHash(r, i))));
            commitTotal += _tx(c);
            executionSum += c.execution;
            if (i == 0) _log("commit (books the last round's reward)", c);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < cohort; ++i) {
            Cost memory c = _measure(
                members[i],
                abi.encodeCall(coordinator.reveal, (taskId, _updateRoot(r, i), 1000 + i, bytes32(i), keccak256("blob")))
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
        Cost memory claimCost = _measure(members[0], abi.encodeCall(coordinator.claimRewards, (taskId)));
        _log("claim (books the last round, pays all)", claimCost);
        executionSum += proposeCost.execution + finalizeCost.execution + claimCost.execution;
        uint256 shared = (_tx(proposeCost) + _tx(finalizeCost)) / cohort;
        uint256 claimShare = _tx(claimCost) / ROUNDS_PER_CLAIM;
        perParticipant = (commitTotal + revealTotal) / cohort + shared + claimShare;
        emit log_named_uint(
            string.concat("cohort ", vm.toString(cohort), ": commit + reveal, mean"),
            (commitTotal + revealTotal) / cohort
        );
        emit log_named_uint(string.concat("cohort ", vm.toString(cohort), ": share of propose + finalize"), shared);
        emit log_named_uint(
            string.concat("cohort ", vm.toString(cohort), ": share of one claim per 20 rounds"), claimShare
        );
        emit log_named_uint(
            string.concat("cohort ", vm.toString(cohort), ": per participant per round"), perParticipant
        );
    }

    function test_gasPerParticipantIsFlatInModelSize() external {
        (, uint256 small) = _perParticipant(1000, 8);
        (, uint256 large) = _perParticipant(10_000_000, 8);
        assertEq(small, large, "execution gas is flat in numParams");
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

    /// @dev The same proof under each rule (BENCHMARKS.md: the order-statistic rules sort every coordinate).
    function test_gasFraudProofCohort64ByRule() external {
        uint256[3] memory params = [uint256(0), 0, 1_000];
        for (rule = 0; rule < params.length; ++rule) {
            ruleParam = params[rule];
            _fraudProofGas(1_000_000, 16);
            _fraudProofGas(1_000_000, 64);
        }
    }

    /// @dev The same proofs at every allowed leaf width (BENCHMARKS.md: wider leaves mean more proof bytes).
    function test_gasFraudProofCohort64ByLeafWidth() external {
        for (words = 1; words <= 8; words *= 2) {
            _fraudProofGas(10_000_000, 64);
        }
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
