// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Trees} from "./utils/Trees.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {AggregateFraudProof, LeafProof, RoundPhase, RoundView, EntryState} from "../src/FedTypes.sol";
import {IFedCoordinator} from "../src/IFedCoordinator.sol";
import {HookToken, ITransferObserver} from "./utils/HookToken.sol";
import {UpdateLeaf} from "./utils/UpdateLists.sol";

/// @dev Aggregate fraud proofs and participant violation proofs, with every revert.
contract FraudProofsTest is CoordinatorFixture {
    function test_correctProposalCannotBeChallengedAtAnyLeaf() external {
        _commitAndReveal(3);
        bytes32[][] memory next = _aggregate(3);
        _propose(next);
        for (uint256 leaf = 0; leaf < LEAVES; ++leaf) {
            AggregateFraudProof memory proof = _fraudProof(next, 3, leaf);
            vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, leaf));
            coordinator.challengeAggregate(taskId, proof);
        }
    }

    function test_wrongProposalIsRejectedAndTheBondSlashed() external {
        _commitAndReveal(3);
        bytes32[][] memory bad = _wrong(_aggregate(3), 1, 2);
        _propose(bad);
        AggregateFraudProof memory proof = _fraudProof(bad, 3, 1);
        uint256 before = token.balanceOf(watcher);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, proof);
        uint256 slashed = BOND / 2;
        assertEq(token.balanceOf(watcher) - before, slashed / 5, "bounty");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND - slashed, "bond slashed");
        assertEq(coordinator.taskState(taskId).pool, 3 * REWARD + slashed - slashed / 5, "rest to pool");
        assertTrue(_view().phase == RoundPhase.Propose, "aggregation reopened");
        assertEq(_view().proposeStart, block.timestamp, "new window");
        // the slashed aggregator is barred for this round, even after topping up
        vm.prank(aggregator);
        coordinator.postBond(taskId, slashed);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.NotEligibleAggregator.selector, aggregator));
        coordinator.propose(taskId, keccak256("r"), keccak256("b"));
    }

    function test_challengeOutsideTheWindowOrWithoutProposalReverts() external {
        _commitAndReveal(2);
        bytes32[][] memory next = _aggregate(2);
        AggregateFraudProof memory proof = _fraudProof(next, 2, 0);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 0));
        coordinator.challengeAggregate(taskId, proof);
        _propose(next);
        uint256 proposedAt = block.timestamp;
        vm.warp(proposedAt + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, proposedAt, proposedAt + WINDOW));
        coordinator.challengeAggregate(taskId, proof);
    }

    function test_fraudProofMustListExactlyTheIncludedSet() external {
        _commitAndReveal(3);
        bytes32[][] memory bad = _wrong(_aggregate(3), 0, 0);
        _propose(bad);

        AggregateFraudProof memory incomplete = _fraudProof(bad, 2, 0);
        vm.expectRevert(abi.encodeWithSelector(E.IncompleteUpdateSet.selector, 2, 3));
        coordinator.challengeAggregate(taskId, incomplete);

        UpdateLeaf[] memory unsorted = _updateLeaves(3, 0);
        UpdateLeaf memory first = unsorted[0];
        unsorted[0] = unsorted[1];
        unsorted[1] = first;
        vm.expectRevert(abi.encodeWithSelector(E.UpdatesNotSorted.selector, 1));
        coordinator.challengeAggregate(taskId, _fraudProofWith(bad, 0, unsorted));

        UpdateLeaf[] memory duplicated = _updateLeaves(3, 0);
        duplicated[2] = duplicated[1];
        vm.expectRevert(abi.encodeWithSelector(E.UpdatesNotSorted.selector, 2));
        coordinator.challengeAggregate(taskId, _fraudProofWith(bad, 0, duplicated));

        UpdateLeaf[] memory wrongWeight = _updateLeaves(3, 0);
        wrongWeight[1].weight += 1;
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[1]));
        coordinator.challengeAggregate(taskId, _fraudProofWith(bad, 0, wrongWeight));

        AggregateFraudProof memory truncated = _fraudProof(bad, 3, 0);
        bytes32[] memory updates = truncated.updates;
        uint256 words = updates.length;
        assembly {
            mstore(updates, sub(words, 1))
        }
        vm.expectRevert(abi.encodeWithSelector(E.MalformedUpdateList.selector, words - 1, 3)); // stride: head, word, sibling
        coordinator.challengeAggregate(taskId, truncated);
    }

    function test_fraudProofLeavesMustVerify() external {
        _commitAndReveal(2);
        bytes32[][] memory bad = _wrong(_aggregate(2), 0, 0);
        _propose(bad);

        AggregateFraudProof memory proof = _fraudProof(bad, 2, 0);
        proof.previous.words[0] = bytes32(uint256(proof.previous.words[0]) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidMerkleProof.selector, type(uint256).max));
        coordinator.challengeAggregate(taskId, proof);

        proof = _fraudProof(bad, 2, 0);
        proof.proposed.siblings[0] = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidMerkleProof.selector, type(uint256).max - 1));
        coordinator.challengeAggregate(taskId, proof);

        UpdateLeaf[] memory moved = _updateLeaves(2, 0);
        moved[1].leaf = _leafProof(updateOf[members[1]], 1); // right leaf, wrong position
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[1]));
        coordinator.challengeAggregate(taskId, _fraudProofWith(bad, 0, moved));

        // a path longer than the tree's depth, or a leaf wider than the task's, breaks the stride
        UpdateLeaf[] memory longPath = _updateLeaves(2, 0);
        longPath[1].leaf.siblings = new bytes32[](2);
        uint256 stride = 1 + 1 + 1; // head, one leaf word, depth 1
        vm.expectRevert(abi.encodeWithSelector(E.MalformedUpdateList.selector, 2 * stride + 1, stride));
        coordinator.challengeAggregate(taskId, _fraudProofWith(bad, 0, longPath));

        UpdateLeaf[] memory wide = _updateLeaves(2, 0);
        wide[0].leaf.words = new bytes32[](2);
        vm.expectRevert(abi.encodeWithSelector(E.MalformedUpdateList.selector, 2 * stride + 1, stride));
        coordinator.challengeAggregate(taskId, _fraudProofWith(bad, 0, wide));

        proof = _fraudProof(bad, 2, 0);
        proof.leafIndex = 2; // beyond 2^depth
        vm.expectRevert(abi.encodeWithSelector(E.InvalidMerkleProof.selector, type(uint256).max));
        coordinator.challengeAggregate(taskId, proof);
    }

    // ---------------------------------------------------------------- participant violations

    function _commitBadUpdate(int32[16] memory values) internal {
        _commit(members[0], _vector(values), 10);
        _commit(members[1], _vector(_fill(1, 1)), 20);
        _commit(members[2], _vector(_fill(2, 1)), 30);
        vm.warp(_view().commitEnd);
        _reveal(members[0]);
        _reveal(members[1]);
        _reveal(members[2]);
        vm.warp(_view().revealEnd);
    }

    function test_outOfClipCoordinateDropsTheUpdateAndVoidsTheProposal() external {
        int32[16] memory values = _fill(0, 1);
        values[5] = -int32(int256(CLIP)) - 1;
        _commitBadUpdate(values);
        _propose(_aggregate(3));
        uint256 before = token.balanceOf(watcher);
        LeafProof memory leaf = _leafProof(updateOf[members[0]], 0);
        bytes32 root = Trees.root(updateOf[members[0]]);
        vm.prank(watcher);
        coordinator.proveViolation(taskId, members[0], root, 10, 0, leaf);
        uint256 slashed = STAKE / 2;
        assertEq(token.balanceOf(watcher) - before, slashed / 5, "bounty");
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE - slashed, "slashed");
        assertTrue(coordinator.entryState(taskId, 0, members[0]) == EntryState.Dropped, "dropped");
        assertEq(_view().round.included, 2, "included");
        assertEq(_view().round.totalWeight, 50, "weight");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND, "aggregator not slashed");
        assertTrue(_view().phase == RoundPhase.Propose, "reopened");
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.proveViolation(taskId, members[0], root, 10, 0, leaf);

        // the aggregate over the remaining two finalizes
        members[0] = members[2];
        bytes32[][] memory next = _aggregate(2);
        _finalizeWith(next);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(next), "finalized");
    }

    function test_nonzeroPaddingIsAViolation() external {
        int32[16] memory values = _fill(0, 1);
        values[PARAMS + 1] = 1;
        _commitBadUpdate(values);
        LeafProof memory leaf = _leafProof(updateOf[members[0]], 1);
        bytes32 root = Trees.root(updateOf[members[0]]);
        vm.expectEmit(true, true, true, true);
        emit E.UpdateDropped(taskId, 0, members[0], address(this), PARAMS + 1, STAKE / 2, STAKE / 10);
        coordinator.proveViolation(taskId, members[0], root, 10, 1, leaf);
    }

    function test_validLeafIsNoViolation() external {
        _commitBadUpdate(_fill(0, 1));
        LeafProof memory leaf = _leafProof(updateOf[members[0]], 0);
        bytes32 root = Trees.root(updateOf[members[0]]);
        vm.expectRevert(abi.encodeWithSelector(E.NoViolation.selector, 0));
        coordinator.proveViolation(taskId, members[0], root, 10, 0, leaf);
        leaf.siblings[0] = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidMerkleProof.selector, 0));
        coordinator.proveViolation(taskId, members[0], root, 10, 0, leaf);
    }

    function test_violationsDroppingBelowMinimumFailTheRound() external {
        int32[16] memory values = _fill(0, 1);
        values[0] = int32(int256(CLIP)) + 1;
        _commit(members[0], _vector(values), 10);
        _commit(members[1], _vector(_fill(1, 1)), 20);
        vm.warp(_view().commitEnd);
        _reveal(members[0]);
        _reveal(members[1]);
        vm.warp(_view().revealEnd);
        _propose(_aggregate(2));
        LeafProof memory leaf = _leafProof(updateOf[members[0]], 0);
        coordinator.proveViolation(taskId, members[0], Trees.root(updateOf[members[0]]), 10, 0, leaf);
        assertTrue(_view().phase == RoundPhase.AwaitingFailure, "awaiting failure");
        coordinator.failRound(taskId);
        assertEq(coordinator.memberOf(taskId, members[1]).stake, STAKE, "honest revealer untouched");
    }

    // ---------------------------------------------------------------- the bar and the order of effects

    /// @dev Withdrawing the whole bond used to delete the aggregator's record, bar included: a barred aggregator
    /// withdrew, posted again and proposed again in the round it was slashed in.
    function test_aBarredAggregatorCannotClearItsBarByWithdrawingAndRepostingItsBond() external {
        _commitAndReveal(3);
        bytes32[][] memory bad = _wrong(_aggregate(3), 1, 2);
        _propose(bad);
        AggregateFraudProof memory proof = _fraudProof(bad, 3, 1);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, proof);
        vm.startPrank(aggregator);
        coordinator.requestBondExit(taskId);
        vm.warp(block.timestamp + 50); // the unbonding delay, inside the reopened propose window
        coordinator.withdrawBond(taskId);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, 0, "withdrawn");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).barredRound, 1, "the bar stays");
        coordinator.postBond(taskId, BOND);
        vm.expectRevert(abi.encodeWithSelector(E.NotEligibleAggregator.selector, aggregator));
        coordinator.propose(taskId, Trees.root(bad), keccak256("again"));
        vm.stopPrank();
        assertEq(_view().round.proposedAt, 0, "nothing pending");
        // the bar is for that round only: an honest aggregator finalizes it, the next round is open to both
        address second = address(0xB66);
        _fund(second, 1e24);
        vm.prank(second);
        coordinator.postBond(taskId, BOND);
        bytes32[][] memory next = _aggregate(3);
        vm.prank(second);
        coordinator.propose(taskId, Trees.root(next), keccak256("next"));
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        model = next;
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(next), "the correct model");
        _commitAndReveal(2);
        _propose(_aggregate(2));
        assertEq(_view().round.aggregator, aggregator, "eligible again in round 1");
    }

    /// @dev proveViolation used to pay the bounty before voiding the pending proposal: a recipient with a
    /// transfer hook saw a proposal still pending over an input set that no longer held. Now every effect is
    /// in place when the bounty moves.
    function test_proveViolationVoidsTheProposalBeforePayingTheBounty() external {
        token = new HookToken();
        _fund(requester, 1e24);
        _fund(aggregator, 1e24);
        for (uint256 i = 0; i < members.length; ++i) {
            _fund(members[i], 1e24);
        }
        _useTask(defaultParams(), model); // on the hook token
        BountyObserver observer = new BountyObserver(coordinator, taskId);
        HookToken(address(token)).setObserver(address(observer));
        int32[16] memory values = _fill(0, 1);
        values[5] = -int32(int256(CLIP)) - 1;
        _commitBadUpdate(values);
        _propose(_aggregate(3));
        bytes32 root = Trees.root(updateOf[members[0]]);
        vm.expectEmit(true, true, true, true);
        emit E.ProposalVoided(taskId, 0, aggregator);
        vm.expectEmit(true, true, true, true);
        emit E.UpdateDropped(taskId, 0, members[0], address(observer), 5, STAKE / 2, STAKE / 10);
        observer.prove(members[0], root, 10, _leafProof(updateOf[members[0]], 0));
        assertTrue(observer.paid(), "the bounty reached the observer");
        assertEq(observer.proposedAtWhenPaid(), 0, "the proposal was voided before the payment");
        assertEq(observer.includedWhenPaid(), 2, "the update was dropped before the payment");
        assertEq(observer.stakeWhenPaid(), STAKE / 2, "the owner was slashed before the payment");
        assertEq(token.balanceOf(address(observer)), STAKE / 10, "the bounty");
    }
}

/// @dev A watcher contract whose token calls it back when paid: it records the round as the payment finds it.
contract BountyObserver is ITransferObserver {
    IFedCoordinator internal immutable coordinator;
    uint256 internal immutable taskId;
    bool public paid;
    uint256 public proposedAtWhenPaid;
    uint256 public includedWhenPaid;
    uint256 public stakeWhenPaid;
    address internal owner;

    constructor(IFedCoordinator coordinator_, uint256 taskId_) {
        (coordinator, taskId) = (coordinator_, taskId_);
    }

    function prove(address participant, bytes32 root, uint256 weight, LeafProof calldata leaf) external {
        owner = participant;
        coordinator.proveViolation(taskId, participant, root, weight, 0, leaf);
    }

    function onTokensReceived(address, uint256) external {
        RoundView memory v = coordinator.roundView(taskId, 0);
        (paid, proposedAtWhenPaid, includedWhenPaid) = (true, v.round.proposedAt, v.round.included);
        stakeWhenPaid = coordinator.memberOf(taskId, owner).stake;
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
