// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the ScoringParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorStorage} from "../CoordinatorStorage.sol";
import {
    Ballot,
    Member,
    Mode,
    Round,
    RoundStatus,
    ScoreRound,
    ScoringParams,
    TaskParams,
    TaskState,
    TaskStatus,
    Validator,
    ValidatorFault
} from "../FedTypes.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {Schedule} from "../libraries/Schedule.sol";
import {Scores} from "../libraries/Scores.sol";
import {Audits} from "./Audits.sol";

/// @title Scoring
/// @notice A coordinator module: contribution scores (docs/protocol.md section 12). It runs only by
/// delegatecall from a coordinator, in its storage, reached through the Availability module's fallback; its own
/// fallback passes on to the Audits module.
///
/// A scored task has a committee of staked validators, one equal stake per seat and at most 16 seats. Each
/// round's committee is sampled from the seats by the chain's randomness when the round opens. Between the
/// reveal deadline and the propose window the committee commits to, then reveals, a score of every included
/// update, measured on each validator's own held-out data. Each update's scores sit in one packed word; their
/// median decides the rest, all of it provable by anyone at one (round, update): an update below the task's
/// threshold is dropped and its owner slashed, a validator far from the median (or silent) is slashed, and
/// each update earns its median times the round's reward per score point when its entry settles.
contract Scoring is CoordinatorStorage {
    /// @notice The score of an update as good as the best, in basis points.
    uint256 public constant SCORE_ONE = Scores.SCORE_ONE;
    /// @notice The score value that abstains from scoring an update.
    uint256 public constant NO_SCORE = Scores.NO_SCORE;
    /// @notice Most seats in a task's committee (lanes of a packed score word).
    uint256 public constant MAX_SEATS = Scores.MAX_SEATS;
    /// @dev What _lowMedian returns for an update that no validator scored (no median is this large).
    uint256 private constant UNSCORED = type(uint256).max;

    /// @notice Training audits (docs/protocol.md section 13), deployed with this module: the calls this module
    /// does not define go there.
    address public immutable AUDITS;

    constructor() {
        AUDITS = address(new Audits());
    }

    /// @notice Passes every function this module does not define to the Audits module, in the same (the
    /// coordinator's) storage.
    fallback() external {
        address module = AUDITS;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), module, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }

    // ------------------------------------------------------------------ tasks

    /// @notice Creates a plain task whose contributions a validator committee scores, and escrows
    /// numRounds * rewardPerRound of the task token from the caller (approve first).
    /// @param params Rules of the task, checked as createTask checks them; the mode must be plain.
    /// @param scoring The committee's rules (section 12.1).
    /// @param modelRoot Merkle root of the initial global model.
    /// @param modelBlobRef sha256 reference of the initial model blob.
    /// @return taskId Id of the new task.
    function createScoredTask(
        TaskParams calldata params,
        ScoringParams calldata scoring,
        bytes32 modelRoot,
        bytes32 modelBlobRef
    ) external returns (uint256 taskId) {
        uint256 escrow;
        (taskId, escrow) = _createTask(params, modelRoot, modelBlobRef);
        if (params.mode != uint8(Mode.Plain)) revert InvalidTaskParameter("mode");
        _checkScoring(params, scoring);
        _scoring[taskId] = scoring;
        _tasks[taskId].scored = true;
        emit ScoringSet(taskId, scoring);
        _collect(taskId, escrow);
    }

    // ------------------------------------------------------------------ seats

    /// @notice Takes a seat in the task's committee: the lowest free lane, with exactly validatorStake pulled
    /// from the caller. The seat sits in committees from the next round to open. Allowlisted tasks seat only
    /// approved accounts.
    /// @param taskId A running scored task.
    function joinCommittee(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        ScoringParams storage sp = _scored(taskId);
        if (_params[taskId].allowlist && !_approved[taskId][msg.sender]) revert NotApproved(msg.sender);
        Validator storage v = _validators[taskId][msg.sender];
        if (v.joined) revert AlreadyValidator(msg.sender);
        address[16] storage holders = _lanes[taskId];
        uint256 lane = 0;
        while (lane < MAX_SEATS && holders[lane] != address(0)) ++lane;
        if (lane == MAX_SEATS) revert CommitteeFull(MAX_SEATS);

        uint256 stake = sp.validatorStake;
        holders[lane] = msg.sender;
        _seated[taskId] += 1;
        v.stake = uint128(stake);
        v.lane = uint8(lane);
        v.joined = true;
        v.sinceRound = uint32(_nextRoundToOpen(taskId, task));
        emit ValidatorJoined(taskId, msg.sender, lane, stake);
        _collect(taskId, stake);
    }

    /// @notice Leaves the committee: the seat sits in no committee after the current round, and its stake
    /// may be withdrawn once that round has closed and unbondingDelay has passed.
    /// @param taskId The task.
    function requestCommitteeExit(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        Validator storage v = _seat(taskId, msg.sender);
        if (v.exitRequestedAt != 0) revert AlreadyExiting(msg.sender);
        _startExit(taskId, v, msg.sender, _nextRoundToOpen(taskId, task));
    }

    /// @notice Pays back what is left of the seat's stake and its booked fees, and frees the seat. While the
    /// task runs: after requestCommitteeExit (or a slash), once every round the seat sat in has closed and
    /// unbondingDelay has passed since the exit began.
    /// @param taskId The task.
    function withdrawValidator(uint256 taskId) external {
        TaskState storage task = _existingTask(taskId);
        Validator storage v = _seat(taskId, msg.sender);
        if (task.status == TaskStatus.Running) {
            if (v.exitRequestedAt == 0) revert NotExiting(msg.sender);
            if (v.untilRound > task.currentRound) revert CommitmentOpen(v.untilRound - 1);
            uint256 withdrawableAt = uint256(v.exitRequestedAt) + _params[taskId].unbondingDelay;
            if (block.timestamp < withdrawableAt) revert StillUnbonding(withdrawableAt);
        } else if (v.exitRequestedAt == 0) {
            _seated[taskId] -= 1;
        }
        uint256 stake = v.stake;
        uint256 fees = v.fees;
        _lanes[taskId][v.lane] = address(0);
        delete _validators[taskId][msg.sender];
        emit ValidatorWithdrawn(taskId, msg.sender, stake, fees);
        _pay(taskId, msg.sender, stake + fees);
    }

    /// @notice Pays the caller the validator fees booked to it.
    /// @param taskId The task.
    function claimValidatorFees(uint256 taskId) external {
        _existingTask(taskId);
        Validator storage v = _validators[taskId][msg.sender];
        uint256 amount = v.fees;
        if (amount == 0) revert NothingToClaim(msg.sender);
        v.fees = 0;
        emit ValidatorFeesClaimed(taskId, msg.sender, amount);
        _pay(taskId, msg.sender, amount);
    }

    // ------------------------------------------------------------------ scores

    /// @notice Commits to the caller's scores of the current round's updates: scoresHash of section 12.4.
    /// Window: revealEnd <= now < revealEnd + scoreWindow; the caller sits in the round's committee.
    /// @param taskId Task of the round.
    /// @param scoresHash keccak(abi.encode(chainId, coordinator, taskId, round, validator, participants,
    /// scores, salt)).
    function commitScores(uint256 taskId, bytes32 scoresHash) external {
        (uint256 r,, uint256 revealEnd, uint256 window) = _currentScoring(taskId);
        uint256 closesAt = revealEnd + window;
        if (block.timestamp < revealEnd || block.timestamp >= closesAt) revert OutsideWindow(revealEnd, closesAt);
        if (scoresHash == bytes32(0)) revert ZeroHash();
        if (!_onCommittee(taskId, r, msg.sender)) revert NotOnCommittee(msg.sender, r);
        Ballot storage b = _ballots[taskId][r][msg.sender];
        if (b.commitHash != bytes32(0)) revert AlreadyCommitted(msg.sender);
        b.commitHash = scoresHash;
        b.lane = _validators[taskId][msg.sender].lane;
        _scoreRounds[taskId][r].commits += 1;
        emit ScoresCommitted(taskId, r, msg.sender);
    }

    /// @notice Reveals the committed scores: one per included update of the current round, participants in
    /// strictly increasing order, each score at most SCORE_ONE or NO_SCORE to abstain. Each score is written
    /// into the caller's lane of the update's score word. The list may also name updates of the round dropped
    /// since the validator committed (so a drop between commit and reveal cannot stop an honest reveal); it
    /// must name every update still included. Window: revealEnd + scoreWindow <= now < revealEnd + 2 *
    /// scoreWindow.
    /// @param taskId Task of the round.
    /// @param participants Every included participant of the round, in increasing order.
    /// @param scores The caller's score of each one's update, in basis points of SCORE_ONE.
    /// @param salt Salt of the commitment.
    function revealScores(uint256 taskId, address[] calldata participants, uint16[] calldata scores, bytes32 salt)
        external
    {
        (uint256 r, Round storage round, uint256 revealEnd, uint256 window) = _currentScoring(taskId);
        if (block.timestamp < revealEnd + window || block.timestamp >= revealEnd + 2 * window) {
            revert OutsideWindow(revealEnd + window, revealEnd + 2 * window);
        }
        Ballot storage b = _ballots[taskId][r][msg.sender];
        if (b.revealed) revert AlreadyRevealed(msg.sender);
        if (participants.length != scores.length) revert ScoreListLength(participants.length, scores.length);
        if (b.commitHash == bytes32(0) || b.commitHash != _scoresHash(taskId, r, participants, scores, salt)) {
            revert ScoresMismatch(msg.sender);
        }
        _writeScores(taskId, r, b.lane, participants, scores, round.included);
        b.revealed = true;
        ScoreRound storage sr = _scoreRounds[taskId][r];
        sr.reveals += 1;
        sr.revealedLanes |= uint16(1 << b.lane);
        emit ScoresRevealed(taskId, r, msg.sender, participants, scores);
    }

    /// @notice Drops an update of the current round whose median score is below minScoreBps: the entry
    /// becomes Dropped, a pending proposal is voided (aggregation reopens) and the owner is slashed
    /// violationSlashBps, the bounty to the caller. An update that no validator scored (its committee was empty
    /// or silent) is dropped the same way but its owner is not slashed and the caller earns no bounty: it is not
    /// the owner's fault, and no update enters the model of a scored task unscored. Allowed from the end of the
    /// score windows while the round is active.
    /// @param taskId Task of the round.
    /// @param participant Owner of the update.
    function dropLowScore(uint256 taskId, address participant) external {
        (uint256 r, Round storage round, uint256 revealEnd, uint256 window) = _currentScoring(taskId);
        uint256 scoresEnd = revealEnd + 2 * window;
        if (block.timestamp < scoresEnd) revert OutsideWindow(scoresEnd, type(uint256).max);
        Member storage m = _members[taskId][participant];
        if (!_includedIn(m, r)) revert NotIncluded(participant);
        uint256 median = _lowMedian(taskId, r, participant);

        round.totalWeight -= uint32(Commitments.weightOf(m.entry));
        round.included -= 1;
        m.entry = Commitments.DROPPED;
        if (round.proposedAt != 0) _voidProposal(taskId, r, round, true);
        if (median == UNSCORED) {
            ScoreRound storage sr = _scoreRounds[taskId][r];
            if (!sr.unscoredDropped) sr.unscoredDropped = true;
            emit UnscoredUpdateDropped(taskId, r, participant, msg.sender);
            return;
        }
        (uint256 slashed, uint256 bounty) =
            _slashMember(taskId, participant, _params[taskId].violationSlashBps, msg.sender);
        emit UpdateScoredOut(taskId, r, participant, msg.sender, median, slashed, bounty);
        _pay(taskId, msg.sender, bounty);
    }

    // ------------------------------------------------------------------ validator faults

    /// @notice Slashes a validator whose revealed score of `participant`'s update in `round` is farther than
    /// toleranceBps from the update's median (at most once per validator and round; its seat leaves every
    /// committee from the current round on).
    /// Allowed from the end of the round's score windows.
    /// @param taskId The task. @param round The round. @param validator The validator.
    /// @param participant Owner of the update the validator scored.
    function slashDeviation(uint256 taskId, uint256 round, address validator, address participant) external {
        _requireScoresEnded(taskId, round);
        Validator storage v = _seat(taskId, validator);
        Ballot storage b = _ballots[taskId][round][validator];
        if (!b.revealed || b.slashed) revert NothingToSlash(validator);
        _requireDeviation(taskId, _scoreWords[taskId][round][participant], b.lane, validator);
        _slashValidator(taskId, round, v, b, validator, ValidatorFault.Deviated);
    }

    /// @notice Slashes a validator that sat in the committee of round `round` and revealed no scores, once the
    /// round is finalized, or failed after an update of it was dropped unscored (its score windows had ended), at
    /// most once per validator and round; its seat leaves every committee from the current round on.
    /// @param taskId The task. @param round A closed round. @param validator The validator.
    function slashSilentValidator(uint256 taskId, uint256 round, address validator) external {
        _existingTask(taskId);
        _scored(taskId);
        RoundStatus status = _rounds[taskId][round].status;
        if (
            status != RoundStatus.Finalized
                && (status != RoundStatus.Failed || !_scoreRounds[taskId][round].unscoredDropped)
        ) revert WrongRoundState(round);
        Validator storage v = _seat(taskId, validator);
        if (!_onCommittee(taskId, round, validator)) revert NotOnCommittee(validator, round);
        Ballot storage b = _ballots[taskId][round][validator];
        if (b.revealed || b.slashed) revert NothingToSlash(validator);
        _slashValidator(taskId, round, v, b, validator, ValidatorFault.Silent);
    }

    // ------------------------------------------------------------------ views

    /// @notice The task's scoring parameters (all zero for a task without scoring).
    /// @param taskId The task.
    function scoringParams(uint256 taskId) external view returns (ScoringParams memory) {
        return _scoring[taskId];
    }

    /// @notice A validator's seat (all zero without one).
    /// @param taskId The task. @param validator The validator.
    function validatorOf(uint256 taskId, address validator) external view returns (Validator memory) {
        return _validators[taskId][validator];
    }

    /// @notice A round's scoring record.
    /// @param taskId The task. @param round The round.
    function scoreRound(uint256 taskId, uint256 round) external view returns (ScoreRound memory) {
        return _scoreRounds[taskId][round];
    }

    /// @notice A validator's commitment and reveal in a round.
    /// @param taskId The task. @param round The round. @param validator The validator.
    function ballotOf(uint256 taskId, uint256 round, address validator) external view returns (Ballot memory) {
        return _ballots[taskId][round][validator];
    }

    /// @notice Whether `validator` sits in the committee of `round` (section 12.2).
    /// @param taskId The task. @param round The round. @param validator The validator.
    function onCommittee(uint256 taskId, uint256 round, address validator) external view returns (bool) {
        return _onCommittee(taskId, round, validator);
    }

    /// @notice The packed scores of `participant`'s update in `round`: lane i holds score + 1 (0: none).
    /// @param taskId The task. @param round The round. @param participant The update's owner.
    function scoresOf(uint256 taskId, uint256 round, address participant) external view returns (uint256) {
        return _scoreWords[taskId][round][participant];
    }

    /// @notice How many validators scored `participant`'s update in `round`, and the lower median of their
    /// scores (0 when none did).
    /// @param taskId The task. @param round The round. @param participant The update's owner.
    function medianScore(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (uint256 count, uint256 median)
    {
        return Scores.median(_scoreWords[taskId][round][participant]);
    }

    /// @notice The score commitment this contract expects (section 12.4).
    /// @param taskId The task. @param round The round. @param validator The validator.
    /// @param participants The included participants, increasing. @param scores One score each.
    /// @param salt The salt.
    function scoresCommitmentOf(
        uint256 taskId,
        uint256 round,
        address validator,
        address[] calldata participants,
        uint16[] calldata scores,
        bytes32 salt
    ) external view returns (bytes32) {
        return Scores.commitHash(block.chainid, address(this), taskId, round, validator, participants, scores, salt);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Range checks of section 12.1, in table order.
    function _checkScoring(TaskParams calldata params, ScoringParams calldata s) internal pure {
        if (s.committee == 0 || s.committee > MAX_SEATS) revert InvalidTaskParameter("committee");
        if (s.scoreWindow < 10) revert InvalidTaskParameter("scoreWindow");
        if (s.minScoreBps > BPS) revert InvalidTaskParameter("minScoreBps");
        if (s.toleranceBps == 0 || s.toleranceBps > BPS) revert InvalidTaskParameter("toleranceBps");
        if (s.validatorSlashBps == 0 || s.validatorSlashBps > BPS) revert InvalidTaskParameter("validatorSlashBps");
        if (uint256(s.validatorFeeBps) + params.aggregatorFeeBps > BPS) {
            revert InvalidTaskParameter("validatorFeeBps");
        }
        if (s.validatorStake == 0 || s.validatorStake > type(uint96).max) {
            revert InvalidTaskParameter("validatorStake");
        }
    }

    /// @dev The task's scoring parameters; reverts NotScored for a task without scoring.
    function _scored(uint256 taskId) internal view returns (ScoringParams storage sp) {
        if (!_tasks[taskId].scored) revert NotScored(taskId);
        sp = _scoring[taskId];
    }

    /// @dev The seat of `account`; reverts NotValidator without one.
    function _seat(uint256 taskId, address account) internal view returns (Validator storage v) {
        v = _validators[taskId][account];
        if (!v.joined) revert NotValidator(account);
    }

    /// @dev The current round of a running scored task, its end of reveals and the score window.
    function _currentScoring(uint256 taskId)
        internal
        view
        returns (uint256 r, Round storage round, uint256 revealEnd, uint256 window)
    {
        TaskState storage task = _runningTask(taskId);
        window = _scored(taskId).scoreWindow;
        r = task.currentRound;
        round = _activeRound(taskId, r);
        revealEnd = _revealEnd(taskId, r);
    }

    /// @dev Reverts unless round `round` of the scored task has opened and its score windows have ended.
    function _requireScoresEnded(uint256 taskId, uint256 round) internal view {
        TaskState storage task = _existingTask(taskId);
        _scored(taskId);
        uint256 start = _rounds[taskId][round].start;
        if (round > task.currentRound || start == 0) revert WrongRoundState(round);
        uint256 scoresEnd = _scoresEnd(taskId, Schedule.revealEnd(Mode.Plain, _params[taskId], start));
        if (block.timestamp < scoresEnd) revert OutsideWindow(scoresEnd, type(uint256).max);
    }

    /// @dev Reverts unless the score in `lane` of `word` is present and farther than toleranceBps from the
    /// word's median.
    function _requireDeviation(uint256 taskId, uint256 word, uint256 lane, address validator) internal view {
        (bool present, uint256 score) = Scores.scoreAt(word, lane);
        if (!present) revert NothingToSlash(validator);
        // slither-disable-next-line unused-return
        (, uint256 median) = Scores.median(word); // the lane's score is present, so the count is at least 1
        uint256 distance = score > median ? score - median : median - score;
        if (distance <= _scoring[taskId].toleranceBps) revert WithinTolerance(score, median);
    }

    /// @dev The median score of `participant`'s update in round r, or UNSCORED if no validator scored it; reverts
    /// if the median meets minScoreBps.
    function _lowMedian(uint256 taskId, uint256 r, address participant) internal view returns (uint256 median) {
        uint256 count;
        (count, median) = Scores.median(_scoreWords[taskId][r][participant]);
        if (count == 0) return UNSCORED;
        uint256 threshold = _scoring[taskId].minScoreBps;
        if (median >= threshold) revert ScoreAboveThreshold(median, threshold);
    }

    /// @dev The caller's scores hash of round r (section 12.4).
    function _scoresHash(
        uint256 taskId,
        uint256 r,
        address[] calldata participants,
        uint16[] calldata scores,
        bytes32 salt
    ) internal view returns (bytes32) {
        return Scores.commitHash(block.chainid, address(this), taskId, r, msg.sender, participants, scores, salt);
    }

    /// @dev Writes each score into `lane` of its update's score word of round r, checking that the participants
    /// increase, that each one revealed in round r (its update is still included, or was dropped since) and that
    /// each score is in range, and that `expected` (the round's included count) of them are still included.
    function _writeScores(
        uint256 taskId,
        uint256 r,
        uint256 lane,
        address[] calldata participants,
        uint16[] calldata scores,
        uint256 expected
    ) internal {
        uint256 included = 0;
        mapping(address => uint256) storage words = _scoreWords[taskId][r];
        mapping(address => Member) storage members = _members[taskId];
        address previous = address(0);
        for (uint256 i = 0; i < participants.length; ++i) {
            address participant = participants[i];
            if (participant <= previous) revert UpdatesNotSorted(i);
            previous = participant;
            Member storage m = members[participant];
            if (_includedIn(m, r)) {
                ++included;
            } else if (!_droppedIn(m, r)) {
                revert NotIncluded(participant);
            }
            uint256 score = scores[i];
            if (score == NO_SCORE) continue;
            if (score > SCORE_ONE) revert ScoreOutOfRange(i, score);
            words[participant] = Scores.withScore(words[participant], lane, score);
        }
        if (included != expected) revert IncompleteUpdateSet(included, expected);
    }

    /// @dev The first round a seat taken now may sit in: the current one if it has not opened yet, else the next.
    function _nextRoundToOpen(uint256 taskId, TaskState storage task) internal view returns (uint256) {
        uint256 r = task.currentRound;
        // slither-disable-next-line incorrect-equality
        return _rounds[taskId][r].start == 0 ? r : r + 1; // a start of 0 means "not open" (8.2)
    }

    /// @dev Whether the member's entry is a reveal of round r that is still included.
    function _includedIn(Member storage m, uint256 r) internal view returns (bool) {
        // slither-disable-next-line incorrect-equality
        return m.lastCommitRound == r + 1 && Commitments.isRevealed(m.entry); // round numbers, not time
    }

    /// @dev Whether the member revealed in round r and its update has been dropped from the round since.
    function _droppedIn(Member storage m, uint256 r) internal view returns (bool) {
        // slither-disable-next-line incorrect-equality
        return m.lastCommitRound == r + 1 && m.entry == Commitments.DROPPED; // round numbers and a marker, not time
    }

    /// @dev Section 12.2: the seat may sit in round r (joined by then, not gone by then) and was sampled.
    function _onCommittee(uint256 taskId, uint256 r, address validator) internal view returns (bool) {
        Validator storage v = _validators[taskId][validator];
        if (!v.joined || v.sinceRound > r) return false;
        if (v.exitRequestedAt != 0 && r >= v.untilRound) return false;
        ScoreRound storage sr = _scoreRounds[taskId][r];
        return Scores.sampled(sr.seed, sr.pool, _scoring[taskId].committee, validator);
    }

    /// @dev Starts a seat's exit: it sits in no committee of round `untilRound` or later, and leaves the pool that
    /// later committees are sampled from.
    function _startExit(uint256 taskId, Validator storage v, address validator, uint256 untilRound) internal {
        v.untilRound = uint32(untilRound);
        v.exitRequestedAt = uint40(block.timestamp);
        _seated[taskId] -= 1;
        emit ValidatorExitRequested(taskId, validator, untilRound, block.timestamp + _params[taskId].unbondingDelay);
    }

    /// @dev Ends a slashed seat's service at once: no committee from round `current` on (the current round's
    /// included), its exit started if it had not, and no fee for the current round.
    function _removeSeat(uint256 taskId, Validator storage v, address validator, uint256 current) internal {
        // It may now withdraw before the current round closes: it forfeits its fee of that round, so that no
        // fee is booked to a lane it has left.
        Ballot storage b = _ballots[taskId][current][validator];
        ScoreRound storage sr = _scoreRounds[taskId][current];
        uint16 bit = uint16(1 << b.lane);
        if (b.revealed && sr.revealedLanes & bit != 0) {
            sr.revealedLanes &= ~bit;
            sr.reveals -= 1;
        }
        if (v.exitRequestedAt == 0) {
            _startExit(taskId, v, validator, current);
        } else if (v.untilRound > current) {
            v.untilRound = uint32(current);
            emit ValidatorExitRequested(
                taskId, validator, current, uint256(v.exitRequestedAt) + _params[taskId].unbondingDelay
            );
        }
    }

    /// @dev Takes validatorSlashBps of the validator's stake for `fault` in `round`: the bounty to the caller,
    /// the rest to the pool; the ballot is marked and the seat leaves every committee from the current round on.
    function _slashValidator(
        uint256 taskId,
        uint256 round,
        Validator storage v,
        Ballot storage b,
        address validator,
        ValidatorFault fault
    ) internal {
        TaskState storage task = _tasks[taskId];
        b.slashed = true;
        uint256 slashed = uint256(v.stake) * _scoring[taskId].validatorSlashBps / BPS;
        // Intended: the bounty is a share of the amount actually slashed; rounding favours the pool.
        // slither-disable-next-line divide-before-multiply
        uint256 bounty = slashed * _params[taskId].bountyBps / BPS;
        v.stake -= uint128(slashed);
        task.pool += uint128(slashed - bounty);
        if (task.status == TaskStatus.Running) _removeSeat(taskId, v, validator, task.currentRound);
        emit ValidatorSlashed(taskId, round, validator, msg.sender, uint8(fault), slashed, bounty);
        _pay(taskId, msg.sender, bounty);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
