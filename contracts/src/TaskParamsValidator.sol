// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICoordinatorEvents} from "./ICoordinator.sol";
import {Mode, TaskParams} from "./FedTypes.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";
import {LeafRule} from "./rules/LeafRule.sol";
import {RuleRegistry} from "./rules/RuleRegistry.sol";
import {NormTree} from "./libraries/NormTree.sol";
import {SecureAggregation} from "./secure/SecureAggregation.sol";

/// @title TaskParamsValidator
/// @notice Range checks of a task's immutable rules. A separate stateless contract, deployed by the
/// coordinator's constructor, so that the coordinator stays under the EIP-170 code size limit.
contract TaskParamsValidator is ICoordinatorEvents {
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
    /// @notice Shortest window of any kind, seconds: a watcher must be able to see and answer in time.
    uint256 public constant MIN_WINDOW = 10;
    /// @notice Largest bountyBps: a proof always costs the proven party at least half of what it is slashed,
    /// so challenging one's own wrong proposal (or input) is never free delay.
    uint256 public constant MAX_BOUNTY_BPS = 5_000;
    /// @notice Gas cap of one transaction (EIP-7825): no dispute transaction may need more.
    uint256 public constant MAX_TX_GAS = 1 << 24;
    /// @notice Calldata budget of one transaction (public mempools refuse transactions above 128 KiB).
    uint256 public constant MAX_TX_BYTES = 128 * 1024;

    // Upper bounds of a fraud proof's execution gas (measured in contracts/test/AvailabilityGas.t.sol and
    // contracts/test/secure/SecureAvailability.t.sol, which check each bound against real proofs at the largest
    // parameters accepted). Plain (section 9.1):
    uint256 internal constant PLAIN_BASE_GAS = 120_000;
    uint256 internal constant PLAIN_UPDATE_GAS = 9_000;
    uint256 internal constant PLAIN_UPDATE_WORD_GAS = 1_500;
    uint256 internal constant LEVEL_GAS = 400; // one Merkle level of one path
    // Secure (section 10.10):
    uint256 internal constant SECURE_BASE_GAS = 250_000;
    uint256 internal constant SECURE_MEMBER_GAS = 40_000; // a survivor's record, seed hash, self-mask setup
    uint256 internal constant CHACHA_BLOCK_GAS = 9_000; // one ChaCha20 block: 8 coordinates of one stream
    uint256 internal constant SECURE_PAIR_GAS = 16_000; // a (survivor, dropped neighbour) pair: ecMul, key
    // Transaction cost outside execution: the base, and calldata at most 16 gas per byte or, under the
    // EIP-7623 floor, 40 gas per byte.
    uint256 internal constant TX_BASE_GAS = 21_000;
    uint256 internal constant CALLDATA_GAS = 16;
    uint256 internal constant FLOOR_CALLDATA_GAS = 40;

    /// @notice Reverts with InvalidTaskParameter(name) for the first out-of-range field of `p`; returns `p` as
    /// the six storage words of TaskParams's layout (FedTypes.sol), which the coordinator stores as they are:
    /// packing here keeps the struct copy out of the coordinators' code.
    /// @param p Task rules to check (docs/protocol.md section 8 lists every range).
    /// @return words `p` in its storage layout.
    function validate(TaskParams calldata p) external view returns (uint256[6] memory words) {
        if (p.commitWindow < MIN_WINDOW) revert InvalidTaskParameter("commitWindow");
        if (p.revealWindow < MIN_WINDOW) revert InvalidTaskParameter("revealWindow");
        if (p.proposeWindow < MIN_WINDOW) revert InvalidTaskParameter("proposeWindow");
        if (p.challengeWindow < MIN_WINDOW) revert InvalidTaskParameter("challengeWindow");
        if (p.availabilityWindow < MIN_WINDOW) revert InvalidTaskParameter("availabilityWindow");
        if (p.cohortCap == 0 || p.cohortCap > MAX_COHORT) revert InvalidTaskParameter("cohortCap");
        if (p.minParticipants == 0 || p.minParticipants > p.cohortCap) revert InvalidTaskParameter("minParticipants");
        if (p.sampleCap == 0 || p.sampleCap > MAX_SAMPLE_CAP) revert InvalidTaskParameter("sampleCap");
        if (p.numRounds == 0 || p.numRounds > MAX_ROUNDS) revert InvalidTaskParameter("numRounds");
        if (p.maxSilentRounds == 0) revert InvalidTaskParameter("maxSilentRounds");
        if (p.token.code.length == 0) revert InvalidTaskParameter("token");
        if (p.mode > uint8(Mode.Secure)) revert InvalidTaskParameter("mode");
        (bool known, LeafRule memory rule) = RuleRegistry.find(p.rule);
        if (!known) revert InvalidTaskParameter("rule");
        if (!rule.accepts(p.ruleParam, p.mode == uint8(Mode.Secure))) revert InvalidTaskParameter("ruleParam");
        if (p.scaleBits > MAX_SCALE_BITS) revert InvalidTaskParameter("scaleBits");
        if (p.wordsPerLeaf == 0 || p.wordsPerLeaf > 8 || (p.wordsPerLeaf & (p.wordsPerLeaf - 1)) != 0) {
            revert InvalidTaskParameter("wordsPerLeaf");
        }
        if (p.clip == 0 || p.clip > uint32(type(int32).max)) revert InvalidTaskParameter("clip");
        if (p.numParams == 0 || p.numParams > MAX_NUM_PARAMS) revert InvalidTaskParameter("numParams");
        // A norm-bounded task's declaration lists one value per leaf (docs/protocol.md section 4.4).
        if (rule.normed && PositionalMerkle.depthFor(p.numParams, p.wordsPerLeaf) > NormTree.MAX_DEPTH) {
            revert InvalidTaskParameter("numParams");
        }
        if (p.serverLrBps == 0 || p.serverLrBps > MAX_SERVER_LR_BPS) revert InvalidTaskParameter("serverLrBps");
        if (p.unbondingDelay == 0) revert InvalidTaskParameter("unbondingDelay");
        // Every fault a member or an aggregator can be proven of costs it something.
        if (p.missedRevealSlashBps == 0 || p.missedRevealSlashBps > BPS) {
            revert InvalidTaskParameter("missedRevealSlashBps");
        }
        if (p.silenceSlashBps > BPS) revert InvalidTaskParameter("silenceSlashBps");
        if (p.violationSlashBps == 0 || p.violationSlashBps > BPS) revert InvalidTaskParameter("violationSlashBps");
        if (p.aggregatorSlashBps == 0 || p.aggregatorSlashBps > BPS) {
            revert InvalidTaskParameter("aggregatorSlashBps");
        }
        if (p.bountyBps > MAX_BOUNTY_BPS) revert InvalidTaskParameter("bountyBps");
        if (p.aggregatorFeeBps > BPS) revert InvalidTaskParameter("aggregatorFeeBps");
        if (p.minStake == 0 || p.minStake > MAX_AMOUNT) revert InvalidTaskParameter("minStake");
        if (p.aggregatorBond == 0) revert InvalidTaskParameter("aggregatorBond");
        if (p.availabilityBond == 0) revert InvalidTaskParameter("availabilityBond");
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
        (uint256 gas, uint256 size) = worstFraudProof(p);
        if (gas > MAX_TX_GAS || size > MAX_TX_BYTES) revert InvalidTaskParameter("cohortCap");
        return pack(p);
    }

    /// @notice Upper bounds of the gas and the calldata bytes of the largest fraud proof a task with these
    /// rules can need (docs/protocol.md section 11.4): every cohort member included (a survivor, in secure mode),
    /// the task's aggregation rule's own work on the leaf included
    /// and, in secure mode, each survivor with k - t dropped neighbours (the most the unmasking rule allows).
    /// Every other dispute transaction (a chunk, a dispute step) is bounded by constants that fit whatever
    /// the task (contracts/test/AvailabilityGas.t.sol).
    /// @param p Task rules (ranges not checked here).
    /// @return gas Upper bound of the transaction's gas, base and calldata included.
    /// @return size Upper bound of its calldata, in bytes.
    function worstFraudProof(TaskParams calldata p) public pure returns (uint256 gas, uint256 size) {
        uint256 depth = PositionalMerkle.depthFor(p.numParams, p.wordsPerLeaf);
        uint256 w = p.wordsPerLeaf;
        uint256 n = p.cohortCap;
        uint256 execution;
        uint256 words;
        if (p.mode == uint8(Mode.Plain)) {
            // taskId, proof offset, leafIndex and 3 offsets, two leaves (2 offsets, 2 lengths, W + D words
            // each), the update list's length and its n * (1 + W + D) words
            (bool known, LeafRule memory rule) = RuleRegistry.find(p.rule);
            if (!known) revert InvalidTaskParameter("rule");
            // a normed rule's update also carries its norm declaration (normRoot, normSq)
            words = 15 + 2 * w + 2 * depth + n * (1 + (rule.normed ? 2 : 0) + w + depth);
            execution = PLAIN_BASE_GAS + 2 * depth * LEVEL_GAS + n
                * (PLAIN_UPDATE_GAS + w * PLAIN_UPDATE_WORD_GAS + depth * LEVEL_GAS) + rule.proofGas(n, 8 * w);
        } else {
            // taskId, leafIndex, offset, 4 offsets, two leaves, two list lengths, n survivor entries of
            // 6 + 2W + D words (a dropped entry is shorter)
            words = 17 + 2 * w + 2 * depth + n * (6 + 2 * w + depth);
            uint256 degree = p.neighbours < n ? p.neighbours : n - 1;
            uint256 droppedNeighbours = degree > p.threshold ? degree - p.threshold : 0;
            execution = SECURE_BASE_GAS + 2 * depth * LEVEL_GAS + n
                * (SECURE_MEMBER_GAS + w * CHACHA_BLOCK_GAS + depth * LEVEL_GAS) + n * droppedNeighbours
                * (SECURE_PAIR_GAS + w * CHACHA_BLOCK_GAS);
        }
        size = 4 + 32 * words;
        uint256 standard = CALLDATA_GAS * size + execution;
        uint256 floor = FLOOR_CALLDATA_GAS * size;
        gas = TX_BASE_GAS + (standard > floor ? standard : floor);
    }

    /// @notice `p` as the six storage words of TaskParams: fields in declaration order from the low-order
    /// bytes of each slot up, a field that does not fit the rest of a slot starting the next one.
    /// @param p Task rules (not checked here).
    /// @return words The storage words, slot 0 first.
    function pack(TaskParams calldata p) public pure returns (uint256[6] memory words) {
        words[0] = uint256(p.commitWindow) | uint256(p.revealWindow) << 32 | uint256(p.cohortCap) << 64
            | uint256(p.sampleCap) << 80 | uint256(p.minStake) << 112;
        words[1] = uint256(uint160(p.token)) | uint256(p.mode) << 160 | uint256(p.rule) << 168 | uint256(p.scaleBits)
            << 176 | uint256(p.wordsPerLeaf) << 184 | uint256(p.clip) << 192 | uint256(p.minParticipants) << 224
            | uint256(p.maxSilentRounds) << 240;
        words[2] = uint256(p.numParams) | uint256(p.serverLrBps) << 64 | uint256(p.unbondingDelay) << 96
            | (p.allowlist ? uint256(1) << 136 : 0) | uint256(p.missedRevealSlashBps) << 144
            | uint256(p.silenceSlashBps) << 160 | uint256(p.violationSlashBps) << 176 | uint256(p.aggregatorSlashBps)
            << 192 | uint256(p.bountyBps) << 208 | uint256(p.aggregatorFeeBps) << 224 | uint256(p.ruleParam) << 240;
        words[3] = uint256(p.proposeWindow) | uint256(p.challengeWindow) << 32 | uint256(p.numRounds) << 64
            | uint256(p.aggregatorBond) << 96 | uint256(p.availabilityWindow) << 224;
        words[4] = uint256(p.rewardPerRound) | uint256(p.availabilityBond) << 128 | uint256(p.neighbours) << 224
            | uint256(p.threshold) << 232;
        words[5] = uint256(p.modelSpecHash);
    }
}
