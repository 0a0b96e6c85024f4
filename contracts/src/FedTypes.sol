// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice Aggregation rules a task can pick (docs/protocol.md section 4; src/rules holds each one). Only rules
/// whose fraud proof is leaf-local belong here.
enum AggregationRule {
    WeightedFedAvg,
    CoordinateMedian,
    TrimmedMean,
    NormBounded
}

/// @notice How updates travel: plain (revealed update blobs, FedCoordinator) or secure (masked updates
/// whose sum alone is unmasked, SecureCoordinator; docs/protocol.md section 10).
enum Mode {
    Plain,
    Secure
}

/// @notice Lifecycle of a task.
enum TaskStatus {
    None,
    Running,
    Completed,
    Abandoned
}

/// @notice Stored status of a round. The finer phase is derived from timestamps (see RoundPhase).
enum RoundStatus {
    Active,
    Finalized,
    Failed
}

/// @notice Phase of a round as seen at the current block time (view only).
enum RoundPhase {
    NotOpen,
    Commit,
    Reveal,
    AwaitingFailure,
    Propose,
    ProposeExpired,
    Challenge,
    Finalizable,
    Finalized,
    Failed,
    Advertise, // secure mode: the phases before Propose are Advertise, Commit, Upload, Availability, Unmask
    Upload,
    Unmask,
    Availability, // secure mode: masked vectors may still be challenged or are being forced open
    Score // scored tasks: the committee commits, then reveals, its scores of the round's updates
}

/// @notice State of a member's entry in one round (view only; see Member.entry).
enum EntryState {
    Empty,
    Committed,
    Revealed,
    Dropped,
    Forfeited,
    Advertised // secure mode: keys advertised, not committed
}

/// @notice Immutable rules of a task, fixed at creation. Field order packs six storage slots; the first
/// slot holds everything commit and reveal read, so each reads one cold slot of the rules.
struct TaskParams {
    // slot 0: what commit and reveal need
    uint32 commitWindow;
    uint32 revealWindow;
    uint16 cohortCap;
    uint32 sampleCap;
    uint128 minStake;
    // slot 1: token, mode, rule, quantization, cohort floor and silence tolerance
    address token;
    uint8 mode;
    uint8 rule;
    uint8 scaleBits;
    uint8 wordsPerLeaf;
    uint32 clip;
    uint16 minParticipants;
    uint16 maxSilentRounds;
    // slot 2: sizes, delays, rates
    uint64 numParams;
    uint32 serverLrBps;
    uint40 unbondingDelay;
    bool allowlist;
    uint16 missedRevealSlashBps;
    uint16 silenceSlashBps;
    uint16 violationSlashBps;
    uint16 aggregatorSlashBps;
    uint16 bountyBps;
    uint16 aggregatorFeeBps;
    uint16 ruleParam; // the rule's parameter: the trimmed mean's trim at each end in bps, else 0
    // slot 3: the rest of the schedule and the bond
    uint32 proposeWindow;
    uint32 challengeWindow;
    uint32 numRounds;
    uint128 aggregatorBond;
    uint32 availabilityWindow; // seconds a challenged party has to answer (docs/protocol.md section 11)
    // slot 4
    uint128 rewardPerRound;
    uint96 availabilityBond; // what a challenger deposits per availability challenge or model dispute
    uint8 neighbours; // secure mode: k of the neighbour graph (0 in plain mode)
    uint8 threshold; // secure mode: the Shamir threshold t (0 in plain mode)
    // slot 5
    bytes32 modelSpecHash;
}

/// @notice Mutable state of a task.
struct TaskState {
    // slot 0
    uint128 pool; // unallocated reward pool: escrow, slashed remainders, rounding remainders
    uint128 owedRewards; // rewards of finalized rounds not yet paid out to participants
    // slot 1: read by every round call
    uint24 currentRound; // < numRounds < 2^24
    uint24 spareRounds; // closed rounds whose cohort had room left (silence counter)
    uint8 depth;
    TaskStatus status;
    uint96 lastRewardPerWeight; // rewardPerWeight of round currentRound - 1 (0 if it failed), for booking
    uint32 members; // joined members not exiting; round 0 opens when it reaches minParticipants
    uint40 createdAt; // when the task was created (the idle rule's origin until round 0 opens)
    bool sampled; // the current round's cohort was sampled (more members than cohortCap when it opened)
    bool scored; // a validator committee scores the task's updates (section 12; ScoringParams in the Scoring module)
    // slots 2-3: the current global model
    bytes32 modelRoot;
    bytes32 modelBlobRef;
    // slot 4
    address requester;
}

