// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Vm} from "./utils/TestBase.sol";
import {Trees} from "./utils/Trees.sol";
import {UpdateLists} from "./utils/UpdateLists.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {
    AggregateFraudProof,
    ChallengeStatus,
    Dispute,
    DisputeOutcome,
    DisputeStatus,
    EntryState,
    InputChallenge,
    LeafProof,
    MaskedRecord,
    RoundPhase,
    TaskParams
} from "../src/FedTypes.sol";
import {Lanes} from "../src/libraries/Lanes.sol";

/// @dev Withheld data must never win (docs/protocol.md section 11), in plain mode: a proposal whose tree is
/// withheld is opened by a model dispute or rejected; an update whose blob is withheld is forced on chain in
/// chunks or dropped, its owner slashed; one withholder no longer stalls a round. Every attack is played to
/// its end: the cheater tries, the wrong model never becomes the task's model, the withholder pays, and the
/// honest parties (members, watchers, an honest aggregator) lose nothing.
contract AvailabilityTest is CoordinatorFixture {
    address internal second = address(0xB66); // a second, honest aggregator
    address internal anyone = address(0xBEEF);

    function setUp() public override {
        super.setUp();
        _fund(second, 1e24);
        _fund(anyone, 1e24);
    }

    function _bonded() internal view returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (aggregator, second);
    }

    function _proposeAs(address who, bytes32[][] memory proposal) internal {
        vm.prank(who);
        coordinator.propose(taskId, Trees.root(proposal), keccak256(abi.encode("proposal", proposal)));
    }

    /// @dev A task of `leaves` one-word leaves (depth log2(leaves), no padding) for disputes deeper than one level.
    function _useWideTask(uint256 leaves) internal {
        TaskParams memory p = defaultParams();
        p.numParams = uint64(8 * leaves);
        _useTask(p, _wideVector(3, 2, leaves));
    }

    /// @dev The aggregator answers `challenger`'s dispute at every level with the children of `proposed`'s
    /// nodes; the challenger descends towards where `proposed` differs from `expected` (the correct model it
    /// computed itself), to the right when the left children agree. Returns the leaf reached and its path,
    /// bottom up, made of the answered siblings.
    function _descend(address challenger, bytes32[][] memory proposed, bytes32[][] memory expected)
        internal
        returns (uint256 index, bytes32[] memory path)
    {
        uint256 level = coordinator.disputeOf(taskId, 0, challenger).level;
        path = new bytes32[](level);
        while (level > 0) {
            bytes32 left = Trees.nodeAt(proposed, level - 1, 2 * index);
            bytes32 right = Trees.nodeAt(proposed, level - 1, 2 * index + 1);
            vm.prank(aggregator);
            coordinator.answerDispute(taskId, challenger, left, right);
            bool goRight = left == Trees.nodeAt(expected, level - 1, 2 * index);
            path[level - 1] = goRight ? left : right;
            vm.prank(challenger);
            coordinator.chooseChild(taskId, left, right, goRight);
            index = 2 * index + (goRight ? 1 : 0);
            --level;
        }
    }

    // ================================================================ 1. a withheld proposal

    function test_aWithheldProposalThatNobodyOpensIsRejectedAndNeverBecomesTheModel() external {
        _commitAndReveal(3);
        bytes32[][] memory correct = _aggregate(3);
        bytes32[][] memory tampered = _wrong(correct, 1, 2);
        bytes32 initialRoot = Trees.root(model);
        _propose(tampered); // the aggregator never publishes the tampered model's blob
        uint256 proposedAt = block.timestamp;

        uint256 watcherBefore = token.balanceOf(watcher);
        vm.prank(watcher);
        coordinator.openDispute(taskId);
        assertEq(watcherBefore - token.balanceOf(watcher), DEPOSIT, "the dispute's bond");
        Dispute memory d = coordinator.disputeOf(taskId, 0, watcher);
        assertTrue(d.status == DisputeStatus.AwaitingAnswer, "awaiting the root's children");
        assertEq(d.node, Trees.root(tampered), "the disputed node is the proposed root");
        assertEq(d.level, 1, "at the tree's height");
        assertEq(d.deadline, block.timestamp + WINDOW, "availabilityWindow to answer");
        assertEq(_view().round.openDisputes, 1, "one dispute open");

        // the dispute holds the proposal open past its challenge window: it cannot finalize
        vm.warp(proposedAt + WINDOW);
        assertTrue(_view().phase == RoundPhase.Challenge, "still challengeable");
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 0, 1));
        coordinator.finalize(taskId);
        vm.warp(d.deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, d.deadline, type(uint256).max));
        coordinator.settleDispute(taskId, 0, watcher);

        // nobody answered in time: anyone settles, the proposal is rejected as if proven wrong
        vm.warp(d.deadline);
        uint256 slashed = BOND / 2;
        uint256 bounty = slashed / 5;
        vm.expectEmit(true, true, true, true);
        emit E.DisputeSettled(taskId, 0, watcher, DisputeOutcome.ProposalUnopened, watcher, DEPOSIT);
        vm.expectEmit(true, true, true, true);
        emit E.ProposalRejected(taskId, 0, aggregator, watcher, type(uint256).max, slashed, bounty);
        vm.prank(anyone);
        coordinator.settleDispute(taskId, 0, watcher);

        assertEq(token.balanceOf(watcher), watcherBefore + bounty, "bond back and the bounty");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND - slashed, "aggregator slashed");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).barredRound, 1, "barred for the round");
        assertEq(coordinator.taskState(taskId).pool, 3 * REWARD + slashed - bounty, "the rest to the pool");
        assertTrue(coordinator.disputeOf(taskId, 0, watcher).status == DisputeStatus.Settled, "settled");
        assertEq(_view().round.openDisputes, 0, "no dispute open");
        assertEq(_view().round.proposedAt, 0, "no proposal pending");
        assertTrue(_view().phase == RoundPhase.Propose, "aggregation reopened");
        assertEq(coordinator.taskState(taskId).modelRoot, initialRoot, "the tampered root never became the model");
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenDispute.selector, watcher));
        coordinator.settleDispute(taskId, 0, watcher);

        // the cheater may not try again this round; an honest aggregator finalizes the correct model
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.NotEligibleAggregator.selector, aggregator));
        coordinator.propose(taskId, Trees.root(tampered), keccak256("again"));
        vm.prank(second);
        coordinator.postBond(taskId, BOND);
        _proposeAs(second, correct);
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(correct), "the correct model finalized");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(coordinator.memberOf(taskId, members[i]).stake, STAKE, "honest members keep their stake");
            assertTrue(coordinator.claimable(taskId, members[i]) > 0, "and earn the round's reward");
        }
        _assertSolvent(_bonded(), 0);
    }

    function test_aDisputeOpensTheLeafWhereTheProposalIsWrongAndTheAnsweredPathProvesIt() external {
        _useWideTask(8); // depth 3: three answers and choices before the leaf
        _commitAndReveal(3);
        bytes32[][] memory correct = _aggregate(3);
        bytes32[][] memory tampered = _wrong(correct, 5, 3);
        _propose(tampered);
        uint256 watcherBefore = token.balanceOf(watcher);
        vm.prank(watcher);
        coordinator.openDispute(taskId);

        // the aggregator answers every level honestly; the watcher, which computed the correct model from the
        // revealed updates, descends where the answers differ from it
        (uint256 leaf, bytes32[] memory path) = _descend(watcher, tampered, correct);
        assertEq(leaf, 5, "the challenger reached the tampered leaf");
        Dispute memory d = coordinator.disputeOf(taskId, 0, watcher);
        assertEq(d.level, 0, "a leaf");
        assertEq(d.index, 5, "at its position");
        assertEq(d.node, Trees.leafHash(5, tampered[5]), "whose hash the answers led to");
        vm.prank(aggregator);
        coordinator.openLeaf(taskId, watcher, tampered[5]);
        assertTrue(coordinator.disputeOf(taskId, 0, watcher).status == DisputeStatus.LeafOpened, "opened");

        // the opened words and the answered siblings are the proposal's leaf and path: an ordinary fraud proof
        AggregateFraudProof memory proof;
        proof.leafIndex = leaf;
        proof.previous = _leafProof(model, leaf);
        proof.proposed = LeafProof({words: tampered[5], siblings: path});
        proof.updates = UpdateLists.encode(_updateLeaves(3, leaf));
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, proof);
        uint256 bounty = BOND / 2 / 5;
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "the aggregator was slashed");
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(model), "the model did not change");

        // its proposal gone, the dispute is moot: anyone settles it at once and the bond goes back
        vm.expectEmit(true, true, true, true);
        emit E.DisputeSettled(taskId, 0, watcher, DisputeOutcome.Moot, watcher, DEPOSIT);
        vm.prank(anyone);
        coordinator.settleDispute(taskId, 0, watcher);
        assertEq(token.balanceOf(watcher), watcherBefore + bounty, "the watcher gained the bounty, lost nothing");
        _assertSolvent(_bonded(), 0);
    }

    function test_aDisputeOfAnHonestProposalCostsTheChallengerWhoStops() external {
        _useWideTask(8);
        _commitAndReveal(3);
        bytes32[][] memory correct = _aggregate(3);
        _propose(correct);
        address lazy = address(0xC0FFEE);
        _fund(lazy, 1e24);
        vm.prank(watcher);
        coordinator.openDispute(taskId);
        vm.prank(lazy);
        coordinator.openDispute(taskId);
        assertEq(_view().round.openDisputes, 2, "two disputes");
        uint256 aggregatorBefore = token.balanceOf(aggregator);
        uint256 watcherBefore = token.balanceOf(watcher);

        // the watcher finds no difference on the way down and opens a leaf that is right
        (uint256 leaf,) = _descend(watcher, correct, correct);
        vm.prank(aggregator);
        coordinator.openLeaf(taskId, watcher, correct[leaf]);
        AggregateFraudProof memory proof = _fraudProof(correct, 3, leaf);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, leaf));
        coordinator.challengeAggregate(taskId, proof);
        // the other challenger is answered once and never chooses
        bytes32 left = Trees.nodeAt(correct, 2, 0);
        bytes32 right = Trees.nodeAt(correct, 2, 1);
        vm.prank(aggregator);
        coordinator.answerDispute(taskId, lazy, left, right);

        Dispute memory d = coordinator.disputeOf(taskId, 0, watcher);
        vm.warp(d.deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, d.deadline, type(uint256).max));
        coordinator.settleDispute(taskId, 0, watcher);
        vm.warp(d.deadline);
        vm.expectEmit(true, true, true, true);
        emit E.DisputeSettled(taskId, 0, watcher, DisputeOutcome.ChallengerLapsed, aggregator, DEPOSIT);
        coordinator.settleDispute(taskId, 0, watcher);
        vm.expectEmit(true, true, true, true);
        emit E.DisputeSettled(taskId, 0, lazy, DisputeOutcome.ChallengerLapsed, aggregator, DEPOSIT);
        coordinator.settleDispute(taskId, 0, lazy);

        assertEq(token.balanceOf(aggregator) - aggregatorBefore, 2 * DEPOSIT, "both bonds to the aggregator");
        assertEq(token.balanceOf(watcher), watcherBefore, "the watcher's bond is gone");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND, "the honest aggregator is not slashed");
        assertEq(_view().round.openDisputes, 0, "no dispute left");
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(correct), "the honest proposal finalized");
        _assertSolvent(_bonded(), 0);
    }

    function test_aDisputeOfAVoidedOrReplacedProposalIsMootAndReturnsTheBond() external {
        int32[16] memory values = _fill(0, 1);
        values[3] = int32(int256(CLIP)) + 1; // member 0's update breaks the clip
        _commit(members[0], _vector(values), 100);
        _commit(members[1], _vector(_fill(1, 1)), 200);
        _commit(members[2], _vector(_fill(2, 1)), 300);
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(members[i]);
        }
        vm.warp(_view().revealEnd);
        _propose(_aggregate(3));
        address other = address(0xC0FFEE);
        _fund(other, 1e24);
        uint256 watcherBefore = token.balanceOf(watcher);
        uint256 otherBefore = token.balanceOf(other);
        vm.prank(watcher);
        coordinator.openDispute(taskId);
        vm.prank(other);
        coordinator.openDispute(taskId);

        // the violation voids the proposal: both disputes become moot before their deadline
        coordinator.proveViolation(
            taskId, members[0], Trees.root(updateOf[members[0]]), 100, 0, _leafProof(updateOf[members[0]], 0)
        );
        assertEq(_view().round.openDisputes, 0, "voiding clears the disputes");
        vm.expectEmit(true, true, true, true);
        emit E.DisputeSettled(taskId, 0, watcher, DisputeOutcome.Moot, watcher, DEPOSIT);
        coordinator.settleDispute(taskId, 0, watcher);
        assertEq(token.balanceOf(watcher), watcherBefore, "bond back");

        // a new proposal replaces the voided one; the other dispute, still unsettled, cannot go on
        (members[0], members[2]) = (members[2], members[0]); // the two left
        bytes32[][] memory next = _aggregate(2);
        _propose(next);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenDispute.selector, other));
        coordinator.answerDispute(taskId, other, bytes32(0), bytes32(0));
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(E.DisputeExists.selector, other));
        coordinator.openDispute(taskId);
        coordinator.settleDispute(taskId, 0, other);
        assertEq(token.balanceOf(other), otherBefore, "its bond back too");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND, "no fault, no slash");
        // settled, it may dispute the new proposal
        vm.prank(other);
        coordinator.openDispute(taskId);
        assertEq(coordinator.disputeOf(taskId, 0, other).proposal, 2, "the second proposal");
        _assertSolvent(_bonded(), DEPOSIT);
    }

    function test_disputeStepsCheckTheirTurnTheirDataAndTheirDeadline() external {
        _useWideTask(8);
        _commitAndReveal(2);
        bytes32[][] memory next = _aggregate(2);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 0));
        coordinator.openDispute(taskId);
        _propose(next);
        bytes32 root = Trees.root(next);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenDispute.selector, watcher));
        coordinator.answerDispute(taskId, watcher, bytes32(0), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenDispute.selector, watcher));
        coordinator.settleDispute(taskId, 0, watcher);
        vm.prank(watcher);
        coordinator.openDispute(taskId);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.DisputeExists.selector, watcher));
        coordinator.openDispute(taskId);

        bytes32 left = Trees.nodeAt(next, 2, 0);
        bytes32 right = Trees.nodeAt(next, 2, 1);
        uint8 awaitingAnswer = uint8(DisputeStatus.AwaitingAnswer);
        uint8 awaitingChoice = uint8(DisputeStatus.AwaitingChoice);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.WrongDisputeStep.selector, awaitingAnswer));
        coordinator.chooseChild(taskId, left, right, false);
        vm.expectRevert(abi.encodeWithSelector(E.WrongDisputeStep.selector, awaitingAnswer));
        coordinator.openLeaf(taskId, watcher, next[0]); // not a leaf yet
        vm.expectRevert(abi.encodeWithSelector(E.NodeMismatch.selector, root));
        coordinator.answerDispute(taskId, watcher, right, left);
        uint256 deadline = coordinator.disputeOf(taskId, 0, watcher).deadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 0, deadline));
        coordinator.answerDispute(taskId, watcher, left, right);
        vm.warp(deadline - 1);
        vm.expectEmit(true, true, true, true);
        emit E.DisputeAnswered(taskId, 0, watcher, 3, 0, left, right, block.timestamp + WINDOW);
        coordinator.answerDispute(taskId, watcher, left, right); // anyone holding the tree may answer
        vm.expectRevert(abi.encodeWithSelector(E.WrongDisputeStep.selector, awaitingChoice));
        coordinator.answerDispute(taskId, watcher, left, right);
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenDispute.selector, address(this)));
        coordinator.chooseChild(taskId, left, right, false); // only the challenger chooses
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NodeMismatch.selector, root));
        coordinator.chooseChild(taskId, right, left, false);
        deadline = coordinator.disputeOf(taskId, 0, watcher).deadline;
        assertEq(deadline, block.timestamp + WINDOW, "the answer gave the challenger a full window");
        vm.warp(deadline);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 0, deadline));
        coordinator.chooseChild(taskId, left, right, false);
        vm.warp(deadline - 1);
        vm.expectEmit(true, true, true, true);
        emit E.DisputeDescended(taskId, 0, watcher, 2, 0, left, block.timestamp + WINDOW);
        vm.prank(watcher);
        coordinator.chooseChild(taskId, left, right, false);
        Dispute memory d = coordinator.disputeOf(taskId, 0, watcher);
        assertEq(d.node, left, "descended left");
        assertEq(d.level, 2, "one level down");
        for (uint256 level = 2; level > 0; --level) {
            bytes32 l = Trees.nodeAt(next, level - 1, 0);
            bytes32 r = Trees.nodeAt(next, level - 1, 1);
            coordinator.answerDispute(taskId, watcher, l, r);
            vm.prank(watcher);
            coordinator.chooseChild(taskId, l, r, false);
        }
        vm.expectRevert(abi.encodeWithSelector(E.WrongDisputeStep.selector, awaitingAnswer));
        coordinator.answerDispute(taskId, watcher, left, right); // a leaf has words, not children
        bytes32[] memory wide = new bytes32[](2);
        vm.expectRevert(abi.encodeWithSelector(E.WrongLeafWidth.selector, 2, 1));
        coordinator.openLeaf(taskId, watcher, wide);
        bytes32 leafHash = Trees.leafHash(0, next[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NodeMismatch.selector, leafHash));
        coordinator.openLeaf(taskId, watcher, next[1]); // leaf 1's words are not leaf 0
        vm.expectEmit(true, true, true, true);
        emit E.DisputeLeafOpened(taskId, 0, watcher, 0, next[0], block.timestamp + WINDOW);
        coordinator.openLeaf(taskId, watcher, next[0]);
        vm.expectRevert(abi.encodeWithSelector(E.WrongDisputeStep.selector, uint8(DisputeStatus.LeafOpened)));
        coordinator.openLeaf(taskId, watcher, next[0]);
    }

    function test_aDisputeMayOnlyBeOpenedWhileTheProposalMayBeChallenged() external {
        _commitAndReveal(2);
        _propose(_aggregate(2));
        uint256 proposedAt = block.timestamp;
        vm.warp(proposedAt + WINDOW);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, proposedAt, proposedAt + WINDOW));
        coordinator.openDispute(taskId);
        coordinator.finalize(taskId);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 1));
        coordinator.openDispute(taskId);
    }

    // ================================================================ 2. a withheld update

    function test_aWithheldUpdateIsDroppedAndTheWrongAggregateItShieldedIsVoided() external {
        _commitAndReveal(3);
        address sybil = members[2]; // it revealed and never publishes its update blob
        bytes32[][] memory wrong = _wrong(_aggregate(3), 0, 1); // a colluding aggregator's wrong aggregate
        _propose(wrong);
        uint256 proposedAt = block.timestamp;
        vm.warp(proposedAt + WINDOW / 2);
        // no watcher can build a fraud proof without the sybil's leaves: it demands them on chain
        uint256 watcherBefore = token.balanceOf(watcher);
        uint256 pool = coordinator.taskState(taskId).pool;
        vm.expectEmit(true, true, true, true);
        emit E.InputChallenged(taskId, 0, sybil, watcher, Trees.root(updateOf[sybil]), 1, block.timestamp + WINDOW);
        _challengeUpdate(watcher, sybil);
        InputChallenge memory c = coordinator.inputChallenge(taskId, 0, sybil);
        assertTrue(c.status == ChallengeStatus.Open, "open");
        assertEq(c.challenger, watcher, "challenger");
        assertEq(c.chunks, 1, "one chunk holds the two leaves");
        assertEq(c.chunkLevels, 1, "the chunk is the whole tree");
        assertEq(_view().round.openChallenges, 1, "counted");

        // the open challenge holds the proposal: it cannot finalize, the round cannot fail or idle
        vm.warp(proposedAt + WINDOW);
        assertTrue(_view().phase == RoundPhase.Challenge, "still challengeable");
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 1, 0));
        coordinator.finalize(taskId);
        assertEq(coordinator.idleAt(taskId), type(uint256).max, "not idle");
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, c.deadline, type(uint256).max));
        coordinator.dropUnavailable(taskId, 0, sybil);

        // nobody posts the update in time: it leaves the round, its owner pays, the proposal is voided
        vm.warp(c.deadline);
        uint256 slashed = STAKE / 2;
        uint256 bounty = slashed / 5;
        vm.expectEmit(true, true, true, true);
        emit E.ProposalVoided(taskId, 0, aggregator);
        vm.expectEmit(true, true, true, true);
        emit E.AggregationReopened(taskId, 0, block.timestamp);
        vm.expectEmit(true, true, true, true);
        emit E.InputUnavailable(taskId, 0, sybil, watcher, slashed, bounty);
        vm.prank(anyone);
        coordinator.dropUnavailable(taskId, 0, sybil);

        assertTrue(coordinator.entryState(taskId, 0, sybil) == EntryState.Dropped, "dropped");
        assertTrue(coordinator.inputChallenge(taskId, 0, sybil).status == ChallengeStatus.Unavailable, "applied");
        assertEq(_view().round.included, 2, "two updates left");
        assertEq(_view().round.totalWeight, 100 + 200, "without the sybil's weight");
        assertEq(_view().round.openChallenges, 0, "settled");
        assertEq(_view().round.settledAt, block.timestamp, "settled now");
        assertEq(coordinator.memberOf(taskId, sybil).stake, STAKE - slashed, "the withholder slashed");
        assertEq(token.balanceOf(watcher), watcherBefore + bounty, "the watcher: its bond back and the bounty");
        assertEq(coordinator.taskState(taskId).pool, pool + slashed - bounty, "the rest to the pool");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND, "voided, not rejected: no slash");
        assertEq(coordinator.aggregatorOf(taskId, aggregator).barredRound, 0, "not barred");
        assertTrue(_view().phase == RoundPhase.Propose, "aggregation reopened");
        vm.expectRevert(abi.encodeWithSelector(E.NotChallenged.selector, sybil));
        coordinator.dropUnavailable(taskId, 0, sybil);

        // the round aggregates the two others and finalizes; the wrong model never did
        bytes32[][] memory next = _aggregate(2);
        _finalizeWith(next);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(next), "the honest aggregate");
        assertEq(coordinator.claimable(taskId, sybil), 0, "the withholder earns nothing");
        uint256 perWeight = coordinator.roundView(taskId, 0).round.rewardPerWeight;
        assertEq(coordinator.claimable(taskId, members[0]), 100 * perWeight, "honest members are paid");
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE, "and keep their stake");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, sybil));
        coordinator.slashMissedReveal(taskId, 0, sybil);
        _assertSolvent(_bonded(), 0);
    }

    function test_anHonestOwnerPostsItsUpdateIsPaidTheBondAndTheProposalStillFinalizes() external {
        _commitAndReveal(3);
        bytes32[][] memory next = _aggregate(3);
        _propose(next);
        vm.warp(block.timestamp + WINDOW / 2);
        _challengeUpdate(watcher, members[1]);
        uint256 ownerBefore = token.balanceOf(members[1]);
        (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[members[1]], 0, 1);
        assertEq(words.length, 2, "both leaves");
        assertEq(path.length, 0, "the chunk is the tree");
        vm.warp(block.timestamp + WINDOW - 1); // just before the deadline, after the proposal's own window
        vm.expectEmit(true, true, true, true);
        emit E.ChunkPosted(taskId, 0, members[1], 0, members[1], words, path);
        vm.expectEmit(true, true, true, true);
        emit E.InputResolved(taskId, 0, members[1]);
        vm.prank(members[1]);
        coordinator.postChunk(taskId, 0, members[1], 0, words, path);

        assertEq(token.balanceOf(members[1]) - ownerBefore, DEPOSIT, "the only chunk earns the whole bond");
        InputChallenge memory c = coordinator.inputChallenge(taskId, 0, members[1]);
        assertTrue(c.status == ChallengeStatus.Resolved, "resolved");
        assertEq(c.chunksPosted, 1, "one chunk");
        assertEq(_view().round.openChallenges, 0, "nothing open");
        assertTrue(coordinator.entryState(taskId, 0, members[1]) == EntryState.Revealed, "still included");
        // the data is public now: watchers get a whole challenge window from here
        assertEq(_view().challengeEnd, block.timestamp + WINDOW, "the window restarts");
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, block.timestamp + WINDOW, type(uint256).max));
        coordinator.finalize(taskId);
        vm.expectRevert(abi.encodeWithSelector(E.NotChallenged.selector, members[1]));
        coordinator.postChunk(taskId, 0, members[1], 0, words, path);
        vm.expectRevert(abi.encodeWithSelector(E.NotChallenged.selector, members[1]));
        coordinator.dropUnavailable(taskId, 0, members[1]);
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(next), "finalized");
        assertEq(coordinator.memberOf(taskId, members[1]).stake, STAKE, "the honest owner is not slashed");
        _assertSolvent(_bonded(), 0);
    }

    // ---------------------------------------------------------------- chunks of a larger update

    uint256 internal constant W8_REAL_LEAVES = 600; // 600 leaves of 8 words: depth 10, chunks of 2^8 leaves
    uint256 internal constant W8_LEAVES = 1024;

    /// @dev An update of 8-word leaves: W8_REAL_LEAVES real leaves of in-range lanes, then zero padding.
    function _paddedUpdate(uint256 seed) internal pure returns (bytes32[][] memory v) {
        v = new bytes32[][](W8_LEAVES);
        for (uint256 l = 0; l < W8_LEAVES; ++l) {
            v[l] = new bytes32[](8);
            if (l >= W8_REAL_LEAVES) continue;
            for (uint256 k = 0; k < 8; ++k) {
                int32[8] memory lanes;
                for (uint256 j = 0; j < 8; ++j) {
                    lanes[j] = int32(int256((seed * 7919 + l * 613 + k * 97 + j * 31) % 2001) - 1000);
                }
                v[l][k] = Lanes.pack(lanes);
            }
        }
    }

    /// @dev A task of 8-word leaves whose update trees take three chunks (the fourth subtree is padding only),
    /// members 0 and 1 revealed.
    function _useChunkedTask() internal {
        _useChunkedTask(defaultParams());
    }

    function _useChunkedTask(TaskParams memory p) internal {
        p.wordsPerLeaf = 8;
        p.numParams = uint64(64 * W8_REAL_LEAVES);
        _useTask(p, model); // (its initial model is never read here: only the updates' trees matter)
        _commit(members[0], _paddedUpdate(1), 100);
        _commit(members[1], _paddedUpdate(2), 200);
        vm.warp(_view().commitEnd);
        _reveal(members[0]);
        _reveal(members[1]);
    }

    function test_aLargeUpdateGoesOnChainChunkByChunkPaidPerChunkAndReadableFromTheEvents() external {
        _useChunkedTask();
        address owner = members[0];
        bytes32 root = Trees.root(updateOf[owner]);
        uint256 challengerBefore = token.balanceOf(watcher);
        _challengeUpdate(watcher, owner); // during the reveal window: any revealed update may be challenged
        InputChallenge memory c = coordinator.inputChallenge(taskId, 0, owner);
        assertEq(c.chunkLevels, 8, "2^8 leaves of 8 words: 2048 words a chunk");
        assertEq(c.chunks, 3, "ceil(600 / 256): the padding-only subtree is never posted");
        assertEq(c.leafWords, 8, "W");

        _malformedChunksRevert(owner);
        (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[owner], 0, 8);
        assertEq(words.length, 2048, "a full chunk");
        assertEq(path.length, 2, "depth 10 - 8 siblings");

        // anyone holding the data may post a chunk and is paid its share of the bond
        vm.recordLogs();
        uint256 share = DEPOSIT / 3;
        uint256 anyoneBefore = token.balanceOf(anyone);
        vm.prank(anyone);
        coordinator.postChunk(taskId, 0, owner, 0, words, path);
        assertEq(token.balanceOf(anyone) - anyoneBefore, share, "one share");
        vm.expectRevert(abi.encodeWithSelector(E.WrongChunk.selector, 0, 1));
        coordinator.postChunk(taskId, 0, owner, 0, words, path);
        uint256 ownerBefore = token.balanceOf(owner);
        _postChunks(owner, owner);
        assertEq(token.balanceOf(owner) - ownerBefore, DEPOSIT - share, "the rest of the bond");
        assertTrue(coordinator.inputChallenge(taskId, 0, owner).status == ChallengeStatus.Resolved, "resolved");
        assertEq(token.balanceOf(watcher), challengerBefore - DEPOSIT, "a challenge of an honest owner costs");

        _readBackFromTheEvents(owner, root);
        _assertSolvent(_bonded(), 0);
    }

    /// @dev The ChunkPosted events alone give back every real leaf of `owner`'s update, each chunk's words
    /// leading to the revealed `root` through its path.
    function _readBackFromTheEvents(address owner, bytes32 root) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 seen = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(coordinator) || logs[i].topics[0] != E.ChunkPosted.selector) continue;
            assertEq(logs[i].topics[3], bytes32(uint256(uint160(owner))), "the owner's input");
            (uint256 k,, bytes32[] memory posted, bytes32[] memory postedPath) =
                abi.decode(logs[i].data, (uint256, address, bytes32[], bytes32[]));
            assertEq(k, seen, "in order");
            bytes32[][] memory leaves = new bytes32[][](256);
            for (uint256 l = 0; l < 256; ++l) {
                leaves[l] = new bytes32[](8);
                for (uint256 w = 0; w < 8; ++w) {
                    leaves[l][w] = posted[8 * l + w];
                    assertEq(leaves[l][w], updateOf[owner][256 * k + l][w], "the update's words");
                }
            }
            assertEq(_subtreeRoot(leaves, 256 * k, postedPath, k), root, "the chunk leads to the revealed root");
            ++seen;
        }
        assertEq(seen, 3, "three chunks on chain");
    }

    /// @dev Chunks out of order, of the wrong shape or of other data are refused.
    function _malformedChunksRevert(address owner) internal {
        (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[owner], 0, 8);
        (bytes32[] memory words1, bytes32[] memory path1) = Trees.chunk(updateOf[owner], 1, 8);
        vm.expectRevert(abi.encodeWithSelector(E.WrongChunk.selector, 1, 0));
        coordinator.postChunk(taskId, 0, owner, 1, words1, path1);
        bytes32[] memory short = new bytes32[](2047);
        vm.expectRevert(abi.encodeWithSelector(E.MalformedChunk.selector, 2047, 2, 2048, 2));
        coordinator.postChunk(taskId, 0, owner, 0, short, path);
        bytes32[] memory longPath = new bytes32[](3);
        vm.expectRevert(abi.encodeWithSelector(E.MalformedChunk.selector, 2048, 3, 2048, 2));
        coordinator.postChunk(taskId, 0, owner, 0, words, longPath);
        words[777] = bytes32(uint256(words[777]) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(E.ChunkMismatch.selector, 0));
        coordinator.postChunk(taskId, 0, owner, 0, words, path);
        (bytes32[] memory otherWords, bytes32[] memory otherPath) = Trees.chunk(updateOf[members[1]], 0, 8);
        vm.expectRevert(abi.encodeWithSelector(E.ChunkMismatch.selector, 0));
        coordinator.postChunk(taskId, 0, owner, 0, otherWords, otherPath); // another member's data
    }

    /// @dev The root that chunk `k` (its leaves starting at global index `first`) and its path lead to.
    function _subtreeRoot(bytes32[][] memory leaves, uint256 first, bytes32[] memory path, uint256 k)
        internal
        pure
        returns (bytes32)
    {
        bytes32[] memory nodes = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            nodes[i] = Trees.leafHash(first + i, leaves[i]);
        }
        for (uint256 width = leaves.length; width > 1; width /= 2) {
            for (uint256 i = 0; i < width / 2; ++i) {
                nodes[i] = Trees.nodeHash(nodes[2 * i], nodes[2 * i + 1]);
            }
        }
        return Trees.rootFrom(nodes[0], k, path);
    }

    /// @dev The owner posts one chunk of three and stops: the posters were paid from the challenger's bond,
    /// yet the challenger, who was right, gets its whole bond back, and the coordinator pays out nothing it
    /// does not hold (the shares come out of the withholder's slash).
    function test_aPartlyPostedUpdateIsDroppedAndTheChallengerIsMadeWhole() external {
        _useChunkedTask();
        address owner = members[0];
        uint256 watcherBefore = token.balanceOf(watcher);
        _challengeUpdate(watcher, owner);
        (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[owner], 0, 8);
        uint256 ownerBefore = token.balanceOf(owner);
        vm.prank(owner);
        coordinator.postChunk(taskId, 0, owner, 0, words, path);
        uint256 share = DEPOSIT / 3;
        assertEq(token.balanceOf(owner) - ownerBefore, share, "the withholder earned a share");
        _assertSolvent(_bonded(), DEPOSIT - share);

        uint256 pool = coordinator.taskState(taskId).pool;
        vm.warp(coordinator.inputChallenge(taskId, 0, owner).deadline);
        (bytes32[] memory late, bytes32[] memory latePath) = Trees.chunk(updateOf[owner], 1, 8);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 0, block.timestamp));
        coordinator.postChunk(taskId, 0, owner, 1, late, latePath);
        coordinator.dropUnavailable(taskId, 0, owner);

        uint256 slashed = STAKE / 2;
        uint256 bounty = slashed / 5;
        assertEq(coordinator.memberOf(taskId, owner).stake, STAKE - slashed, "the withholder slashed");
        assertEq(token.balanceOf(watcher), watcherBefore + bounty, "the challenger lost nothing");
        assertEq(coordinator.taskState(taskId).pool, pool + slashed - bounty - share, "the share from the slash");
        _assertSolvent(_bonded(), 0);
    }

    /// @dev Where the owner's slash is too small to make up the shares paid, the challenger gets what is left of
    /// its bond and the slash; nothing is paid out of other funds.
    function test_aSlashTooSmallForTheSharesPaidLeavesTheCoordinatorSolvent() external {
        TaskParams memory p = defaultParams();
        p.availabilityBond = 30e18; // a share of 10e18 a chunk
        p.violationSlashBps = 1; // a slash of 0.01e18
        _useChunkedTask(p);
        address owner = members[0];
        uint256 watcherBefore = token.balanceOf(watcher);
        _challengeUpdate(watcher, owner);
        (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[owner], 0, 8);
        vm.prank(owner);
        coordinator.postChunk(taskId, 0, owner, 0, words, path);
        uint256 pool = coordinator.taskState(taskId).pool;
        vm.warp(coordinator.inputChallenge(taskId, 0, owner).deadline);
        coordinator.dropUnavailable(taskId, 0, owner);
        uint256 slashed = STAKE / 10_000;
        assertEq(coordinator.memberOf(taskId, owner).stake, STAKE - slashed, "slashed");
        assertEq(token.balanceOf(watcher), watcherBefore - 10e18 + slashed, "the rest of the bond and the slash");
        assertEq(coordinator.taskState(taskId).pool, pool, "the whole slash went to the challenger");
        _assertSolvent(_bonded(), 0);
    }

    /// @dev An update already dropped for a proven violation when its challenge lapses is not dropped or
    /// slashed twice; the challenger's bond goes back.
    function test_aChallengedUpdateDroppedForAViolationIsNotSlashedTwice() external {
        int32[16] memory values = _fill(0, 1);
        values[9] = int32(int256(CLIP)) + 1;
        _commit(members[0], _vector(values), 100);
        _commit(members[1], _vector(_fill(1, 1)), 200);
        _commit(members[2], _vector(_fill(2, 1)), 300);
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(members[i]);
        }
        uint256 watcherBefore = token.balanceOf(watcher);
        _challengeUpdate(watcher, members[0]);
        coordinator.proveViolation(
            taskId, members[0], Trees.root(updateOf[members[0]]), 100, 1, _leafProof(updateOf[members[0]], 1)
        );
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE / 2, "slashed for the violation");
        assertEq(_view().round.included, 2, "dropped once");
        vm.warp(coordinator.inputChallenge(taskId, 0, members[0]).deadline);
        vm.expectEmit(true, true, true, true);
        emit E.InputUnavailable(taskId, 0, members[0], watcher, 0, 0);
        coordinator.dropUnavailable(taskId, 0, members[0]);
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE / 2, "not slashed again");
        assertEq(_view().round.included, 2, "not dropped again");
        assertEq(_view().round.totalWeight, 500, "its weight taken once");
        assertEq(token.balanceOf(watcher), watcherBefore, "the bond back");
        _assertSolvent(_bonded(), 0);
    }

    function test_challengeUpdateChecksTheRevealAndOpensOnce() external {
        _commit(members[3], _vector(_fill(9, 1)), 10); // committed, never revealed
        _commitAndReveal(2);
        bytes32 root = Trees.root(updateOf[members[0]]);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeUpdate(taskId, members[0], root, 101); // not the revealed weight
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[0]));
        coordinator.challengeUpdate(taskId, members[0], keccak256("another root"), 100);
        bytes32 unrevealed = Trees.root(updateOf[members[3]]);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[3]));
        coordinator.challengeUpdate(taskId, members[3], unrevealed, 10);
        MaskedRecord memory record;
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.UnknownFunction.selector, coordinator.challengeMaskedVector.selector));
        coordinator.challengeMaskedVector(taskId, members[0], record);
        (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[members[0]], 0, 1);
        vm.expectRevert(abi.encodeWithSelector(E.NotChallenged.selector, members[0]));
        coordinator.postChunk(taskId, 0, members[0], 0, words, path);

        _challengeUpdate(watcher, members[0]);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyChallenged.selector, members[0]));
        coordinator.challengeUpdate(taskId, members[0], root, 100);
        _postChunks(members[0], members[0]);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyChallenged.selector, members[0]));
        coordinator.challengeUpdate(taskId, members[0], root, 100); // once per input and round

        // once a proposal's window has passed with nothing open, its inputs can no longer be challenged
        _propose(_aggregate(2));
        uint256 proposedAt = block.timestamp;
        vm.warp(proposedAt + WINDOW);
        bytes32 root1 = Trees.root(updateOf[members[1]]);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, proposedAt, proposedAt + WINDOW));
        coordinator.challengeUpdate(taskId, members[1], root1, 200);
    }

    // ================================================================ 3. no free stalls

    /// @dev One withholder used to make a round fail for everyone (without a blob nobody could aggregate or
    /// check); now it alone pays. Here too few updates are left to aggregate, so the round fails, but only
    /// the withholder is punished, and only after its challenge was applied.
    function test_aWithholderAloneBelowTheMinimumFailsTheRoundButOnlyItPays() external {
        _commitAndReveal(2); // minParticipants = 2
        _challengeUpdate(watcher, members[1]);
        vm.warp(coordinator.inputChallenge(taskId, 0, members[1]).deadline);
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 1, 0));
        coordinator.failRound(taskId);
        coordinator.dropUnavailable(taskId, 0, members[1]);
        assertTrue(_view().phase == RoundPhase.AwaitingFailure, "one update left");
        coordinator.failRound(taskId);
        assertEq(coordinator.memberOf(taskId, members[1]).stake, STAKE / 2, "the withholder paid");
        assertEq(coordinator.memberOf(taskId, members[0]).stake, STAKE, "the honest member did not");
        assertEq(coordinator.taskState(taskId).currentRound, 1, "the task goes on");
        _assertSolvent(_bonded(), 0);
    }

    function test_aWithholderIsDroppedAndTheRoundGoesOnWithoutAnyProposalYet() external {
        _commitAndReveal(3);
        _challengeUpdate(watcher, members[0]); // in the propose window, before anyone proposes
        vm.warp(coordinator.inputChallenge(taskId, 0, members[0]).deadline);
        coordinator.dropUnavailable(taskId, 0, members[0]);
        assertTrue(_view().phase == RoundPhase.ProposeExpired, "the window passed meanwhile");
        coordinator.reopenAggregation(taskId);
        (members[0], members[2]) = (members[2], members[0]); // the two left
        bytes32[][] memory next = _aggregate(2);
        _finalizeWith(next);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(next), "aggregated without it");
        _assertSolvent(_bonded(), 0);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
