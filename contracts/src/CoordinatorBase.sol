// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IFedCoordinatorEvents} from "./IFedCoordinator.sol";
import {
    Aggregator,
    EntryState,
    Member,
    Mode,
    Round,
    RoundPhase,
    RoundStatus,
    RoundView,
    TaskParams,
    TaskState,
    TaskStatus
} from "./FedTypes.sol";
import {TaskParamsValidator} from "./TaskParamsValidator.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";

/// @title CoordinatorBase
/// @notice What every coordinator of federated training tasks shares, whatever its round machine: tasks and
/// their escrow, membership and stakes, aggregator bonds, the proposal lifecycle (reopen, fail, finalize),
/// rewards booked into each member's record and claimed at once, slashing and every view. There is no
/// admin: every rule is fixed per task at creation and every stall can be resolved by anyone. A concrete
/// coordinator adds how members feed a round (docs/protocol.md sections 7-10).
abstract contract CoordinatorBase is IFedCoordinatorEvents {
    using SafeERC20 for IERC20;

    /// @notice Basis-point denominator of every rate.
    uint256 public constant BPS = 10_000;
    /// @notice A task whose current round started this many full round spans ago is idle and can be ended.
    uint256 public constant IDLE_ROUND_SPANS = 8;
    /// @notice A round without a pending proposal this many (propose + challenge) windows after its
    /// participants' phases ended has stalled (nobody can or will aggregate it) and can be failed.
    uint256 public constant STALL_WINDOWS = 4;

    /// @notice Stateless checker of TaskParams, deployed with this contract (keeps it under EIP-170).
    TaskParamsValidator public immutable PARAMS_VALIDATOR;

    /// @notice Id the next task will get (ids start at 1).
    uint256 public nextTaskId = 1;

    mapping(uint256 taskId => TaskParams) internal _params;
    mapping(uint256 taskId => TaskState) internal _tasks;
    mapping(uint256 taskId => mapping(uint256 round => Round)) internal _rounds;
    mapping(uint256 taskId => mapping(address member => Member)) internal _members;
    mapping(uint256 taskId => mapping(address aggregator => Aggregator)) internal _aggregators;
    mapping(uint256 taskId => mapping(address account => bool)) internal _approved;
    mapping(uint256 taskId => mapping(address aggregator => uint256)) internal _fees;

    constructor() {
        PARAMS_VALIDATOR = new TaskParamsValidator();
    }

    // ------------------------------------------------------------------ tasks

    /// @notice Creates a task and escrows numRounds * rewardPerRound of the task token from the caller.
    /// @param params Immutable rules of the task; every field is validated.
    /// @param modelRoot Merkle root of the initial global model.
    /// @param modelBlobRef sha256 reference of the initial model blob.
    /// @return taskId Id of the new task; its round 0 opens now.
    function createTask(TaskParams calldata params, bytes32 modelRoot, bytes32 modelBlobRef)
        external
        returns (uint256 taskId)
    {
        uint256[6] memory words = PARAMS_VALIDATOR.validate(params);
        if (params.mode != uint8(_mode())) revert InvalidTaskParameter("mode");
        if (modelRoot == bytes32(0)) revert InvalidTaskParameter("modelRoot");
        if (modelBlobRef == bytes32(0)) revert InvalidTaskParameter("modelBlobRef");
        uint256 escrow = uint256(params.numRounds) * params.rewardPerRound; // < 2^128: uint32 * uint96

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
        _rounds[taskId][0].start = uint40(block.timestamp);

        emit TaskCreated(taskId, msg.sender, params.token, modelRoot, modelBlobRef, params.modelSpecHash, escrow);
        emit RoundOpened(taskId, 0, block.timestamp);
        IERC20(params.token).safeTransferFrom(msg.sender, address(this), escrow);
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

    /// @notice Ends a task whose current round started IDLE_ROUND_SPANS round spans ago (span = the sum of
    /// the four windows) without closing. Anyone may call; the requester may then withdraw the pool.
    /// @param taskId Task to end.
    function endIdleTask(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        TaskParams storage p = _params[taskId];
        uint256 r = task.currentRound;
        Round storage round = _rounds[taskId][r];
        uint256 span = uint256(p.commitWindow) + p.revealWindow + p.proposeWindow + p.challengeWindow;
        uint256 idleAt = round.start + IDLE_ROUND_SPANS * span;
        if (block.timestamp < idleAt) revert NotIdle(idleAt);
        if (round.proposedAt != 0) _voidProposal(taskId, r, round, false);
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
        _token(taskId).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ membership

    /// @notice Joins a task with an initial stake of at least minStake (pulled from the caller).
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
        emit StakeDeposited(taskId, msg.sender, amount, amount);
        _token(taskId).safeTransferFrom(msg.sender, address(this), amount);
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
        _token(taskId).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts the unbonding delay. An exiting member can no longer commit but stays slashable.
    /// @param taskId Task to leave.
    function requestExit(uint256 taskId) external {
        _runningTask(taskId);
        Member storage m = _joinedMember(taskId, msg.sender);
        if (m.exiting) revert AlreadyExiting(msg.sender);
        m.exiting = true;
        m.exitRequestedAt = uint40(block.timestamp);
        emit ExitRequested(taskId, msg.sender, block.timestamp + _params[taskId].unbondingDelay);
    }

    /// @notice Withdraws the whole stake and every booked reward, and leaves. While the task runs: only after
    /// requestExit plus the unbonding delay, and not while the round of the member's last commit is open. The
    /// last entry is settled first: its reward booked and paid, or an unrevealed commitment forfeited
    /// (slashed, no bounty), so leaving never escapes that slash.
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
        delete _members[taskId][msg.sender];
        task.owedRewards -= uint128(rewards);
        emit StakeWithdrawn(taskId, msg.sender, amount);
        if (rewards != 0) emit RewardsClaimed(taskId, msg.sender, rewards);
        _token(taskId).safeTransfer(msg.sender, amount + rewards);
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
        _token(taskId).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts the bond's unbonding delay; an exiting aggregator can no longer propose.
    /// @param taskId Task of the bond.
    function requestBondExit(uint256 taskId) external {
        _runningTask(taskId);
        Aggregator storage a = _bondedAggregator(taskId, msg.sender);
        if (a.exitRequestedAt != 0) revert AlreadyExiting(msg.sender);
        a.exitRequestedAt = uint40(block.timestamp);
        emit BondExitRequested(taskId, msg.sender, block.timestamp + _params[taskId].unbondingDelay);
    }

    /// @notice Withdraws the whole bond. While the task runs: only after requestBondExit plus the unbonding
    /// delay, and not while the caller's proposal is pending.
    /// @param taskId Task of the bond.
    function withdrawBond(uint256 taskId) external {
        TaskState storage task = _existingTask(taskId);
        Aggregator storage a = _bondedAggregator(taskId, msg.sender);
        if (task.status == TaskStatus.Running) {
            _requireUnbonded(taskId, a.exitRequestedAt);
            Round storage round = _rounds[taskId][task.currentRound];
            if (round.proposedAt != 0 && round.aggregator == msg.sender) revert ProposalPending(task.currentRound);
        }
        uint256 amount = a.bond;
        delete _aggregators[taskId][msg.sender];
        emit BondWithdrawn(taskId, msg.sender, amount);
        _token(taskId).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ rounds

    /// @notice Opens a new propose window when the last one passed without a proposal.
    /// Allowed when now >= proposeStart + proposeWindow, no proposal is pending and enough updates are included.
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

    /// @notice Fails the current round when, after the participants' phases, it cannot be aggregated (fewer
    /// than minParticipants updates; in secure mode also a set that may not be unmasked) or it has stalled
    /// (no proposal pending STALL_WINDOWS propose-and-challenge windows later). Nobody who took part is
    /// punished; a pending proposal is voided; the next round opens.
    /// @param taskId Task of the round.
    function failRound(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        Round storage round = _activeRound(taskId, r);
        uint256 revealEnd = _revealEnd(taskId, r);
        if (block.timestamp < revealEnd) revert OutsideWindow(revealEnd, type(uint256).max);
        if (_aggregatable(taskId, r, round) && !_stalled(taskId, round, revealEnd)) {
            revert EnoughParticipants(round.included);
        }
        if (round.proposedAt != 0) _voidProposal(taskId, r, round, false);
        round.status = RoundStatus.Failed;
        emit RoundFailed(taskId, r, round.included);
        _advance(taskId, task, r, round.commits, 0);
    }

    /// @notice Finalizes the current round once the challenge window passed: now >= proposedAt +
    /// challengeWindow. The proposal becomes the global model; the round's reward is allocated.
    /// @param taskId Task of the round.
    function finalize(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _activeRound(taskId, r);
        if (round.proposedAt == 0) revert WrongRoundState(r);
        uint256 challengeEnd = uint256(round.proposedAt) + p.challengeWindow;
        if (block.timestamp < challengeEnd) revert OutsideWindow(challengeEnd, type(uint256).max);

        uint256 reward = p.rewardPerRound;
        uint256 fee = reward * p.aggregatorFeeBps / BPS;
        uint256 rewardPerWeight = (reward - fee) / round.totalWeight;
        // Intended: the floor of the per-weight reward times the weight is what claims can pay out;
        // the rounding remainder (reward - fee - allocated) stays in the pool, so nothing is lost.
        // slither-disable-next-line divide-before-multiply
        uint256 allocated = rewardPerWeight * round.totalWeight;
        task.pool -= uint128(fee + allocated);
        task.owedRewards += uint128(allocated);
        _fees[taskId][round.aggregator] += fee;
        round.rewardPerWeight = uint96(rewardPerWeight);
        round.status = RoundStatus.Finalized;
        task.modelRoot = round.proposedRoot;
        task.modelBlobRef = round.proposedBlobRef;
        emit RoundFinalized(
            taskId, r, round.proposedRoot, round.proposedBlobRef, rewardPerWeight, fee, reward - fee - allocated
        );
        _advance(taskId, task, r, round.commits, rewardPerWeight);
    }

    // ------------------------------------------------------------------ slashing

    /// @notice Slashes a member that committed in `round` but did not reveal; callable from the reveal
    /// deadline on (now >= revealEnd) until the member commits again (which forfeits the commitment without
    /// a bounty), once per commitment. Bounty to the caller.
    /// @param taskId Task of the round.
    /// @param round Round of the commitment.
    /// @param participant The member that did not reveal.
    function slashMissedReveal(uint256 taskId, uint256 round, address participant) external {
        TaskState storage task = _existingTask(taskId);
        if (round > task.currentRound) revert WrongRoundState(round);
        uint256 slashableAt = _missedInputSlashableAt(taskId, task, round);
        if (block.timestamp < slashableAt) revert OutsideWindow(slashableAt, type(uint256).max);
        Member storage m = _members[taskId][participant];
        if (m.lastCommitRound != round + 1 || !Commitments.isCommitted(m.entry)) revert NothingToSlash(participant);
        uint256 bounty = _forfeit(taskId, round, participant, msg.sender);
        _payBounty(taskId, bounty);
    }

    /// @notice Slashes a member that has not committed while more than maxSilentRounds rounds with room in
    /// their cohort closed (spareRounds - activityMark > maxSilentRounds). Bounty to the caller; the
    /// silence count restarts.
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
        _payBounty(taskId, bounty);
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
        _token(taskId).safeTransfer(msg.sender, amount);
    }

    /// @notice Claims the caller's accrued aggregator fees.
    /// @param taskId Task of the fees.
    function claimFees(uint256 taskId) external {
        _existingTask(taskId);
        uint256 amount = _fees[taskId][msg.sender];
        if (amount == 0) revert ZeroAmount();
        _fees[taskId][msg.sender] = 0;
        emit FeesClaimed(taskId, msg.sender, amount);
        _token(taskId).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice The immutable rules of a task.
    function taskParams(uint256 taskId) external view returns (TaskParams memory) {
        return _params[taskId];
    }

    /// @notice Pool, owed rewards, requester, current round, silence counter, depth, status and global model.
    function taskState(uint256 taskId) external view returns (TaskState memory) {
        return _tasks[taskId];
    }

    /// @notice A round's stored state, its phase at the current block time and its deadlines.
    function roundView(uint256 taskId, uint256 round) external view returns (RoundView memory v) {
        TaskParams storage p = _params[taskId];
        Round storage stored = _rounds[taskId][round];
        v.round = stored;
        (v.commitEnd, v.revealEnd) = _schedule(p, stored.start);
        v.proposeStart = stored.proposeStart == 0 ? v.revealEnd : stored.proposeStart;
        v.proposeEnd = v.proposeStart + p.proposeWindow;
        if (stored.proposedAt != 0) v.challengeEnd = uint256(stored.proposedAt) + p.challengeWindow;
        v.phase = _phase(taskId, round, stored, v);
    }

    /// @notice Decoded state of a member's entry in `round`: Empty unless `round` is the round of its last
    /// commit and the entry is not settled yet.
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
    function memberOf(uint256 taskId, address member) external view returns (Member memory) {
        return _members[taskId][member];
    }

    /// @notice An aggregator's bond record.
    function aggregatorOf(uint256 taskId, address aggregator) external view returns (Aggregator memory) {
        return _aggregators[taskId][aggregator];
    }

    /// @notice Whether the requester approved `account` (allowlisted tasks).
    function isApproved(uint256 taskId, address account) external view returns (bool) {
        return _approved[taskId][account];
    }

    /// @notice Aggregator fees claimable by `aggregator`.
    function feesOf(uint256 taskId, address aggregator) external view returns (uint256) {
        return _fees[taskId][aggregator];
    }

    /// @notice What claimRewards would pay `account` now: its booked rewards, plus the reward of its last
    /// reveal if that round finalized and the entry is not settled yet.
    function claimable(uint256 taskId, address account) external view returns (uint256 amount) {
        Member storage m = _members[taskId][account];
        amount = m.rewards;
        if (_entryClosed(_tasks[taskId], m) && Commitments.isRevealed(m.entry)) {
            amount += Commitments.weightOf(m.entry) * _rewardPerWeight(taskId, m.lastCommitRound - 1);
        }
    }

    // ------------------------------------------------------------------ internals

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
    }

    function _joinedMember(uint256 taskId, address account) internal view returns (Member storage m) {
        m = _members[taskId][account];
        if (!m.joined) revert NotMember(account);
    }

    function _bondedAggregator(uint256 taskId, address account) internal view returns (Aggregator storage a) {
        a = _aggregators[taskId][account];
        if (!a.bonded) revert NotEligibleAggregator(account);
    }

    function _token(uint256 taskId) internal view returns (IERC20) {
        return IERC20(_params[taskId].token);
    }

    /// @dev Reverts unless the caller asked to exit (at `exitRequestedAt`) and the unbonding delay has passed.
    function _requireUnbonded(uint256 taskId, uint40 exitRequestedAt) internal view {
        if (exitRequestedAt == 0) revert NotExiting(msg.sender);
        uint256 withdrawableAt = uint256(exitRequestedAt) + _params[taskId].unbondingDelay;
        if (block.timestamp < withdrawableAt) revert StillUnbonding(withdrawableAt);
    }

    /// @dev End of the participants' phases of round r (the propose window opens then).
    function _revealEnd(uint256 taskId, uint256 r) internal view returns (uint256 revealEnd) {
        (, revealEnd) = _schedule(_params[taskId], _rounds[taskId][r].start);
    }

    /// @dev The end of the commit phase and of all participant phases of a round that started at `start`.
    function _schedule(TaskParams storage p, uint256 start)
        internal
        view
        virtual
        returns (uint256 commitEnd, uint256 revealEnd);

    /// @dev The coordinator's mode: the only one its tasks may have.
    function _mode() internal pure virtual returns (Mode);

    /// @dev The phase, before the participants' phases end (now < revealEnd), of a round that started at `start`.
    function _inputPhase(TaskParams storage p, uint256 start) internal view virtual returns (RoundPhase);

    /// @dev Whether the inputs of the current round r allow an aggregate to be proposed (else it must fail).
    function _aggregatable(uint256 taskId, uint256 r, Round storage round) internal view virtual returns (bool);

    /// @dev From when a commitment of round r that was never revealed (uploaded) may be slashed with a bounty.
    function _missedInputSlashableAt(uint256 taskId, TaskState storage task, uint256 r)
        internal
        view
        virtual
        returns (uint256);

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
    /// not yet in the round. Its previous entry is settled (which may forfeit an unrevealed commitment) before
    /// its stake is checked; the member is counted and marked active. The caller then stores its entry word.
    /// @return r The round. @return m The member. @return position Members admitted before it in the round.
    function _enterRound(uint256 taskId) internal returns (uint256 r, Member storage m, uint256 position) {
        TaskState storage task = _runningTask(taskId);
        r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _rounds[taskId][r];
        uint256 windowEnd = uint256(round.start) + p.commitWindow;
        if (block.timestamp >= windowEnd) revert OutsideWindow(round.start, windowEnd);
        position = round.commits;
        if (position >= p.cohortCap) revert CohortFull(p.cohortCap);
        m = _members[taskId][msg.sender];
        if (!m.joined) revert NotMember(msg.sender);
        if (m.exiting) revert AlreadyExiting(msg.sender);
        if (m.lastCommitRound == r + 1) revert AlreadyCommitted(msg.sender);
        _settleEntry(taskId, m, msg.sender);
        if (m.stake < p.minStake) revert StakeTooLow(m.stake, p.minStake);
        unchecked {
            round.commits += 1;
        }
        m.lastCommitRound = uint24(r + 1);
        m.activityMark = uint24(task.spareRounds);
    }

    /// @dev Whether a round without a pending proposal has waited STALL_WINDOWS windows past its inputs.
    function _stalled(uint256 taskId, Round storage round, uint256 revealEnd) internal view returns (bool) {
        TaskParams storage p = _params[taskId];
        uint256 stallsAt = revealEnd + STALL_WINDOWS * (uint256(p.proposeWindow) + p.challengeWindow);
        return round.proposedAt == 0 && block.timestamp >= stallsAt;
    }

    function _proposeStart(uint256 taskId, Round storage round) internal view returns (uint256 opensAt) {
        if (round.proposeStart != 0) return round.proposeStart;
        (, opensAt) = _schedule(_params[taskId], round.start);
    }

    function _phase(uint256 taskId, uint256 r, Round storage round, RoundView memory v)
        internal
        view
        returns (RoundPhase)
    {
        if (round.status == RoundStatus.Finalized) return RoundPhase.Finalized;
        if (round.status == RoundStatus.Failed) return RoundPhase.Failed;
        TaskState storage task = _tasks[taskId];
        if (task.status != TaskStatus.Running || r != task.currentRound) return RoundPhase.NotOpen;
        if (block.timestamp < v.revealEnd) return _inputPhase(_params[taskId], round.start);
        if (!_aggregatable(taskId, r, round)) return RoundPhase.AwaitingFailure;
        if (round.proposedAt == 0 && _stalled(taskId, round, v.revealEnd)) return RoundPhase.AwaitingFailure;
        if (round.proposedAt != 0) {
            return block.timestamp < v.challengeEnd ? RoundPhase.Challenge : RoundPhase.Finalizable;
        }
        if (block.timestamp < v.proposeStart) return RoundPhase.Propose;
        return block.timestamp < v.proposeEnd ? RoundPhase.Propose : RoundPhase.ProposeExpired;
    }

    /// @dev Checks a proposal of the current round by msg.sender (window, participants, eligibility, nonzero
    /// hashes), stores it under the caller's bond and emits Proposed; returns the round index.
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
        emit Proposed(taskId, r, msg.sender, root, blobRef);
    }

    /// @dev Closes round r (its reward per weight given, 0 if it failed) and opens the next one or ends the task.
    function _advance(uint256 taskId, TaskState storage task, uint256 r, uint256 commits, uint256 rewardPerWeight)
        internal
    {
        if (commits < _params[taskId].cohortCap) task.spareRounds += 1;
        uint256 next = r + 1;
        task.currentRound = uint32(next);
        task.lastRewardPerWeight = uint96(rewardPerWeight);
        if (next == _params[taskId].numRounds) {
            task.status = TaskStatus.Completed;
            emit TaskEnded(taskId, false);
        } else {
            _rounds[taskId][next].start = uint40(block.timestamp);
            emit RoundOpened(taskId, next, block.timestamp);
        }
    }

    function _voidProposal(uint256 taskId, uint256 r, Round storage round, bool reopen) internal {
        emit ProposalVoided(taskId, r, round.aggregator);
        round.proposedAt = 0;
        if (reopen) {
            round.proposeStart = uint40(block.timestamp);
            emit AggregationReopened(taskId, r, block.timestamp);
        }
    }

    function _rejectProposal(uint256 taskId, uint256 r, Round storage round, uint256 leafIndex) internal {
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
        round.proposeStart = uint40(block.timestamp);
        emit ProposalRejected(taskId, r, aggregator, msg.sender, leafIndex, slashed, bounty);
        emit AggregationReopened(taskId, r, block.timestamp);
        _payBounty(taskId, bounty);
    }

    /// @dev Whether the round of the member's entry has closed: an earlier round than the current one, or any
    /// round once the task has ended.
    function _entryClosed(TaskState storage task, Member storage m) internal view returns (bool) {
        return m.lastCommitRound != 0 && (m.lastCommitRound <= task.currentRound || task.status != TaskStatus.Running);
    }

    /// @dev Settles the member's entry once its round has closed (callers ensure it has): a reveal books
    /// weight * rewardPerWeight (zero unless the round finalized) to the member's earnings; a commitment never
    /// revealed is forfeited (slashed, no bounty) once its reveal window has passed. The entry is then empty.
    function _settleEntry(uint256 taskId, Member storage m, address account) internal {
        bytes32 entry = m.entry;
        if (entry == bytes32(0)) return;
        uint256 r = m.lastCommitRound - 1;
        if (Commitments.isRevealed(entry)) {
            uint256 reward = Commitments.weightOf(entry) * _rewardPerWeight(taskId, r);
            // reward <= the round's allocation <= escrow < 2^96 (TaskParamsValidator.MAX_AMOUNT), and so is
            // every sum of a member's rewards.
            if (reward != 0) m.rewards += uint96(reward);
        } else if (Commitments.isCommitted(entry)) {
            if (block.timestamp < _revealEnd(taskId, r)) return;
            _forfeit(taskId, r, account, address(0));
        }
        m.entry = bytes32(0);
    }

    /// @dev Reward per weight of closed round r: the task caches the last closed round's (members that commit
    /// every round book from there without reading the round).
    function _rewardPerWeight(uint256 taskId, uint256 r) internal view returns (uint256) {
        TaskState storage task = _tasks[taskId];
        if (r + 1 == task.currentRound) return task.lastRewardPerWeight;
        return _rounds[taskId][r].rewardPerWeight;
    }

    /// @dev Marks an unrevealed commitment forfeited and slashes its owner; returns the bounty owed to
    /// `challenger` (none when challenger is the zero address).
    function _forfeit(uint256 taskId, uint256 r, address participant, address challenger)
        internal
        returns (uint256 bounty)
    {
        Member storage m = _members[taskId][participant];
        m.entry = Commitments.forfeitedEntry(m.entry);
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

    function _payBounty(uint256 taskId, uint256 bounty) internal {
        if (bounty != 0) _token(taskId).safeTransfer(msg.sender, bounty);
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
