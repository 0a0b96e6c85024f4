// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {SecureFixture} from "./SecureFixture.sol";
import {EntryState, RoundPhase, TaskParams, TaskStatus} from "../../src/FedTypes.sol";
import {ICoordinatorEvents as E} from "../../src/ICoordinator.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {ISecureCoordinatorEvents as S} from "../../src/secure/ISecureCoordinator.sol";
import {ISecureLeafVerifierErrors as V} from "../../src/secure/ISecureLeafVerifier.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";
import {SecureFraudProof, SecureRound} from "../../src/secure/SecureTypes.sol";

/// @dev The secure round on chain, on the SecureFixture: every phase, its reverts, real fraud proofs.
contract SecureCoordinatorTest is SecureFixture {
    // ---------------------------------------------------------------- a whole round

    function test_anHonestProposalWithADropoutCannotBeChallengedAndFinalizes() external {
        _playRound(_lastDrops());
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.Propose, "aggregatable");
        bytes32 next = _nextWord();
        bytes32[] memory transcript = _transcript();
        _propose(next, transcript);
        assertEq(coordinator.secureRound(taskId, 0).transcriptHash, keccak256(abi.encodePacked(transcript)), "hash");
        SecureFraudProof memory proof = _proof(next, transcript); // built before prank / expectRevert take the next call
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, 0));
        coordinator.challengeAggregate(taskId, 0, proof);

        vm.warp(vm.getBlockTimestamp() + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, _modelRoot(next), "anchored");
        uint256 perWeight = coordinator.roundView(taskId, 0).round.rewardPerWeight;
        assertEq(coordinator.claimable(taskId, members[0]), perWeight * _sampleCount(0), "survivor earns");
        assertEq(coordinator.claimable(taskId, members[3]), 0, "the dropped member earns nothing");
        // the dropped member's missed upload is slashable now that its round has closed
        vm.prank(watcher);
        coordinator.slashMissedReveal(taskId, 0, members[3]);
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE - STAKE / 10, "slashed");
    }

    function test_aWrongAggregateIsProvenAndSlashed() external {
        _playRound(_allUpload());
        bytes32 next = _nextWord();
        bytes32 wrong = Lanes.set(next, 5, Lanes.get(next, 5) + 1);
        bytes32[] memory transcript = _transcript();
        _propose(wrong, transcript);
        uint256 before = token.balanceOf(watcher);
        SecureFraudProof memory proof = _proof(wrong, transcript);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, 0, proof);
        uint256 slashed = BOND / 2;
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND - slashed, "bond slashed");
        assertEq(token.balanceOf(watcher) - before, slashed / 5, "bounty");
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.Propose, "aggregation reopened");
    }

    function test_aWrongTranscriptIsProvenEvenWithTheRightModel() external {
        _playRound(_lastDrops());
        bytes32 next = _nextWord();
        bytes32[] memory transcript = _transcript();
        transcript[transcript.length - 1] = bytes32(uint256(12345)); // not the dropped member's mask key
        _propose(next, transcript);
        SecureFraudProof memory proof = _proof(next, transcript);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, 0, proof);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "slashed for the transcript");
    }

    function test_aProofMustCarryTheCommittedRecords() external {
        _playRound(_allUpload());
        bytes32 wrong = bytes32(uint256(_nextWord()) ^ 1);
        bytes32[] memory transcript = _transcript();
        _propose(wrong, transcript);
        SecureFraudProof memory proof = _proof(wrong, transcript);
        proof.survivors[4] = keccak256("another bundle"); // the first survivor's share-bundle reference
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeAggregate(taskId, 0, proof);
        proof = _proof(wrong, transcript);
        proof.survivors[0] = bytes32(uint256(proof.survivors[0]) + 1); // a weight other than the committed one
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeAggregate(taskId, 0, proof);
    }

    function test_challengeNeedsAPendingProposalInItsWindow() external {
        _playRound(_allUpload());
        bytes32 next = _nextWord();
        bytes32[] memory transcript = _transcript();
        SecureFraudProof memory proof = _proof(next, transcript);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 0));
        coordinator.challengeAggregate(taskId, 0, proof);
        _propose(next, transcript);
        uint256 proposedAt = vm.getBlockTimestamp();
        vm.warp(proposedAt + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, proposedAt, proposedAt + WINDOW));
        coordinator.challengeAggregate(taskId, 0, proof);
    }

    // ---------------------------------------------------------------- phases and their reverts

    function test_advertiseChecksWindowKeysAndCohort() external {
        (uint256 x, uint256 y) = _pk(0);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(V.InvalidPublicKey.selector, members[0]));
        coordinator.advertise(taskId, x, y + 1, keccak256("e"));
        vm.prank(members[0]);
        vm.expectRevert(E.ZeroHash.selector);
        coordinator.advertise(taskId, x, y, bytes32(0));
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotMember.selector, watcher));
        coordinator.advertise(taskId, x, y, keccak256("e"));
        _advertise(0);
        assertTrue(coordinator.entryState(taskId, 0, members[0]) == EntryState.Advertised, "advertised");
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyCommitted.selector, members[0]));
        coordinator.advertise(taskId, x, y, keccak256("e"));
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        (x, y) = _pk(1);
        vm.prank(members[1]);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000, 1_000_000 + WINDOW));
        coordinator.advertise(taskId, x, y, keccak256("e"));
    }

    function test_theSeedIsFixedOnceAfterTheAdvertiseWindowFromTheDigest() external {
        _advertise(0);
        _advertise(1);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000 + WINDOW, type(uint256).max));
        coordinator.fixRoundSeed(taskId);
        vm.warp(1_000_000 + WINDOW);
        vm.prevrandao(bytes32(uint256(42)));
        coordinator.fixRoundSeed(taskId);
        SecureRound memory r = coordinator.secureRound(taskId, 0);
        (uint256 x0, uint256 y0) = _pk(0);
        (uint256 x1, uint256 y1) = _pk(1);
        bytes32 digest = SecureAggregation.advertiseDigest(bytes32(0), members[0], x0, y0, keccak256(abi.encode("x25519", 0)));
        digest = SecureAggregation.advertiseDigest(digest, members[1], x1, y1, keccak256(abi.encode("x25519", 1)));
        assertEq(r.digest, digest, "digest");
        assertEq(r.randomness, 42, "randomness");
        assertEq(r.seed, SecureAggregation.roundSeed(block.chainid, address(coordinator), taskId, 0, digest, 42), "seed");
        vm.expectRevert(abi.encodeWithSelector(S.SeedAlreadyFixed.selector, 0));
        coordinator.fixRoundSeed(taskId);
    }

    function test_commitSharesNeedsTheSeedAndTheAdvertisedKeys() external {
        _advertise(0);
        _advertise(1);
        vm.warp(1_000_000 + WINDOW);
        (uint256 x, uint256 y) = _pk(0);
        bytes32 seedHash = SecureAggregation.selfSeedHash(_selfSeed(0));
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(S.SeedNotFixed.selector, 0));
        coordinator.commitShares(taskId, index[0], x, y, seedHash, _bundleBytes(0), 10);
        coordinator.fixRoundSeed(taskId);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentMismatch.selector, members[0]));
        coordinator.commitShares(taskId, index[1], x, y, seedHash, _bundleBytes(0), 10);
        vm.prank(members[0]);
        vm.expectRevert(E.ZeroSampleCount.selector);
        coordinator.commitShares(taskId, index[0], x, y, seedHash, _bundleBytes(0), 0);
        vm.prank(members[2]);
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentMismatch.selector, members[2]));
        coordinator.commitShares(taskId, 2, x, y, seedHash, _bundleBytes(0), 10);
        _commit(0);
        assertTrue(coordinator.entryState(taskId, 0, members[0]) == EntryState.Committed, "committed");
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentMismatch.selector, members[0]));
        coordinator.commitShares(taskId, index[0], x, y, seedHash, _bundleBytes(0), 10);
        vm.warp(1_000_000 + 2 * WINDOW);
        (x, y) = _pk(1);
        vm.prank(members[1]);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000 + WINDOW, 1_000_000 + 2 * WINDOW));
        coordinator.commitShares(taskId, index[1], x, y, SecureAggregation.selfSeedHash(1), _bundleBytes(1), 10);
    }

    function test_uploadRestatesTheCommittedRecordInItsWindow() external {
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        for (uint256 i = 0; i < N; ++i) {
            _commit(i);
        }
        (uint256 x, uint256 y) = _pk(0);
        bytes32 seedHash = SecureAggregation.selfSeedHash(_selfSeed(0));
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000 + 2 * WINDOW, 1_000_000 + 3 * WINDOW));
        coordinator.upload(taskId, index[0], x, y, seedHash, _bundle(0), 10, keccak256("r"), keccak256("b"));
        vm.warp(1_000_000 + 2 * WINDOW);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentMismatch.selector, members[0]));
        coordinator.upload(taskId, index[0], x, y, seedHash, _bundle(0), 11, keccak256("r"), keccak256("b"));
        vm.prank(members[0]);
        vm.expectRevert(E.ZeroHash.selector);
        coordinator.upload(taskId, index[0], x, y, seedHash, _bundle(0), 10, bytes32(0), keccak256("b"));
        _upload(0);
        _upload(2);
        assertTrue(coordinator.entryState(taskId, 0, members[0]) == EntryState.Revealed, "uploaded");
        SecureRound memory r = coordinator.secureRound(taskId, 0);
        assertEq(r.uploaded, (1 << index[0]) | (1 << index[2]), "bitmap");
        assertEq(coordinator.roundView(taskId, 0).round.totalWeight, _sampleCount(0) + _sampleCount(2), "weight");
    }

    function test_onlySurvivorsPublishUnmaskBundlesInTheUnmaskWindow() external {
        _playRound(_lastDrops());
        vm.warp(1_000_000 + UNMASK); // unmask window
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.Unmask, "unmask phase");
        vm.prank(members[3]);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[3]));
        coordinator.publishUnmaskBundle(taskId, keccak256("u"));
        vm.prank(members[0]);
        coordinator.publishUnmaskBundle(taskId, keccak256("u"));
        vm.warp(1_000_000 + END);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000 + UNMASK, 1_000_000 + END));
        coordinator.publishUnmaskBundle(taskId, keccak256("u"));
    }

    function test_aProposalCarriesOneTranscriptWordPerCommittedMember() external {
        _playRound(_lastDrops());
        bytes32[] memory short = new bytes32[](3);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(S.WrongTranscriptLength.selector, 3, 4));
        coordinator.propose(taskId, keccak256("m"), keccak256("b"), short);
    }

    function test_aRoundThatCannotBeUnmaskedCanOnlyFail() external {
        // two uploads of four with threshold 2 on a complete graph: each survivor has one surviving neighbour
        _playRound([true, false, true, false]);
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.AwaitingFailure, "awaiting failure");
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.TooFewParticipants.selector, 2, 2));
        coordinator.propose(taskId, keccak256("m"), keccak256("b"), _transcript());
        coordinator.failRound(taskId);
        assertEq(coordinator.taskState(taskId).currentRound, 1, "next round");
    }

    function test_aStalledRoundCanBeFailed() external {
        _playRound(_allUpload());
        vm.expectRevert(abi.encodeWithSelector(E.EnoughParticipants.selector, 4));
        coordinator.failRound(taskId);
        vm.warp(vm.getBlockTimestamp() + 4 * 2 * WINDOW); // four propose-and-challenge windows, no proposal
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.AwaitingFailure, "stalled");
        coordinator.failRound(taskId);
        assertEq(coordinator.taskState(taskId).currentRound, 1, "next round");
    }

    function test_aMissedUploadIsSlashableFromTheUploadDeadlineAndAMissedCommitmentFromTheCommitDeadline()
        external
    {
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        for (uint256 i = 0; i < 3; ++i) {
            _commit(i); // member 3 advertised only
        }
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000 + 2 * WINDOW, type(uint256).max));
        coordinator.slashMissedReveal(taskId, 0, members[3]);
        vm.warp(1_000_000 + 2 * WINDOW);
        _upload(0);
        _upload(1); // member 2 committed and does not upload
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 1_000_000 + 3 * WINDOW, type(uint256).max));
        coordinator.slashMissedReveal(taskId, 0, members[2]);
        // four advertised members, more than t = 2: the one that never committed pays for its seat
        uint256 before = token.balanceOf(watcher);
        vm.prank(watcher);
        coordinator.slashMissedReveal(taskId, 0, members[3]);
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE - STAKE / 10, "missed commitment slashed");
        assertEq(token.balanceOf(watcher) - before, STAKE / 10 / 5, "bounty to the watcher");
        assertTrue(coordinator.entryState(taskId, 0, members[3]) == EntryState.Forfeited, "advertisement forfeited");
        vm.warp(1_000_000 + 3 * WINDOW); // the upload deadline
        before = token.balanceOf(watcher);
        vm.prank(watcher);
        coordinator.slashMissedReveal(taskId, 0, members[2]);
        assertEq(coordinator.memberOf(taskId, members[2]).stake, STAKE - STAKE / 10, "missed upload slashed");
        assertEq(token.balanceOf(watcher) - before, STAKE / 10 / 5, "bounty to the watcher");
        assertTrue(coordinator.entryState(taskId, 0, members[2]) == EntryState.Forfeited, "forfeited");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, members[2]));
        coordinator.slashMissedReveal(taskId, 0, members[2]);
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, members[3]));
        coordinator.slashMissedReveal(taskId, 0, members[3]);
        vm.warp(1_000_000 + END);
        coordinator.failRound(taskId); // two survivors of three committed: not unmaskable with t = 2
        vm.prank(members[3]);
        coordinator.addStake(taskId, STAKE / 10);
        _advertise(3); // settles the forfeited entry: no second slash
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE, "slashed once");
    }

    function test_anAdvertisementIsForfeitedAtSettlementOnlyWhereMembersCouldCommit() external {
        // round 0: only two members advertise, not more than t = 2: nobody can share, nobody is punished
        _advertise(0);
        _advertise(1);
        vm.warp(1_000_000 + END);
        coordinator.failRound(taskId);
        _advertise(0);
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE, "a round too small to commit in");
        // round 1: all four advertise, member 1 never commits; its next advertisement forfeits it
        for (uint256 i = 1; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        _commit(0);
        _commit(2);
        _commit(3);
        vm.warp(_round().start + END);
        coordinator.failRound(taskId); // nobody uploaded
        vm.prank(members[1]);
        coordinator.addStake(taskId, STAKE);
        uint256 pool = coordinator.taskState(taskId).pool;
        _advertise(1);
        assertEq(coordinator.memberOf(taskId, members[1]).stake, 2 * STAKE - 2 * STAKE / 10, "forfeited");
        assertEq(coordinator.taskState(taskId).pool - pool, 2 * STAKE / 10, "all of it to the pool: no bounty");
    }

    function test_aForfeitedMemberStillBindsItsRecordInAFraudProof() external {
        _playRound(_lastDrops());
        vm.prank(watcher);
        coordinator.slashMissedReveal(taskId, 0, members[3]); // member 3 committed, did not upload
        bytes32 wrong = bytes32(uint256(_nextWord()) ^ 1);
        bytes32[] memory transcript = _transcript();
        _propose(wrong, transcript);
        SecureFraudProof memory proof = _proof(wrong, transcript);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, 0, proof);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "proven with the dropped record");
        proof = _proof(wrong, transcript);
        proof.dropped[4] = keccak256("another bundle"); // the forfeited member's record, altered
        vm.warp(vm.getBlockTimestamp() + 1);
        proof = _withProposal(proof, _nextWord(), transcript);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[3]));
        coordinator.challengeAggregate(taskId, 0, proof);
    }

    function test_theSecureCoordinatorTakesOnlySecureTasks() external {
        TaskParams memory p = secureParams();
        p.mode = 0;
        p.neighbours = 0;
        p.threshold = 0;
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "mode"));
        coordinator.createTask(p, keccak256("r"), keccak256("b"));
        p = secureParams();
        p.wordsPerLeaf = 8;
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "wordsPerLeaf"));
        coordinator.createTask(p, keccak256("r"), keccak256("b"));
    }

    function test_phasesFollowTheSecureSchedule() external {
        RoundPhase[6] memory expected = [
            RoundPhase.Advertise,
            RoundPhase.Commit,
            RoundPhase.Upload,
            RoundPhase.Availability,
            RoundPhase.Unmask,
            RoundPhase.AwaitingFailure
        ];
        uint256[6] memory at = [uint256(0), WINDOW, 2 * WINDOW, 3 * WINDOW, UNMASK, END];
        for (uint256 k = 0; k < 6; ++k) {
            vm.warp(1_000_000 + at[k]);
            assertTrue(coordinator.roundView(taskId, 0).phase == expected[k], "phase");
        }
        assertEq(coordinator.roundView(taskId, 0).commitEnd, 1_000_000 + 2 * WINDOW, "commit end");
        assertEq(coordinator.roundView(taskId, 0).revealEnd, 1_000_000 + END, "unmask end");
        assertTrue(coordinator.taskState(taskId).status == TaskStatus.Running, "running");
    }
}
