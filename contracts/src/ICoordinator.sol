// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {
    Aggregator,
    AuditParams,
    AuditStatus,
    Dispute,
    DisputeOutcome,
    EntryState,
    InputChallenge,
    MaskedRecord,
    Member,
    RoundView,
    ScoringParams,
    TaskParams,
    TaskState
} from "./FedTypes.sol";

/// @title ICoordinatorEvents
/// @notice Events and errors every coordinator has (docs/protocol.md sections 8 and 11).
interface ICoordinatorEvents {
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
    /// @notice Round `round` opened with `members` members, more than its cohort takes: only those that
    /// Cohort.includes(seed, members, cohortCap, member) may enter it (docs/protocol.md section 8.2).
    event CohortSampled(uint256 indexed taskId, uint256 indexed round, uint256 members, uint160 seed);
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
    /// @notice A member of a norm-bounded task declared its update's per-leaf squared norms (docs/protocol.md
    /// section 4.4): `leafNorms` are the first leaves of its norm tree, whose root hash is `normRoot` and whose
    /// sum, the update's squared L2 norm, is `normSq`.
    event NormDeclared(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        bytes32 normRoot,
        uint256 normSq,
        uint256[] leafNorms
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
    /// @notice `evaluator` measured the model that round `round` anchored on its own held-out data: `metrics` is a
    /// JSON object of metric names to numbers (docs/protocol.md section 8.10). Informational: nothing is paid or
    /// slashed by it, and readers attribute it to its evaluator.
    event ModelEvaluated(uint256 indexed taskId, uint256 indexed round, address indexed evaluator, string metrics);

    /// @notice `challenger` demands that `owner`'s input of `round` (the tree `root`) be put on chain: `chunks`
    /// chunks before `deadline` (docs/protocol.md section 11.2).
    event InputChallenged(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed owner,
        address challenger,
        bytes32 root,
        uint256 chunks,
        uint256 deadline
    );
    /// @notice Chunk `chunkIndex` of `owner`'s challenged input: its leaves' words in order and the path of the
    /// chunk's subtree to the input's root; `poster` was paid its share of the challenger's bond.
    event ChunkPosted(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed owner,
        uint256 chunkIndex,
        address poster,
        bytes32[] words,
        bytes32[] path
    );
    /// @notice Every chunk of `owner`'s challenged input is on chain.
    event InputResolved(uint256 indexed taskId, uint256 indexed round, address indexed owner);
    /// @notice `owner`'s challenged input was not put on chain in time: it left the round and its owner was
    /// slashed, the bounty going to the challenger with its bond.
    event InputUnavailable(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed owner,
        address challenger,
        uint256 slashed,
        uint256 bounty
    );
    /// @notice `challenger` disputes proposal number `proposal` of the round: its root must be opened.
    event DisputeOpened(
        uint256 indexed taskId, uint256 indexed round, address indexed challenger, uint256 proposal, uint256 deadline
    );
    /// @notice The children `left`, `right` of the disputed node (at height `level`, position `index`) were posted.
    event DisputeAnswered(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed challenger,
        uint256 level,
        uint256 index,
        bytes32 left,
        bytes32 right,
        uint256 deadline
    );
    /// @notice The challenger chose the child `node` (now at height `level`, position `index`) to dispute.
    event DisputeDescended(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed challenger,
        uint256 level,
        uint256 index,
        bytes32 node,
        uint256 deadline
    );
    /// @notice The disputed leaf `index` of the proposal was opened: its words are on chain.
    event DisputeLeafOpened(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed challenger,
        uint256 index,
        bytes32[] words,
        uint256 deadline
    );
    /// @notice A model dispute ended; `bond` went to `recipient`.
    event DisputeSettled(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed challenger,
        DisputeOutcome outcome,
        address recipient,
        uint256 bond
    );

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
    /// @notice Round 0 opens only once the task has `required` (minParticipants) members; it has `members`.
    error WaitingForMembers(uint256 members, uint256 required);
    /// @notice The round's cohort was sampled and `member` is not in it.
    error NotInCohort(address member, uint256 round);
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
    /// @notice A fraud proof's norm declaration words of an update are not its member's declaration of the round
    /// (normRoot 0 stands for no declaration, with normSq 0).
    error NormMismatch(address participant);
    /// @notice The task's rule does not scale updates by their norms (docs/protocol.md section 4.4).
    error NotNormBounded(uint256 taskId);
    /// @notice A norm declaration lists `given` leaf values; the task's update has `expected` leaves.
    error NormListLength(uint256 given, uint256 expected);
    /// @notice The declared squared norm is above the task's hard limit (HARD_LIMIT^2 * B^2, times 10^8).
    error NormOverLimit(uint256 normSq);
    /// @notice The member already declared its norm in this round.
    error NormAlreadyDeclared(address participant);
    /// @notice The member declared its norm in this round: it cannot be dropped as undeclared.
    error NormIsDeclared(address participant);
    /// @notice The opened norm leaf equals the update leaf's squared norm: nothing to slash.
    error NormCorrect(uint256 leafIndex);
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
    /// @notice Availability challenges or model disputes of the round are still open.
    error AvailabilityPending(uint256 challenges, uint256 disputes);
    /// @notice The member's input of this round is already challenged (each input once per round).
    error AlreadyChallenged(address owner);
    /// @notice The member's input of this round has no open availability challenge.
    error NotChallenged(address owner);
    /// @notice Chunks go on chain in order: `expected` is the next one.
    error WrongChunk(uint256 given, uint256 expected);
    /// @notice A chunk has `words` leaf words and `pathLength` siblings, not `expectedWords` and `expectedPath`.
    error MalformedChunk(uint256 words, uint256 pathLength, uint256 expectedWords, uint256 expectedPath);
    /// @notice The chunk's leaves and path do not lead to the challenged root.
    error ChunkMismatch(uint256 chunkIndex);
    /// @notice The challenger already has an open dispute in this round (settle it first).
    error DisputeExists(address challenger);
    /// @notice The challenger has no open dispute in this round.
    error NoOpenDispute(address challenger);
    /// @notice The dispute is not waiting for this step.
    error WrongDisputeStep(uint8 status);
    /// @notice What was posted does not hash to the disputed node.
    error NodeMismatch(bytes32 node);
    // ------------------------------------------------------------------ contribution scores (section 12)

    /// @notice Task `taskId` is scored by a validator committee with these parameters (fixed for its life).
    event ScoringSet(uint256 indexed taskId, ScoringParams scoring);
    /// @notice A validator took a seat (its lane in the packed scores) with `stake`.
    event ValidatorJoined(uint256 indexed taskId, address indexed validator, uint256 lane, uint256 stake);
    /// @notice A validator leaves: it sits in no committee from round `untilRound` on and may withdraw from
    /// `withdrawableAt` once those rounds have closed.
    event ValidatorExitRequested(
        uint256 indexed taskId, address indexed validator, uint256 untilRound, uint256 withdrawableAt
    );
    /// @notice A validator withdrew its stake and booked fees and gave up its seat.
    event ValidatorWithdrawn(uint256 indexed taskId, address indexed validator, uint256 stake, uint256 fees);
    /// @notice A committee member committed to its scores of the round.
    event ScoresCommitted(uint256 indexed taskId, uint256 indexed round, address indexed validator);
    /// @notice A committee member revealed its scores: `scores[i]` of `participants[i]`'s update, in basis
    /// points of SCORE_ONE, or NO_SCORE where it abstained.
    event ScoresRevealed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed validator,
        address[] participants,
        uint16[] scores
    );
    /// @notice An update whose median score fell below minScoreBps was dropped and its owner slashed.
    event UpdateScoredOut(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        address challenger,
        uint256 medianScore,
        uint256 slashed,
        uint256 bounty
    );
    /// @notice An update that no validator scored (its committee was empty or silent) was dropped from the
    /// round by `caller` once the score windows had ended, without a slash or a bounty: a scored task
    /// aggregates no unscored update.
    event UnscoredUpdateDropped(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, address caller
    );
    /// @notice A validator was slashed for `fault` (ValidatorFault) in `round`; its exit starts.
    event ValidatorSlashed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed validator,
        address challenger,
        uint8 fault,
        uint256 slashed,
        uint256 bounty
    );
    /// @notice A validator was paid its booked fees.
    event ValidatorFeesClaimed(uint256 indexed taskId, address indexed validator, uint256 amount);
    /// @notice Finalizing `round` booked `perValidator` to each of the `validators` that revealed scores.
    event ValidatorFeesBooked(uint256 indexed taskId, uint256 indexed round, uint256 perValidator, uint256 validators);

    /// @notice The task has no contribution scoring.
    error NotScored(uint256 taskId);
    /// @notice The caller already holds a seat in the task's committee.
    error AlreadyValidator(address account);
    /// @notice `account` holds no seat in the task's committee.
    error NotValidator(address account);
    /// @notice Every one of the `seats` lanes is taken.
    error CommitteeFull(uint256 seats);
    /// @notice `validator` was not sampled into round `round`'s committee (or did not sit then).
    error NotOnCommittee(address validator, uint256 round);
    /// @notice The validator already revealed its scores of the round.
    error AlreadyRevealed(address validator);
    /// @notice The revealed scores do not match the validator's commitment.
    error ScoresMismatch(address validator);
    /// @notice A score list needs one score per participant.
    error ScoreListLength(uint256 participants, uint256 scores);
    /// @notice Scores are at most SCORE_ONE, or NO_SCORE for an abstention.
    error ScoreOutOfRange(uint256 position, uint256 score);
    /// @notice The update's median score meets the task's threshold.
    error ScoreAboveThreshold(uint256 medianScore, uint256 minScoreBps);
    /// @notice The validator's score is within the task's tolerance of the median.
    error WithinTolerance(uint256 score, uint256 medianScore);

    // ------------------------------------------------------------------ training audits (section 13)

    /// @notice Task `taskId` audits its members' training with these parameters (fixed for its life).
    event AuditsSet(uint256 indexed taskId, AuditParams audits);
    /// @notice `member` committed to its training data: `batches` salted batches under `root`.
    event DatasetRegistered(uint256 indexed taskId, address indexed member, bytes32 root, uint256 batches);
    /// @notice `member` committed to its training trajectory of `round` (the models after each step).
    event TrajectoryCommitted(uint256 indexed taskId, uint256 indexed round, address indexed member, bytes32 root);
    /// @notice The audits of `round` were drawn from `seed` (the randomness of the drawing block).
    event AuditsDrawn(uint256 indexed taskId, uint256 indexed round, uint256 seed);
    /// @notice Step `step` of `participant`'s trajectory in `round` is audited: its proof is due before
    /// `deadline`. `bond` is the challenger's (0 for a drawn audit).
    event AuditOpened(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        uint256 step,
        address challenger,
        uint256 bond,
        uint256 deadline
    );
    /// @notice The audited step's proof verified; `bond` (a demand's, else 0) went to the participant.
    event StepProven(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, uint256 step, uint256 bond
    );
    /// @notice An audit's deadline passed without a valid proof: `status` Failed (the update was dropped and
    /// its owner slashed `slashed`, `bounty` of it to the challenger, who also got its bond back) or Moot (the
    /// update had already left the round; the bond went back).
    event AuditSettled(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        uint256 step,
        AuditStatus status,
        address challenger,
        uint256 slashed,
        uint256 bounty
    );

    /// @notice The task has no training audits.
    error NotAudited(uint256 taskId);
    /// @notice The member already registered its dataset (or committed, so it is too late to).
    error DatasetFixed(address member);
    /// @notice The member has no registered dataset.
    error NoDataset(address member);
    /// @notice The member already committed its trajectory of the round.
    error TrajectoryExists(address member);
    /// @notice The member committed no trajectory of the round.
    error NoTrajectory(address member);
    /// @notice The round's audits were already drawn.
    error AuditsAlreadyDrawn(uint256 round);
    /// @notice The round's audits have not been drawn yet.
    error AuditsNotDrawn(uint256 round);
    /// @notice The draw did not select this participant (or this draw index).
    error NotSelected(address participant, uint256 draw);
    /// @notice A step index must be below the task's steps.
    error StepOutOfRange(uint256 step, uint256 steps);
    /// @notice That step of the participant's trajectory is already audited in this round.
    error AlreadyAudited(address participant, uint256 step);
    /// @notice No open audit of that step.
    error NoOpenAudit(address participant, uint256 step);
    /// @notice An opening does not match the commitment it claims: 0-3 the trajectory leaf (0, t, t+1, S),
    /// 4 the global model, 5 the update, 6 the batch's dataset path.
    error OpeningMismatch(uint256 which);
    /// @notice The revealed weight is not the one the registered dataset gives.
    error WeightMismatch(uint256 weight, uint256 expected);
    /// @notice The verifier refused the proof for the instances the chain built.
    error ProofRejected(address participant, uint256 step);

    /// @notice No function with this selector.
    error UnknownFunction(bytes4 selector);
    /// @notice Published metrics must be 1 to `limit` (MAX_METRICS_BYTES) bytes long.
    error MetricsLength(uint256 length, uint256 limit);
}

