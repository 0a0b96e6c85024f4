// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICoordinator} from "../ICoordinator.sol";
import {ISecureLeafVerifierErrors} from "./ISecureLeafVerifier.sol";
import {SecureFraudProof, SecureRound} from "./SecureTypes.sol";

/// @title ISecureCoordinatorEvents
/// @notice Events and errors of the secure-mode round (docs/protocol.md section 10.12), besides those every
/// coordinator has (ICoordinatorEvents) and those of its fraud proof (ISecureLeafVerifierErrors).
interface ISecureCoordinatorEvents is ISecureLeafVerifierErrors {
    /// @notice A member advertised its round keys and got advertise index `index` (U1).
    event Advertised(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        uint256 index,
        uint256 pkX,
        uint256 pkY,
        bytes32 encryptionKey
    );
    /// @notice The round seed was fixed from the advertise digest and `randomness` (block.prevrandao).
    event RoundSeedFixed(uint256 indexed taskId, uint256 indexed round, bytes32 seed, uint256 randomness);
    /// @notice A member committed its self-seed hash, share bundle and weight (U2); `shareBundle` is the bundle
    /// itself and `shareBundleRef` its sha256.
    event SharesCommitted(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        bytes32 selfSeedHash,
        bytes32 shareBundleRef,
        uint256 sampleCount,
        uint256 weight,
        bytes shareBundle
    );
    /// @notice A member uploaded its masked vector (U3); the blob is at `blobRef`.
    event Uploaded(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, bytes32 maskedRoot, bytes32 blobRef
    );
    /// @notice A survivor published its unmask bundle at `bundleRef`.
    event UnmaskBundlePublished(
        uint256 indexed taskId, uint256 indexed round, address indexed participant, bytes32 bundleRef
    );
    /// @notice The pending proposal's transcript: survivors' self seeds, then dropped members' mask keys (or 0).
    event TranscriptProposed(uint256 indexed taskId, uint256 indexed round, bytes32[] transcript);

    /// @notice The round seed is not fixed yet (call fixRoundSeed after the advertise window).
    error SeedNotFixed(uint256 round);
    /// @notice The round seed is already fixed.
    error SeedAlreadyFixed(uint256 round);
    /// @notice A transcript has one word per committed member.
    error WrongTranscriptLength(uint256 given, uint256 expected);
}

/// @title ISecureCoordinator
/// @notice The whole interface of a secure-mode coordinator (docs/protocol.md sections 10 and 11): what every
/// coordinator has (ICoordinator) and the secure round.
interface ISecureCoordinator is ICoordinator, ISecureCoordinatorEvents {
    /// @notice Stateless leaf-level check of a secure fraud proof.
    function SECURE_VERIFIER() external view returns (address);
    /// @notice Advertises the caller's round keys (U1).
    function advertise(uint256 taskId, uint256 pkX, uint256 pkY, bytes32 encryptionKey) external;
    /// @notice Fixes the round seed after the advertise window.
    function fixRoundSeed(uint256 taskId) external;
    /// @notice Commits to the caller's shared secrets (U2), its share bundle on chain.
    function commitShares(
        uint256 taskId,
        uint256 index,
        uint256 pkX,
        uint256 pkY,
        bytes32 selfSeedHash,
        bytes calldata shareBundle,
        uint256 sampleCount
    ) external;
    /// @notice Uploads the caller's masked vector (U3).
    function upload(
        uint256 taskId,
        uint256 index,
        uint256 pkX,
        uint256 pkY,
        bytes32 selfSeedHash,
        bytes32 shareBundleRef,
        uint256 weight,
        bytes32 maskedRoot,
        bytes32 blobRef
    ) external;
    /// @notice Announces the caller's unmask bundle.
    function publishUnmaskBundle(uint256 taskId, bytes32 bundleRef) external;
    /// @notice Proposes the next global model with the round's transcript.
    function propose(uint256 taskId, bytes32 root, bytes32 blobRef, bytes32[] calldata transcript) external;
    /// @notice Proves the pending proposal wrong at one leaf.
    function challengeAggregate(uint256 taskId, uint256 leafIndex, SecureFraudProof calldata proof) external;
    /// @notice The secure state of a round.
    function secureRound(uint256 taskId, uint256 round) external view returns (SecureRound memory);
}