/// @notice Stored state of one round.
struct Round {
    // slot 0
    uint40 start; // commit window opens; 0 while round 0 waits for minParticipants members
    uint40 proposeStart; // start of the current propose window (0 until a reopen: reveal deadline)
    uint40 proposedAt; // 0 when no proposal is pending
    uint16 commits;
    uint16 reveals;
    uint16 included; // revealed and not dropped
    uint32 totalWeight; // sum of min(sampleCount, sampleCap) over included updates
    RoundStatus status;
    uint16 proposals; // proposals made in this round; the pending one is number `proposals`
    uint16 openChallenges; // availability challenges and training audits (section 13) not yet settled
    uint16 openDisputes; // model disputes of the pending proposal not yet settled
    // slot 1
    address aggregator;
    uint96 rewardPerWeight; // set at finalize: participant pool / totalWeight, rounded down
    // slots 2-3
    bytes32 proposedRoot;
    bytes32 proposedBlobRef;
    // slot 4
    uint40 settledAt; // when an availability challenge of the round was last resolved or applied (0: never)
    uint32 sampledFrom; // members when the round opened, if more than cohortCap (its cohort was sampled); else 0
    uint160 cohortSeed; // seed of the sampling (Cohort.seed), 0 when not sampled
}

/// @notice A member's stake, booked rewards and its one entry word, reused round after round
/// (docs/protocol.md section 8.3). Slot 0 holds everything a commit reads and writes, booking included.
struct Member {
    // slot 0
    uint96 stake;
    uint96 rewards; // booked and not yet paid (section 8.5)
    uint24 activityMark; // task.spareRounds at the last commit or join
    uint24 lastCommitRound; // round index + 1 of the last commit (the round `entry` belongs to), 0 if none
    bool exiting; // requestExit was called, at exitRequestedAt
    bool joined;
    // slot 1
    bytes32 entry; // commitment, reveal, drop or forfeit of round lastCommitRound - 1; 0 once settled
    // slot 2
    uint40 exitRequestedAt; // 0 when not exiting
}

/// @notice An aggregator's bond, packed in one slot.
struct Aggregator {
    uint128 bond;
    uint40 exitRequestedAt; // 0 when not exiting
    uint32 barredRound; // round index + 1 in which this aggregator was slashed (may not propose again)
    bool bonded;
}

/// @notice One leaf of a committed vector with its Merkle path.
struct LeafProof {
    bytes32[] words;
    bytes32[] siblings;
}

/// @notice Proof that a member's norm declaration is false at one leaf (docs/protocol.md section 4.4): the
/// declaration (normRoot, normSq), the update's leaf `leafIndex` under its revealed root, and the norm tree's
/// leaf `leafIndex` (its value, and its path: sibling hashes and sums from the leaf level up).
struct NormProof {
    bytes32 normRoot;
    uint256 normSq;
    uint256 leafIndex;
    LeafProof leaf;
    uint256 value;
    bytes32[] hashes;
    uint256[] sums;
}

/// @notice Fraud proof against a pending proposal at one leaf index (docs/protocol.md section 9).
/// `updates` lists every included update as one flat run of words, so the proof carries no per-update ABI
/// offsets: for each update, in strictly increasing participant order, a head word
/// `uint256(uint160(participant)) << 96 | weight`, then its wordsPerLeaf leaf words, then its depth path
/// siblings. The update roots are not sent: the verifier recomputes them from the leaves and paths.
struct AggregateFraudProof {
    uint256 leafIndex;
    LeafProof previous; // leaf of the current global model
    LeafProof proposed; // leaf of the proposed model
    bytes32[] updates; // (1 + wordsPerLeaf + depth) words per included update (3 + ... for rule 3, section 4.4)
}

