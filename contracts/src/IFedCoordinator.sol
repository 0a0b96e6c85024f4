// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IAudits} from "./IAudits.sol";
import {ICoordinator} from "./ICoordinator.sol";
import {INorms} from "./INorms.sol";
import {IScoring} from "./IScoring.sol";
import {AggregateFraudProof, LeafProof} from "./FedTypes.sol";

/// @title IFedCoordinator
/// @notice The whole interface of a plain-mode coordinator (docs/protocol.md sections 7-9 and 11): what every
/// coordinator has (ICoordinator) and the plain round: commit-reveal of update roots, proposals and the
/// one-leaf fraud proofs, contribution scores (IScoring, section 12), training audits (IAudits, section 13) and
/// norm declarations (INorms, section 4.4).
interface IFedCoordinator is ICoordinator, IScoring, IAudits, INorms {
    /// @notice Stateless leaf-level fraud-proof checks.
    function LEAF_VERIFIER() external view returns (address);
    /// @notice Commits to an update in the current round.
    function commit(uint256 taskId, bytes32 commitHash) external;
    /// @notice Reveals the committed update of the current round.
    function reveal(uint256 taskId, bytes32 root, uint256 sampleCount, bytes32 salt, bytes32 blobRef) external;
    /// @notice Proposes the next global model.
    function propose(uint256 taskId, bytes32 root, bytes32 blobRef) external;
    /// @notice Proves the pending proposal wrong at one leaf.
    function challengeAggregate(uint256 taskId, AggregateFraudProof calldata proof) external;
    /// @notice Proves that a revealed update breaks the rules at one leaf.
    function proveViolation(
        uint256 taskId,
        address participant,
        bytes32 root,
        uint256 weight,
        uint256 leafIndex,
        LeafProof calldata leaf
    ) external;
    /// @notice The commit hash this contract expects.
    function commitmentOf(
        uint256 taskId,
        uint256 round,
        address participant,
        bytes32 root,
        uint256 sampleCount,
        bytes32 salt
    ) external view returns (bytes32);
}
