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

/// @notice State of one participant's slot in one round (view only).
enum SlotState {
    Empty,
    Committed,
    Revealed,
    Dropped,
    Forfeited
}

/// @notice Immutable rules of a task, fixed at creation. Field order packs five storage slots; the first
/// slot holds everything commit and reveal need.
struct TaskParams {
    // slot 0: schedule and cohort (read by commit / reveal)
    uint32 commitWindow;
    uint32 revealWindow;
    uint32 proposeWindow;
    uint32 challengeWindow;
    uint16 cohortCap;
    uint16 minParticipants;
    uint32 sampleCap;
    uint32 numRounds;
    uint16 maxSilentRounds;
    // slot 1: token, mode, rule and quantization
    address token;
    uint8 mode;
    uint8 rule;
    uint8 scaleBits;
    uint8 wordsPerLeaf;
    uint32 clip;
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
    // slots 3-4: amounts
    uint128 minStake;
    uint128 aggregatorBond;
    uint128 rewardPerRound;
    // slot 5
    bytes32 modelSpecHash;
}

/// @notice Mutable state of a task.
struct TaskState {
    // slot 0
    uint128 pool; // unallocated reward pool: escrow, slashed remainders, rounding remainders
    uint128 owedRewards; // rewards of finalized rounds not yet claimed by participants
    // slot 1
    address requester;
    uint32 currentRound;
    uint32 spareRounds; // closed rounds whose cohort had room left (silence counter)
    uint8 depth;
    TaskStatus status;
    // slots 2-3: the current global model
    bytes32 modelRoot;
    bytes32 modelBlobRef;
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

/// @notice A member's stake, packed in one slot.
struct Member {
    uint128 stake;
    uint40 exitRequestedAt; // 0 when not exiting
    uint32 activityMark; // task.spareRounds at the last commit or join
    uint32 lastCommitRound; // round index + 1 of the last commit, 0 if none
    bool joined;
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

/// @notice One round of a batched reward claim: the reveal the caller made in that round.
struct ClaimItem {
    uint32 round;
    bytes32 root;
    uint256 weight;
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
