// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedCoordinatorEvents} from "./IFedCoordinator.sol";
import {AggregationRule, Mode, TaskParams} from "./FedTypes.sol";
import {SecureAggregation} from "./secure/SecureAggregation.sol";

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

    /// @notice Reverts with InvalidTaskParameter(name) for the first out-of-range field of `p`; returns `p` as
    /// the six storage words of TaskParams's layout (FedTypes.sol), which the coordinator stores as they are:
    /// packing here keeps the struct copy out of the coordinators' code.
    /// @param p Task rules to check (docs/protocol.md section 8 lists every range).
    /// @return words `p` in its storage layout.
    function validate(TaskParams calldata p) external view returns (uint256[6] memory words) {
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
        if (p.mode > uint8(Mode.Secure)) revert InvalidTaskParameter("mode");
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
        if (p.mode == uint8(Mode.Plain)) {
            if (p.neighbours != 0) revert InvalidTaskParameter("neighbours");
            if (p.threshold != 0) revert InvalidTaskParameter("threshold");
        } else {
            string memory invalid = SecureAggregation.invalidParameter(
                p.neighbours, p.threshold, p.wordsPerLeaf, p.clip, p.sampleCap, p.cohortCap
            );
            if (bytes(invalid).length != 0) revert InvalidTaskParameter(invalid);
        }
        return pack(p);
    }

    /// @notice `p` as the six storage words of TaskParams: fields in declaration order from the low-order
    /// bytes of each slot up, a field that does not fit the rest of a slot starting the next one.
    /// @param p Task rules (not checked here).
    /// @return words The storage words, slot 0 first.
    function pack(TaskParams calldata p) public pure returns (uint256[6] memory words) {
        words[0] = uint256(p.commitWindow) | uint256(p.revealWindow) << 32 | uint256(p.cohortCap) << 64
            | uint256(p.sampleCap) << 80 | uint256(p.minStake) << 112;
        words[1] = uint256(uint160(p.token)) | uint256(p.mode) << 160 | uint256(p.rule) << 168
            | uint256(p.scaleBits) << 176 | uint256(p.wordsPerLeaf) << 184 | uint256(p.clip) << 192
            | uint256(p.minParticipants) << 224 | uint256(p.maxSilentRounds) << 240;
        words[2] = uint256(p.numParams) | uint256(p.serverLrBps) << 64 | uint256(p.unbondingDelay) << 96
            | (p.allowlist ? uint256(1) << 136 : 0) | uint256(p.missedRevealSlashBps) << 144
            | uint256(p.silenceSlashBps) << 160 | uint256(p.violationSlashBps) << 176
            | uint256(p.aggregatorSlashBps) << 192 | uint256(p.bountyBps) << 208 | uint256(p.aggregatorFeeBps) << 224;
        words[3] = uint256(p.proposeWindow) | uint256(p.challengeWindow) << 32 | uint256(p.numRounds) << 64
            | uint256(p.aggregatorBond) << 96;
        words[4] = uint256(p.rewardPerRound) | uint256(p.neighbours) << 128 | uint256(p.threshold) << 136;
        words[5] = uint256(p.modelSpecHash);
    }
}
