// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorStorage} from "../CoordinatorStorage.sol";
import {
    Aggregator,
    EntryState,
    Member,
    Mode,
    Round,
    RoundStatus,
    TaskParams,
    TaskState,
    TaskStatus
} from "../FedTypes.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {Schedule} from "../libraries/Schedule.sol";
import {NormDeclarations} from "./NormDeclarations.sol";

/// @title Registry
/// @notice A coordinator module: tasks and their escrow, membership and stakes, aggregator bonds, rewards,
/// slashing of members for missing inputs and silence, and the views of all of them (docs/protocol.md
/// section 8). It runs only by delegatecall from a coordinator (CoordinatorBase), in the coordinator's
/// storage; called directly it has no tasks, and creating one fails (the coordinator's identity is read from
/// the caller's own address). It also holds the norm declarations of norm-bounded tasks (NormDeclarations).
/// What it does not implement it passes on to the Availability module.
contract Registry is CoordinatorStorage, NormDeclarations {
    /// @notice Passes every function this module does not define to the Availability module, in the same
    /// (the coordinator's) storage.
    fallback() external {
        address module = _availabilityModule;
        if (module == address(0)) revert UnknownFunction(msg.sig);
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

    /// @notice Creates a task and escrows numRounds * rewardPerRound of the task token from the caller.
    /// @param params Immutable rules of the task; every field is validated, and its mode must be the
    /// coordinator's.
    /// @param modelRoot Merkle root of the initial global model.
    /// @param modelBlobRef sha256 reference of the initial model blob.
    /// @return taskId Id of the new task; its round 0 opens when minParticipants members have joined.
    function createTask(TaskParams calldata params, bytes32 modelRoot, bytes32 modelBlobRef)
        external
        returns (uint256 taskId)
    {
        uint256 escrow;
        (taskId, escrow) = _createTask(params, modelRoot, modelBlobRef);
        _collect(taskId, escrow);
    }

    /// @notice The requester approves members of an allowlisted task.
    /// @param taskId Task to approve for.
    /// @param accounts Addresses allowed to join.
    function approveMembers(uint256 taskId, address[] calldata accounts) external {
        TaskState storage task = _runningTask(taskId);
        if (msg.sender != task.requester) revert NotRequester(msg.sender);
        for (uint256 i = 0; i < accounts.length; ++i) {
            _approved[taskId][accounts[i]] = true;
            emit MemberApproved(taskId, accounts[i]);
        }
    }

    /// @notice Ends a task whose current round has not moved for IDLE_ROUND_SPANS round spans: now >=
    /// idleAt(taskId). Never while a proposal is pending (it can always be challenged or finalized) or an
    /// availability challenge is open (it always resolves or can be applied). Anyone may call; the requester
    /// may then withdraw the pool.
    /// @param taskId Task to end.
    function endIdleTask(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        Round storage round = _rounds[taskId][r];
        if (round.proposedAt != 0) revert ProposalPending(r);
        if (round.openChallenges != 0) revert AvailabilityPending(round.openChallenges, round.openDisputes);
        uint256 idleFrom = _idleAt(taskId, round);
        if (block.timestamp < idleFrom) revert NotIdle(idleFrom);
        task.status = TaskStatus.Abandoned;
        emit TaskEnded(taskId, true);
    }

    /// @notice The requester withdraws the unallocated pool of a completed or abandoned task. Callable again
    /// later to sweep slashed amounts that arrive after the end.
    /// @param taskId Task whose pool to withdraw.
    function withdrawPool(uint256 taskId) external {
        TaskState storage task = _existingTask(taskId);
        if (msg.sender != task.requester) revert NotRequester(msg.sender);
        if (task.status == TaskStatus.Running) revert TaskStillRunning(taskId);
        uint256 amount = task.pool;
        task.pool = 0;
        emit PoolWithdrawn(taskId, msg.sender, amount);
        _pay(taskId, msg.sender, amount);
    }

    // ------------------------------------------------------------------ membership

    /// @notice Joins a task with an initial stake of at least minStake (pulled from the caller). The join that
    /// brings the task to minParticipants members opens round 0, so no round runs before enough members are in.
    /// @param taskId Task to join.
    /// @param amount Stake to deposit.
    function join(uint256 taskId, uint256 amount) external {
        TaskState storage task = _runningTask(taskId);
        TaskParams storage p = _params[taskId];
        if (p.allowlist && !_approved[taskId][msg.sender]) revert NotApproved(msg.sender);
        Member storage m = _members[taskId][msg.sender];
        if (m.joined) revert AlreadyMember(msg.sender);
        if (amount < p.minStake) revert StakeTooLow(amount, p.minStake);
        // A new member's record is all zero (withdrawStake deletes it), entry included: write slot 0 only.
        m.stake = _toUint96(amount);
        m.activityMark = uint24(task.spareRounds);
        m.joined = true;
        uint256 members = uint256(task.members) + 1;
        task.members = uint32(members);
        emit StakeDeposited(taskId, msg.sender, amount, amount);
        if (task.currentRound == 0 && _rounds[taskId][0].start == 0 && members >= p.minParticipants) {
            _openRound(taskId, task, 0);
        }
        _collect(taskId, amount);
    }

    /// @notice Adds stake (for example after a slash brought it under minStake).
    /// @param taskId Task of the membership.
    /// @param amount Stake to add; nonzero.
    function addStake(uint256 taskId, uint256 amount) external {
        _runningTask(taskId);
        Member storage m = _joinedMember(taskId, msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 stake = m.stake + amount;
        m.stake = _toUint96(stake);
        emit StakeDeposited(taskId, msg.sender, amount, stake);
        _collect(taskId, amount);
    }

    /// @notice Starts the unbonding delay. An exiting member can no longer enter rounds but stays slashable.
    /// @param taskId Task to leave.
    function requestExit(uint256 taskId) external {
        _runningTask(taskId);
        Member storage m = _joinedMember(taskId, msg.sender);
        if (m.exiting) revert AlreadyExiting(msg.sender);
        m.exiting = true;
        m.exitRequestedAt = uint40(block.timestamp);
        _tasks[taskId].members -= 1;
        emit ExitRequested(taskId, msg.sender, block.timestamp + _params[taskId].unbondingDelay);
    }

    /// @notice Withdraws the whole stake and every booked reward, and leaves. While the task runs: only after
    /// requestExit plus the unbonding delay, and not while the round of the member's last entry is open. The
    /// last entry is settled first: its reward booked and paid, or a missing input forfeited (slashed, no
    /// bounty), so leaving never escapes that slash.
    /// @param taskId Task to leave.
    function withdrawStake(uint256 taskId) external {
        TaskState storage task = _existingTask(taskId);
        Member storage m = _joinedMember(taskId, msg.sender);
        if (task.status == TaskStatus.Running) {
            _requireUnbonded(taskId, m.exitRequestedAt);
            if (m.lastCommitRound == uint256(task.currentRound) + 1) revert CommitmentOpen(task.currentRound);
        }
        _settleEntry(taskId, m, msg.sender);
        uint256 amount = m.stake;
        uint256 rewards = m.rewards;
        if (!m.exiting) task.members -= 1; // leaving an ended task without requestExit
        delete _members[taskId][msg.sender];
        task.owedRewards -= uint128(rewards);
        emit StakeWithdrawn(taskId, msg.sender, amount);
        if (rewards != 0) emit RewardsClaimed(taskId, msg.sender, rewards);
        _pay(taskId, msg.sender, amount + rewards);
    }

    // ------------------------------------------------------------------ aggregators

    /// @notice Posts or adds aggregator bond; proposing needs a bond of at least aggregatorBond.
    /// @param taskId Task to aggregate for.
    /// @param amount Bond to add; nonzero.
    function postBond(uint256 taskId, uint256 amount) external {
        _runningTask(taskId);
        if (amount == 0) revert ZeroAmount();
        Aggregator storage a = _aggregators[taskId][msg.sender];
        if (a.exitRequestedAt != 0) revert AlreadyExiting(msg.sender);
        uint256 bond = a.bond + amount;
        a.bond = _toUint128(bond);
        a.bonded = true;
        emit BondDeposited(taskId, msg.sender, amount, bond);
        _collect(taskId, amount);
    }

    /// @notice Starts the bond's unbonding delay; an exiting aggregator can no longer propose.
    /// @param taskId Task of the bond.
    function requestBondExit(uint256 taskId) external {
        _runningTask(taskId);
        Aggregator storage a = _aggregators[taskId][msg.sender];
        if (!a.bonded) revert NotEligibleAggregator(msg.sender);
        if (a.exitRequestedAt != 0) revert AlreadyExiting(msg.sender);
        a.exitRequestedAt = uint40(block.timestamp);
        emit BondExitRequested(taskId, msg.sender, block.timestamp + _params[taskId].unbondingDelay);
    }

    /// @notice Withdraws the whole bond. While the task runs: only after requestBondExit plus the unbonding
    /// delay, and not while the caller's proposal is pending. The record of the round the aggregator was barred
    /// in stays, so withdrawing and posting again does not lift the bar.
    /// @param taskId Task of the bond.
    function withdrawBond(uint256 taskId) external {
        TaskState storage task = _existingTask(taskId);
        Aggregator storage a = _aggregators[taskId][msg.sender];
        if (!a.bonded) revert NotEligibleAggregator(msg.sender);
        if (task.status == TaskStatus.Running) {
            _requireUnbonded(taskId, a.exitRequestedAt);
            Round storage round = _rounds[taskId][task.currentRound];
            if (round.proposedAt != 0 && round.aggregator == msg.sender) revert ProposalPending(task.currentRound);
        }
        uint256 amount = a.bond;
        a.bond = 0;
        a.exitRequestedAt = 0;
        a.bonded = false;
        emit BondWithdrawn(taskId, msg.sender, amount);
        _pay(taskId, msg.sender, amount);
    }

    // ------------------------------------------------------------------ slashing

    /// @notice Slashes a member that entered `round` and did not give its input in time (docs/protocol.md
    /// section 8.6): a commitment never revealed (plain) or uploaded (secure), from the reveal (upload)
    /// deadline on; a secure advertisement never followed by a commitment, from the commit deadline on, in a
    /// round with more advertised members than the threshold. Callable until the member enters a round again
    /// (which forfeits the entry without a bounty), once per entry. Bounty to the caller.
    /// @param taskId Task of the round.
    /// @param round Round of the entry.
    /// @param participant The member.
    function slashMissedReveal(uint256 taskId, uint256 round, address participant) external {
        TaskState storage task = _existingTask(taskId);
        if (round > task.currentRound) revert WrongRoundState(round);
        Member storage m = _members[taskId][participant];
        if (m.lastCommitRound != round + 1) revert NothingToSlash(participant);
        (uint256 slashableAt, bool slashable) = _missedInputAt(taskId, round, m.entry);
        if (!slashable) revert NothingToSlash(participant);
        if (block.timestamp < slashableAt) revert OutsideWindow(slashableAt, type(uint256).max);
        uint256 bounty = _forfeit(taskId, round, participant, msg.sender);
        _pay(taskId, msg.sender, bounty);
    }

    /// @notice Slashes a member that has not entered a round while more than maxSilentRounds rounds with room in
    /// their cohort closed (spareRounds - activityMark > maxSilentRounds). Bounty to the caller; the silence
    /// count restarts.
    /// @param taskId Task of the membership.
    /// @param member The silent member.
    function slashSilence(uint256 taskId, address member) external {
        TaskState storage task = _runningTask(taskId);
        TaskParams storage p = _params[taskId];
        Member storage m = _members[taskId][member];
        if (!m.joined) revert NotMember(member);
        if (m.exiting || task.spareRounds - m.activityMark <= p.maxSilentRounds) revert NotSilent(member);
        m.activityMark = uint24(task.spareRounds);
        (uint256 slashed, uint256 bounty) = _slashMember(taskId, member, p.silenceSlashBps, msg.sender);
        emit SilenceSlashed(taskId, member, slashed, bounty);
        _pay(taskId, msg.sender, bounty);
    }

    // ------------------------------------------------------------------ rewards

    /// @notice Pays the caller every reward booked to it in this task. The caller's last entry is settled
    /// first when its round has closed, so nothing is left behind.
    /// @param taskId Task of the rewards.
    function claimRewards(uint256 taskId) external {
        TaskState storage task = _existingTask(taskId);
        Member storage m = _members[taskId][msg.sender];
        if (_entryClosed(task, m)) _settleEntry(taskId, m, msg.sender);
        uint256 amount = m.rewards;
        if (amount == 0) revert NothingToClaim(msg.sender);
        m.rewards = 0;
        task.owedRewards -= uint128(amount);
        emit RewardsClaimed(taskId, msg.sender, amount);
        _pay(taskId, msg.sender, amount);
    }

    /// @notice Claims the caller's accrued aggregator fees.
    /// @param taskId Task of the fees.
    function claimFees(uint256 taskId) external {
        _existingTask(taskId);
        uint256 amount = _fees[taskId][msg.sender];
        if (amount == 0) revert ZeroAmount();
        _fees[taskId][msg.sender] = 0;
        emit FeesClaimed(taskId, msg.sender, amount);
        _pay(taskId, msg.sender, amount);
    }

    // ------------------------------------------------------------------ evaluations

    /// @notice Publishes the caller's evaluation of the model that finalized round `round` anchored, measured on
    /// the caller's own held-out data, so every party sees how good each global model is. Anyone may publish
    /// (the requester by default); readers attribute each evaluation to its evaluator. Emits ModelEvaluated.
    /// @param taskId Task of the round.
    /// @param round A finalized round.
    /// @param metrics A JSON object of metric names to numbers, 1 to MAX_METRICS_BYTES bytes.
    function publishEvaluation(uint256 taskId, uint256 round, string calldata metrics) external {
        _existingTask(taskId);
        if (_rounds[taskId][round].status != RoundStatus.Finalized) revert WrongRoundState(round);
        uint256 length = bytes(metrics).length;
        if (length == 0 || length > MAX_METRICS_BYTES) revert MetricsLength(length, MAX_METRICS_BYTES);
        emit ModelEvaluated(taskId, round, msg.sender, metrics);
    }

    // ------------------------------------------------------------------ views

    /// @notice The immutable rules of a task.
    /// @param taskId The task.
    function taskParams(uint256 taskId) external view returns (TaskParams memory) {
        return _params[taskId];
    }

    /// @notice Pool, owed rewards, requester, current round, silence counter, depth, status and global model.
    /// @param taskId The task.
    function taskState(uint256 taskId) external view returns (TaskState memory) {
        return _tasks[taskId];
    }

    /// @notice Decoded state of a member's entry in `round`: Empty unless `round` is the round of its last
    /// entry and the entry is not settled yet.
    /// @param taskId The task. @param round The round. @param participant The member.
    function entryState(uint256 taskId, uint256 round, address participant) external view returns (EntryState) {
        Member storage m = _members[taskId][participant];
        bytes32 entry = m.entry;
        if (m.lastCommitRound != round + 1 || entry == bytes32(0)) return EntryState.Empty;
        if (entry == Commitments.DROPPED) return EntryState.Dropped;
        if (Commitments.isForfeited(entry)) return EntryState.Forfeited;
        if (Commitments.isAdvertised(entry)) return EntryState.Advertised;
        return Commitments.isRevealed(entry) ? EntryState.Revealed : EntryState.Committed;
    }

    /// @notice A member's stake record and entry word.
    /// @param taskId The task. @param member The member.
    function memberOf(uint256 taskId, address member) external view returns (Member memory) {
        return _members[taskId][member];
    }

    /// @notice An aggregator's bond record.
    /// @param taskId The task. @param aggregator The aggregator.
    function aggregatorOf(uint256 taskId, address aggregator) external view returns (Aggregator memory) {
        return _aggregators[taskId][aggregator];
    }

    /// @notice Whether the requester approved `account` (allowlisted tasks).
    /// @param taskId The task. @param account The account.
    function isApproved(uint256 taskId, address account) external view returns (bool) {
        return _approved[taskId][account];
    }

    /// @notice Aggregator fees claimable by `aggregator`.
    /// @param taskId The task. @param aggregator The aggregator.
    function feesOf(uint256 taskId, address aggregator) external view returns (uint256) {
        return _fees[taskId][aggregator];
    }

    /// @notice What claimRewards would pay `account` now: its booked rewards, plus the reward of its last
    /// reveal if that round finalized and the entry is not settled yet.
    /// @param taskId The task. @param account The account.
    function claimable(uint256 taskId, address account) external view returns (uint256 amount) {
        Member storage m = _members[taskId][account];
        amount = m.rewards;
        if (_entryClosed(_tasks[taskId], m) && Commitments.isRevealed(m.entry)) {
            (uint256 reward,) = _revealReward(taskId, m.lastCommitRound - 1, m.entry, account);
            amount += reward;
        }
    }

    /// @notice Whether `account` may enter round `round` as far as its cohort goes: true unless the round's cohort
    /// was sampled and `account` is not in it (docs/protocol.md section 8.2). Says nothing of membership or stake.
    /// @param taskId The task. @param round The round. @param account The account.
    function inCohort(uint256 taskId, uint256 round, address account) external view returns (bool) {
        return _inCohort(taskId, _rounds[taskId][round], account);
    }

    /// @notice From when endIdleTask may end the task: IDLE_ROUND_SPANS round spans after the later of the
    /// current round's start (the task's creation while round 0 waits for members) and its last settled
    /// availability challenge (the span: input phases, a propose and a challenge window). 2^256 - 1 while a
    /// proposal is pending or a challenge is open.
    /// @param taskId The task.
    function idleAt(uint256 taskId) external view returns (uint256) {
        TaskState storage task = _runningTask(taskId);
        Round storage round = _rounds[taskId][task.currentRound];
        if (round.proposedAt != 0 || round.openChallenges != 0) return type(uint256).max;
        return _idleAt(taskId, round);
    }

    // ------------------------------------------------------------------ internals

    function _idleAt(uint256 taskId, Round storage round) internal view returns (uint256) {
        TaskParams storage p = _params[taskId];
        uint256 start = round.start == 0 ? _tasks[taskId].createdAt : round.start;
        uint256 from = round.settledAt > start ? round.settledAt : start;
        return from + IDLE_ROUND_SPANS * (Schedule.span(Mode(p.mode), p) + _scoreSpan(taskId));
    }

    /// @dev Reverts unless the caller asked to exit (at `exitRequestedAt`) and the unbonding delay has passed.
    function _requireUnbonded(uint256 taskId, uint40 exitRequestedAt) internal view {
        if (exitRequestedAt == 0) revert NotExiting(msg.sender);
        uint256 withdrawableAt = uint256(exitRequestedAt) + _params[taskId].unbondingDelay;
        if (block.timestamp < withdrawableAt) revert StillUnbonding(withdrawableAt);
    }

    function _toUint128(uint256 value) internal pure returns (uint128) {
        if (value > type(uint128).max) revert AmountTooLarge(value);
        return uint128(value);
    }

    function _toUint96(uint256 value) internal pure returns (uint96) {
        if (value > type(uint96).max) revert AmountTooLarge(value);
        return uint96(value);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
