// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Commitments
/// @notice The commit hash of docs/protocol.md section 5 and the one-slot-per-participant-per-round encoding
/// of docs/protocol.md section 8. Bit 0 of a slot tells a commitment (0) from a reveal (1); the dropped and
/// forfeited markers are small constants that no 255-bit hash prefix reaches in practice; zero means empty
/// (never committed, or reward already claimed).
library Commitments {
    /// @notice Slot value of an update dropped for a proven violation.
    bytes32 internal constant DROPPED = bytes32(uint256(2));
    /// @notice Slot value of a commitment slashed for a missing reveal.
    bytes32 internal constant FORFEITED = bytes32(uint256(4));

    /// @notice keccak(abi.encode(chainId, coordinator, taskId, round, participant, root, sampleCount, salt)).
    function commitHash(
        uint256 chainId,
        address coordinator,
        uint256 taskId,
        uint256 round,
        address participant,
        bytes32 root,
        uint256 sampleCount,
        bytes32 salt
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(chainId, coordinator, taskId, round, participant, root, sampleCount, salt));
    }

    /// @notice Slot value stored at commit: the commit hash with bit 0 cleared.
    function committedSlot(bytes32 hash) internal pure returns (bytes32) {
        return hash & ~bytes32(uint256(1));
    }

    /// @notice Slot value stored at reveal: keccak(abi.encode(root, weight)) with bit 0 set.
    function revealedSlot(bytes32 root, uint256 weight) internal pure returns (bytes32) {
        return keccak256(abi.encode(root, weight)) | bytes32(uint256(1));
    }

    /// @notice True iff `slot` holds a commitment that was never revealed, dropped or forfeited.
    function isCommitted(bytes32 slot) internal pure returns (bool) {
        return slot != bytes32(0) && slot != DROPPED && slot != FORFEITED && (uint256(slot) & 1) == 0;
    }
}
