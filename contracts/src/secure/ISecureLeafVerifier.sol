// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ISecureLeafVerifierErrors
/// @notice Errors of the secure-mode fraud proof that plain mode does not have (docs/protocol.md section 10.10).
interface ISecureLeafVerifierErrors {
    /// @notice Secure mode allows W in {1, 2, 4} only.
    error UnsupportedLeafWidth(uint256 wordsPerLeaf);
    /// @notice The round's set sizes cannot be right: 1 <= uploads <= commits <= advertised <= 256.
    error InvalidRoundSets(uint256 advertised, uint256 commits, uint256 uploads);
    /// @notice The dropped list is not a whole number of 6-word entries or does not hold commits - uploads of them.
    error MalformedDroppedList(uint256 words, uint256 expectedEntries);
    /// @notice Dropped entries must be strictly increasing by address.
    error DroppedNotSorted(uint256 position);
    /// @notice A participant's advertise index is not below the number of advertised keys.
    error AdvertiseIndexOutOfRange(address participant, uint256 index);
    /// @notice A revealed mask key is not the secret of the participant's public key (sk * G != pk or sk >= r).
    error MaskKeyMismatch(address participant);
    /// @notice A dropped participant neighbours a survivor, so its mask key must be revealed.
    error MissingMaskKey(address participant);
    /// @notice The ecMul precompile rejected a participant's public key.
    error InvalidPublicKey(address participant);
}