/// @notice State of an availability challenge on a round input (docs/protocol.md section 11.2).
enum ChallengeStatus {
    None,
    Open, // the owner (or anyone holding the data) must post every chunk before the deadline
    Resolved, // every chunk is on chain, in the ChunkPosted events
    Unavailable // the deadline passed first: the input was dropped and its owner slashed
}

/// @notice An availability challenge on one member's input of one round: a Merkle tree whose leaves must
/// all be posted on chain, chunk by chunk, before the deadline (docs/protocol.md section 11.2).
struct InputChallenge {
    // slot 0
    address challenger;
    uint40 deadline;
    uint32 chunksPosted; // chunks 0..chunksPosted-1 are on chain
    uint8 leafWords; // words per leaf of the challenged tree: W (update) or 2W (masked vector)
    ChallengeStatus status;
    // slot 1
    bytes32 root; // the challenged tree
    // slot 2
    bytes32 boundEntry; // the member's entry the challenge was opened against
    // slot 3
    bytes32 droppedEntry; // what the entry becomes if the input turns out unavailable
    // slot 4
    uint32 weight; // the input's weight, taken off the round if it is dropped
    uint16 index; // secure mode: the member's advertise index (its uploaded bit); 0 in plain mode
    uint32 chunks; // chunks needed to resolve
    uint8 chunkLevels; // a chunk is the subtree of 2^chunkLevels leaves
}

/// @notice A secure-mode member's record as uploaded (docs/protocol.md section 10.4), restated by whoever
/// challenges its masked vector.
struct MaskedRecord {
    uint256 index;
    uint256 pkX;
    uint256 pkY;
    bytes32 selfSeedHash;
    bytes32 shareBundleRef;
    uint256 weight;
    bytes32 maskedRoot;
}

/// @notice State of a model dispute: the interactive opening of a pending proposal's tree, one level per
/// step, until one leaf is on chain (docs/protocol.md section 11.3).
enum DisputeStatus {
    None,
    AwaitingAnswer, // anyone holding the proposed tree must post the node's children (or, at a leaf, its words)
    AwaitingChoice, // the challenger must choose the child to descend into
    LeafOpened, // the leaf is on chain; the challenger may now prove the proposal wrong there
    Settled
}

/// @notice A model dispute of one challenger against one proposal.
struct Dispute {
    // slot 0
    uint40 deadline;
    uint64 index; // position of `node` in its level
    uint16 proposal; // Round.proposals when it was opened: the proposal it disputes
    uint8 level; // height of `node` above the leaves (0: a leaf)
    DisputeStatus status;
    // slot 1
    bytes32 node; // the disputed node of the proposed tree
}

/// @notice How a model dispute ended (DisputeSettled).
enum DisputeOutcome {
    Moot, // its proposal is gone (rejected, voided or replaced): the bond went back to the challenger
    ProposalUnopened, // nobody answered in time: the proposal was rejected, the bond went back
    ChallengerLapsed // the challenger did not choose or prove in time: the bond went to the aggregator
}

/// @notice Everything an off-chain agent needs about one round, with derived deadlines.
struct RoundView {
    Round round;
    RoundPhase phase;
    uint256 commitEnd;
    uint256 revealEnd;
    uint256 proposeStart;
    uint256 proposeEnd;
    uint256 challengeEnd; // 0 when no proposal is pending
}

/// @notice A task's contribution scoring (docs/protocol.md section 12), fixed by createScoredTask; all zero for
/// a task created without it. One storage slot.
struct ScoringParams {
    uint8 committee; // 1..16: validators sampled into each round's committee
    uint32 scoreWindow; // >= 10: seconds of the score commit window, and again of the score reveal window
    uint16 minScoreBps; // 0..10000: an update whose median score is below is dropped and its owner slashed
    uint16 toleranceBps; // 1..10000: a validator whose score is farther than this from the median is slashed
    uint16 validatorSlashBps; // 1..10000: share of a validator's stake taken for a fault
    uint16 validatorFeeBps; // 0..10000 - aggregatorFeeBps: share of a finalized round's reward for its scorers
    uint128 validatorStake; // 1..2^96-1: the stake of one seat, deposited at joinCommittee
}

