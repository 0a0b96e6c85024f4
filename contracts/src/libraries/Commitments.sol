// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Commitments
/// @notice The commit hash of docs/protocol.md section 5 and the encoding of a member's entry word (section
/// 8.3): one storage word per member, reused round after round, that holds the member's commitment, reveal,
/// drop or forfeit in the round of its last commit. Its low three bits tell them apart: bit 0 set, a reveal
/// (bits 1-32 then carry the weight); else bit 1 set, a secure-mode advertisement; else bit 2 set, a
/// commitment forfeited for a missing reveal (the commitment stays, so a secure fraud proof can still bind
/// the member's record); all three clear, a commitment. The dropped marker is a small constant that no hash
/// prefix reaches in practice; zero means empty (never committed, or settled).
library Commitments {
    /// @notice Entry of an update dropped for a proven violation.
    bytes32 internal constant DROPPED = bytes32(uint256(2));
    /// @notice Entry of a secure-mode advertisement forfeited for a missing commitment (nothing left to bind).
    bytes32 internal constant FORFEITED_MARK = bytes32(uint256(4));
    /// @notice Bit 2: set on a commitment that was forfeited.
    uint256 internal constant FORFEIT_BIT = 4;
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

    /// @notice Entry stored at commit: the commit hash (which binds the round) with bits 0 to 2 cleared.
    function committedEntry(bytes32 hash) internal pure returns (bytes32) {
        return hash & ~bytes32(uint256(7));
    }

    /// @notice The entry of a committed entry once forfeited (slashed for a missing reveal): bit 2 set.
    function forfeitedEntry(bytes32 committed) internal pure returns (bytes32) {
        return committed | bytes32(FORFEIT_BIT);
    }

    /// @notice Whether `entry` is the commitment `committed`, forfeited or not.
    function holdsCommitment(bytes32 entry, bytes32 committed) internal pure returns (bool) {
        return (entry & ~bytes32(FORFEIT_BIT)) == committed;
    }

    /// @notice Entry of a secure-mode advertisement: `hash` (which binds the round) with bit 0 cleared, bit 1 set.
    function advertisedEntry(bytes32 hash) internal pure returns (bytes32) {
        return (hash & ~bytes32(uint256(3))) | bytes32(uint256(2));
    }

    /// @notice Entry stored at reveal in `round`: the top 223 bits of keccak(abi.encode(round, root, weight)),
    /// the weight in bits [1, 33) (weights are at most 2^20), bit 0 set. Binding the round keeps a reveal of
    /// an earlier round from passing for one of this round.
    function revealedEntry(uint256 round, bytes32 root, uint256 weight) internal pure returns (bytes32) {
        return revealedEntryOf(keccak256(abi.encode(round, root, weight)), weight);
    }

    /// @notice A revealed entry binding `hash` (which must bind the round and the weight) and carrying `weight`.
    function revealedEntryOf(bytes32 hash, uint256 weight) internal pure returns (bytes32) {
        // The weight field is 32 bits wide; the hash binds the full value either way.
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes32((uint256(hash) & HASH_MASK) | (uint256(uint32(weight)) << 1) | 1);
    }

    /// @notice Whether a revealed entry binds `hash` (its top 223 bits; the low bits carry the weight).
    function revealedBinds(bytes32 entry, bytes32 hash) internal pure returns (bool) {
        return isRevealed(entry) && (uint256(entry) & HASH_MASK) == (uint256(hash) & HASH_MASK);
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
        return entry != bytes32(0) && (uint256(entry) & 7) == 0;
    }

    /// @notice True iff `entry` holds a forfeited commitment.
    function isForfeited(bytes32 entry) internal pure returns (bool) {
        return (uint256(entry) & 7) == FORFEIT_BIT;
    }

    /// @notice True iff `entry` holds a secure-mode advertisement.
    function isAdvertised(bytes32 entry) internal pure returns (bool) {
        return entry != DROPPED && (uint256(entry) & 3) == 2;
    }
}
