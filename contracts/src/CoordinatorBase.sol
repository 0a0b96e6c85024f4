// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorStorage} from "./CoordinatorStorage.sol";
import {
    Aggregator,
    Member,
    Mode,
    Round,
    RoundPhase,
    RoundStatus,
    RoundView,
    ScoreRound,
    TaskParams,
    TaskState,
    TaskStatus
} from "./FedTypes.sol";
import {TaskParamsValidator} from "./TaskParamsValidator.sol";
import {Schedule} from "./libraries/Schedule.sol";
import {Scores} from "./libraries/Scores.sol";

/// @title CoordinatorBase
/// @notice The round lifecycle every coordinator shares, whatever feeds its rounds: admission to a round,
/// proposals, reopening, failing and finalizing, and the round view. A concrete coordinator adds how members
/// feed a round (docs/protocol.md sections 7-10). Everything else it does lives in two modules that it runs by
/// delegatecall in its own storage (CoordinatorStorage): a call to a function the coordinator does not define
/// goes to its Registry, and the Registry passes on what it does not define to Availability. Both modules are
/// fixed at construction; there is no admin, no upgrade, and every stall can be resolved by anyone.
abstract contract CoordinatorBase is CoordinatorStorage {
    /// @notice Stateless checker of TaskParams, deployed with this contract.
    TaskParamsValidator public immutable PARAMS_VALIDATOR;
    /// @notice Tasks, membership, bonds, rewards and member slashing (delegatecalled).
    address public immutable REGISTRY;
    /// @notice Availability challenges and model disputes (delegatecalled through the Registry).
    address public immutable AVAILABILITY;

    /// @param registry A deployed Registry module.
    /// @param availability A deployed Availability module.
    constructor(address registry, address availability) {
        if (registry.code.length == 0) revert InvalidTaskParameter("registry");
        if (availability.code.length == 0) revert InvalidTaskParameter("availability");
        PARAMS_VALIDATOR = new TaskParamsValidator();
        REGISTRY = registry;
        AVAILABILITY = availability;
        _availabilityModule = availability;
    }

    /// @notice Runs every function this contract does not define in the Registry module (which passes on to
    /// the Availability module what it does not define), in this contract's storage.
    fallback() external {
        address module = REGISTRY;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), module, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }

    /// @notice The mode of every task of this coordinator (FedTypes.Mode).
    function MODE() external pure returns (uint8) {
        return uint8(_mode());
    }

    // ------------------------------------------------------------------ rounds

    /// @notice Opens a new propose window when the last one passed without a proposal.
    /// Allowed when now >= proposeStart + proposeWindow, no proposal is pending and the round is aggregatable.
    /// @param taskId Task of the round.
    function reopenAggregation(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _activeRound(taskId, r);
        if (round.proposedAt != 0) revert ProposalPending(r);
        if (!_aggregatable(taskId, r, round)) revert TooFewParticipants(round.included, p.minParticipants);
        uint256 opensAt = _proposeStart(taskId, round) + p.proposeWindow;
        if (block.timestamp < opensAt) revert OutsideWindow(opensAt, type(uint256).max);
        round.proposeStart = uint40(block.timestamp);
        emit AggregationReopened(taskId, r, block.timestamp);
    }

    /// @notice Fails the current round when, after its input phases and with every availability challenge
    /// settled, it cannot be aggregated (fewer than minParticipants inputs; in secure mode also a set that may
    /// not be unmasked) or it has stalled (no proposal pending STALL_WINDOWS propose-and-challenge windows
    /// after its inputs were settled). Nobody who took part is punished; the next round opens.
    /// @param taskId Task of the round.
    function failRound(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        Round storage round = _activeRound(taskId, r);
        uint256 revealEnd = _revealEndOf(taskId, round);
        if (block.timestamp < revealEnd) revert OutsideWindow(revealEnd, type(uint256).max);
        if (round.openChallenges != 0) revert AvailabilityPending(round.openChallenges, round.openDisputes);
        if (_aggregatable(taskId, r, round) && !_stalled(taskId, round, _scoresEnd(taskId, revealEnd))) {
            revert EnoughParticipants(round.included);
        }
        if (round.proposedAt != 0) _voidProposal(taskId, r, round, false);
        round.status = RoundStatus.Failed;
        emit RoundFailed(taskId, r, round.included);
        _advance(taskId, task, r, round.commits, 0);
    }

    /// @notice Finalizes the current round once nothing can challenge its proposal any more: the challenge
    /// window (from the later of the proposal and the last settled availability challenge) has passed and no
    /// availability challenge or model dispute is open. The proposal becomes the global model; the round's
    /// reward is allocated.
    /// @param taskId Task of the round.
    function finalize(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _activeRound(taskId, r);
        if (round.proposedAt == 0) revert WrongRoundState(r);
        if (round.openChallenges != 0 || round.openDisputes != 0) {
            revert AvailabilityPending(round.openChallenges, round.openDisputes);
        }
        uint256 challengeEnd = _challengeEnd(p, round);
        if (block.timestamp < challengeEnd) revert OutsideWindow(challengeEnd, type(uint256).max);

        uint256 reward = p.rewardPerRound;
        uint256 fee = reward * p.aggregatorFeeBps / BPS;
        // Without scoring the reward is shared by weight (8.5); with scoring by score points, after the
        // validators' fees (12.6). Either way: per unit, the units of the round, what validators get.
        (uint256 perUnit, uint256 units, uint256 validatorFees) = !task.scored
            ? ((reward - fee) / round.totalWeight, uint256(round.totalWeight), 0)
            : _scoredShares(taskId, r, round, reward - fee);
        // Intended: the floor of the per-unit reward times the units is what claims can pay out;
        // the rounding remainder (reward - fee - validatorFees - allocated) stays in the pool, so nothing is lost.
        // slither-disable-next-line divide-before-multiply
        uint256 allocated = perUnit * units;
        task.pool -= uint128(fee + validatorFees + allocated);
        task.owedRewards += uint128(allocated);
        _fees[taskId][round.aggregator] += fee;
        round.rewardPerWeight = uint96(perUnit);
        round.status = RoundStatus.Finalized;
        task.modelRoot = round.proposedRoot;
        task.modelBlobRef = round.proposedBlobRef;
        emit RoundFinalized(
            taskId, r, round.proposedRoot, round.proposedBlobRef, perUnit, fee, reward - fee - validatorFees - allocated
        );
        _advance(taskId, task, r, round.commits, perUnit);
    }

    // ------------------------------------------------------------------ views

    /// @notice A round's stored state, its phase at the current block time and its deadlines (challengeEnd
    /// is 0 when no proposal is pending; every deadline is 0 for a round that has not opened).
    function roundView(uint256 taskId, uint256 round) external view returns (RoundView memory v) {
        TaskParams storage p = _params[taskId];
        Round storage stored = _rounds[taskId][round];
        v.round = stored;
        if (stored.start != 0) {
            v.commitEnd = Schedule.commitEnd(_mode(), p, stored.start);
            v.revealEnd = Schedule.revealEnd(_mode(), p, stored.start);
            v.proposeStart = stored.proposeStart == 0 ? _scoresEnd(taskId, v.revealEnd) : stored.proposeStart;
            v.proposeEnd = v.proposeStart + p.proposeWindow;
            if (stored.proposedAt != 0) v.challengeEnd = _challengeEnd(p, stored);
        }
        v.phase = _phase(taskId, round, stored, v);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The coordinator's mode: the only one its tasks may have.
    function _mode() internal pure virtual returns (Mode);

    /// @dev The phase, before the input phases end (now < revealEnd), of a round that started at `start`.
    function _inputPhase(TaskParams storage p, uint256 start) internal view virtual returns (RoundPhase);

    /// @dev Whether the inputs of the current round r allow an aggregate to be proposed (else it must fail).
    function _aggregatable(uint256 taskId, uint256 r, Round storage round) internal view virtual returns (bool);

    /// @dev End of the input phases of `round`.
    function _revealEndOf(uint256 taskId, Round storage round) internal view returns (uint256) {
        return Schedule.revealEnd(_mode(), _params[taskId], round.start);
    }

    /// @dev The current round of a running task, with a pending proposal that may still be challenged.
    function _challengeableRound(uint256 taskId) internal view returns (uint256 r, Round storage round) {
        TaskState storage task = _runningTask(taskId);
        r = task.currentRound;
        round = _activeRound(taskId, r);
        if (round.proposedAt == 0) revert WrongRoundState(r);
        if (!_challengeable(_params[taskId], round)) {
            revert OutsideWindow(round.proposedAt, _challengeEnd(_params[taskId], round));
        }
    }

    /// @dev Calls `verifier` with `selector`, the ABI encoding of a static context and the fraud proof that is
    /// the last argument of this call, forwarded straight from calldata at `proofStart` (its inner offsets are
    /// relative to its own start) instead of re-encoded. Reverts as the verifier does; returns its
    /// (differs, participants, entries or records).
    function _callVerifier(address verifier, bytes4 selector, bytes memory context, uint256 proofStart)
        internal
        view
        returns (bool, address[] memory, bytes32[] memory)
    {
        bytes memory data = bytes.concat(selector, context, abi.encode(context.length + 32), msg.data[proofStart:]);
        (bool ok, bytes memory result) = verifier.staticcall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
        return abi.decode(result, (bool, address[], bytes32[]));
    }

    /// @dev Admits msg.sender to the current round of a running task, in its first window (commit, or
    /// advertise in secure mode: [start, start + commitWindow)): room in the cohort, a member not exiting and
    /// not yet in the round. Its previous entry is settled (which may forfeit a missing input) before its
    /// stake is checked; the member is counted and marked active. The caller then stores its entry word.
    /// @return r The round. @return m The member. @return position Members admitted before it in the round.
    function _enterRound(uint256 taskId) internal returns (uint256 r, Member storage m, uint256 position) {
        TaskState storage task = _runningTask(taskId);
        r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _rounds[taskId][r];
        if (round.start == 0) revert WaitingForMembers(task.members, p.minParticipants);
        uint256 windowEnd = uint256(round.start) + p.commitWindow;
        if (block.timestamp >= windowEnd) revert OutsideWindow(round.start, windowEnd);
        position = round.commits;
        if (position >= p.cohortCap) revert CohortFull(p.cohortCap);
        m = _members[taskId][msg.sender];
        if (!m.joined) revert NotMember(msg.sender);
        if (m.exiting) revert AlreadyExiting(msg.sender);
        if (m.lastCommitRound == r + 1) revert AlreadyCommitted(msg.sender);
        if (task.sampled && !_inCohort(taskId, round, msg.sender)) revert NotInCohort(msg.sender, r);
        _settleEntry(taskId, m, msg.sender);
        if (m.stake < p.minStake) revert StakeTooLow(m.stake, p.minStake);
        unchecked {
            round.commits += 1;
        }
        m.lastCommitRound = uint24(r + 1);
        m.activityMark = uint24(task.spareRounds);
    }

    /// @dev Whether a round without a pending proposal has waited STALL_WINDOWS windows past the later of the
    /// end of its inputs and scores and its last settled availability challenge, with none open.
    function _stalled(uint256 taskId, Round storage round, uint256 scoresEnd) internal view returns (bool) {
        TaskParams storage p = _params[taskId];
        uint256 from = round.settledAt > scoresEnd ? round.settledAt : scoresEnd;
        uint256 stallsAt = from + STALL_WINDOWS * (uint256(p.proposeWindow) + p.challengeWindow);
        return round.proposedAt == 0 && round.openChallenges == 0 && block.timestamp >= stallsAt;
    }

    function _proposeStart(uint256 taskId, Round storage round) internal view returns (uint256 opensAt) {
        if (round.proposeStart != 0) return round.proposeStart;
        return _scoresEnd(taskId, _revealEndOf(taskId, round));
    }

    /// @dev A scored round's shares of `reward` (after the aggregator's fee): each revealing validator's fee,
    /// booked here, then the reward per score point of the included updates (docs/protocol.md section 12.6).
    /// @return perPoint Reward per score point.
    /// @return points included * SCORE_ONE.
    /// @return validatorFees What the validators were booked in all.
    function _scoredShares(uint256 taskId, uint256 r, Round storage round, uint256 reward)
        internal
        returns (uint256 perPoint, uint256 points, uint256 validatorFees)
    {
        ScoreRound storage scores = _scoreRounds[taskId][r];
        uint256 reveals = scores.reveals;
        if (reveals != 0) {
            // Intended: each validator's equal share is floored; the rounding remainder stays in the pool.
            // slither-disable-next-line divide-before-multiply
            uint256 perValidator = _params[taskId].rewardPerRound * _scoring[taskId].validatorFeeBps / BPS / reveals;
            validatorFees = perValidator * reveals;
            uint256 lanes = scores.revealedLanes;
            address[16] storage holders = _lanes[taskId];
            for (uint256 lane = 0; lanes != 0; ++lane) {
                if (lanes & 1 != 0) _validators[taskId][holders[lane]].fees += uint96(perValidator);
                lanes >>= 1;
            }
            emit ValidatorFeesBooked(taskId, r, perValidator, reveals);
        }
        points = uint256(round.included) * Scores.SCORE_ONE;
        perPoint = (reward - validatorFees) / points;
    }

    function _phase(uint256 taskId, uint256 r, Round storage round, RoundView memory v)
        internal
        view
        returns (RoundPhase)
    {
        if (round.status == RoundStatus.Finalized) return RoundPhase.Finalized;
        if (round.status == RoundStatus.Failed) return RoundPhase.Failed;
        TaskState storage task = _tasks[taskId];
        if (task.status != TaskStatus.Running || r != task.currentRound || round.start == 0) {
            return RoundPhase.NotOpen;
        }
        if (block.timestamp < v.revealEnd) return _inputPhase(_params[taskId], round.start);
        if (round.proposedAt != 0) {
            return _challengeable(_params[taskId], round) ? RoundPhase.Challenge : RoundPhase.Finalizable;
        }
        if (!_aggregatable(taskId, r, round) || _stalled(taskId, round, _scoresEnd(taskId, v.revealEnd))) {
            return round.openChallenges == 0 ? RoundPhase.AwaitingFailure : RoundPhase.Availability;
        }
        if (block.timestamp < v.proposeStart) return RoundPhase.Score;
        return block.timestamp < v.proposeEnd ? RoundPhase.Propose : RoundPhase.ProposeExpired;
    }

    /// @dev Checks a proposal of the current round by msg.sender (window, participants, eligibility, nonzero
    /// hashes), stores it under the caller's bond as the round's next proposal and emits Proposed; returns
    /// the round index.
    function _recordProposal(uint256 taskId, bytes32 root, bytes32 blobRef) internal returns (uint256 r) {
        TaskState storage task = _runningTask(taskId);
        r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _activeRound(taskId, r);
        if (round.proposedAt != 0) revert ProposalPending(r);
        uint256 opensAt = _proposeStart(taskId, round);
        uint256 closesAt = opensAt + p.proposeWindow;
        if (block.timestamp < opensAt || block.timestamp >= closesAt) revert OutsideWindow(opensAt, closesAt);
        if (!_aggregatable(taskId, r, round)) revert TooFewParticipants(round.included, p.minParticipants);
        Aggregator storage a = _aggregators[taskId][msg.sender];
        if (!a.bonded || a.exitRequestedAt != 0 || a.bond < p.aggregatorBond || a.barredRound == r + 1) {
            revert NotEligibleAggregator(msg.sender);
        }
        if (root == bytes32(0) || blobRef == bytes32(0)) revert ZeroHash();
        round.proposedAt = uint40(block.timestamp);
        round.aggregator = msg.sender;
        round.proposedRoot = root;
        round.proposedBlobRef = blobRef;
        round.proposals += 1;
        round.openDisputes = 0;
        emit Proposed(taskId, r, msg.sender, root, blobRef);
    }

    /// @dev Closes round r (its reward per weight given, 0 if it failed) and opens the next one or ends the task.
    function _advance(uint256 taskId, TaskState storage task, uint256 r, uint256 commits, uint256 rewardPerWeight)
        internal
    {
        // A round with room left counts towards members' silence, unless its cohort was sampled (then a silent
        // member may simply not have been picked).
        if (commits < _params[taskId].cohortCap && !task.sampled) task.spareRounds += 1;
        uint256 next = r + 1;
        task.currentRound = uint24(next);
        task.lastRewardPerWeight = uint96(rewardPerWeight);
        if (next == _params[taskId].numRounds) {
            task.status = TaskStatus.Completed;
            emit TaskEnded(taskId, false);
        } else {
            _openRound(taskId, task, next);
        }
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
