// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {NormProof} from "./FedTypes.sol";

/// @title INorms
/// @notice Norm declarations of a norm-bounded task (rule 3, docs/protocol.md section 4.4), plain mode. Events and
/// errors are in ICoordinatorEvents.
interface INorms {
    /// @notice The coordinate UpdateDropped reports for an update dropped as undeclared (2^256 - 1).
    function UNDECLARED_NORM() external view returns (uint256);
    /// @notice Declares the per-leaf squared norms of the caller's revealed update of the current round.
    function declareNorm(uint256 taskId, uint256[] calldata leafNorms) external;
    /// @notice Drops a revealed update left undeclared at the reveal deadline, and slashes its owner.
    function dropUndeclared(uint256 taskId, address participant, bytes32 root, uint256 weight) external;
    /// @notice Proves a norm declaration false at one leaf; drops the update and slashes its owner.
    function proveNormViolation(
        uint256 taskId,
        address participant,
        bytes32 root,
        uint256 weight,
        NormProof calldata proof
    ) external;
    /// @notice The member's norm declaration word (0 if none).
    function normDeclarationOf(uint256 taskId, address member) external view returns (bytes32);
}
