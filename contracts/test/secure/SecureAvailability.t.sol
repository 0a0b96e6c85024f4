// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply,incorrect-shift)

import {SecureFixture} from "./SecureFixture.sol";
import {SecureRoundBench} from "./SecureGas.t.sol";
import {Trees} from "../utils/Trees.sol";
import {DevToken} from "../../src/DevToken.sol";
import {
    ChallengeStatus,
    DisputeOutcome,
    DisputeStatus,
    EntryState,
    InputChallenge,
    MaskedRecord,
    RoundPhase
} from "../../src/FedTypes.sol";
import {ICoordinatorEvents as E} from "../../src/ICoordinator.sol";
import {TaskParamsValidator} from "../../src/TaskParamsValidator.sol";
import {Cohort} from "../../src/libraries/Cohort.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {SecureFraudProof} from "../../src/secure/SecureTypes.sol";
import {Deployments} from "../utils/Deployments.sol";

/// @dev Withheld data must never win, in secure mode (docs/protocol.md sections 10 and 11): a masked vector
/// whose blob is withheld is forced on chain or dropped from U3 before the unmask phase (its owner slashed, the
/// round unmasked and aggregated without it); members that only advertise pay for their seat; a withheld
/// proposal is opened or rejected. On the SecureFixture: four members, a complete graph, t = 2, depth 0.
contract SecureAvailabilityTest is SecureFixture {
    address internal anyone = address(0xBEEF);

    /// @dev Everyone advertises, commits and uploads; the time is then the upload deadline (availability phase).
    function _uploadAll() internal {
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        for (uint256 i = 0; i < N; ++i) {
            _commit(i);
        }
        vm.warp(_round().start + 2 * WINDOW);
        for (uint256 i = 0; i < N; ++i) {
            _upload(i);
        }
        vm.warp(_round().start + 3 * WINDOW);
    }

    function _challengeMasked(address challenger, uint256 i) internal {
        MaskedRecord memory record = _record(i); // before the prank: it calls the ecMul precompile
        vm.prank(challenger);
        coordinator.challengeMaskedVector(taskId, members[i], record);
    }

    // ================================================================ a withheld masked vector

    function test_aWithheldMaskedVectorIsDroppedFromU3AndTheRoundIsUnmaskedWithoutIt() external {
        _uploadAll();
        uint256 start = _round().start;
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.Availability, "availability phase");
        uint256 watcherBefore = token.balanceOf(watcher);
        uint256 everyone = coordinator.secureRound(taskId, 0).uploaded;
        // member 3 uploaded its masked root and never publishes the blob: nobody could check an aggregate
        _challengeMasked(watcher, 3);
        InputChallenge memory c = coordinator.inputChallenge(taskId, 0, members[3]);
        assertEq(c.root, Trees.leafHash(0, _maskedWords(3)), "the masked root");
        assertEq(c.leafWords, 2, "a masked leaf has 2W words");
        assertEq(c.chunks, 1, "one chunk: the single leaf");
        assertEq(c.index, index[3], "its advertise index");
        assertEq(c.weight, _sampleCount(3), "its weight");
        assertEq(c.deadline, start + 3 * WINDOW + AVAIL, "answered before the unmask phase");

        // the open challenge holds the unmask phase: no survivor releases its shares over an unsettled U3
        vm.warp(start + UNMASK);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 1, 0));
        coordinator.publishUnmaskBundle(taskId, keccak256("bundle 0"));
        uint256 slashed = STAKE / 2;
        uint256 bounty = slashed / 5;
        vm.expectEmit(true, true, true, true);
        emit E.InputUnavailable(taskId, 0, members[3], watcher, slashed, bounty);
        vm.prank(anyone);
        coordinator.dropUnavailable(taskId, 0, members[3]);

        assertEq(coordinator.secureRound(taskId, 0).uploaded, everyone & ~(uint256(1) << index[3]), "out of U3");
        assertEq(coordinator.roundView(taskId, 0).round.included, 3, "three survivors");
        assertEq(coordinator.roundView(taskId, 0).round.totalWeight, 10 + 20 + 30, "their weight");
        assertTrue(coordinator.entryState(taskId, 0, members[3]) == EntryState.Forfeited, "counts as dropped");
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE - slashed, "the withholder slashed");
        assertEq(token.balanceOf(watcher), watcherBefore + bounty, "the watcher: bond back and bounty");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, members[3]));
        coordinator.slashMissedReveal(taskId, 0, members[3]);
        uploadedBy[3] = false; // the survivors now rebuild member 3's mask key like any dropped member's

        vm.prank(members[3]);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[3]));
        coordinator.publishUnmaskBundle(taskId, keccak256("bundle 3"));
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(members[i]);
            coordinator.publishUnmaskBundle(taskId, keccak256(abi.encode("bundle", i)));
        }

        // a wrong aggregate over the three is proven with member 3 in the dropped list
        vm.warp(start + END);
        bytes32 next = _nextWord();
        bytes32[] memory transcript = _transcript();
        assertEq(transcript[3], bytes32(_secret(3)), "member 3's mask key in the transcript");
        bytes32 wrong = Lanes.set(next, 2, Lanes.get(next, 2) - 1);
        _propose(wrong, transcript);
        SecureFraudProof memory proof = _proof(wrong, transcript);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, 0, proof);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "the wrong aggregate was proven");

        // the honest aggregate of the survivors cannot be challenged and finalizes
        proof = _withProposal(_proof(next, transcript), next, transcript);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, 0));
        coordinator.challengeAggregate(taskId, 0, proof);
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, _modelRoot(next), "the survivors' model");
        assertEq(coordinator.claimable(taskId, members[3]), 0, "the withholder earns nothing");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(coordinator.memberOf(taskId, members[i]).stake, STAKE, "survivors keep their stake");
            assertTrue(coordinator.claimable(taskId, members[i]) > 0, "and earn");
        }
    }

    function test_aMaskedVectorPutOnChainResolvesTheChallengeAndPaysItsPoster() external {
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        for (uint256 i = 0; i < N; ++i) {
            _commit(i);
        }
        vm.warp(_round().start + 2 * WINDOW);
        _upload(0);
        _challengeMasked(watcher, 0); // in the upload window already
        bytes32[] memory words = _maskedWords(0);
        bytes32[] memory path = new bytes32[](0);
        uint256 before = token.balanceOf(members[0]);
        vm.expectEmit(true, true, true, true);
        emit E.ChunkPosted(taskId, 0, members[0], 0, members[0], words, path);
        vm.expectEmit(true, true, true, true);
        emit E.InputResolved(taskId, 0, members[0]);
        vm.prank(members[0]);
        coordinator.postChunk(taskId, 0, members[0], 0, words, path);
        assertEq(token.balanceOf(members[0]) - before, 5e18, "the whole bond for the only chunk");
        assertTrue(coordinator.inputChallenge(taskId, 0, members[0]).status == ChallengeStatus.Resolved, "resolved");
        assertEq(coordinator.roundView(taskId, 0).round.openChallenges, 0, "nothing open");
        for (uint256 i = 1; i < N; ++i) {
            _upload(i);
        }
        vm.warp(_round().start + END);
        bytes32 next = _nextWord();
        _propose(next, _transcript());
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, _modelRoot(next), "all four aggregated");
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE, "the honest owner keeps its stake");
    }

    function test_maskedVectorChallengesCheckTheRecordAndTheAvailabilityWindow() external {
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        for (uint256 i = 0; i < N; ++i) {
            _commit(i);
        }
        uint256 start = _round().start;
        vm.warp(start + 2 * WINDOW);
        MaskedRecord memory record = _record(0);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeMaskedVector(taskId, members[0], record); // committed, not uploaded yet
        for (uint256 i = 0; i < N; ++i) {
            _upload(i);
        }
        record.weight += 1;
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeMaskedVector(taskId, members[0], record);
        record = _record(0);
        record.maskedRoot = keccak256("another root");
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeMaskedVector(taskId, members[0], record);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.UnknownFunction.selector, coordinator.challengeUpdate.selector));
        coordinator.challengeUpdate(taskId, members[0], keccak256("root"), 10);

        _challengeMasked(watcher, 1);
        record = _record(1);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyChallenged.selector, members[1]));
        coordinator.challengeMaskedVector(taskId, members[1], record);
        uint256 deadline = coordinator.inputChallenge(taskId, 0, members[1]).deadline;
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, deadline, type(uint256).max));
        coordinator.dropUnavailable(taskId, 0, members[1]);
        // challenges close availabilityWindow after the upload deadline, so all are settled at the unmask phase
        uint256 closesAt = start + 3 * WINDOW + AVAIL;
        vm.warp(closesAt - 1);
        _challengeMasked(watcher, 2);
        assertEq(coordinator.inputChallenge(taskId, 0, members[2]).deadline, start + UNMASK - 1, "settled in time");
        _postChunkOf(2);
        vm.warp(closesAt);
        record = _record(3);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, start, closesAt));
        coordinator.challengeMaskedVector(taskId, members[3], record);
        // an input challenge that nobody applied holds the round: it can neither fail nor unmask
        vm.warp(start + END);
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 1, 0));
        coordinator.failRound(taskId);
        coordinator.dropUnavailable(taskId, 0, members[1]);
        assertEq(coordinator.roundView(taskId, 0).round.openChallenges, 0, "all settled");
        assertTrue(coordinator.entryState(taskId, 0, members[2]) == EntryState.Revealed, "member 2 answered");
        assertTrue(coordinator.entryState(taskId, 0, members[1]) == EntryState.Forfeited, "member 1 did not");
    }

    /// @dev Whether `account` is in round 1's cohort (sampled from N + 1 members) under `randomness`.
    function _picked(uint256 randomness, address account) internal view returns (bool) {
        return Cohort.includes(Cohort.seed(randomness, taskId, 1), N + 1, N, account);
    }

    function _postChunkOf(uint256 i) internal {
        bytes32[] memory words = _maskedWords(i);
        vm.prank(members[i]);
        coordinator.postChunk(taskId, 0, members[i], 0, words, new bytes32[](0));
    }

    // ================================================================ members that only advertise

    /// @dev Advertising used to be free: cohortCap sybils took every seat, never committed, and the round
    /// failed for nothing. Now each pays for the seat it held once the commit deadline passes (the round had
    /// more than t advertised members, so every one of them could have shared its secrets).
    function test_cohortCapIdleSybilsLoseStake() external {
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i); // four sybils fill the cohort
        }
        vm.prank(watcher);
        coordinator.join(taskId, STAKE);
        (uint256 x, uint256 y) = _pk(0);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.CohortFull.selector, N));
        coordinator.advertise(taskId, x, y, keccak256("honest"));
        _fixSeed(); // nobody commits
        uint256 start = _round().start;
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, start + 2 * WINDOW, type(uint256).max));
        coordinator.slashMissedReveal(taskId, 0, members[0]);

        vm.warp(start + 2 * WINDOW);
        uint256 watcherBefore = token.balanceOf(watcher);
        uint256 pool = coordinator.taskState(taskId).pool;
        uint256 slashed = STAKE / 10;
        for (uint256 i = 0; i < N; ++i) {
            vm.expectEmit(true, true, true, true);
            emit E.MissedRevealSlashed(taskId, 0, members[i], slashed, slashed / 5);
            vm.prank(watcher);
            coordinator.slashMissedReveal(taskId, 0, members[i]);
            assertEq(coordinator.memberOf(taskId, members[i]).stake, STAKE - slashed, "the sybil paid");
            assertTrue(coordinator.entryState(taskId, 0, members[i]) == EntryState.Forfeited, "forfeited");
        }
        assertEq(token.balanceOf(watcher) - watcherBefore, N * (slashed / 5), "bounties");
        assertEq(coordinator.taskState(taskId).pool - pool, N * (slashed - slashed / 5), "the rest to the pool");

        vm.warp(start + END);
        // round 1 opens with five members for four seats: its cohort is sampled; take randomness that picks both
        // members the rest of the test enters with
        uint256 randomness = 1;
        while (!_picked(randomness, members[1]) || !_picked(randomness, watcher)) ++randomness;
        vm.prevrandao(bytes32(randomness));
        coordinator.failRound(taskId);
        // a seat costs stake again: a sybil must top up before it may advertise again; the honest member may
        (x, y) = _pk(1);
        vm.prank(members[1]);
        vm.expectRevert(abi.encodeWithSelector(E.StakeTooLow.selector, STAKE - slashed, STAKE));
        coordinator.advertise(taskId, x, y, keccak256("again"));
        (x, y) = _pk(0);
        vm.prank(watcher);
        coordinator.advertise(taskId, x, y, keccak256("honest"));
        assertTrue(coordinator.entryState(taskId, 1, watcher) == EntryState.Advertised, "the honest member got in");
    }

    // ================================================================ a withheld proposal

    function test_aWithheldSecureProposalThatNobodyOpensIsRejected() external {
        _playRound(_allUpload());
        bytes32 next = _nextWord();
        bytes32 wrong = Lanes.set(next, 0, Lanes.get(next, 0) + 7);
        bytes32[] memory transcript = _transcript();
        _propose(wrong, transcript); // its model blob never published
        vm.prank(watcher);
        coordinator.openDispute(taskId);
        assertEq(coordinator.disputeOf(taskId, 0, watcher).level, 0, "depth 0: the root is the leaf");
        assertEq(coordinator.disputeOf(taskId, 0, watcher).node, _modelRoot(wrong), "disputed");
        uint256 before = token.balanceOf(watcher);
        vm.warp(coordinator.disputeOf(taskId, 0, watcher).deadline);
        vm.expectEmit(true, true, true, true);
        emit E.DisputeSettled(taskId, 0, watcher, DisputeOutcome.ProposalUnopened, watcher, 5e18);
        coordinator.settleDispute(taskId, 0, watcher);
        assertEq(token.balanceOf(watcher) - before, 5e18 + BOND / 10, "bond back and the bounty");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "the aggregator slashed");
        assertEq(coordinator.taskState(taskId).modelRoot, _modelRoot(previousWord), "the wrong model never won");
        address second = address(0xB66); // an honest aggregator
        _fund(second);
        vm.prank(second);
        coordinator.postBond(taskId, BOND);
        vm.prank(second);
        coordinator.propose(taskId, _modelRoot(next), keccak256("honest"), transcript);
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, _modelRoot(next), "the correct model");
    }

    function test_anOpenedSecureLeafProvesTheProposalWrong() external {
        _playRound(_allUpload());
        bytes32 next = _nextWord();
        bytes32 wrong = Lanes.set(next, 6, Lanes.get(next, 6) - 3);
        bytes32[] memory transcript = _transcript();
        _propose(wrong, transcript);
        vm.prank(watcher);
        coordinator.openDispute(taskId);
        bytes32[] memory words = new bytes32[](1);
        words[0] = wrong;
        vm.prank(aggregator);
        coordinator.openLeaf(taskId, watcher, words);
        assertTrue(coordinator.disputeOf(taskId, 0, watcher).status == DisputeStatus.LeafOpened, "opened");
        SecureFraudProof memory proof = _proof(words[0], transcript); // the opened words, an empty path
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, 0, proof);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "rejected");
        uint256 before = token.balanceOf(watcher);
        coordinator.settleDispute(taskId, 0, watcher);
        assertEq(token.balanceOf(watcher) - before, 5e18, "moot: the bond back");
    }
}

