// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ISecureLeafVerifierErrors
/// @notice Errors of the secure-mode fraud proof that plain mode does not have (docs/protocol.md section 10.10).
interface ISecureLeafVerifierErrors {
    /// @notice Secure mode allows W in {1, 2, 4} only.
    error UnsupportedLeafWidth(uint256 wordsPerLeaf);
    /// @notice The round's set sizes cannot be right: 1 <= uploads <= commits <= advertised <= 256.
    error InvalidRoundSets(uint256 advertised, uint256 commits, uint256 uploads);
    /// @notice The dropped list is not exactly commits - uploads entries of 6 words.
    error MalformedDroppedList(uint256 words, uint256 expectedEntries);
    /// @notice Dropped entries must be strictly increasing by address.
    error DroppedNotSorted(uint256 position);
    /// @notice A participant's advertise index is not below the number of advertised keys.
    error AdvertiseIndexOutOfRange(address participant, uint256 index);
    /// @notice The proof's secrets (self seeds, then mask keys) are not the pending proposal's transcript.
    error TranscriptMismatch(bytes32 computed, bytes32 expected);
    /// @notice The ecMul precompile rejected a survivor's public key (the coordinator admits only curve points).
    error InvalidPublicKey(address participant);
}
