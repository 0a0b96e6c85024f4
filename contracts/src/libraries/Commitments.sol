// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Commitments
/// @notice The commit hash of docs/protocol.md section 5 and the encoding of a member's entry word (section
/// 8.3): one storage word per member, reused round after round, that holds the member's commitment, reveal,
/// drop or forfeit in the round of its last commit. Bit 0 tells a commitment (0) from a reveal (1); the
/// dropped and forfeited markers are small constants that no 255-bit hash prefix reaches in practice; zero
/// means empty (never committed, or already settled).
library Commitments {
    /// @notice Entry of an update dropped for a proven violation.
    bytes32 internal constant DROPPED = bytes32(uint256(2));
    /// @notice Entry of a commitment slashed for a missing reveal.
    bytes32 internal constant FORFEITED = bytes32(uint256(4));
    /// @notice A revealed entry keeps its weight in bits [1, 33) and the binding hash in bits [33, 256).
    uint256 internal constant HASH_MASK = type(uint256).max << 33;

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

    /// @notice Entry stored at commit: the commit hash (which binds the round) with bit 0 cleared.
    function committedEntry(bytes32 hash) internal pure returns (bytes32) {
        return hash & ~bytes32(uint256(1));
    }

    /// @notice Entry stored at reveal in `round`: the top 223 bits of keccak(abi.encode(round, root, weight)),
    /// the weight in bits [1, 33) (weights are at most 2^20), bit 0 set. Binding the round keeps a reveal of
    /// an earlier round from passing for one of this round.
    function revealedEntry(uint256 round, bytes32 root, uint256 weight) internal pure returns (bytes32) {
        uint256 hash = uint256(keccak256(abi.encode(round, root, weight)));
        // The weight field is 32 bits wide; the hash above binds the full value either way.
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes32((hash & HASH_MASK) | (uint256(uint32(weight)) << 1) | 1);
    }

    /// @notice The weight a revealed entry carries.
    function weightOf(bytes32 entry) internal pure returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(uint256(entry) >> 1);
    }

    /// @notice True iff `entry` holds a reveal.
    function isRevealed(bytes32 entry) internal pure returns (bool) {
        return (uint256(entry) & 1) == 1;
    }

    /// @notice True iff `entry` holds a commitment that was never revealed, dropped or forfeited.
    function isCommitted(bytes32 entry) internal pure returns (bool) {
        return entry != bytes32(0) && entry != DROPPED && entry != FORFEITED && (uint256(entry) & 1) == 0;
    }
}
