// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IFedCoordinatorEvents
/// @notice Events and errors of the plain-mode coordinator (docs/protocol.md section 8).
interface IFedCoordinatorEvents {
    /// @notice A task was created and its round 0 opened.
    event TaskCreated(
        uint256 indexed taskId,
        address indexed requester,
        address indexed token,
        bytes32 modelRoot,
        bytes32 modelBlobRef,
        bytes32 modelSpecHash,
        uint256 escrow
    );
    /// @notice The requester approved `member` on an allowlisted task.
    event MemberApproved(uint256 indexed taskId, address indexed member);
    /// @notice A member joined or added stake; `stake` is the new total.
    event StakeDeposited(uint256 indexed taskId, address indexed member, uint256 amount, uint256 stake);
    /// @notice A member asked to leave; it may withdraw at `withdrawableAt`.
    event ExitRequested(uint256 indexed taskId, address indexed member, uint256 withdrawableAt);
    /// @notice A member withdrew its whole stake and left the task.
    event StakeWithdrawn(uint256 indexed taskId, address indexed member, uint256 amount);
    /// @notice An aggregator posted or added bond; `bond` is the new total.
    event BondDeposited(uint256 indexed taskId, address indexed aggregator, uint256 amount, uint256 bond);
    /// @notice An aggregator asked to withdraw its bond; it may do so at `withdrawableAt`.
    event BondExitRequested(uint256 indexed taskId, address indexed aggregator, uint256 withdrawableAt);
    /// @notice An aggregator withdrew its whole bond.
    event BondWithdrawn(uint256 indexed taskId, address indexed aggregator, uint256 amount);
    /// @notice Round `round` opened: its commit window starts at `start`.
    event RoundOpened(uint256 indexed taskId, uint256 indexed round, uint256 start);
    /// @notice A member committed to an update (the commitment itself is its entry, memberOf(...).entry; the
    /// reveal checks it on chain, so the event carries no copy).
    event Committed(uint256 indexed taskId, uint256 indexed round, address indexed participant);
    /// @notice A member revealed its update; the update blob is at `blobRef`.
    event Revealed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        bytes32 root,
        uint256 sampleCount,
        uint256 weight,
        bytes32 blobRef
    );
    /// @notice An aggregator proposed the next global model.
    event Proposed(
        uint256 indexed taskId, uint256 indexed round, address indexed aggregator, bytes32 root, bytes32 blobRef
    );
    /// @notice A new propose window opened at `proposeStart` (no proposal in time, or the last one was removed).
    event AggregationReopened(uint256 indexed taskId, uint256 indexed round, uint256 proposeStart);
    /// @notice A fraud proof showed the pending proposal wrong at `leafIndex`; the aggregator was slashed.
    event ProposalRejected(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed aggregator,
        address challenger,
        uint256 leafIndex,
        uint256 slashed,
        uint256 bounty
    );
    /// @notice The pending proposal was withdrawn without fault because its included set changed.
    event ProposalVoided(uint256 indexed taskId, uint256 indexed round, address indexed aggregator);
    /// @notice A revealed update was shown to break the rules at `coordinate` and dropped from the round.
    event UpdateDropped(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        address challenger,
        uint256 coordinate,
        uint256 slashed,
        uint256 bounty
    );
    /// @notice A member that committed but did not reveal was slashed.
    event MissedRevealSlashed(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, uint256 slashed, uint256 bounty
    );
    /// @notice A member silent for more than maxSilentRounds rounds was slashed.
    event SilenceSlashed(uint256 indexed taskId, address indexed member, uint256 slashed, uint256 bounty);
    /// @notice The round finalized: the proposal became the global model and its reward was allocated.
    event RoundFinalized(
        uint256 indexed taskId,
        uint256 indexed round,
        bytes32 modelRoot,
        bytes32 modelBlobRef,
        uint256 rewardPerWeight,
        uint256 aggregatorFee,
        uint256 remainderToPool
    );
    /// @notice The round failed: fewer than minParticipants included updates after the reveal deadline.
    event RoundFailed(uint256 indexed taskId, uint256 indexed round, uint256 included);
    /// @notice A participant was paid the rewards booked to it (docs/protocol.md section 8.5).
    event RewardsClaimed(uint256 indexed taskId, address indexed participant, uint256 amount);
    /// @notice An aggregator claimed its accrued fees.
    event FeesClaimed(uint256 indexed taskId, address indexed aggregator, uint256 amount);
    /// @notice All rounds are over (`abandoned` false) or the task was idle too long (`abandoned` true).
    event TaskEnded(uint256 indexed taskId, bool abandoned);
    /// @notice The requester withdrew the unallocated pool.
    event PoolWithdrawn(uint256 indexed taskId, address indexed requester, uint256 amount);

    /// @notice A task parameter is out of range; `name` is the TaskParams field (or argument) at fault.
    error InvalidTaskParameter(string name);
    /// @notice No task with this id exists.
    error UnknownTask(uint256 taskId);
    /// @notice The task is not running (completed or abandoned).
    error TaskNotRunning(uint256 taskId);
    /// @notice The task is still running.
    error TaskStillRunning(uint256 taskId);
    /// @notice Only the task's requester may do this.
    error NotRequester(address caller);
    /// @notice The task is allowlisted and the caller was not approved.
    error NotApproved(address caller);
    /// @notice The caller already joined this task.
    error AlreadyMember(address caller);
    /// @notice The address is not a member of this task.
    error NotMember(address account);
    /// @notice A stake or bond below the task's minimum.
    error StakeTooLow(uint256 stake, uint256 required);
    /// @notice An amount above what its field holds: 2^96 - 1 for stakes, 2^128 - 1 for bonds.
    error AmountTooLarge(uint256 amount);
    /// @notice Amount must be nonzero.
    error ZeroAmount();
    /// @notice The member or aggregator already asked to exit.
    error AlreadyExiting(address account);
    /// @notice The member or aggregator has not asked to exit.
    error NotExiting(address account);
    /// @notice The unbonding delay has not passed yet.
    error StillUnbonding(uint256 withdrawableAt);
    /// @notice The member committed in the round that is still open; it stays slashable until it closes.
    error CommitmentOpen(uint256 round);
    /// @notice The call is outside its time window; `opensAt` / `closesAt` bound the window.
    error OutsideWindow(uint256 opensAt, uint256 closesAt);
    /// @notice The round does not accept this call in its current state.
    error WrongRoundState(uint256 round);
    /// @notice The cohort of this round is full.
    error CohortFull(uint256 cohortCap);
    /// @notice The member already committed in this round.
    error AlreadyCommitted(address participant);
    /// @notice The revealed values do not match the stored commitment (or there is no commitment).
    error CommitmentMismatch(address participant);
    /// @notice sampleCount must be at least 1.
    error ZeroSampleCount();
    /// @notice A root or blob reference must be nonzero.
    error ZeroHash();
    /// @notice The caller is not a bonded aggregator able to propose (bond too low, exiting, or barred).
    error NotEligibleAggregator(address caller);
    /// @notice A proposal is already pending.
    error ProposalPending(uint256 round);
    /// @notice Too few included updates to aggregate (fail the round instead).
    error TooFewParticipants(uint256 included, uint256 required);
    /// @notice Enough updates are included; the round cannot fail.
    error EnoughParticipants(uint256 included);
    /// @notice A Merkle proof did not verify: `position` is the update's index in the proof, or
    /// 2^256 - 1 for the previous-model leaf, 2^256 - 2 for the proposal leaf.
    error InvalidMerkleProof(uint256 position);
    /// @notice A leaf has the wrong number of words for this task.
    error WrongLeafWidth(uint256 words, uint256 wordsPerLeaf);
    /// @notice The fraud proof's update list is not a whole number of updates of `stride` words each.
    error MalformedUpdateList(uint256 words, uint256 stride);
    /// @notice The fraud proof's included updates are not strictly increasing by participant address.
    error UpdatesNotSorted(uint256 position);
    /// @notice An update in the fraud proof does not match an included reveal of this round.
    error NotIncluded(address participant);
    /// @notice The fraud proof must list every included update.
    error IncompleteUpdateSet(uint256 given, uint256 included);
    /// @notice The proposal matches the rule at this leaf: nothing to reject.
    error ProposalCorrect(uint256 leafIndex);
    /// @notice The leaf is within the rules: nothing to slash.
    error NoViolation(uint256 leafIndex);
    /// @notice The member's entry does not hold an unrevealed commitment of that round.
    error NothingToSlash(address participant);
    /// @notice The member has not been silent long enough to be slashed.
    error NotSilent(address member);
    /// @notice No reward is booked to the account and unpaid.
    error NothingToClaim(address account);
    /// @notice The task is not idle long enough to be abandoned.
    error NotIdle(uint256 idleAt);
}
