// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Cohort
/// @notice Cohort sampling (docs/protocol.md section 8.2): when a round opens with more members than its cohort
/// takes, the chain's randomness picks who may enter it, each member independently with probability
/// cohortCap / members, so every member has the same chance each round (not the fastest every round), and
/// anyone can recompute who was picked from the round's seed.
library Cohort {
    /// @notice The seed of round `round` of task `taskId`, from the randomness of the block that opened it.
    function seed(uint256 randomness, uint256 taskId, uint256 round) internal pure returns (uint160) {
        return uint160(uint256(keccak256(abi.encode(randomness, taskId, round))));
    }

    /// @notice Whether `member` is in the cohort of a round sampled with `roundSeed` from `members` members
    /// (`members` 0: the round is not sampled and every member may enter).
    function includes(uint160 roundSeed, uint256 members, uint256 cohortCap, address member)
        internal
        pure
        returns (bool)
    {
        if (members == 0) return true;
        return uint256(keccak256(abi.encode(roundSeed, member))) % members < cohortCap;
    }
}
