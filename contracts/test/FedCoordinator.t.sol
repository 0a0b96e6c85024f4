// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Trees} from "./utils/Trees.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {
    Aggregator,
    EntryState,
    Member,
    RoundPhase,
    RoundStatus,
    RoundView,
    TaskParams,
    TaskState,
    TaskStatus
} from "../src/FedTypes.sol";

/// @dev Tasks, membership, bonds and the round state machine, with every revert of those paths.
contract FedCoordinatorTest is CoordinatorFixture {
    // ---------------------------------------------------------------- tasks

    function test_createTaskEscrowsTheRewardsAndTheSecondJoinOpensRoundZero() external view {
        TaskState memory t = coordinator.taskState(taskId);
        assertEq(t.pool, 3 * REWARD, "pool");
        assertEq(t.requester, requester, "requester");
        assertEq(t.depth, 1, "depth");
        assertTrue(t.status == TaskStatus.Running, "running");
        assertEq(t.modelRoot, Trees.root(model), "model root");
        assertEq(t.members, 4, "members");
        assertEq(t.createdAt, block.timestamp, "created at");
        RoundView memory v = _view();
        assertTrue(v.phase == RoundPhase.Commit, "commit phase");
        assertEq(v.commitEnd, block.timestamp + WINDOW, "commit end");
        assertEq(v.revealEnd, block.timestamp + 2 * WINDOW, "reveal end");
    }

    /// @dev A round 0 that opened at task creation ran out before slow members started (issue #16): it now opens
    /// at the join that brings the task to minParticipants members, and nothing can enter, fail or propose
    /// before.
    function test_roundZeroWaitsForMinParticipantsMembers() external {
        TaskParams memory p = defaultParams();
        p.minParticipants = 3;
        taskId = _createTask(p);
        vm.prank(aggregator);
        coordinator.postBond(taskId, BOND);
        RoundView memory v = _view();
        assertTrue(v.phase == RoundPhase.NotOpen, "not open");
        assertEq(v.round.start, 0, "no start");
        assertEq(v.commitEnd + v.revealEnd + v.proposeEnd, 0, "no deadlines");

        vm.warp(block.timestamp + 100 * WINDOW); // long after creation: a late start loses nothing
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
        }
        bytes32[][] memory update = _updateVector(0);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.WaitingForMembers.selector, 2, 3));
        coordinator.commit(taskId, keccak256("commitment"));
        vm.expectRevert(abi.encodeWithSelector(E.WaitingForMembers.selector, 2, 3));
        coordinator.failRound(taskId);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.WaitingForMembers.selector, 2, 3));
        coordinator.propose(taskId, keccak256("root"), keccak256("blob"));

        // an exit before the start does not count towards it
        vm.prank(members[1]);
        coordinator.requestExit(taskId);
        vm.prank(members[2]);
        coordinator.join(taskId, STAKE);
        assertTrue(_view().phase == RoundPhase.NotOpen, "still waiting: two members");

        vm.warp(block.timestamp + 7);
        vm.expectEmit(true, true, true, true);
        emit E.RoundOpened(taskId, 0, block.timestamp);
        vm.prank(members[3]);
        coordinator.join(taskId, STAKE);
        v = _view();
        assertTrue(v.phase == RoundPhase.Commit, "open");
        assertEq(v.round.start, block.timestamp, "opens at the join");
        assertEq(v.commitEnd, block.timestamp + WINDOW, "a full commit window");
        _commit(members[0], update, 10);
    }

    /// @dev A task that never gathers its members idles from its creation: the requester gets the pool back
    /// and every member its stake, without an unbonding delay.
    function test_aTaskThatNeverOpensIdlesFromItsCreationAndReturnsEveryToken() external {
        TaskParams memory p = defaultParams();
        p.minParticipants = 3;
        uint256 created = block.timestamp;
        taskId = _createTask(p);
        vm.prank(members[0]);
        coordinator.join(taskId, STAKE);
        uint256 idleAt = created + 8 * 4 * WINDOW;
        assertEq(coordinator.idleAt(taskId), idleAt, "idle from creation");
        vm.warp(idleAt - 1);
        vm.expectRevert(abi.encodeWithSelector(E.NotIdle.selector, idleAt));
        coordinator.endIdleTask(taskId);
        vm.warp(idleAt);
        coordinator.endIdleTask(taskId);
        uint256 before = token.balanceOf(requester);
        vm.prank(requester);
        coordinator.withdrawPool(taskId);
        assertEq(token.balanceOf(requester) - before, 3 * REWARD, "pool back");
        before = token.balanceOf(members[0]);
        vm.prank(members[0]);
        coordinator.withdrawStake(taskId);
        assertEq(token.balanceOf(members[0]) - before, STAKE, "stake back");
        assertEq(coordinator.taskState(taskId).members, 0, "nobody left");
    }

    // ---------------------------------------------------------------- evaluations

    function test_anyoneMayPublishMetricsOfAFinalizedRoundOnly() external {
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 0));
        coordinator.publishEvaluation(taskId, 0, '{"accuracy":0.9}');
        _commitAndReveal(2);
        _finalizeWith(_aggregate(2));
        string memory tooLong = string(new bytes(coordinator.MAX_METRICS_BYTES() + 1));
        vm.expectRevert(abi.encodeWithSelector(E.MetricsLength.selector, 0, 1024));
        coordinator.publishEvaluation(taskId, 0, "");
        vm.expectRevert(abi.encodeWithSelector(E.MetricsLength.selector, 1025, 1024));
        coordinator.publishEvaluation(taskId, 0, tooLong);
        vm.expectEmit(true, true, true, true);
        emit E.ModelEvaluated(taskId, 0, watcher, '{"accuracy":0.9}');
        vm.prank(watcher);
        coordinator.publishEvaluation(taskId, 0, '{"accuracy":0.9}');
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 1));
        coordinator.publishEvaluation(taskId, 1, '{"accuracy":0.9}');
    }

    function test_createTaskRejectsZeroModel() external {
        TaskParams memory p = defaultParams();
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "modelRoot"));
        coordinator.createTask(p, bytes32(0), keccak256("b"));
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "modelBlobRef"));
        coordinator.createTask(p, keccak256("r"), bytes32(0));
    }

    function test_unknownTaskReverts() external {
        vm.expectRevert(abi.encodeWithSelector(E.UnknownTask.selector, 99));
        coordinator.join(99, STAKE);
    }

    function test_allowlistedTaskNeedsApproval() external {
        TaskParams memory p = defaultParams();
        p.allowlist = true;
        uint256 id = _createTask(p);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NotApproved.selector, members[0]));
        coordinator.join(id, STAKE);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NotRequester.selector, members[0]));
        coordinator.approveMembers(id, members);
        vm.prank(requester);
        coordinator.approveMembers(id, members);
        assertTrue(coordinator.isApproved(id, members[0]), "approved");
        vm.prank(members[0]);
        coordinator.join(id, STAKE);
        assertTrue(coordinator.memberOf(id, members[0]).joined, "joined");
    }

    // ---------------------------------------------------------------- membership

    function test_joinTwiceOrBelowMinimumReverts() external {
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyMember.selector, members[0]));
        coordinator.join(taskId, STAKE);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.StakeTooLow.selector, STAKE - 1, STAKE));
        coordinator.join(taskId, STAKE - 1);
    }

    function test_addStakeAndItsReverts() external {
        vm.prank(members[0]);
        coordinator.addStake(taskId, 5);
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE + 5, "stake");
        vm.prank(members[0]);
        vm.expectRevert(E.ZeroAmount.selector);
        coordinator.addStake(taskId, 0);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotMember.selector, watcher));
        coordinator.addStake(taskId, 5);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AmountTooLarge.selector, uint256(type(uint128).max) + STAKE + 5));
        coordinator.addStake(taskId, type(uint128).max);
    }

    function test_exitWaitsForTheUnbondingDelay() external {
        address m = members[0];
        vm.prank(m);
        vm.expectRevert(abi.encodeWithSelector(E.NotExiting.selector, m));
        coordinator.withdrawStake(taskId);
        vm.prank(m);
        coordinator.requestExit(taskId);
        vm.prank(m);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyExiting.selector, m));
        coordinator.requestExit(taskId);
        vm.prank(m);
        vm.expectRevert(abi.encodeWithSelector(E.StillUnbonding.selector, block.timestamp + 50));
        coordinator.withdrawStake(taskId);
        vm.warp(block.timestamp + 50);
        uint256 before = token.balanceOf(m);
        vm.prank(m);
        coordinator.withdrawStake(taskId);
        assertEq(token.balanceOf(m) - before, STAKE, "stake returned");
        assertTrue(!coordinator.memberOf(taskId, m).joined, "left");
    }

    function test_exitingMemberCannotCommit() external {
        vm.prank(members[0]);
        coordinator.requestExit(taskId);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyExiting.selector, members[0]));
        coordinator.commit(taskId, keccak256("c"));
    }

    function test_withdrawWhileCommittedRoundOpenReverts_thenForfeitsAnUnrevealedCommit() external {
        address m = members[0];
        _commit(m, _vector(_fill(1, 1)), 10);
        vm.prank(m);
        coordinator.requestExit(taskId);
        vm.warp(block.timestamp + 50);
        vm.prank(m);
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentOpen.selector, 0));
        coordinator.withdrawStake(taskId);
        vm.warp(_view().revealEnd);
        coordinator.failRound(taskId);
        uint256 before = token.balanceOf(m);
        vm.prank(m);
        coordinator.withdrawStake(taskId);
        assertEq(token.balanceOf(m) - before, STAKE - STAKE / 10, "stake minus the missed-reveal slash");
        assertEq(coordinator.memberOf(taskId, m).entry, bytes32(0), "member record gone");
    }

    function test_theNextCommitForfeitsAnUnrevealedCommitmentWithoutBounty() external {
        address m = members[0];
        _commit(m, _vector(_fill(1, 1)), 10);
        vm.warp(_view().revealEnd);
        coordinator.failRound(taskId);
        assertTrue(coordinator.entryState(taskId, 0, m) == EntryState.Committed, "still slashable");
        // the slash would leave less than minStake: the commit reverts (and so does the slash with it)
        bytes32 hash = keccak256("next commitment");
        vm.prank(m);
        vm.expectRevert(abi.encodeWithSelector(E.StakeTooLow.selector, STAKE - STAKE / 10, STAKE));
        coordinator.commit(taskId, hash);
        vm.prank(m);
        coordinator.addStake(taskId, STAKE);
        uint256 pool = coordinator.taskState(taskId).pool;
        _commit(m, _vector(_fill(2, 1)), 10);
        assertEq(coordinator.memberOf(taskId, m).stake, 2 * STAKE - 2 * STAKE / 10, "missed-reveal slash");
        assertEq(coordinator.taskState(taskId).pool, pool + 2 * STAKE / 10, "all of it to the pool");
        assertTrue(coordinator.entryState(taskId, 0, m) == EntryState.Empty, "round 0 settled");
        assertTrue(coordinator.entryState(taskId, 1, m) == EntryState.Committed, "round 1 committed");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, m));
        coordinator.slashMissedReveal(taskId, 0, m);
    }

    // ---------------------------------------------------------------- aggregator bonds

    function test_bondLifecycle() external {
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.NotExiting.selector, aggregator));
        coordinator.withdrawBond(taskId);
        vm.prank(aggregator);
        vm.expectRevert(E.ZeroAmount.selector);
        coordinator.postBond(taskId, 0);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotEligibleAggregator.selector, watcher));
        coordinator.requestBondExit(taskId);
        vm.prank(aggregator);
        coordinator.requestBondExit(taskId);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyExiting.selector, aggregator));
        coordinator.requestBondExit(taskId);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyExiting.selector, aggregator));
        coordinator.postBond(taskId, 1);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.StillUnbonding.selector, block.timestamp + 50));
        coordinator.withdrawBond(taskId);
        vm.warp(block.timestamp + 50);
        uint256 before = token.balanceOf(aggregator);
        vm.prank(aggregator);
        coordinator.withdrawBond(taskId);
        assertEq(token.balanceOf(aggregator) - before, BOND, "bond returned");
    }

    function test_aggregatorCannotWithdrawWithAPendingProposal() external {
        _commitAndReveal(2);
        _propose(_aggregate(2));
        vm.prank(aggregator);
        coordinator.requestBondExit(taskId);
        vm.warp(block.timestamp + 50);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalPending.selector, 0));
        coordinator.withdrawBond(taskId);
    }

    // ---------------------------------------------------------------- a full round

    function test_fullRoundFinalizesAndPaysByCappedWeight() external {
        _commitAndReveal(3);
        assertTrue(_view().phase == RoundPhase.Propose, "propose phase");
        bytes32[][] memory next = _aggregate(3);
        _propose(next);
        assertTrue(_view().phase == RoundPhase.Challenge, "challenge phase");
        vm.warp(block.timestamp + WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, block.timestamp + 1, type(uint256).max));
        coordinator.finalize(taskId);
        vm.warp(block.timestamp + 1);
        assertTrue(_view().phase == RoundPhase.Finalizable, "finalizable");
        coordinator.finalize(taskId);

        TaskState memory t = coordinator.taskState(taskId);
        assertEq(t.modelRoot, Trees.root(next), "model anchored");
        assertEq(t.currentRound, 1, "next round");
        uint256 fee = REWARD / 10;
        uint256 totalWeight = 100 + 200 + 300;
        uint256 perWeight = (REWARD - fee) / totalWeight;
        assertEq(coordinator.feesOf(taskId, aggregator), fee, "fee");
        assertEq(t.owedRewards, perWeight * totalWeight, "owed");
        assertEq(t.pool, 3 * REWARD - fee - perWeight * totalWeight, "pool keeps the remainder");
        assertEq(coordinator.claimable(taskId, members[1]), 200 * perWeight, "claimable before settlement");
        assertEq(coordinator.memberOf(taskId, members[1]).rewards, 0, "not booked yet");

        uint256 before = token.balanceOf(members[1]);
        vm.prank(members[1]);
        coordinator.claimRewards(taskId);
        assertEq(token.balanceOf(members[1]) - before, 200 * perWeight, "claimed");
        assertEq(coordinator.memberOf(taskId, members[1]).rewards, 0, "paid");
        assertEq(coordinator.claimable(taskId, members[1]), 0, "nothing left");
        assertEq(coordinator.taskState(taskId).owedRewards, perWeight * (100 + 300), "others still owed");
        vm.prank(members[1]);
        vm.expectRevert(abi.encodeWithSelector(E.NothingToClaim.selector, members[1]));
        coordinator.claimRewards(taskId);

        before = token.balanceOf(aggregator);
        vm.prank(aggregator);
        coordinator.claimFees(taskId);
        assertEq(token.balanceOf(aggregator) - before, fee, "fee claimed");
        vm.prank(aggregator);
        vm.expectRevert(E.ZeroAmount.selector);
        coordinator.claimFees(taskId);
    }

    function test_claimOfAnUnfinalizedRoundReverts() external {
        _commitAndReveal(2);
        assertEq(coordinator.claimable(taskId, members[0]), 0, "nothing claimable");
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NothingToClaim.selector, members[0]));
        coordinator.claimRewards(taskId);
        assertTrue(coordinator.entryState(taskId, 0, members[0]) == EntryState.Revealed, "entry untouched");
    }

    function test_theNextCommitBooksTheLastRoundsReward() external {
        _commitAndReveal(2);
        _finalizeWith(_aggregate(2));
        uint256 perWeight = coordinator.roundView(taskId, 0).round.rewardPerWeight;
        uint256 owed = coordinator.taskState(taskId).owedRewards;
        _commit(members[0], _vector(_fill(3, 1)), 10);
        assertEq(coordinator.memberOf(taskId, members[0]).rewards, 100 * perWeight, "booked at the commit");
        assertEq(coordinator.claimable(taskId, members[0]), 100 * perWeight, "claimable");
        assertEq(coordinator.taskState(taskId).owedRewards, owed, "booking moves nothing");
        uint256 before = token.balanceOf(members[0]);
        vm.prank(members[0]);
        coordinator.claimRewards(taskId);
        assertEq(token.balanceOf(members[0]) - before, 100 * perWeight, "paid");
        assertTrue(coordinator.entryState(taskId, 1, members[0]) == EntryState.Committed, "round 1 untouched");
    }

    function test_aFailedRoundBooksNothing() external {
        _commitAndReveal(1);
        vm.warp(_view().revealEnd);
        coordinator.failRound(taskId);
        assertEq(coordinator.claimable(taskId, members[0]), 0, "a failed round pays nothing");
        _commit(members[0], _vector(_fill(3, 1)), 10);
        assertEq(coordinator.memberOf(taskId, members[0]).rewards, 0, "nothing booked");
    }

    function test_sampleCountIsCappedAtSampleCap() external {
        _commit(members[0], _vector(_fill(1, 1)), 5000);
        vm.warp(_view().commitEnd);
        _reveal(members[0]);
        assertEq(_view().round.totalWeight, 1000, "capped weight");
    }

    function test_commitReverts() external {
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotMember.selector, watcher));
        coordinator.commit(taskId, keccak256("c"));
        vm.prank(members[0]);
        vm.expectRevert(E.ZeroHash.selector);
        coordinator.commit(taskId, bytes32(0));
        vm.prank(members[0]);
        coordinator.commit(taskId, keccak256("c"));
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyCommitted.selector, members[0]));
        coordinator.commit(taskId, keccak256("c"));
        uint256 start = _view().round.start;
        vm.warp(_view().commitEnd);
        vm.prank(members[1]);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, start, start + WINDOW));
        coordinator.commit(taskId, keccak256("c"));
    }

    function test_commitNeedsMinimumStakeAndRoomInTheCohort() external {
        TaskParams memory p = defaultParams();
        p.cohortCap = 2;
        p.minParticipants = 1;
        uint256 id = _createTask(p);
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(members[i]);
            coordinator.join(id, STAKE);
        }
        vm.prank(members[0]);
        coordinator.commit(id, keccak256("a"));
        vm.prank(members[1]);
        coordinator.commit(id, keccak256("b"));
        vm.prank(members[2]);
        vm.expectRevert(abi.encodeWithSelector(E.CohortFull.selector, 2));
        coordinator.commit(id, keccak256("c"));
    }

    function test_revealReverts() external {
        _commit(members[0], _vector(_fill(1, 1)), 10);
        bytes32 root = Trees.root(updateOf[members[0]]);
        vm.prank(members[0]);
        vm.expectRevert(
            abi.encodeWithSelector(E.OutsideWindow.selector, block.timestamp + WINDOW, block.timestamp + 2 * WINDOW)
        );
        coordinator.reveal(taskId, root, 10, saltOf[members[0]], keccak256("blob"));
        vm.warp(_view().commitEnd);
        vm.startPrank(members[0]);
        vm.expectRevert(E.ZeroSampleCount.selector);
        coordinator.reveal(taskId, root, 0, saltOf[members[0]], keccak256("blob"));
        vm.expectRevert(E.ZeroHash.selector);
        coordinator.reveal(taskId, root, 10, saltOf[members[0]], bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentMismatch.selector, members[0]));
        coordinator.reveal(taskId, root, 11, saltOf[members[0]], keccak256("blob"));
        coordinator.reveal(taskId, root, 10, saltOf[members[0]], keccak256("blob"));
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentMismatch.selector, members[0]));
        coordinator.reveal(taskId, root, 10, saltOf[members[0]], keccak256("blob"));
        vm.stopPrank();
        assertTrue(coordinator.entryState(taskId, 0, members[0]) == EntryState.Revealed, "revealed");
    }

    function test_proposeReverts() external {
        _commit(members[0], _vector(_fill(1, 1)), 10);
        vm.prank(aggregator);
        vm.expectRevert(
            abi.encodeWithSelector(E.OutsideWindow.selector, block.timestamp + 2 * WINDOW, block.timestamp + 3 * WINDOW)
        );
        coordinator.propose(taskId, keccak256("r"), keccak256("b"));
        vm.warp(_view().commitEnd);
        _reveal(members[0]);
        vm.warp(_view().revealEnd);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.TooFewParticipants.selector, 1, 2));
        coordinator.propose(taskId, keccak256("r"), keccak256("b"));
    }

    function test_proposeNeedsAnEligibleAggregatorAndNonzeroHashes() external {
        _commitAndReveal(2);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotEligibleAggregator.selector, watcher));
        coordinator.propose(taskId, keccak256("r"), keccak256("b"));
        vm.prank(aggregator);
        vm.expectRevert(E.ZeroHash.selector);
        coordinator.propose(taskId, bytes32(0), keccak256("b"));
        _propose(_aggregate(2));
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalPending.selector, 0));
        coordinator.propose(taskId, keccak256("r"), keccak256("b"));
        vm.expectRevert(abi.encodeWithSelector(E.ProposalPending.selector, 0));
        coordinator.reopenAggregation(taskId);
    }

    function test_noProposalInTimeLetsAnyoneReopen() external {
        _commitAndReveal(2);
        uint256 proposeEnd = _view().proposeEnd;
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, proposeEnd, type(uint256).max));
        coordinator.reopenAggregation(taskId);
        vm.warp(proposeEnd);
        assertTrue(_view().phase == RoundPhase.ProposeExpired, "expired");
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, proposeEnd - WINDOW, proposeEnd));
        coordinator.propose(taskId, keccak256("r"), keccak256("b"));
        vm.prank(watcher);
        coordinator.reopenAggregation(taskId);
        assertEq(_view().proposeStart, block.timestamp, "new window");
        _finalizeWith(_aggregate(2));
        assertEq(coordinator.taskState(taskId).currentRound, 1, "advanced");
    }

    function test_tooFewRevealsFailTheRoundWithoutPunishingRevealers() external {
        _commit(members[0], _vector(_fill(1, 1)), 10);
        _commit(members[1], _vector(_fill(2, 1)), 10);
        vm.warp(_view().commitEnd);
        _reveal(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, _view().revealEnd, type(uint256).max));
        coordinator.failRound(taskId);
        vm.warp(_view().revealEnd);
        assertTrue(_view().phase == RoundPhase.AwaitingFailure, "awaiting failure");
        vm.expectRevert(abi.encodeWithSelector(E.TooFewParticipants.selector, 1, 2));
        coordinator.reopenAggregation(taskId);
        coordinator.failRound(taskId);
        assertTrue(coordinator.roundView(taskId, 0).phase == RoundPhase.Failed, "failed");
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE, "revealer untouched");
        assertEq(coordinator.taskState(taskId).currentRound, 1, "advanced");
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 1));
        coordinator.finalize(taskId);
    }

    function test_failRoundRevertsWithEnoughParticipants() external {
        _commitAndReveal(2);
        vm.expectRevert(abi.encodeWithSelector(E.EnoughParticipants.selector, 2));
        coordinator.failRound(taskId);
    }

    function test_missedRevealIsSlashedOnceWithABounty() external {
        _commit(members[0], _vector(_fill(1, 1)), 10);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, _view().revealEnd, type(uint256).max));
        coordinator.slashMissedReveal(taskId, 0, members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 5));
        coordinator.slashMissedReveal(taskId, 5, members[0]);
        vm.warp(_view().revealEnd);
        uint256 before = token.balanceOf(watcher);
        vm.prank(watcher);
        coordinator.slashMissedReveal(taskId, 0, members[0]);
        uint256 slashed = STAKE / 10;
        assertEq(token.balanceOf(watcher) - before, slashed / 5, "bounty");
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE - slashed, "stake");
        assertEq(coordinator.taskState(taskId).pool, 3 * REWARD + slashed - slashed / 5, "rest to pool");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, members[0]));
        coordinator.slashMissedReveal(taskId, 0, members[0]);
        // below minStake after the slash: no commit in the next round until it tops up
        coordinator.failRound(taskId);
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.StakeTooLow.selector, STAKE - slashed, STAKE));
        coordinator.commit(taskId, keccak256("c"));
        vm.prank(members[0]);
        coordinator.addStake(taskId, slashed);
        vm.prank(members[0]);
        coordinator.commit(taskId, keccak256("c"));
    }

    function test_silentMemberIsSlashedAfterMaxSilentRounds() external {
        vm.expectRevert(abi.encodeWithSelector(E.NotSilent.selector, members[3]));
        coordinator.slashSilence(taskId, members[3]);
        for (uint256 r = 0; r < 2; ++r) {
            _commitAndReveal(2);
            _finalizeWith(_aggregate(2));
        }
        vm.prank(watcher);
        coordinator.slashSilence(taskId, members[3]);
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE - STAKE / 20, "slashed 5%");
        vm.expectRevert(abi.encodeWithSelector(E.NotSilent.selector, members[3]));
        coordinator.slashSilence(taskId, members[3]);
        vm.expectRevert(abi.encodeWithSelector(E.NotMember.selector, watcher));
        coordinator.slashSilence(taskId, watcher);
    }

    function test_lastRoundCompletesTheTaskAndTheRequesterTakesThePool() external {
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(E.TaskStillRunning.selector, taskId));
        coordinator.withdrawPool(taskId);
        for (uint256 r = 0; r < 3; ++r) {
            _commitAndReveal(2);
            _finalizeWith(_aggregate(2));
        }
        assertTrue(coordinator.taskState(taskId).status == TaskStatus.Completed, "completed");
        vm.expectRevert(abi.encodeWithSelector(E.TaskNotRunning.selector, taskId));
        coordinator.commit(taskId, keccak256("c"));
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NotRequester.selector, members[0]));
        coordinator.withdrawPool(taskId);
        uint256 pool = coordinator.taskState(taskId).pool;
        uint256 before = token.balanceOf(requester);
        vm.prank(requester);
        coordinator.withdrawPool(taskId);
        assertEq(token.balanceOf(requester) - before, pool, "pool paid");
        // members and aggregators leave without an unbonding delay once the task is over
        vm.prank(members[2]);
        coordinator.withdrawStake(taskId);
        vm.prank(aggregator);
        coordinator.withdrawBond(taskId);
        uint256 perWeight = coordinator.roundView(taskId, 0).round.rewardPerWeight;
        before = token.balanceOf(members[0]);
        vm.prank(members[0]);
        coordinator.claimRewards(taskId);
        assertEq(token.balanceOf(members[0]) - before, 3 * perWeight * 100, "all three rounds");
        assertEq(coordinator.taskState(taskId).owedRewards, 3 * perWeight * 200, "member 1 still owed");
        // leaving books the last round's reward and pays it with the stake
        before = token.balanceOf(members[1]);
        vm.prank(members[1]);
        coordinator.withdrawStake(taskId);
        assertEq(token.balanceOf(members[1]) - before, STAKE + 3 * perWeight * 200, "stake and rewards");
        assertEq(coordinator.taskState(taskId).owedRewards, 0, "nothing owed");
        assertEq(coordinator.claimable(taskId, members[1]), 0, "nothing left to claim");
        vm.prank(members[1]);
        vm.expectRevert(abi.encodeWithSelector(E.NothingToClaim.selector, members[1]));
        coordinator.claimRewards(taskId);
    }

    function test_idleTaskCanBeEnded() external {
        // nobody takes part and nobody fails the round: it idles from its start
        uint256 idleAt = _view().round.start + 8 * 4 * WINDOW;
        assertEq(coordinator.idleAt(taskId), idleAt, "idle at");
        vm.expectRevert(abi.encodeWithSelector(E.NotIdle.selector, idleAt));
        coordinator.endIdleTask(taskId);
        vm.warp(idleAt);
        coordinator.endIdleTask(taskId);
        assertTrue(coordinator.taskState(taskId).status == TaskStatus.Abandoned, "abandoned");
        uint256 before = token.balanceOf(requester);
        vm.prank(requester);
        coordinator.withdrawPool(taskId);
        assertEq(token.balanceOf(requester) - before, 3 * REWARD, "whole pool back");
    }

    /// @dev The idle rule used to count from the round's start and void a correct pending proposal moments
    /// before it would finalize; a pending proposal can always be challenged or finalized, so it never idles.
    function test_aPendingProposalIsNeverEndedAsIdle() external {
        _commitAndReveal(2);
        vm.warp(_view().round.start + 8 * 4 * WINDOW - 1); // a slow round: propose just before the old idle mark
        coordinator.reopenAggregation(taskId);
        bytes32[][] memory aggregate = _aggregate(2);
        _propose(aggregate);
        vm.warp(_view().round.start + 8 * 4 * WINDOW);
        assertEq(coordinator.idleAt(taskId), type(uint256).max, "never idle while pending");
        vm.expectRevert(abi.encodeWithSelector(E.ProposalPending.selector, 0));
        coordinator.endIdleTask(taskId);
        vm.warp(_view().round.proposedAt + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(aggregate), "the correct proposal finalized");
    }

    /// @dev An open availability challenge holds the round as a pending proposal does: the idle rule never
    /// ends the task under it (its input could still be dropped, its round still finalize), and counts again
    /// from the challenge's settlement.
    function test_anOpenAvailabilityChallengeIsNeverEndedAsIdle() external {
        _commitAndReveal(2);
        uint256 idleMark = _view().round.start + 8 * 4 * WINDOW;
        vm.warp(idleMark - 1);
        _challengeUpdate(watcher, members[0]);
        vm.warp(idleMark);
        assertEq(coordinator.idleAt(taskId), type(uint256).max, "never idle while a challenge is open");
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 1, 0));
        coordinator.endIdleTask(taskId);
        _postChunks(members[0], members[0]);
        uint256 idleAgain = block.timestamp + 8 * 4 * WINDOW;
        assertEq(coordinator.idleAt(taskId), idleAgain, "idle counts from the settlement");
        vm.expectRevert(abi.encodeWithSelector(E.NotIdle.selector, idleAgain));
        coordinator.endIdleTask(taskId);
        coordinator.reopenAggregation(taskId);
        bytes32[][] memory aggregate = _aggregate(2);
        _finalizeWith(aggregate);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(aggregate), "the round still finalized");
    }
}
