// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ISecureLeafVerifierErrors} from "./ISecureLeafVerifier.sol";

/// @title ISecureCoordinatorEvents
/// @notice Events and errors of the secure-mode round (docs/protocol.md section 10.12), besides those every
/// coordinator has (IFedCoordinatorEvents) and those of its fraud proof (ISecureLeafVerifierErrors).
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
    /// @notice A member committed its self-seed hash, share bundle and weight (U2).
    event SharesCommitted(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed participant,
        bytes32 selfSeedHash,
        bytes32 shareBundleRef,
        uint256 sampleCount,
        uint256 weight
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
