// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {CoordinatorFixture} from "../utils/CoordinatorFixture.sol";
import {Deployments} from "../utils/Deployments.sol";
import {Trees} from "../utils/Trees.sol";
import {ICoordinatorEvents as E} from "../../src/ICoordinator.sol";
import {
    EntryState,
    RoundPhase,
    ScoreRound,
    ScoringParams,
    TaskParams,
    Validator,
    ValidatorFault
} from "../../src/FedTypes.sol";
import {Scores} from "../../src/libraries/Scores.sol";
import {ISecureCoordinator} from "../../src/secure/ISecureCoordinator.sol";

/// @dev Contribution scores (docs/protocol.md section 12): a staked committee scores every included update in
/// commit-reveal; the median drops free riders, decides pay, and outvotes and slashes a lying validator.
contract ScoringTest is CoordinatorFixture {
    uint256 internal constant VSTAKE = 50e18;
    uint16 internal constant THRESHOLD = 2000;
    uint16 internal constant TOLERANCE = 2500;

    address[] internal validators;
    mapping(address => address[]) internal listOf;
    mapping(address => uint16[]) internal scoresOf;

    function setUp() public override {
        super.setUp();
        for (uint256 i = 1; i <= 3; ++i) {
            address v = address(uint160(0x5000 + i));
            validators.push(v);
            _fund(v, 1e24);
        }
        _useScoredTask(defaultScoring(), 3);
    }

    function defaultScoring() internal pure returns (ScoringParams memory s) {
        s.committee = 3;
        s.scoreWindow = uint32(WINDOW);
        s.minScoreBps = THRESHOLD;
        s.toleranceBps = TOLERANCE;
        s.validatorSlashBps = 4000;
        s.validatorFeeBps = 1000;
        s.validatorStake = uint128(VSTAKE);
    }

    /// @dev A new scored task: `seats` validators take seats first (so they sit in round 0), then every member
    /// joins (opening round 0) and the aggregator bonds.
    function _useScoredTask(ScoringParams memory s, uint256 seats) internal {
        vm.prank(requester);
        taskId = coordinator.createScoredTask(defaultParams(), s, Trees.root(model), keccak256("model blob"));
        for (uint256 i = 0; i < seats; ++i) {
            vm.prank(validators[i]);
            coordinator.joinCommittee(taskId);
        }
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
        }
        vm.prank(aggregator);
        coordinator.postBond(taskId, BOND);
    }

    /// @dev Validator `v`'s scores of the first n members' updates are `scores`, committed now.
    function _commitScores(address v, uint256 n, uint16[] memory scores) internal {
        uint256 r = coordinator.taskState(taskId).currentRound;
        address[] memory list = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            list[i] = members[i];
        }
        listOf[v] = list;
        scoresOf[v] = scores;
        bytes32 hash = coordinator.scoresCommitmentOf(taskId, r, v, list, scores, keccak256(abi.encode(v)));
        vm.prank(v);
        coordinator.commitScores(taskId, hash);
    }

    function _revealScores(address v) internal {
        vm.prank(v);
        coordinator.revealScores(taskId, listOf[v], scoresOf[v], keccak256(abi.encode(v)));
    }

    function _scores(uint16 a, uint16 b, uint16 c, uint16 d) internal pure returns (uint16[] memory s) {
        s = new uint16[](4);
        (s[0], s[1], s[2], s[3]) = (a, b, c, d);
    }

    /// @dev Four members reveal; the three validators score them `honest` (each) and `lie` (validator 2);
    /// ends at the end of the score windows.
    function _scoredRound(uint16[] memory honest, uint16[] memory lie) internal {
        _commitAndReveal(4);
        _commitScores(validators[0], 4, honest);
        _commitScores(validators[1], 4, honest);
        _commitScores(validators[2], 4, lie);
        vm.warp(_view().revealEnd + WINDOW);
        for (uint256 i = 0; i < 3; ++i) {
            _revealScores(validators[i]);
        }
        vm.warp(_view().revealEnd + 2 * WINDOW);
    }

    /// @dev Every token the coordinator holds is owed: pools, owed rewards, stakes, bonds and fees of every
    /// task, and the validators' stakes and fees.
    function _assertScoredSolvent() internal view {
        uint256 owed;
        for (uint256 id = 1; id < coordinator.nextTaskId(); ++id) {
            owed += coordinator.taskState(id).pool + coordinator.taskState(id).owedRewards;
            for (uint256 i = 0; i < members.length; ++i) {
                owed += coordinator.memberOf(id, members[i]).stake;
            }
            owed += coordinator.aggregatorOf(id, aggregator).bond + coordinator.feesOf(id, aggregator);
            for (uint256 i = 0; i < validators.length; ++i) {
                Validator memory v = coordinator.validatorOf(id, validators[i]);
                owed += v.stake + v.fees;
            }
        }
        assertEq(token.balanceOf(address(coordinator)), owed, "the coordinator holds exactly what it owes");
    }

    // ---------------------------------------------------------------- the happy path

    function test_aFreeRiderIsScoredOutAndTheOthersArePaidByTheirMedian() external {
        uint16[] memory honest = _scores(9000, 6000, 10000, 0);
        _scoredRound(honest, _scores(8000, 7000, 9000, 500));
        assertEq(uint256(_view().phase), uint256(RoundPhase.Propose), "propose opens when the scores end");
        (uint256 count, uint256 median) = coordinator.medianScore(taskId, 0, members[3]);
        assertEq(count, 3, "three scores");
        assertEq(median, 0, "the lower median of 0, 0, 500");

        vm.expectRevert(abi.encodeWithSelector(E.ScoreAboveThreshold.selector, 9000, THRESHOLD));
        coordinator.dropLowScore(taskId, members[0]);
        uint256 before = token.balanceOf(watcher);
        uint256 slashed = STAKE * 5000 / 10000;
        vm.expectEmit(true, true, true, true);
        emit E.UpdateScoredOut(taskId, 0, members[3], watcher, 0, slashed, slashed * 2000 / 10000);
        vm.prank(watcher);
        coordinator.dropLowScore(taskId, members[3]);
        assertEq(token.balanceOf(watcher) - before, slashed * 2000 / 10000, "the bounty");
        assertEq(uint256(coordinator.entryState(taskId, 0, members[3])), uint256(EntryState.Dropped), "dropped");
        assertEq(_view().round.included, 3, "three updates left");

        _finalizeWith(_aggregate(3));
        uint256 fee = REWARD * 1000 / 10000;
        uint256 perValidator = REWARD * 1000 / 10000 / 3;
        uint256 perPoint = (REWARD - fee - 3 * perValidator) / (3 * 10000);
        assertEq(coordinator.validatorOf(taskId, validators[0]).fees, perValidator, "validator fee booked");
        assertEq(coordinator.claimable(taskId, members[0]), 9000 * perPoint, "paid by the median");
        assertEq(coordinator.claimable(taskId, members[1]), 6000 * perPoint, "paid by the median");
        assertEq(coordinator.claimable(taskId, members[2]), 10000 * perPoint, "the lower median of 9000, 10000, 10000");
        assertEq(coordinator.claimable(taskId, members[3]), 0, "the free rider earns nothing");

        uint256 pool = coordinator.taskState(taskId).pool;
        vm.prank(members[1]);
        coordinator.claimRewards(taskId);
        assertEq(coordinator.taskState(taskId).pool - pool, 4000 * perPoint, "what the score did not earn returns");
        _assertScoredSolvent();
    }

    function test_proposingWaitsForTheScores() external {
        _commitAndReveal(4);
        assertEq(uint256(_view().phase), uint256(RoundPhase.Score), "scoring");
        assertEq(_view().proposeStart, _view().revealEnd + 2 * WINDOW, "propose opens after both score windows");
        bytes32[][] memory next = _aggregate(4);
        vm.expectRevert(
            abi.encodeWithSelector(E.OutsideWindow.selector, _view().proposeStart, _view().proposeStart + WINDOW)
        );
        _propose(next);
        vm.expectRevert(
            abi.encodeWithSelector(E.OutsideWindow.selector, _view().revealEnd + 2 * WINDOW, type(uint256).max)
        );
        coordinator.dropLowScore(taskId, members[0]);
    }

    /// @dev The committee abstains on member 3's update: once the score windows end a stranger drops it, with no
    /// slash and no bounty; the round aggregates and pays only the scored updates.
    function test_anUnscoredUpdateIsDroppedWithoutASlashByAnyone() external {
        uint16 none = uint16(Scores.NO_SCORE);
        _commitAndReveal(4);
        uint16[] memory abstain = _scores(9000, 8000, 9500, none);
        for (uint256 i = 0; i < 3; ++i) {
            _commitScores(validators[i], 4, abstain);
        }
        vm.warp(_view().revealEnd + WINDOW);
        for (uint256 i = 0; i < 3; ++i) {
            _revealScores(validators[i]);
        }
        vm.warp(_view().revealEnd + 2 * WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(E.OutsideWindow.selector, _view().revealEnd + 2 * WINDOW, type(uint256).max)
        );
        coordinator.dropLowScore(taskId, members[3]);
        vm.warp(_view().revealEnd + 2 * WINDOW);
        (uint256 count,) = coordinator.medianScore(taskId, 0, members[3]);
        assertEq(count, 0, "nobody scored it");

        address stranger = address(0x5EE);
        uint256 totalWeight = _view().round.totalWeight;
        uint256 pool = coordinator.taskState(taskId).pool;
        vm.expectEmit(true, true, true, true);
        emit E.UnscoredUpdateDropped(taskId, 0, members[3], stranger);
        vm.prank(stranger);
        coordinator.dropLowScore(taskId, members[3]);
        assertEq(uint256(coordinator.entryState(taskId, 0, members[3])), uint256(EntryState.Dropped), "dropped");
        assertEq(_view().round.included, 3, "three updates left");
        assertEq(_view().round.totalWeight, totalWeight - _weight(members[3]), "its weight left the round");
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE, "its owner is not slashed");
        assertEq(token.balanceOf(stranger), 0, "no bounty");
        assertEq(coordinator.taskState(taskId).pool, pool, "nothing moved to the pool");
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, members[3]));
        coordinator.dropLowScore(taskId, members[3]);

        _finalizeWith(_aggregate(3));
        assertEq(coordinator.claimable(taskId, members[3]), 0, "a dropped update earns nothing");
        assertTrue(coordinator.claimable(taskId, members[0]) > 0, "the scored ones are paid");
        _assertScoredSolvent();
    }

    /// @dev A scored update cannot be dropped as unscored: above the threshold it stays, below it its owner is
    /// slashed (the scored-out path, not the free one).
    function test_aScoredUpdateCannotTakeTheUnscoredPath() external {
        uint16 none = uint16(Scores.NO_SCORE);
        // Two validators abstain on member 0; one score is enough to make it scored.
        _scoredRound(_scores(none, 8000, 9500, 0), _scores(9000, 8000, 9500, 0));
        (uint256 count, uint256 median) = coordinator.medianScore(taskId, 0, members[0]);
        assertEq(count, 1, "one score");
        vm.expectRevert(abi.encodeWithSelector(E.ScoreAboveThreshold.selector, median, THRESHOLD));
        coordinator.dropLowScore(taskId, members[0]);
        vm.prank(watcher);
        coordinator.dropLowScore(taskId, members[3]);
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE - STAKE * 5000 / 10000, "scored out: slashed");
    }

    /// @dev The whole committee stays silent: every update is unscored, a stranger drops them all, nothing can be
    /// proposed and the round fails without punishing any member; the model stays as it was.
    function test_aRoundWithEveryUpdateUnscoredFailsRatherThanAnchorAModel() external {
        _commitAndReveal(4);
        vm.warp(_view().revealEnd + 2 * WINDOW);
        bytes32 root = coordinator.taskState(taskId).modelRoot;
        address stranger = address(0x5EE);
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(stranger);
            coordinator.dropLowScore(taskId, members[i]);
        }
        assertEq(_view().round.included, 1, "below minParticipants");
        bytes32[][] memory all = _aggregate(4);
        vm.expectRevert(abi.encodeWithSelector(E.TooFewParticipants.selector, 1, 2));
        _propose(all);
        vm.prank(stranger);
        coordinator.dropLowScore(taskId, members[3]);
        assertEq(_view().round.included, 0, "every update dropped");
        vm.expectEmit(true, true, false, true);
        emit E.RoundFailed(taskId, 0, 0);
        vm.prank(stranger);
        coordinator.failRound(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, root, "no model anchored");
        assertEq(coordinator.taskState(taskId).currentRound, 1, "the next round opens");
        for (uint256 i = 0; i < 4; ++i) {
            assertEq(coordinator.memberOf(taskId, members[i]).stake, STAKE, "no member slashed");
        }
        assertEq(token.balanceOf(stranger), 0, "no bounty");
        // The committee that left every update unscored is slashed for its silence all the same.
        assertTrue(coordinator.scoreRound(taskId, 0).unscoredDropped, "the score windows ended while it ran");
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(watcher);
            coordinator.slashSilentValidator(taskId, 0, validators[i]);
            assertEq(coordinator.validatorOf(taskId, validators[i]).stake, VSTAKE * 6000 / 10000, "silence slashed");
        }
        _assertScoredSolvent();
    }

    /// @dev A round that failed before its score windows asked nothing of its committee: no silence slash.
    function test_aRoundFailedBeforeItsScoresSlashesNoValidator() external {
        _commitAndReveal(1);
        coordinator.failRound(taskId);
        assertTrue(!coordinator.scoreRound(taskId, 0).unscoredDropped, "nothing was dropped unscored");
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 0));
        coordinator.slashSilentValidator(taskId, 0, validators[0]);
    }

    /// @dev The benchmark's case: every validator is slashed in round 0 (each lied about one update), so round 1
    /// has no committee. Member 3 (the attacker) poisons its update of round 1 and a colluding aggregator proposes
    /// over every update at once; a watcher drops the unscored updates, which voids the proposal, and the round
    /// fails. The poisoned update never enters the model.
    function test_anAttackerCannotSlipAnUnscoredUpdateIntoACommitteelessRound() external {
        _commitAndReveal(4);
        for (uint256 i = 0; i < 3; ++i) {
            uint16[] memory lie = _scores(9000, 8000, 9500, 7000);
            lie[i] = 0;
            _commitScores(validators[i], 4, lie);
        }
        vm.warp(_view().revealEnd + WINDOW);
        for (uint256 i = 0; i < 3; ++i) {
            _revealScores(validators[i]);
        }
        vm.warp(_view().revealEnd + 2 * WINDOW);
        for (uint256 i = 0; i < 3; ++i) {
            coordinator.slashDeviation(taskId, 0, validators[i], members[i]);
        }
        _finalizeWith(_aggregate(4));
        bytes32 root = coordinator.taskState(taskId).modelRoot;

        for (uint256 i = 0; i < 3; ++i) {
            assertTrue(!coordinator.onCommittee(taskId, 1, validators[i]), "no committee in round 1");
        }
        for (uint256 i = 0; i < 3; ++i) {
            _commit(members[i], _updateVector(i), 100 * (i + 1));
        }
        _commit(members[3], _vector(_fill(-900, 0)), 1000); // poisoned, in range, heavily weighted
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 4; ++i) {
            _reveal(members[i]);
        }
        vm.warp(_view().proposeStart);
        bytes32[][] memory poisoned = _aggregate(4);
        _propose(poisoned); // the colluding aggregator is first

        address stranger = address(0x5EE);
        vm.expectEmit(true, true, true, true);
        emit E.UnscoredUpdateDropped(taskId, 1, members[3], stranger);
        vm.prank(stranger);
        coordinator.dropLowScore(taskId, members[3]);
        assertEq(_view().round.proposedAt, 0, "the proposal over it is void");
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 1));
        coordinator.finalize(taskId);
        // The honest updates are unscored too and go the same way; nothing is left to propose over.
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(stranger);
            coordinator.dropLowScore(taskId, members[i]);
        }
        vm.expectRevert(abi.encodeWithSelector(E.TooFewParticipants.selector, 0, 2));
        _propose(poisoned);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 1));
        coordinator.finalize(taskId);
        coordinator.failRound(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, root, "the poisoned update never entered the model");
        assertEq(coordinator.memberOf(taskId, members[3]).stake, STAKE, "unscored is not slashed");
        _assertScoredSolvent();
    }

    // ---------------------------------------------------------------- validators that lie or stay silent

    function test_aLyingValidatorIsOutvotedAndSlashed() external {
        // Validator 2 colludes with member 3: it scores the free rider highly and the honest updates low.
        _scoredRound(_scores(9000, 8000, 9500, 0), _scores(0, 0, 0, 10000));
        (, uint256 median) = coordinator.medianScore(taskId, 0, members[3]);
        assertEq(median, 0, "the honest majority decides");
        coordinator.dropLowScore(taskId, members[3]);

        vm.expectRevert(abi.encodeWithSelector(E.WithinTolerance.selector, 9000, 9000));
        coordinator.slashDeviation(taskId, 0, validators[0], members[0]);
        uint256 slashed = VSTAKE * 4000 / 10000;
        vm.expectEmit(true, true, true, true);
        emit E.ValidatorSlashed(
            taskId, 0, validators[2], watcher, uint8(ValidatorFault.Deviated), slashed, slashed * 2000 / 10000
        );
        vm.prank(watcher);
        coordinator.slashDeviation(taskId, 0, validators[2], members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, validators[2]));
        coordinator.slashDeviation(taskId, 0, validators[2], members[1]);

        Validator memory v = coordinator.validatorOf(taskId, validators[2]);
        assertEq(v.stake, VSTAKE - slashed, "stake taken");
        assertTrue(v.exitRequestedAt != 0, "a slashed validator leaves");
        assertEq(v.untilRound, 0, "it leaves the committee at once");
        _finalizeWith(_aggregate(3));
        assertTrue(!coordinator.onCommittee(taskId, 1, validators[2]), "off the next committee");
        assertTrue(coordinator.onCommittee(taskId, 1, validators[0]), "the honest ones stay");
        _assertScoredSolvent();
    }

    /// @dev A validator slashed during the round it lied in leaves at once and may withdraw before the round
    /// closes; it forfeits that round's fee, and a newcomer on its lane is not paid for it.
    function test_aValidatorSlashedMidRoundForfeitsItsFeeAndItsLane() external {
        _scoredRound(_scores(9000, 8000, 9500, 0), _scores(0, 0, 0, 10000));
        coordinator.dropLowScore(taskId, members[3]);
        coordinator.slashDeviation(taskId, 0, validators[2], members[0]);
        assertEq(coordinator.scoreRound(taskId, 0).reveals, 2, "the liar's reveal no longer earns");
        vm.warp(block.timestamp + 50);
        vm.prank(validators[2]);
        coordinator.withdrawValidator(taskId);
        address newcomer = address(0x5777);
        validators.push(newcomer);
        _fund(newcomer, 1e24);
        vm.prank(newcomer);
        coordinator.joinCommittee(taskId);
        assertEq(coordinator.validatorOf(taskId, newcomer).lane, 2, "the liar's lane");
        _propose(_aggregate(3));
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        uint256 perValidator = REWARD * 1000 / 10000 / 2;
        assertEq(coordinator.validatorOf(taskId, validators[0]).fees, perValidator, "the honest share the fee");
        assertEq(coordinator.validatorOf(taskId, newcomer).fees, 0, "nothing for a round it did not score");
        _assertScoredSolvent();
    }

    function test_aSilentValidatorIsSlashedOnceTheRoundFinalizes() external {
        uint16[] memory honest = _scores(9000, 8000, 9500, 7000);
        _commitAndReveal(4);
        _commitScores(validators[0], 4, honest);
        _commitScores(validators[1], 4, honest);
        vm.warp(_view().revealEnd + WINDOW);
        _revealScores(validators[0]);
        _revealScores(validators[1]);
        vm.warp(_view().revealEnd + 2 * WINDOW);
        vm.expectRevert(abi.encodeWithSelector(E.WrongRoundState.selector, 0));
        coordinator.slashSilentValidator(taskId, 0, validators[2]);
        _finalizeWith(_aggregate(4));

        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, validators[0]));
        coordinator.slashSilentValidator(taskId, 0, validators[0]);
        vm.prank(watcher);
        coordinator.slashSilentValidator(taskId, 0, validators[2]);
        assertEq(coordinator.validatorOf(taskId, validators[2]).stake, VSTAKE * 6000 / 10000, "slashed");
        assertEq(coordinator.validatorOf(taskId, validators[2]).fees, 0, "no fee without a reveal");
        assertEq(coordinator.scoreRound(taskId, 0).reveals, 2, "two revealed");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, validators[2]));
        coordinator.slashSilentValidator(taskId, 0, validators[2]);
        _assertScoredSolvent();
    }

    // ---------------------------------------------------------------- what a reveal must be

    function test_aRevealMustListTheIncludedSetInOrderWithinRange() external {
        _commitAndReveal(4);
        address v = validators[0];
        uint16[] memory fine = _scores(1, 2, 3, 4);
        address[] memory three = new address[](3);
        (three[0], three[1], three[2]) = (members[0], members[1], members[2]);
        uint16[] memory threeScores = new uint16[](3);
        address[] memory unsorted = new address[](4);
        (unsorted[0], unsorted[1], unsorted[2], unsorted[3]) = (members[1], members[0], members[2], members[3]);
        address[] memory stranger = new address[](4);
        (stranger[0], stranger[1], stranger[2], stranger[3]) = (members[0], members[1], members[2], address(0x9999));
        uint16[] memory tooHigh = _scores(1, 10001, 3, 4);
        address[] memory all = new address[](4);
        (all[0], all[1], all[2], all[3]) = (members[0], members[1], members[2], members[3]);

        vm.prank(v);
        vm.expectRevert(abi.encodeWithSelector(E.ZeroHash.selector));
        coordinator.commitScores(taskId, bytes32(0));
        vm.prank(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NotOnCommittee.selector, members[0], 0));
        coordinator.commitScores(taskId, keccak256("x"));

        // Each malformed list is committed honestly, so only the reveal's own checks can refuse it.
        _expectRevealRevert(v, three, threeScores, abi.encodeWithSelector(E.IncompleteUpdateSet.selector, 3, 4));
        _expectRevealRevert(v, unsorted, fine, abi.encodeWithSelector(E.UpdatesNotSorted.selector, 1));
        _expectRevealRevert(v, stranger, fine, abi.encodeWithSelector(E.NotIncluded.selector, address(0x9999)));
        _expectRevealRevert(v, all, tooHigh, abi.encodeWithSelector(E.ScoreOutOfRange.selector, 1, 10001));
        _expectRevealRevert(v, three, fine, abi.encodeWithSelector(E.ScoreListLength.selector, 3, 4));
    }

    /// @dev On a fresh scored task: `v` commits to (list, scores), and revealing them reverts with `reason`;
    /// revealing anything else reverts ScoresMismatch.
    function _expectRevealRevert(address v, address[] memory list, uint16[] memory scores, bytes memory reason)
        internal
    {
        uint256 snapshotTask = taskId;
        _useScoredTask(defaultScoring(), 0);
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(validators[i]);
            coordinator.joinCommittee(taskId);
        }
        // Seats taken after round 0 opened sit from round 1: play round 0 without scores.
        _commitAndReveal(4);
        vm.warp(_view().revealEnd + 2 * WINDOW);
        _finalizeWith(_aggregate(4));
        _commitAndReveal(4);
        bytes32 salt = keccak256("salt");
        bytes32 hash = coordinator.scoresCommitmentOf(taskId, 1, v, list, scores, salt);
        vm.prank(v);
        coordinator.commitScores(taskId, hash);
        vm.prank(v);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyCommitted.selector, v));
        coordinator.commitScores(taskId, hash);
        vm.prank(v);
        vm.expectRevert(
            abi.encodeWithSelector(E.OutsideWindow.selector, _view().revealEnd + WINDOW, _view().revealEnd + 2 * WINDOW)
        );
        coordinator.revealScores(taskId, list, scores, salt);
        vm.warp(_view().revealEnd + WINDOW);
        vm.prank(v);
        vm.expectRevert(reason);
        coordinator.revealScores(taskId, list, scores, salt);
        taskId = snapshotTask;
    }

    function test_aRevealMustMatchItsCommitmentAndComeOnce() external {
        uint16[] memory honest = _scores(9000, 8000, 9500, 7000);
        _commitAndReveal(4);
        _commitScores(validators[0], 4, honest);
        vm.warp(_view().revealEnd + WINDOW);
        vm.prank(validators[0]);
        vm.expectRevert(abi.encodeWithSelector(E.ScoresMismatch.selector, validators[0]));
        coordinator.revealScores(taskId, listOf[validators[0]], _scores(9000, 8000, 9500, 7001), keccak256("x"));
        vm.prank(validators[1]);
        vm.expectRevert(abi.encodeWithSelector(E.ScoresMismatch.selector, validators[1]));
        coordinator.revealScores(taskId, listOf[validators[0]], honest, keccak256("x"));
        _revealScores(validators[0]);
        vm.prank(validators[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyRevealed.selector, validators[0]));
        coordinator.revealScores(taskId, listOf[validators[0]], honest, keccak256(abi.encode(validators[0])));
        assertEq(coordinator.scoresOf(taskId, 0, members[2]), uint256(9501), "lane 0 holds score + 1");
    }

    /// @dev An update dropped between the committee's commitments and its reveals (here: unavailable) cannot keep
    /// the committee from revealing what it committed to, which still lists it.
    function test_aDropBetweenCommitAndRevealDoesNotSilenceTheCommittee() external {
        uint16[] memory honest = _scores(9000, 8000, 9500, 7000);
        _commitAndReveal(4);
        for (uint256 i = 0; i < 3; ++i) {
            _commitScores(validators[i], 4, honest);
        }
        _challengeUpdate(watcher, members[3]);
        vm.warp(_view().revealEnd + WINDOW);
        coordinator.dropUnavailable(taskId, 0, members[3]);
        assertEq(_view().round.included, 3, "one update dropped after the commitments");
        for (uint256 i = 0; i < 3; ++i) {
            _revealScores(validators[i]);
        }
        assertEq(coordinator.scoreRound(taskId, 0).reveals, 3, "every validator revealed");
        (, uint256 median) = coordinator.medianScore(taskId, 0, members[1]);
        assertEq(median, 8000, "the included updates are scored");
    }

    function test_anAbstentionLeavesTheLaneEmptyAndCannotBeSlashed() external {
        uint16 none = uint16(Scores.NO_SCORE);
        _scoredRound(_scores(9000, 8000, 9500, 7000), _scores(none, 0, none, none));
        (uint256 count,) = coordinator.medianScore(taskId, 0, members[0]);
        assertEq(count, 2, "the abstention is not counted");
        vm.expectRevert(abi.encodeWithSelector(E.NothingToSlash.selector, validators[2]));
        coordinator.slashDeviation(taskId, 0, validators[2], members[0]);
        coordinator.slashDeviation(taskId, 0, validators[2], members[1]);
    }

    // ---------------------------------------------------------------- seats and committees

    function test_scoringParamsAreChecked() external {
        TaskParams memory p = defaultParams();
        ScoringParams memory s = defaultScoring();
        _expectBadScoring(p, _with(s, 0), "committee");
        _expectBadScoring(p, _with(s, 1), "committee");
        _expectBadScoring(p, _with(s, 2), "scoreWindow");
        _expectBadScoring(p, _with(s, 3), "minScoreBps");
        _expectBadScoring(p, _with(s, 4), "toleranceBps");
        _expectBadScoring(p, _with(s, 5), "validatorSlashBps");
        _expectBadScoring(p, _with(s, 6), "validatorFeeBps");
        _expectBadScoring(p, _with(s, 7), "validatorStake");
        p.commitWindow = 9;
        _expectBadScoring(p, s, "commitWindow");

        ISecureCoordinator secure = Deployments.secure();
        p = defaultParams();
        p.mode = 1;
        p.neighbours = 2;
        p.threshold = 2;
        vm.prank(requester);
        token.approve(address(secure), type(uint256).max);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "mode"));
        (bool ok,) = address(secure)
            .call(abi.encodeWithSelector(coordinator.createScoredTask.selector, p, s, keccak256("m"), keccak256("b")));
        ok;
    }

    function _with(ScoringParams memory s, uint256 field) internal pure returns (ScoringParams memory b) {
        b = ScoringParams({
            committee: s.committee,
            scoreWindow: s.scoreWindow,
            minScoreBps: s.minScoreBps,
            toleranceBps: s.toleranceBps,
            validatorSlashBps: s.validatorSlashBps,
            validatorFeeBps: s.validatorFeeBps,
            validatorStake: s.validatorStake
        });
        if (field == 0) b.committee = 0;
        if (field == 1) b.committee = 17;
        if (field == 2) b.scoreWindow = 9;
        if (field == 3) b.minScoreBps = 10001;
        if (field == 4) b.toleranceBps = 0;
        if (field == 5) b.validatorSlashBps = 0;
        if (field == 6) b.validatorFeeBps = 9001;
        if (field == 7) b.validatorStake = 0;
    }

    function _expectBadScoring(TaskParams memory p, ScoringParams memory s, string memory field) internal {
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, field));
        coordinator.createScoredTask(p, s, Trees.root(model), keccak256("model blob"));
    }

    function test_theCommitteeIsSampledFromTheSeatsByTheRoundsRandomness() external {
        ScoringParams memory s = defaultScoring();
        s.committee = 2;
        for (uint256 i = 4; i <= 6; ++i) {
            address extra = address(uint160(0x5000 + i));
            validators.push(extra);
            _fund(extra, 1e24);
        }
        vm.prevrandao(bytes32(uint256(7)));
        _useScoredTask(s, 6);
        ScoreRound memory sr = coordinator.scoreRound(taskId, 0);
        assertEq(sr.pool, 6, "six seats");
        assertEq(sr.seed, Scores.seed(7, taskId, 0), "seed from the opening block's randomness");
        uint256 sitting;
        for (uint256 i = 0; i < 6; ++i) {
            bool picked = Scores.sampled(sr.seed, 6, 2, validators[i]);
            assertTrue(coordinator.onCommittee(taskId, 0, validators[i]) == picked, "onCommittee recomputes it");
            if (picked) ++sitting;
        }
        assertTrue(sitting < 6, "a committee of 2 from 6 seats leaves seats out");
    }

    function test_aSeatIsTakenOnceWithTheExactStakeAndLeavesAfterItsRounds() external {
        vm.prank(validators[0]);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyValidator.selector, validators[0]));
        coordinator.joinCommittee(taskId);
        vm.expectRevert(abi.encodeWithSelector(E.NotScored.selector, 1));
        vm.prank(validators[0]);
        coordinator.joinCommittee(1);

        address late = address(0x5999);
        validators.push(late);
        _fund(late, 1e24);
        uint256 before = token.balanceOf(late);
        vm.prank(late);
        coordinator.joinCommittee(taskId);
        assertEq(before - token.balanceOf(late), VSTAKE, "exactly the seat's stake");
        Validator memory seat = coordinator.validatorOf(taskId, late);
        assertEq(seat.lane, 3, "the lowest free lane");
        assertEq(seat.sinceRound, 1, "a seat taken in an open round sits from the next");
        assertTrue(!coordinator.onCommittee(taskId, 0, late), "not in round 0");

        vm.prank(validators[1]);
        coordinator.requestCommitteeExit(taskId);
        vm.prank(validators[1]);
        vm.expectRevert(abi.encodeWithSelector(E.CommitmentOpen.selector, 0));
        coordinator.withdrawValidator(taskId);
        _scoredRound(_scores(9000, 8000, 9500, 7000), _scores(9000, 8000, 9500, 7000));
        _finalizeWith(_aggregate(4));
        assertTrue(!coordinator.onCommittee(taskId, 1, validators[1]), "gone after its last round");
        assertEq(coordinator.scoreRound(taskId, 1).pool, 3, "three seats sit in round 1");
        uint256 fees = coordinator.validatorOf(taskId, validators[1]).fees;
        assertTrue(fees > 0, "it earned its fee in round 0");
        before = token.balanceOf(validators[1]);
        vm.warp(block.timestamp + 50);
        vm.prank(validators[1]);
        coordinator.withdrawValidator(taskId);
        assertEq(token.balanceOf(validators[1]) - before, VSTAKE + fees, "stake and fees back");
        address next = address(0x5998);
        validators.push(next);
        _fund(next, 1e24);
        vm.prank(next);
        coordinator.joinCommittee(taskId);
        assertEq(coordinator.validatorOf(taskId, next).lane, 1, "the freed lane is taken again");
        _assertScoredSolvent();
    }

    // ---------------------------------------------------------------- the arithmetic

    /// @dev The median of a word equals a plain sort's lower median, for any scores and abstentions.
    function testFuzz_medianIsTheLowerMedianOfThePresentScores(uint256 seed) external pure {
        uint256 word;
        uint256[] memory present = new uint256[](16);
        uint256 count;
        for (uint256 lane = 0; lane < 16; ++lane) {
            uint256 draw = uint256(keccak256(abi.encode(seed, lane)));
            if (draw % 3 == 0) continue;
            uint256 score = (draw >> 8) % (Scores.SCORE_ONE + 1);
            word = Scores.withScore(word, lane, score);
            present[count++] = score;
        }
        for (uint256 i = 1; i < count; ++i) {
            for (uint256 j = i; j > 0 && present[j - 1] > present[j]; --j) {
                (present[j - 1], present[j]) = (present[j], present[j - 1]);
            }
        }
        (uint256 n, uint256 median) = Scores.median(word);
        assertEq(n, count, "count");
        assertEq(median, count == 0 ? 0 : present[(count - 1) / 2], "lower median");
    }

    /// @dev Whatever the committee scores, the round's reward is conserved: claims, fees and what returns to
    /// the pool add up, and the coordinator stays solvent.
    function testFuzz_payIsConservedForAnyScores(uint256 seed) external {
        uint16[] memory a = new uint16[](4);
        uint16[] memory b = new uint16[](4);
        uint16[] memory c = new uint16[](4);
        for (uint256 i = 0; i < 4; ++i) {
            a[i] = uint16(uint256(keccak256(abi.encode(seed, i, 0))) % 10001);
            b[i] = uint16(uint256(keccak256(abi.encode(seed, i, 1))) % 10001);
            c[i] = uint16(uint256(keccak256(abi.encode(seed, i, 2))) % 10001);
        }
        _commitAndReveal(4);
        _commitScores(validators[0], 4, a);
        _commitScores(validators[1], 4, b);
        _commitScores(validators[2], 4, c);
        vm.warp(_view().revealEnd + WINDOW);
        for (uint256 i = 0; i < 3; ++i) {
            _revealScores(validators[i]);
        }
        vm.warp(_view().revealEnd + 2 * WINDOW);
        uint256 kept = 4;
        for (uint256 i = 0; i < 4; ++i) {
            (, uint256 median) = coordinator.medianScore(taskId, 0, members[i]);
            if (median < THRESHOLD) {
                coordinator.dropLowScore(taskId, members[i]);
                --kept;
            }
        }
        vm.assume(kept >= 2);
        uint256 poolBefore = coordinator.taskState(taskId).pool;
        _finalizeWith(_aggregateKept(0));
        uint256 claimed;
        for (uint256 i = 0; i < 4; ++i) {
            if (coordinator.claimable(taskId, members[i]) == 0) continue;
            uint256 before = token.balanceOf(members[i]);
            vm.prank(members[i]);
            coordinator.claimRewards(taskId);
            claimed += token.balanceOf(members[i]) - before;
        }
        uint256 validatorFees;
        for (uint256 i = 0; i < 3; ++i) {
            validatorFees += coordinator.validatorOf(taskId, validators[i]).fees;
        }
        assertEq(coordinator.taskState(taskId).owedRewards, 0, "every kept update settled");
        uint256 spent = poolBefore - coordinator.taskState(taskId).pool;
        assertEq(spent, REWARD * 1000 / 10000 + validatorFees + claimed, "the pool paid exactly what was earned");
        _assertScoredSolvent();
    }

    /// @dev Three scored rounds in a row, each validator honest, lying, abstaining or silent at random, every
    /// low score dropped, every provable fault slashed, members and validators claiming as they go: the
    /// coordinator stays solvent after every step, a scored-out update never earns, and every validator that
    /// deviated or stayed silent is slashed.
    function testFuzz_scoredRoundsStaySolventWhateverTheCommitteeDoes(uint256 seed) external {
        for (uint256 r = 0; r < 3; ++r) {
            _commitAndReveal(4);
            uint256[3] memory behaviour; // 0 honest, 1 lies, 2 abstains on member 0, 3 silent, 4 not seated
            for (uint256 v = 0; v < 3; ++v) {
                behaviour[v] = uint256(keccak256(abi.encode(seed, r, v))) % 4;
                if (!coordinator.onCommittee(taskId, r, validators[v])) behaviour[v] = 4; // re-seated: sits later
                if (behaviour[v] >= 3) continue;
                uint16[] memory s = _scores(9000, 8000, 7000, 500);
                if (behaviour[v] == 1) s = _scores(0, 0, 0, 10000);
                if (behaviour[v] == 2) s[0] = uint16(Scores.NO_SCORE);
                _commitScores(validators[v], 4, s);
            }
            vm.warp(_view().revealEnd + WINDOW);
            for (uint256 v = 0; v < 3; ++v) {
                if (behaviour[v] < 3) _revealScores(validators[v]);
            }
            vm.warp(_view().revealEnd + 2 * WINDOW);
            for (uint256 i = 0; i < 4; ++i) {
                (uint256 count, uint256 median) = coordinator.medianScore(taskId, r, members[i]);
                if (count != 0 && median < THRESHOLD) coordinator.dropLowScore(taskId, members[i]);
            }
            _assertScoredSolvent();
            if (_view().round.included < 2) {
                coordinator.failRound(taskId);
            } else {
                _finalizeWith(_aggregateKept(r));
                for (uint256 v = 0; v < 3; ++v) {
                    if (behaviour[v] == 1) _slashLiar(r, validators[v], honestMajority(behaviour));
                    if (behaviour[v] == 3 && coordinator.onCommittee(taskId, r, validators[v])) {
                        coordinator.slashSilentValidator(taskId, r, validators[v]);
                    }
                }
            }
            for (uint256 i = 0; i < 4; ++i) {
                bool scoredOut = coordinator.entryState(taskId, r, members[i]) == EntryState.Dropped;
                if (scoredOut) {
                    assertEq(
                        coordinator.claimable(taskId, members[i]),
                        coordinator.memberOf(taskId, members[i]).rewards,
                        "a scored-out update earns nothing beyond what earlier rounds booked"
                    );
                }
            }
            _assertScoredSolvent();
            if (r == 2) break; // the task's last round
            // Members slashed this round top their stake up, so that all four enter the next one.
            for (uint256 i = 0; i < 4; ++i) {
                uint256 stake = coordinator.memberOf(taskId, members[i]).stake;
                if (stake < STAKE) {
                    vm.prank(members[i]);
                    coordinator.addStake(taskId, STAKE - stake);
                }
            }
            // Seats slashed this round have left; seat them again (after the unbonding delay, within the next
            // round's commit window) so that later rounds have a committee.
            vm.warp(block.timestamp + 50);
            for (uint256 v = 0; v < 3; ++v) {
                if (coordinator.validatorOf(taskId, validators[v]).exitRequestedAt != 0) {
                    vm.prank(validators[v]);
                    coordinator.withdrawValidator(taskId);
                    vm.prank(validators[v]);
                    coordinator.joinCommittee(taskId);
                }
            }
        }
    }

    /// @dev Whether at least two validators revealed honest scores of member 0 (an abstention is not one).
    function honestMajority(uint256[3] memory behaviour) internal pure returns (bool) {
        uint256 honest;
        for (uint256 v = 0; v < 3; ++v) {
            if (behaviour[v] == 0) ++honest;
        }
        return honest >= 2;
    }

    /// @dev A lying validator scored member 0's update 0 where the honest ones say 9000: with an honest majority
    /// the median is 9000 and the lie is slashed; without one, whoever is far from the median is.
    function _slashLiar(uint256 r, address liar, bool outvoted) internal {
        (, uint256 median) = coordinator.medianScore(taskId, r, members[0]);
        if (median > TOLERANCE) {
            coordinator.slashDeviation(taskId, r, liar, members[0]);
        } else {
            assertTrue(!outvoted, "an honest majority outvotes the lie");
            vm.expectRevert(abi.encodeWithSelector(E.WithinTolerance.selector, 0, median));
            coordinator.slashDeviation(taskId, r, liar, members[0]);
        }
    }

    /// @dev The correct aggregate of the updates still included.
    function _aggregateKept(uint256 r) internal returns (bytes32[][] memory) {
        uint256 w;
        address[] memory all = members;
        for (uint256 i = 0; i < all.length; ++i) {
            if (coordinator.entryState(taskId, r, all[i]) == EntryState.Revealed) members[w++] = all[i];
        }
        bytes32[][] memory next = _aggregate(w);
        members = all;
        return next;
    }
}