/// @title ICoordinator
/// @notice The functions every coordinator has, whatever its round machine (docs/protocol.md sections 8 and
/// 11): tasks and escrow, membership, bonds, rewards and slashing (its Registry module), availability
/// challenges and model disputes (its Availability module), and the proposal lifecycle. Clients and tests
/// call a coordinator through this interface or the mode's extension (IFedCoordinator, ISecureCoordinator).
interface ICoordinator is ICoordinatorEvents {
    // ------------------------------------------------------------------ identity and constants

    /// @notice The mode of every task of this coordinator (FedTypes.Mode).
    function MODE() external view returns (uint8);
    /// @notice Stateless checker of TaskParams.
    function PARAMS_VALIDATOR() external view returns (address);
    /// @notice The module that holds tasks, membership, bonds, rewards and member slashing.
    function REGISTRY() external view returns (address);
    /// @notice The module that holds availability challenges and model disputes.
    function AVAILABILITY() external view returns (address);
    /// @notice The module that holds contribution scores (deployed by Availability; plain tasks only).
    function SCORING() external view returns (address);
    /// @notice Basis-point denominator of every rate.
    function BPS() external view returns (uint256);
    /// @notice A task whose current round has not moved for this many round spans can be ended.
    function IDLE_ROUND_SPANS() external view returns (uint256);
    /// @notice A round without a proposal this many (propose + challenge) windows after its inputs has stalled.
    function STALL_WINDOWS() external view returns (uint256);
    /// @notice Longest metrics text publishEvaluation takes, in bytes.
    function MAX_METRICS_BYTES() external view returns (uint256);
    /// @notice Id the next task will get.
    function nextTaskId() external view returns (uint256);