/// @notice A validator's seat in a scored task (section 12).
struct Validator {
    uint128 stake; // what is left of validatorStake after slashes
    uint96 fees; // booked validator fees, not yet claimed
    uint8 lane; // 0..15: its 16-bit lane in every packed score word
    bool joined;
    uint32 sinceRound; // the first round whose committee it may sit in
    uint32 untilRound; // while exiting: the first round whose committee it may no longer sit in
    uint40 exitRequestedAt; // 0 while not exiting (a slash also starts its exit)
}

/// @notice The scoring record of one round (section 12): the committee's sampling and its progress.
struct ScoreRound {
    uint160 seed; // sampling seed, from the randomness of the block that opened the round
    uint8 pool; // seated validators when the round opened (the committee is sampled from them)
    uint8 commits; // score commitments
    uint8 reveals; // score reveals
    uint16 revealedLanes; // bit `lane` set for each validator that revealed
    bool unscoredDropped; // an update no validator scored was dropped: the score windows ended while the round ran
}

/// @notice A validator's score commitment and reveal in one round.
struct Ballot {
    bytes32 commitHash; // 0 until committed
    uint8 lane; // the validator's lane when it committed
    bool revealed;
    bool slashed; // a validator is slashed at most once per round
}

/// @notice Why a validator was slashed (section 12).
enum ValidatorFault {
    Silent, // on the round's committee, and revealed no scores
    Deviated // revealed a score farther than toleranceBps from the update's median
}

/// @notice A task's training audits (docs/protocol.md section 13), fixed by createAuditedTask; all zero for a
/// task created without them. Two storage slots.
struct AuditParams {
    // slot 0
    address verifier; // EZKL's Halo2 verifier of the task's step circuit: verifyProof(bytes, uint256[]) -> bool
    uint16 steps; // S, 1..1024: local training steps per round (a trajectory of S + 1 models)
    uint16 batchSize; // B, 1..65535: samples per step (a member's weight is min(batches * B, sampleCap))
    uint16 auditBps; // 0..10000: chance per round that the draw selects a revealed update for audit
    uint8 auditSteps; // m, 1..16: steps drawn (with replacement) in a selected update's trajectory
    uint32 proofWindow; // >= 10: seconds an audited member has to post its proof
    // slot 1
    uint128 demandBond; // 1..2^96-1: the bond of a demanded audit, paid to the member if its proof passes
}

/// @notice A member's committed training data (section 13.2): a Merkle root over the Poseidon hashes of its
/// `batches` salted batches, registered once, before its first commit.
struct Dataset {
    bytes32 root;
    uint32 batches; // 0: none registered
}

/// @notice Where an audit of one step of one member's round stands (section 13.5).
enum AuditStatus {
    None,
    Open, // the step's proof must be posted before the deadline
    Proven, // the proof verified: the step is the agreed training on the committed data
    Failed, // the deadline passed without a valid proof: the update was dropped and its owner slashed
    Moot // the deadline passed and the update had already left the round for another reason
}

/// @notice An audit of step `step` of a member's trajectory in one round.
struct Audit {
    // slot 0
    address challenger; // who opened it: the demander (bonded) or whoever opened a drawn audit
    uint40 deadline; // proofs are accepted strictly before it
    uint32 weight; // the update's weight, taken off the round if it is dropped
    bool bonded; // a demand (the challenger paid demandBond) rather than a drawn audit
    AuditStatus status;
    // slot 1
    bytes32 root; // the revealed update root the audit binds
}

/// @notice One opened leaf of a trajectory (section 13.3): the model's words (2^D * W words, the task's
/// leaf packing, padding included), the Poseidon hash committed beside it, and its trajectory path.
struct TrajectoryLeaf {
    bytes32[] words;
    uint256 poseidon;
    bytes32[] path;
}

/// @notice What a step's proof is checked against, opened from the member's commitments: trajectory leaves
/// 0, t, t + 1 and S (in that order), and the Poseidon hash of the step's batch with its dataset path.
struct StepOpening {
    TrajectoryLeaf[4] leaves;
    uint256 batchHash;
    bytes32[] batchPath;
}
