// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice Aggregation rules a task can pick. Only rules whose fraud proof is leaf-local belong here.
enum AggregationRule {
    WeightedFedAvg
}

/// @notice How updates travel: plain (revealed update blobs). A secure (masked) mode is reserved for later.
enum Mode {
    Plain
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
    Failed
}

/// @notice State of a member's entry in one round (view only; see Member.entry).
enum EntryState {
    Empty,
    Committed,
    Revealed,
    Dropped,
    Forfeited
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
    // slot 3: the rest of the schedule and the bond
    uint32 proposeWindow;
    uint32 challengeWindow;
    uint32 numRounds;
    uint128 aggregatorBond;
    // slot 4
    uint128 rewardPerRound;
    // slot 5
    bytes32 modelSpecHash;
}

/// @notice Mutable state of a task.
struct TaskState {
    // slot 0
    uint128 pool; // unallocated reward pool: escrow, slashed remainders, rounding remainders
    uint128 owedRewards; // rewards of finalized rounds not yet paid out to participants
    // slot 1: read by every round call
    uint32 currentRound;
    uint32 spareRounds; // closed rounds whose cohort had room left (silence counter)
    uint8 depth;
    TaskStatus status;
    uint96 lastRewardPerWeight; // rewardPerWeight of round currentRound - 1 (0 if it failed), for booking
    // slots 2-3: the current global model
    bytes32 modelRoot;
    bytes32 modelBlobRef;
    // slot 4
    address requester;
}

/// @notice Stored state of one round.
struct Round {
    // slot 0
    uint40 start; // commit window opens
    uint40 proposeStart; // start of the current propose window (0 until a reopen: reveal deadline)
    uint40 proposedAt; // 0 when no proposal is pending
    uint16 commits;
    uint16 reveals;
    uint16 included; // revealed and not dropped
    uint32 totalWeight; // sum of min(sampleCount, sampleCap) over included updates
    RoundStatus status;
    // slot 1
    address aggregator;
    uint96 rewardPerWeight; // set at finalize: participant pool / totalWeight, rounded down
    // slots 2-3
    bytes32 proposedRoot;
    bytes32 proposedBlobRef;
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

/// @notice Fraud proof against a pending proposal at one leaf index (docs/protocol.md section 9).
/// `updates` lists every included update as one flat run of words, so the proof carries no per-update ABI
/// offsets: for each update, in strictly increasing participant order, a head word
/// `uint256(uint160(participant)) << 96 | weight`, then its wordsPerLeaf leaf words, then its depth path
/// siblings. The update roots are not sent: the verifier recomputes them from the leaves and paths.
struct AggregateFraudProof {
    uint256 leafIndex;
    LeafProof previous; // leaf of the current global model
    LeafProof proposed; // leaf of the proposed model
    bytes32[] updates; // (1 + wordsPerLeaf + depth) words per included update, see above
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