    // ------------------------------------------------------------------ tasks (Registry)

    /// @notice Creates a task and escrows numRounds * rewardPerRound from the caller.
    function createTask(TaskParams calldata params, bytes32 modelRoot, bytes32 modelBlobRef)
        external
        returns (uint256 taskId);
    /// @notice The requester approves members of an allowlisted task.
    function approveMembers(uint256 taskId, address[] calldata accounts) external;
    /// @notice Ends a task whose current round has not moved for IDLE_ROUND_SPANS spans.
    function endIdleTask(uint256 taskId) external;
    /// @notice The requester withdraws the pool of an ended task.
    function withdrawPool(uint256 taskId) external;

    // ------------------------------------------------------------------ membership and bonds (Registry)

    /// @notice Joins a task with a stake of at least minStake.
    function join(uint256 taskId, uint256 amount) external;
    /// @notice Adds stake.
    function addStake(uint256 taskId, uint256 amount) external;
    /// @notice Starts the member's unbonding delay.
    function requestExit(uint256 taskId) external;
    /// @notice Withdraws the whole stake and booked rewards.
    function withdrawStake(uint256 taskId) external;
    /// @notice Posts or adds aggregator bond.
    function postBond(uint256 taskId, uint256 amount) external;
    /// @notice Starts the bond's unbonding delay.
    function requestBondExit(uint256 taskId) external;
    /// @notice Withdraws the whole bond.
    function withdrawBond(uint256 taskId) external;

