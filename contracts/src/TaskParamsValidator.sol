// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedCoordinatorEvents} from "./IFedCoordinator.sol";
import {AggregationRule, Mode, TaskParams} from "./FedTypes.sol";

/// @title TaskParamsValidator
/// @notice Range checks of a task's immutable rules. A separate stateless contract, deployed by the
/// coordinator's constructor, so that the coordinator stays under the EIP-170 code size limit.
contract TaskParamsValidator is IFedCoordinatorEvents {
    /// @notice Basis-point denominator of every rate.
    uint256 public constant BPS = 10_000;
    /// @notice Largest cohort of one round.
    uint256 public constant MAX_COHORT = 256;
    /// @notice Largest sampleCap (docs/protocol.md section 4).
    uint256 public constant MAX_SAMPLE_CAP = 1 << 20;
    /// @notice Largest serverLrBps (a learning rate of 10).
    uint256 public constant MAX_SERVER_LR_BPS = 100_000;
    /// @notice Largest scaleBits (docs/protocol.md section 1).
    uint256 public constant MAX_SCALE_BITS = 30;
    /// @notice Largest numParams: 2^40 coordinates.
    uint256 public constant MAX_NUM_PARAMS = 1 << 40;
    /// @notice Most rounds of a task (round numbers fit the member record's 24-bit fields).
    uint256 public constant MAX_ROUNDS = type(uint24).max;
    /// @notice Largest stake, and largest escrow numRounds * rewardPerRound (both fit the member record's
    /// 96-bit fields, so a member's booked rewards can never overflow).
    uint256 public constant MAX_AMOUNT = type(uint96).max;

    /// @notice Reverts with InvalidTaskParameter(name) for the first out-of-range field of `p`.
    /// @param p Task rules to check (docs/protocol.md section 8 lists every range).
    function validate(TaskParams calldata p) external view {
        if (p.commitWindow == 0) revert InvalidTaskParameter("commitWindow");
        if (p.revealWindow == 0) revert InvalidTaskParameter("revealWindow");
        if (p.proposeWindow == 0) revert InvalidTaskParameter("proposeWindow");
        if (p.challengeWindow == 0) revert InvalidTaskParameter("challengeWindow");
        if (p.cohortCap == 0 || p.cohortCap > MAX_COHORT) revert InvalidTaskParameter("cohortCap");
        if (p.minParticipants == 0 || p.minParticipants > p.cohortCap) revert InvalidTaskParameter("minParticipants");
        if (p.sampleCap == 0 || p.sampleCap > MAX_SAMPLE_CAP) revert InvalidTaskParameter("sampleCap");
        if (p.numRounds == 0 || p.numRounds > MAX_ROUNDS) revert InvalidTaskParameter("numRounds");
        if (p.maxSilentRounds == 0) revert InvalidTaskParameter("maxSilentRounds");
        if (p.token.code.length == 0) revert InvalidTaskParameter("token");
        if (p.mode != uint8(Mode.Plain)) revert InvalidTaskParameter("mode");
        if (p.rule != uint8(AggregationRule.WeightedFedAvg)) revert InvalidTaskParameter("rule");
        if (p.scaleBits > MAX_SCALE_BITS) revert InvalidTaskParameter("scaleBits");
        if (p.wordsPerLeaf == 0 || p.wordsPerLeaf > 8 || (p.wordsPerLeaf & (p.wordsPerLeaf - 1)) != 0) {
            revert InvalidTaskParameter("wordsPerLeaf");
        }
        if (p.clip == 0 || p.clip > uint32(type(int32).max)) revert InvalidTaskParameter("clip");
        if (p.numParams == 0 || p.numParams > MAX_NUM_PARAMS) revert InvalidTaskParameter("numParams");
        if (p.serverLrBps == 0 || p.serverLrBps > MAX_SERVER_LR_BPS) revert InvalidTaskParameter("serverLrBps");
        if (p.unbondingDelay == 0) revert InvalidTaskParameter("unbondingDelay");
        if (p.missedRevealSlashBps > BPS) revert InvalidTaskParameter("missedRevealSlashBps");
        if (p.silenceSlashBps > BPS) revert InvalidTaskParameter("silenceSlashBps");
        if (p.violationSlashBps > BPS) revert InvalidTaskParameter("violationSlashBps");
        if (p.aggregatorSlashBps > BPS) revert InvalidTaskParameter("aggregatorSlashBps");
        if (p.bountyBps > BPS) revert InvalidTaskParameter("bountyBps");
        if (p.aggregatorFeeBps > BPS) revert InvalidTaskParameter("aggregatorFeeBps");
        if (p.minStake == 0 || p.minStake > MAX_AMOUNT) revert InvalidTaskParameter("minStake");
        if (p.aggregatorBond == 0) revert InvalidTaskParameter("aggregatorBond");
        if (uint256(p.numRounds) * p.rewardPerRound > MAX_AMOUNT) revert InvalidTaskParameter("rewardPerRound");
        if (p.modelSpecHash == bytes32(0)) revert InvalidTaskParameter("modelSpecHash");
    }
}
