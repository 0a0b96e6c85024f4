// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Scores
/// @notice The arithmetic of contribution scores (docs/protocol.md section 12): committee sampling, the score
/// commitment, the packed score word of one update (one 16-bit lane per seat) and its median.
library Scores {
    /// @notice The score of an update as good as the best, in basis points.
    uint256 internal constant SCORE_ONE = 10_000;
    /// @notice The score value that abstains.
    uint256 internal constant NO_SCORE = type(uint16).max;
    /// @notice Seats of a committee: lanes of a score word.
    uint256 internal constant MAX_SEATS = 16;
    /// @notice Domain of the committee's seed, apart from the cohort's (Cohort.seed).
    bytes32 internal constant COMMITTEE_DOMAIN = keccak256("fedchain.committee");

    /// @notice The committee seed of round `round` of task `taskId`, from the randomness of the block that
    /// opened it.
    function seed(uint256 randomness, uint256 taskId, uint256 round) internal pure returns (uint160) {
        return uint160(uint256(keccak256(abi.encode(randomness, taskId, round, COMMITTEE_DOMAIN))));
    }

    /// @notice Whether `validator` (whose seat may sit in the round) is sampled into the committee of a round
    /// with `roundSeed` and `pool` seats that may sit in it: each seat independently with probability
    /// committee / pool.
    function sampled(uint160 roundSeed, uint256 pool, uint256 committee, address validator)
        internal
        pure
        returns (bool)
    {
        if (pool <= committee) return true;
        return uint256(keccak256(abi.encode(roundSeed, validator))) % pool < committee;
    }

    /// @notice The hash a validator commits to before revealing its scores.
    function commitHash(
        uint256 chainId,
        address coordinator,
        uint256 taskId,
        uint256 round,
        address validator,
        address[] calldata participants,
        uint16[] calldata scores,
        bytes32 salt
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(chainId, coordinator, taskId, round, validator, participants, scores, salt));
    }

    /// @notice The score in `lane` of a score word, and whether there is one.
    function scoreAt(uint256 word, uint256 lane) internal pure returns (bool present, uint256 score) {
        uint256 stored = (word >> (16 * lane)) & 0xffff;
        return (stored != 0, stored == 0 ? 0 : stored - 1);
    }

    /// @notice `word` with `score` (at most SCORE_ONE) written into `lane`.
    function withScore(uint256 word, uint256 lane, uint256 score) internal pure returns (uint256) {
        uint256 shift = 16 * lane;
        return (word & ~(uint256(0xffff) << shift)) | ((score + 1) << shift);
    }

    /// @notice How many scores a word holds and their lower median (the one at index (count - 1) / 2 of the
    /// sorted scores; 0 when there is none). Insertion sort of at most 16 values.
    function median(uint256 word) internal pure returns (uint256 count, uint256 value) {
        // slither-disable-next-line uninitialized-local
        uint256[16] memory sorted; // zeroed by Solidity; only its first `count` entries are read
        for (uint256 lane = 0; lane < MAX_SEATS; ++lane) {
            (bool present, uint256 score) = scoreAt(word, lane);
            if (!present) continue;
            uint256 i = count;
            while (i > 0 && sorted[i - 1] > score) {
                sorted[i] = sorted[i - 1];
                --i;
            }
            sorted[i] = score;
            ++count;
        }
        if (count != 0) value = sorted[(count - 1) / 2];
    }
}