    // ------------------------------------------------------------------ rewards and member slashing (Registry)

    /// @notice Pays the caller every reward booked to it.
    function claimRewards(uint256 taskId) external;
    /// @notice Pays the caller its aggregator fees.
    function claimFees(uint256 taskId) external;
    /// @notice Slashes a member that entered `round` and did not do its part in time.
    function slashMissedReveal(uint256 taskId, uint256 round, address participant) external;
    /// @notice Slashes a member silent for more than maxSilentRounds spare rounds.
    function slashSilence(uint256 taskId, address member) external;
    /// @notice Publishes the caller's metrics of the model a finalized round anchored.
    function publishEvaluation(uint256 taskId, uint256 round, string calldata metrics) external;

    // ------------------------------------------------------------------ views (Registry)

    /// @notice The immutable rules of a task.
    function taskParams(uint256 taskId) external view returns (TaskParams memory);
    /// @notice The mutable state of a task.
    function taskState(uint256 taskId) external view returns (TaskState memory);
    /// @notice Decoded state of a member's entry in `round`.
    function entryState(uint256 taskId, uint256 round, address participant) external view returns (EntryState);
    /// @notice A member's record.
    function memberOf(uint256 taskId, address member) external view returns (Member memory);
    /// @notice An aggregator's bond record.
    function aggregatorOf(uint256 taskId, address aggregator) external view returns (Aggregator memory);
    /// @notice Whether the requester approved `account`.
    function isApproved(uint256 taskId, address account) external view returns (bool);
    /// @notice Aggregator fees claimable by `aggregator`.
    function feesOf(uint256 taskId, address aggregator) external view returns (uint256);
    /// @notice What claimRewards would pay `account` now.
    function claimable(uint256 taskId, address account) external view returns (uint256);
    /// @notice From when endIdleTask is allowed (2^256 - 1 while the round cannot be idle).
    function idleAt(uint256 taskId) external view returns (uint256);
    /// @notice Whether `account` is in round `round`'s cohort (always, unless the cohort was sampled).
    function inCohort(uint256 taskId, uint256 round, address account) external view returns (bool);