/// @dev The secure bound of TaskParamsValidator against real proofs (docs/protocol.md section 11.4): at the
/// SecureRoundBench's rules (1M parameters, W = 2, depth 16, k = 8, t = 4) the largest cohort the validator
/// accepts, the next refused, and the proof of a round of that cohort with the costliest dropout patterns the
/// unmasking rule allows, measured as GasMeter says: within the bound, within the cap.
contract SecureProofBoundTest is SecureRoundBench {
    uint256 internal constant MAX_TX_GAS = 1 << 24;
    uint256 internal constant MAX_TX_BYTES = 128 * 1024;
    /// @dev A dropout pattern: the half of the ring after position n - n / 2 drops, in one gap.
    uint256 internal constant GAP = type(uint256).max;

    function _validator() internal view returns (TaskParamsValidator) {
        return TaskParamsValidator(address(coordinator.PARAMS_VALIDATOR()));
    }

    function _largestCohort() internal returns (uint256 n) {
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        coordinator = Deployments.secure();
        _fund(address(this));
        for (n = 256; n > 0; --n) {
            (uint256 gas, uint256 size) = _validator().worstFraudProof(_taskParams(n));
            if (gas <= MAX_TX_GAS && size <= MAX_TX_BYTES) break;
        }
        assertTrue(n > 1 && n < 256, "the bound binds below the cohort cap");
        coordinator.createTask(_taskParams(n), keccak256("model"), keccak256("blob"));
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "cohortCap"));
        coordinator.createTask(_taskParams(n + 1), keccak256("model"), keccak256("blob"));
        emit log_named_uint(
            string.concat("largest secure cohort, W ", vm.toString(leafWidth), " params ", vm.toString(numParams)), n
        );
    }

    /// @dev Measures the proofs of rounds of the largest accepted cohort where the members at every `every`-th
    /// ring position drop (0: nobody), for each of `patterns`.
    function _worstProofs(uint256[] memory patterns) internal {
        uint256 n = _largestCohort();
        (uint256 boundGas, uint256 boundSize) = _validator().worstFraudProof(_taskParams(n));
        for (uint256 i = 0; i < patterns.length; ++i) {
            gapFrom = patterns[i] == GAP ? n - n / 2 : 0;
            (Cost memory c, uint256 size) = _challengeGas(n, patterns[i] == GAP ? 0 : patterns[i]);
            string memory pattern = patterns[i] == GAP ? "half the ring in one gap" : vm.toString(patterns[i]);
            emit log_named_uint(string.concat("  calldata bytes, dropping every ", pattern), size);
            emit log_named_uint("  the validator's gas bound", boundGas);
            assertTrue(_tx(c) <= boundGas, "the measured proof is within the bound");
            assertTrue(size <= boundSize, "its calldata is within the bound");
            assertTrue(_tx(c) <= MAX_TX_GAS && size <= MAX_TX_BYTES, "it fits one transaction");
        }
    }

    /// @dev k = 8, t = 4: nobody drops; one in three ring positions drops (each survivor keeps 5 of its 8
    /// neighbours and loses 3: the most survivors with that many dropped neighbours); every other position drops
    /// (each survivor loses k - t = 4 neighbours, the most the rule allows).
    function _patterns(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory p) {
        p = new uint256[](3);
        (p[0], p[1], p[2]) = (a, b, c);
    }

    function test_theWorstSecureProofAtTheLargestAcceptedCohortFits() external {
        _worstProofs(_patterns(GAP, 3, 2)); // 1M parameters, W = 2, depth 16
    }

    function test_theWorstSecureProofOfTheDeepestWidestTreeFits() external {
        (numParams, leafWidth) = (1 << 40, 4); // depth 35, masked leaves of 8 words
        _worstProofs(_patterns(0, 3, 2));
    }

    /// @dev Small entries (W = 1, depth 0) and two dropped neighbours allowed per survivor (k = 4, t = 2): a third
    /// of the ring dropped, each survivor losing two neighbours; or half of it dropped in one gap, most dropped
    /// members neighbouring no survivor (their mask keys 0), the longest scans of the dropped list.
    function test_theWorstSecureProofWithTwoDroppedNeighboursFits() external {
        (numParams, leafWidth, neighbours, threshold) = (8, 1, 4, 2);
        _worstProofs(_patterns(0, 3, GAP));
    }

    /// @dev The largest cohort of all: the smallest entries (W = 1, depth 0) and one dropped neighbour allowed per
    /// survivor (k = 4, t = 3), so the bound charges little for pairs and admits many members; one in five ring
    /// positions drops, the densest dropout the rule allows, so the verifier's (dropped x survivor) loops,
    /// which the bound does not charge, are as long as they get at this size.
    function test_theWorstSecureProofOfTheLargestCohortFits() external {
        (numParams, leafWidth, neighbours, threshold) = (8, 1, 4, 3);
        _worstProofs(_patterns(0, 5, 6));
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply,incorrect-shift)
