// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {ICoordinator, ICoordinatorEvents} from "./ICoordinator.sol";
import {
    Aggregator,
    Audit,
    AuditParams,
    Ballot,
    Dataset,
    Dispute,
    InputChallenge,
    Member,
    Mode,
    Round,
    RoundStatus,
    ScoreRound,
    ScoringParams,
    TaskParams,
    TaskState,
    TaskStatus,
    Validator
} from "./FedTypes.sol";
import {TaskParamsValidator} from "./TaskParamsValidator.sol";
import {Cohort} from "./libraries/Cohort.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";
import {Schedule} from "./libraries/Schedule.sol";
import {Scores} from "./libraries/Scores.sol";
import {SecureRound} from "./secure/SecureTypes.sol";

/// @title CoordinatorStorage
/// @notice The one storage layout of a coordinator and the rules that several of its parts apply to it
/// (settling a member's entry, slashing, rejecting or voiding a proposal). A coordinator is its round machine
/// (FedCoordinator or SecureCoordinator, on CoordinatorBase) plus two modules that it runs by delegatecall in
/// its own storage: the Registry (tasks, membership, bonds, rewards, member slashing) and Availability
/// (availability challenges and model disputes). All of them inherit this contract and declare no state of
/// their own, so they all read and write the same slots (the artifact check compares their layouts).
abstract contract CoordinatorStorage is ICoordinatorEvents {
    using SafeERC20 for IERC20;

    /// @notice Basis-point denominator of every rate.
    uint256 public constant BPS = 10_000;
    /// @notice A task whose current round has not moved for this many round spans is idle and can be ended.
    uint256 public constant IDLE_ROUND_SPANS = 8;
    /// @notice A round without a pending proposal this many (propose + challenge) windows after its inputs
    /// were settled has stalled (nobody can or will aggregate it) and can be failed.
    uint256 public constant STALL_WINDOWS = 4;
    /// @notice Longest metrics text an evaluation may publish, in bytes.
    uint256 public constant MAX_METRICS_BYTES = 1024;

    /// @notice Id the next task will get (ids start at 1).
    uint256 public nextTaskId = 1;

    /// @dev The Availability module's address, written once by the coordinator's constructor: the Registry
    /// forwards the calls it does not implement there. (Slither sees each contract alone; the modules run by
    /// delegatecall in the coordinator's storage, where the constructor and createTask write these.)
    // slither-disable-next-line uninitialized-state
    address internal _availabilityModule;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => TaskParams) internal _params;
    mapping(uint256 taskId => TaskState) internal _tasks;
    mapping(uint256 taskId => mapping(uint256 round => Round)) internal _rounds;
    mapping(uint256 taskId => mapping(address member => Member)) internal _members;
    mapping(uint256 taskId => mapping(address aggregator => Aggregator)) internal _aggregators;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => mapping(address account => bool)) internal _approved;
    mapping(uint256 taskId => mapping(address aggregator => uint256)) internal _fees;
    mapping(uint256 taskId => mapping(uint256 round => SecureRound)) internal _secure;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address owner => InputChallenge))) internal _challenges;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address challenger => Dispute))) internal _disputes;
    // Contribution scores (docs/protocol.md section 12; all empty for a task without scoring). The Scoring
    // module writes them.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => ScoringParams) internal _scoring;
    mapping(uint256 taskId => mapping(address validator => Validator)) internal _validators;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => address[16] holders) internal _lanes;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => uint256 seats) internal _seated;
    mapping(uint256 taskId => mapping(uint256 round => ScoreRound)) internal _scoreRounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address validator => Ballot))) internal _ballots;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => mapping(uint256 round => mapping(address participant => uint256 word))) internal
        _scoreWords;
    // Training audits (docs/protocol.md section 13; all empty for a task without audits). The Audits module
    // writes them.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => AuditParams) internal _auditing;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => mapping(address member => Dataset)) internal _datasets;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => mapping(uint256 round => mapping(address member => bytes32 root))) internal _trajectories;
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => mapping(uint256 round => uint256 seed)) internal _auditSeeds;
    mapping(
        uint256 taskId => mapping(uint256 round => mapping(address participant => mapping(uint256 step => Audit)))
    ) internal _audits;
    // Norm declarations of a norm-bounded task (docs/protocol.md section 4.4): NormTree.declaration of the member's
    // last declared round, overwritten round after round. The NormDeclarations part of the Registry writes them.
    // slither-disable-next-line uninitialized-state
    mapping(uint256 taskId => mapping(address member => bytes32 word)) internal _norms;

    // ------------------------------------------------------------------ lookups

    function _existingTask(uint256 taskId) internal view returns (TaskState storage task) {
        task = _tasks[taskId];
        if (task.status == TaskStatus.None) revert UnknownTask(taskId);
    }

    function _runningTask(uint256 taskId) internal view returns (TaskState storage task) {
        task = _existingTask(taskId);
        if (task.status != TaskStatus.Running) revert TaskNotRunning(taskId);
    }

    function _activeRound(uint256 taskId, uint256 r) internal view returns (Round storage round) {
        round = _rounds[taskId][r];
        if (round.status != RoundStatus.Active) revert WrongRoundState(r);
        if (round.start == 0) revert WaitingForMembers(_tasks[taskId].members, _params[taskId].minParticipants);
    }

    function _joinedMember(uint256 taskId, address account) internal view returns (Member storage m) {
        m = _members[taskId][account];
        if (!m.joined) revert NotMember(account);
    }

    function _token(uint256 taskId) internal view returns (IERC20) {
        return IERC20(_params[taskId].token);
    }

    /// @dev End of the input phases of round r (its propose window opens then), by the task's mode.
    function _revealEnd(uint256 taskId, uint256 r) internal view returns (uint256) {
        TaskParams storage p = _params[taskId];
        return Schedule.revealEnd(Mode(p.mode), p, _rounds[taskId][r].start);
    }

    /// @dev Creates a task from checked params (TaskParamsValidator, and the coordinator's mode) and emits
    /// TaskCreated (docs/protocol.md section 8.1); the caller then collects `escrow` (numRounds *
    /// rewardPerRound) from msg.sender, last.
    function _createTask(TaskParams calldata params, bytes32 modelRoot, bytes32 modelBlobRef)
        internal
        returns (uint256 taskId, uint256 escrow)
    {
        ICoordinator self = ICoordinator(address(this));
        uint256[6] memory words = TaskParamsValidator(self.PARAMS_VALIDATOR()).validate(params);
        if (params.mode != self.MODE()) revert InvalidTaskParameter("mode");
        if (modelRoot == bytes32(0)) revert InvalidTaskParameter("modelRoot");
        if (modelBlobRef == bytes32(0)) revert InvalidTaskParameter("modelBlobRef");
        escrow = uint256(params.numRounds) * params.rewardPerRound; // < 2^96: checked by the validator

        taskId = nextTaskId++;
        TaskParams storage stored = _params[taskId];
        // The validator returns the struct in its storage layout; one write per slot.
        assembly ("memory-safe") {
            let slot := stored.slot
            for { let i := 0 } lt(i, 6) { i := add(i, 1) } { sstore(add(slot, i), mload(add(words, shl(5, i)))) }
        }
        TaskState storage task = _tasks[taskId];
        task.pool = uint128(escrow);
        task.requester = msg.sender;
        task.depth = uint8(PositionalMerkle.depthFor(params.numParams, params.wordsPerLeaf));
        task.status = TaskStatus.Running;
        task.modelRoot = modelRoot;
        task.modelBlobRef = modelBlobRef;
        task.createdAt = uint40(block.timestamp);

        emit TaskCreated(taskId, msg.sender, params.token, modelRoot, modelBlobRef, params.modelSpecHash, escrow);
    }

    // ------------------------------------------------------------------ rounds

    /// @dev Opens round r of a running task now. With more members than the cohort takes, its cohort is sampled
    /// by the block's randomness (Cohort); the task remembers whether the current round is sampled.
    function _openRound(uint256 taskId, TaskState storage task, uint256 r) internal {
        Round storage round = _rounds[taskId][r];
        round.start = uint40(block.timestamp);
        uint256 members = task.members;
        bool sampled = members > _params[taskId].cohortCap;
        task.sampled = sampled;
        emit RoundOpened(taskId, r, block.timestamp);
        if (sampled) {
            uint160 roundSeed = Cohort.seed(block.prevrandao, taskId, r);
            round.sampledFrom = uint32(members);
            round.cohortSeed = roundSeed;
            emit CohortSampled(taskId, r, members, roundSeed);
        }
        if (task.scored) {
            _scoreRounds[taskId][r] = ScoreRound({
                seed: Scores.seed(block.prevrandao, taskId, r),
                pool: uint8(_seated[taskId]),
                commits: 0,
                reveals: 0,
                revealedLanes: 0,
                unscoredDropped: false
            });
        }
    }

    /// @dev End of the score windows of round r (section 12.3): its propose window opens then. Without
    /// scoring it is the end of the input phases.
    function _scoresEnd(uint256 taskId, uint256 revealEnd) internal view returns (uint256) {
        return revealEnd + _scoreSpan(taskId);
    }

    /// @dev How long a round's score windows last: 2 * scoreWindow for a scored task, else 0.
    function _scoreSpan(uint256 taskId) internal view returns (uint256) {
        return _tasks[taskId].scored ? 2 * uint256(_scoring[taskId].scoreWindow) : 0;
    }

    /// @dev Whether `account` may enter round `round` (every member may, unless its cohort was sampled).
    function _inCohort(uint256 taskId, Round storage round, address account) internal view returns (bool) {
        return Cohort.includes(round.cohortSeed, round.sampledFrom, _params[taskId].cohortCap, account);
    }

    // ------------------------------------------------------------------ the pending proposal

    /// @dev End of the pending proposal's challenge window: challengeWindow after the later of the proposal and
    /// the round's last settled availability challenge (new data on chain gives watchers a full window again).
    function _challengeEnd(TaskParams storage p, Round storage round) internal view returns (uint256) {
        uint256 from = round.settledAt > round.proposedAt ? round.settledAt : round.proposedAt;
        return from + p.challengeWindow;
    }

    /// @dev Whether the pending proposal may still be challenged: its window is open, or availability
    /// challenges or model disputes hold it open.
    function _challengeable(TaskParams storage p, Round storage round) internal view returns (bool) {
        if (round.proposedAt == 0) return false;
        return block.timestamp < _challengeEnd(p, round) || round.openChallenges != 0 || round.openDisputes != 0;
    }

    /// @dev Clears the pending proposal without fault (its input set changed, or the round ends): every model
    /// dispute of it becomes moot.
    function _voidProposal(uint256 taskId, uint256 r, Round storage round, bool reopen) internal {
        emit ProposalVoided(taskId, r, round.aggregator);
        round.proposedAt = 0;
        round.openDisputes = 0;
        if (reopen) {
            round.proposeStart = uint40(block.timestamp);
            emit AggregationReopened(taskId, r, block.timestamp);
        }
    }

    /// @dev Rejects the pending proposal as wrong (proven at `leafIndex`, or 2^256 - 1 for a tree that was not
    /// opened in time): the aggregator loses aggregatorSlashBps of its bond and is barred for the round, the
    /// bounty goes to `beneficiary`, the rest to the pool, and a new propose window opens.
    function _rejectProposal(uint256 taskId, uint256 r, Round storage round, uint256 leafIndex, address beneficiary)
        internal
    {
        TaskParams storage p = _params[taskId];
        address aggregator = round.aggregator;
        Aggregator storage a = _aggregators[taskId][aggregator];
        uint256 slashed = uint256(a.bond) * p.aggregatorSlashBps / BPS;
        // Intended: the bounty is a share of the amount actually slashed; rounding favours the pool.
        // slither-disable-next-line divide-before-multiply
        uint256 bounty = slashed * p.bountyBps / BPS;
        a.bond -= uint128(slashed);
        a.barredRound = uint32(r + 1);
        _tasks[taskId].pool += uint128(slashed - bounty);
        round.proposedAt = 0;
        round.openDisputes = 0;
        round.proposeStart = uint40(block.timestamp);
        emit ProposalRejected(taskId, r, aggregator, beneficiary, leafIndex, slashed, bounty);
        emit AggregationReopened(taskId, r, block.timestamp);
        _pay(taskId, beneficiary, bounty);
    }

    // ------------------------------------------------------------------ members' entries

    /// @dev Whether the round of the member's entry has closed: an earlier round than the current one, or any
    /// round once the task has ended.
    function _entryClosed(TaskState storage task, Member storage m) internal view returns (bool) {
        return m.lastCommitRound != 0 && (m.lastCommitRound <= task.currentRound || task.status != TaskStatus.Running);
    }

    /// @dev From when the member's entry of round r can be slashed for a missing input, and whether it can at
    /// all: a commitment with no reveal (plain) or upload (secure) from the missed-input deadline on; a secure
    /// advertisement with no commitment from the commit deadline on, if the round had enough advertised
    /// members (more than the threshold t) for every one of them to share its secrets.
    function _missedInputAt(uint256 taskId, uint256 r, bytes32 entry)
        internal
        view
        returns (uint256 slashableAt, bool slashable)
    {
        TaskParams storage p = _params[taskId];
        Round storage round = _rounds[taskId][r];
        if (Commitments.isCommitted(entry)) return (Schedule.missedInputAt(Mode(p.mode), p, round.start), true);
        if (Commitments.isAdvertised(entry)) {
            return (Schedule.commitEnd(Mode(p.mode), p, round.start), round.commits > p.threshold);
        }
        return (0, false);
    }

    /// @dev Settles the member's entry once its round has closed (callers ensure it has): a reveal books its
    /// reward (_revealReward; zero unless the round finalized) to the member's earnings, and in a scored task
    /// returns what its score did not earn to the pool; a missing input (8.3) is forfeited (slashed, no
    /// bounty) once it is slashable. The entry is then empty.
    function _settleEntry(uint256 taskId, Member storage m, address account) internal {
        bytes32 entry = m.entry;
        if (entry == bytes32(0)) return;
        uint256 r = m.lastCommitRound - 1;
        if (Commitments.isRevealed(entry)) {
            (uint256 reward, uint256 unearned) = _revealReward(taskId, r, entry, account);
            // reward <= the round's allocation <= escrow < 2^96 (TaskParamsValidator.MAX_AMOUNT), and so is
            // every sum of a member's rewards.
            if (reward != 0) m.rewards += uint96(reward);
            if (unearned != 0) {
                TaskState storage task = _tasks[taskId];
                task.owedRewards -= uint128(unearned);
                task.pool += uint128(unearned);
            }
        } else {
            (uint256 slashableAt, bool slashable) = _missedInputAt(taskId, r, entry);
            if (slashable) {
                if (block.timestamp < slashableAt) return;
                _forfeit(taskId, r, account, address(0));
            }
        }
        m.entry = bytes32(0);
    }

    /// @dev What a reveal of closed round r earns, and what of the round's allocation for it goes back to the
    /// pool: weight * rewardPerWeight without scoring (8.5); with scoring (12.6) median * perPoint, and the
    /// rest of SCORE_ONE * perPoint back (all of it for an unscored update).
    function _revealReward(uint256 taskId, uint256 r, bytes32 entry, address account)
        internal
        view
        returns (uint256 reward, uint256 unearned)
    {
        uint256 perUnit = _rewardPerWeight(taskId, r);
        // slither-disable-next-line incorrect-equality
        if (perUnit == 0) return (0, 0); // the round failed, or its reward per unit rounded to nothing
        if (!_tasks[taskId].scored) return (Commitments.weightOf(entry) * perUnit, 0);
        // The median of no scores is 0: an unscored update earns nothing.
        // slither-disable-next-line unused-return
        (, uint256 median) = Scores.median(_scoreWords[taskId][r][account]);
        return (median * perUnit, (Scores.SCORE_ONE - median) * perUnit);
    }

    /// @dev Reward per weight of closed round r: the task caches the last closed round's (members that commit
    /// every round book from there without reading the round).
    function _rewardPerWeight(uint256 taskId, uint256 r) internal view returns (uint256) {
        TaskState storage task = _tasks[taskId];
        if (r + 1 == task.currentRound) return task.lastRewardPerWeight;
        return _rounds[taskId][r].rewardPerWeight;
    }

    /// @dev Marks a missing input forfeited and slashes its owner missedRevealSlashBps; returns the bounty owed
    /// to `challenger` (none when challenger is the zero address). A commitment keeps its word (bit 2 set, so a
    /// secure fraud proof still binds the member's record); an advertisement becomes the bare forfeit mark.
    function _forfeit(uint256 taskId, uint256 r, address participant, address challenger)
        internal
        returns (uint256 bounty)
    {
        Member storage m = _members[taskId][participant];
        bytes32 entry = m.entry;
        m.entry = Commitments.isCommitted(entry) ? Commitments.forfeitedEntry(entry) : Commitments.FORFEITED_MARK;
        uint256 slashed;
        (slashed, bounty) = _slashMember(taskId, participant, _params[taskId].missedRevealSlashBps, challenger);
        emit MissedRevealSlashed(taskId, r, participant, slashed, bounty);
    }

    /// @dev Takes `bps` of the member's stake: the bounty share for `challenger` (if any) is returned for the
    /// caller to pay, the rest goes to the task's pool.
    function _slashMember(uint256 taskId, address member, uint256 bps, address challenger)
        internal
        returns (uint256 slashed, uint256 bounty)
    {
        Member storage m = _members[taskId][member];
        slashed = uint256(m.stake) * bps / BPS;
        // Intended: the bounty is a share of the amount actually slashed; rounding favours the pool.
        // slither-disable-next-line divide-before-multiply
        if (challenger != address(0)) bounty = slashed * _params[taskId].bountyBps / BPS;
        m.stake -= uint96(slashed);
        _tasks[taskId].pool += uint128(slashed - bounty);
    }

    /// @dev Transfers `amount` of the task's token to `to` (nothing when zero). Callers change state first.
    function _pay(uint256 taskId, address to, uint256 amount) internal {
        if (amount != 0) _token(taskId).safeTransfer(to, amount);
    }

    /// @dev Pulls `amount` of the task's token from the caller (only ever from msg.sender: nobody's approval
    /// can be spent by another account).
    function _collect(uint256 taskId, uint256 amount) internal {
        _token(taskId).safeTransferFrom(msg.sender, address(this), amount);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