    // ------------------------------------------------------------------ the proposal lifecycle (coordinator)

    /// @notice Opens a new propose window after one passed without a proposal.
    function reopenAggregation(uint256 taskId) external;
    /// @notice Fails a round that cannot be aggregated or has stalled.
    function failRound(uint256 taskId) external;
    /// @notice Finalizes the pending proposal once nothing can challenge it any more.
    function finalize(uint256 taskId) external;
    /// @notice A round's stored state, phase and deadlines.
    function roundView(uint256 taskId, uint256 round) external view returns (RoundView memory);

    // ------------------------------------------------------------------ availability (Availability)

    /// @notice Plain mode: demands that a revealed update be put on chain.
    function challengeUpdate(uint256 taskId, address participant, bytes32 root, uint256 weight) external;
    /// @notice Secure mode: demands that an uploaded masked vector be put on chain.
    function challengeMaskedVector(uint256 taskId, address participant, MaskedRecord calldata record) external;
    /// @notice Posts the next chunk of a challenged input (anyone holding the data may).
    function postChunk(
        uint256 taskId,
        uint256 round,
        address owner,
        uint256 chunkIndex,
        bytes32[] calldata words,
        bytes32[] calldata path
    ) external;
    /// @notice Drops a challenged input that was not put on chain in time and slashes its owner.
    function dropUnavailable(uint256 taskId, uint256 round, address owner) external;
    /// @notice Disputes the pending proposal: its tree must be opened down to one leaf.
    function openDispute(uint256 taskId) external;
    /// @notice Posts the children of a disputed inner node.
    function answerDispute(uint256 taskId, address challenger, bytes32 left, bytes32 right) external;
    /// @notice Posts the words of a disputed leaf.
    function openLeaf(uint256 taskId, address challenger, bytes32[] calldata words) external;
    /// @notice The challenger descends into one child of the answered node.
    function chooseChild(uint256 taskId, bytes32 left, bytes32 right, bool goRight) external;
    /// @notice Ends a dispute whose deadline passed or whose proposal is gone.
    function settleDispute(uint256 taskId, uint256 round, address challenger) external;
    /// @notice The availability challenge on `owner`'s input of `round`.
    function inputChallenge(uint256 taskId, uint256 round, address owner) external view returns (InputChallenge memory);
    /// @notice `challenger`'s model dispute in `round`.
    function disputeOf(uint256 taskId, uint256 round, address challenger) external view returns (Dispute memory);
}
