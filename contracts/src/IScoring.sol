// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Ballot, ScoreRound, ScoringParams, TaskParams, Validator} from "./FedTypes.sol";

/// @title IScoring
/// @notice Contribution scores (docs/protocol.md section 12), plain mode: a staked validator committee,
/// sampled per round by the chain's randomness, commits and then reveals a score of every included update,
/// measured on its own held-out data; the median decides whether the update stays in the round and what it
/// earns; a validator far from the median, or silent, loses part of its stake. Events and errors are in
/// ICoordinatorEvents.
interface IScoring {
    /// @notice The score of an update as good as the best, in basis points.
    function SCORE_ONE() external view returns (uint256);
    /// @notice The score value that abstains from scoring an update.
    function NO_SCORE() external view returns (uint256);
    /// @notice Most seats in a task's committee (lanes of a packed score word).
    function MAX_SEATS() external view returns (uint256);

    /// @notice Creates a plain task scored by a validator committee; escrows numRounds * rewardPerRound.
    function createScoredTask(
        TaskParams calldata params,
        ScoringParams calldata scoring,
        bytes32 modelRoot,
        bytes32 modelBlobRef
    ) external returns (uint256 taskId);
    /// @notice Takes a committee seat, depositing exactly validatorStake.
    function joinCommittee(uint256 taskId) external;
    /// @notice Leaves the committee after the current round.
    function requestCommitteeExit(uint256 taskId) external;
    /// @notice Pays back the seat's stake and booked fees and frees the seat.
    function withdrawValidator(uint256 taskId) external;
    /// @notice Pays the caller's booked validator fees.
    function claimValidatorFees(uint256 taskId) external;
    /// @notice Commits to the caller's scores of the current round's updates.
    function commitScores(uint256 taskId, bytes32 scoresHash) external;
    /// @notice Reveals the committed scores: one per included update, participants in increasing order.
    function revealScores(uint256 taskId, address[] calldata participants, uint16[] calldata scores, bytes32 salt)
        external;
    /// @notice Drops an update of the current round whose median score is below the task's threshold (its owner
    /// slashed), or that no validator scored (no slash, no bounty).
    function dropLowScore(uint256 taskId, address participant) external;
    /// @notice Slashes a validator whose score of `participant`'s update in `round` is far from the median.
    function slashDeviation(uint256 taskId, uint256 round, address validator, address participant) external;
    /// @notice Slashes a validator of `round`'s committee that revealed no scores.
    function slashSilentValidator(uint256 taskId, uint256 round, address validator) external;

    /// @notice The task's scoring parameters (all zero for a task without scoring).
    function scoringParams(uint256 taskId) external view returns (ScoringParams memory);
    /// @notice A validator's seat.
    function validatorOf(uint256 taskId, address validator) external view returns (Validator memory);
    /// @notice A round's scoring record.
    function scoreRound(uint256 taskId, uint256 round) external view returns (ScoreRound memory);
    /// @notice A validator's commitment and reveal in a round.
    function ballotOf(uint256 taskId, uint256 round, address validator) external view returns (Ballot memory);
    /// @notice Whether `validator` sits in `round`'s committee.
    function onCommittee(uint256 taskId, uint256 round, address validator) external view returns (bool);
    /// @notice The packed scores of `participant`'s update in `round`: lane i holds score + 1 (0: none).
    function scoresOf(uint256 taskId, uint256 round, address participant) external view returns (uint256);
    /// @notice How many validators scored the update, and their median (0 when none did).
    function medianScore(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (uint256 count, uint256 median);
    /// @notice The score commitment this contract expects.
    function scoresCommitmentOf(
        uint256 taskId,
        uint256 round,
        address validator,
        address[] calldata participants,
        uint16[] calldata scores,
        bytes32 salt
    ) external view returns (bytes32);
}
