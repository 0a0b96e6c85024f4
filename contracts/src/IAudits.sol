// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Audit, AuditParams, Dataset, StepOpening, TaskParams} from "./FedTypes.sol";

/// @title IAudits
/// @notice Training audits (docs/protocol.md section 13), plain mode: members commit to their training data
/// and to each round's training trajectory; the chain's randomness, or a bonded demand, selects steps to
/// audit; an audited member proves the step with a zero-knowledge proof whose public instances the contract
/// builds from what the chain holds, or loses its update and part of its stake. Events and errors are in
/// ICoordinatorEvents.
interface IAudits {
    /// @notice The module that holds training audits (delegatecalled through Scoring).
    function AUDITS() external view returns (address);
    /// @notice The scalar field of BN254, in which every public instance lives.
    function FIELD_MODULUS() external view returns (uint256);
    /// @notice Most steps a round's trajectory may have.
    function MAX_STEPS() external view returns (uint256);
    /// @notice Most steps drawn for a selected update.
    function MAX_AUDIT_STEPS() external view returns (uint256);

    /// @notice Creates a plain task whose members' training is audited; escrows numRounds * rewardPerRound.
    function createAuditedTask(
        TaskParams calldata params,
        AuditParams calldata audits,
        bytes32 modelRoot,
        bytes32 modelBlobRef
    ) external returns (uint256 taskId);
    /// @notice Registers the caller's training data, once, before its first commit.
    function registerDataset(uint256 taskId, bytes32 root, uint256 batches) external;
    /// @notice Commits to the caller's training trajectory of the current round, before the reveal deadline.
    function commitTrajectory(uint256 taskId, bytes32 root) external;
    /// @notice Draws the current round's audits from this block's randomness, once, after the reveal deadline.
    function drawAudits(uint256 taskId) external;
    /// @notice Opens a drawn audit of a selected update (no bond).
    function openAudit(uint256 taskId, address participant, bytes32 root, uint256 weight, uint256 draw) external;
    /// @notice Demands the audit of one step of an update, against demandBond.
    function demandAudit(uint256 taskId, address participant, bytes32 root, uint256 weight, uint256 step) external;
    /// @notice Posts the proof of an audited step before its deadline.
    function proveStep(
        uint256 taskId,
        uint256 round,
        address participant,
        uint256 step,
        StepOpening calldata opening,
        bytes calldata proof
    ) external;
    /// @notice Settles an audit whose deadline passed without a proof: drops and slashes, or moot.
    function settleAudit(uint256 taskId, uint256 round, address participant, uint256 step) external;

    /// @notice The task's audit parameters (all zero for a task without audits).
    function auditParams(uint256 taskId) external view returns (AuditParams memory);
    /// @notice The member's registered dataset.
    function datasetOf(uint256 taskId, address member) external view returns (Dataset memory);
    /// @notice The member's trajectory root of a round (0 when none).
    function trajectoryOf(uint256 taskId, uint256 round, address member) external view returns (bytes32);
    /// @notice The seed of a round's audits (0 until drawn).
    function auditSeed(uint256 taskId, uint256 round) external view returns (uint256);
    /// @notice Whether the draw selected the update, and its drawn steps.
    function auditDraw(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (bool selected, uint256[] memory steps);
    /// @notice The audit of one step of an update.
    function auditOf(uint256 taskId, uint256 round, address participant, uint256 step)
        external
        view
        returns (Audit memory);
    /// @notice The public instances the contract builds for a step's proof (reverts where proveStep would).
    function stepInstances(
        uint256 taskId,
        uint256 round,
        address participant,
        uint256 step,
        bytes32 root,
        uint256 weight,
        StepOpening calldata opening
    ) external view returns (uint256[] memory);
}
