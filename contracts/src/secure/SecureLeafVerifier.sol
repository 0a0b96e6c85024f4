// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IFedCoordinatorEvents} from "../IFedCoordinator.sol";
import {LeafProof} from "../FedTypes.sol";
import {ChaCha20} from "../libraries/ChaCha20.sol";
import {LeafRules} from "../libraries/LeafRules.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";
import {BN254} from "./BN254.sol";
import {ISecureLeafVerifierErrors} from "./ISecureLeafVerifier.sol";
import {SecureAggregation} from "./SecureAggregation.sol";
import {SecureFraudProof, SecureLeafContext} from "./SecureTypes.sol";

/// @title SecureLeafVerifier
/// @notice Stateless leaf-level check of a fraud proof against a secure-mode proposal (docs/protocol.md
/// section 10.10). At one leaf it recomputes the unmasked weighted sum from the survivors' masked leaves (each
/// proven under the masked root it computes), minus their self masks (from the revealed self seeds), plus the
/// pairwise masks of every survivor with every dropped neighbour (from the dropped member's revealed mask key,
/// checked against its public key with ecMul), then the FedAvg leaf of docs/protocol.md section 4 with the
/// secure clamp, and compares it with the proposal. The caller (the coordinator) checks what needs storage:
/// that each returned record is the participant's slot, which binds the masked root, the self-seed hash (so
/// each revealed seed is the committed one), the public key, the weight and the advertise index.
contract SecureLeafVerifier is IFedCoordinatorEvents, ISecureLeafVerifierErrors {
    /// @dev A dropped member during the pair pass: its address, ring position and revealed mask key.
    struct DroppedMember {
        address participant;
        uint256 position;
        uint256 maskKey;
    }

    /// @notice Position in an InvalidMerkleProof error of the previous-model leaf and the proposal leaf.
    uint256 public constant PREVIOUS_LEAF = type(uint256).max;
    /// @notice See PREVIOUS_LEAF.
    uint256 public constant PROPOSED_LEAF = type(uint256).max - 1;
    /// @notice Words per entry of the dropped list.
    uint256 public constant DROPPED_STRIDE = 6;
    /// @notice Words of a survivor entry before its masked leaf words.
    uint256 internal constant SURVIVOR_HEAD_WORDS = 5;
    /// @dev Residues of Z_2^64.
    uint256 internal constant RING_MASK = type(uint64).max;

    /// @notice Checks the model leaves, reads both lists, recomputes the proposal's leaf and compares.
    /// @return differs True iff the proposal's leaf differs from the recomputed one.
    /// @return participants Survivors (increasing), then dropped members (increasing).
    /// @return records SecureAggregation.record of each participant, as its slot must bind it: survivors with
    /// their computed masked root and the hash of their revealed seed, dropped members with a zero masked root.
    function proposalDiffers(SecureLeafContext calldata ctx, SecureFraudProof calldata proof)
        external
        view
        returns (bool differs, address[] memory participants, bytes32[] memory records)
    {
        _checkContext(ctx);
        _checkModelLeaf(ctx, ctx.previousRoot, proof.previous, PREVIOUS_LEAF);
        _checkModelLeaf(ctx, ctx.proposedRoot, proof.proposed, PROPOSED_LEAF);
        participants = new address[](ctx.commits);
        records = new bytes32[](ctx.commits);
        uint256[] memory sums = new uint256[](8 * ctx.wordsPerLeaf);
        uint256 totalWeight = _addSurvivors(ctx, proof.survivors, sums, participants, records);
        _readDropped(ctx, proof.dropped, participants, records);
        if (ctx.commits > ctx.uploads) _removeDroppedPairs(ctx, proof, sums);
        bytes32[] memory expected = LeafRules.applyAverage(
            _signedSums(ctx, sums, totalWeight), proof.previous.words, totalWeight, ctx.serverLrBps
        );
        differs = keccak256(abi.encodePacked(expected)) != keccak256(abi.encodePacked(proof.proposed.words));
    }

    /// @notice Words per survivor entry: 5 + 2W + D.
    function survivorStride(uint256 wordsPerLeaf, uint256 depth) public pure returns (uint256) {
        return SURVIVOR_HEAD_WORDS + 2 * wordsPerLeaf + depth;
    }

    function _checkContext(SecureLeafContext calldata ctx) internal pure {
        uint256 width = ctx.wordsPerLeaf;
        if (width != 1 && width != 2 && width != 4) revert UnsupportedLeafWidth(width);
        if (
            ctx.uploads == 0 || ctx.uploads > ctx.commits || ctx.commits > ctx.advertised
                || ctx.advertised > SecureAggregation.MAX_COHORT
        ) revert InvalidRoundSets(ctx.advertised, ctx.commits, ctx.uploads);
    }

    /// @dev Reverts unless `leaf` has W words and its path leads to `root` at ctx.leafIndex.
    function _checkModelLeaf(SecureLeafContext calldata ctx, bytes32 root, LeafProof calldata leaf, uint256 position)
        internal
        pure
    {
        if (leaf.words.length != ctx.wordsPerLeaf) revert WrongLeafWidth(leaf.words.length, ctx.wordsPerLeaf);
        uint256 index = ctx.leafIndex;
        if (ctx.depth > PositionalMerkle.MAX_DEPTH || leaf.siblings.length != ctx.depth || index >> ctx.depth != 0) {
            revert InvalidMerkleProof(position);
        }
        if (PositionalMerkle.rootFrom(PositionalMerkle.leafHash(index, leaf.words), index, leaf.siblings) != root) {
            revert InvalidMerkleProof(position);
        }
    }

    /// @dev Adds every survivor's masked leaf minus its self mask into `sums`; fills its participant and record.
    function _addSurvivors(
        SecureLeafContext calldata ctx,
        bytes32[] calldata list,
        uint256[] memory sums,
        address[] memory participants,
        bytes32[] memory records
    ) internal pure returns (uint256 totalWeight) {
        uint256 stride = survivorStride(ctx.wordsPerLeaf, ctx.depth);
        if (list.length % stride != 0) revert MalformedUpdateList(list.length, stride);
        if (list.length / stride != ctx.uploads) revert IncompleteUpdateSet(list.length / stride, ctx.uploads);
        for (uint256 i = 0; i < ctx.uploads; ++i) {
            (address participant, uint256 weight, bytes32 record) =
                _readSurvivor(ctx, list[i * stride:(i + 1) * stride], sums);
            if (i != 0 && participant <= participants[i - 1]) revert UpdatesNotSorted(i);
            participants[i] = participant;
            records[i] = record;
            totalWeight += weight;
        }
    }

    /// @dev One survivor entry: adds its masked leaf minus its self mask into `sums`, returns its record.
    function _readSurvivor(SecureLeafContext calldata ctx, bytes32[] calldata entry, uint256[] memory sums)
        internal
        pure
        returns (address participant, uint256 weight, bytes32 record)
    {
        uint256 index;
        (participant, index, weight) = _head(ctx, entry[0]);
        uint256 wordsEnd = SURVIVOR_HEAD_WORDS + 2 * ctx.wordsPerLeaf;
        bytes32 maskedRoot = PositionalMerkle.rootFrom(
            PositionalMerkle.leafHash(ctx.leafIndex, entry[SURVIVOR_HEAD_WORDS:wordsEnd]), ctx.leafIndex, entry[wordsEnd:]
        );
        record = _survivorRecord(entry, index, weight, maskedRoot);
        _addMaskedLeaf(ctx, entry[SURVIVOR_HEAD_WORDS:wordsEnd], entry[3], sums);
    }

    /// @dev The record of a survivor entry: its revealed self seed enters as the seed's hash.
    function _survivorRecord(bytes32[] calldata entry, uint256 index, uint256 weight, bytes32 maskedRoot)
        internal
        pure
        returns (bytes32)
    {
        bytes32 seedHash = SecureAggregation.selfSeedHash(uint256(entry[3]));
        return SecureAggregation.record(
            index, uint256(entry[1]), uint256(entry[2]), seedHash, entry[4], weight, maskedRoot
        );
    }

    /// @dev sums[c] += masked[c] - selfMask[c] (mod 2^64) for every coordinate c of the leaf.
    function _addMaskedLeaf(
        SecureLeafContext calldata ctx,
        bytes32[] calldata words,
        bytes32 selfKey,
        uint256[] memory sums
    ) internal pure {
        uint256 firstBlock = ctx.leafIndex * ctx.wordsPerLeaf;
        for (uint256 b = 0; b < ctx.wordsPerLeaf; ++b) {
            (uint256 ra, uint256 rb, uint256 rc, uint256 rd) = ChaCha20.rows(selfKey, firstBlock + b);
            for (uint256 j = 0; j < 8; ++j) {
                uint256 masked = uint64(uint256(words[2 * b + j / 4]) >> (192 - 64 * (j % 4)));
                uint256 c = 8 * b + j;
                unchecked {
                    sums[c] = (sums[c] + masked - ChaCha20.lane(ra, rb, rc, rd, j)) & RING_MASK;
                }
            }
        }
    }

    /// @dev Checks the dropped list's shape, order and revealed keys; fills the dropped participants and records.
    function _readDropped(
        SecureLeafContext calldata ctx,
        bytes32[] calldata list,
        address[] memory participants,
        bytes32[] memory records
    ) internal view {
        uint256 count = ctx.commits - ctx.uploads;
        if (list.length != count * DROPPED_STRIDE) revert MalformedDroppedList(list.length, count);
        for (uint256 i = 0; i < count; ++i) {
            (address participant, bytes32 record) =
                _readDroppedEntry(ctx, list[i * DROPPED_STRIDE:(i + 1) * DROPPED_STRIDE]);
            if (i != 0 && participant <= participants[ctx.uploads + i - 1]) revert DroppedNotSorted(i);
            participants[ctx.uploads + i] = participant;
            records[ctx.uploads + i] = record;
        }
    }

    /// @dev One dropped entry: checks a revealed mask key against the public key and returns the record.
    function _readDroppedEntry(SecureLeafContext calldata ctx, bytes32[] calldata entry)
        internal
        view
        returns (address participant, bytes32 record)
    {
        (address owner, uint256 index, uint256 weight) = _head(ctx, entry[0]);
        uint256 maskKey = uint256(entry[5]);
        if (maskKey != 0 && !BN254.isKeyOf(maskKey, uint256(entry[1]), uint256(entry[2]))) {
            revert MaskKeyMismatch(owner);
        }
        participant = owner;
        record = SecureAggregation.record(
            index, uint256(entry[1]), uint256(entry[2]), entry[3], entry[4], weight, bytes32(0)
        );
    }

    /// @dev For every (survivor u, dropped neighbour v): removes sign(u, v) * pairMask(u, v) from `sums`.
    function _removeDroppedPairs(SecureLeafContext calldata ctx, SecureFraudProof calldata proof, uint256[] memory sums)
        internal
        view
    {
        uint256[] memory positions = SecureAggregation.ringPositions(ctx.roundSeed, ctx.advertised);
        uint256 stride = survivorStride(ctx.wordsPerLeaf, ctx.depth);
        for (uint256 i = 0; i < proof.dropped.length; i += DROPPED_STRIDE) {
            (address dropped, uint256 droppedIndex,) = _head(ctx, proof.dropped[i]);
            DroppedMember memory member =
                DroppedMember(dropped, positions[droppedIndex], uint256(proof.dropped[i + 5]));
            for (uint256 s = 0; s < proof.survivors.length; s += stride) {
                _removePairIfAdjacent(ctx, positions, member, proof.survivors[s:s + 3], sums);
            }
        }
    }

    /// @dev Removes the pairwise mask of one survivor (its head and public key words) and a dropped member
    /// when they are ring neighbours.
    function _removePairIfAdjacent(
        SecureLeafContext calldata ctx,
        uint256[] memory positions,
        DroppedMember memory dropped,
        bytes32[] calldata survivorHead,
        uint256[] memory sums
    ) internal view {
        (address survivor, uint256 survivorIndex,) = _head(ctx, survivorHead[0]);
        if (!SecureAggregation.adjacent(positions[survivorIndex], dropped.position, ctx.advertised, ctx.neighbours)) {
            return;
        }
        if (dropped.maskKey == 0) revert MissingMaskKey(dropped.participant);
        (bool ok, uint256 x, uint256 y) =
            BN254.mul(uint256(survivorHead[1]), uint256(survivorHead[2]), dropped.maskKey);
        if (!ok) revert InvalidPublicKey(survivor);
        bytes32 key = SecureAggregation.pairMaskKey(ctx.roundSeed, x, y, survivor, dropped.participant);
        _removePairMask(ctx, key, survivor < dropped.participant, sums);
    }

    /// @dev The survivor added +mask when its address is the lower one, -mask otherwise; undo that.
    function _removePairMask(SecureLeafContext calldata ctx, bytes32 key, bool added, uint256[] memory sums)
        internal
        pure
    {
        uint256 firstBlock = ctx.leafIndex * ctx.wordsPerLeaf;
        for (uint256 b = 0; b < ctx.wordsPerLeaf; ++b) {
            (uint256 ra, uint256 rb, uint256 rc, uint256 rd) = ChaCha20.rows(key, firstBlock + b);
            for (uint256 j = 0; j < 8; ++j) {
                uint256 mask = ChaCha20.lane(ra, rb, rc, rd, j);
                uint256 c = 8 * b + j;
                unchecked {
                    sums[c] = (added ? sums[c] - mask : sums[c] + mask) & RING_MASK;
                }
            }
        }
    }

    /// @dev Residues read as int64, clamped to [-clip * Wt, clip * Wt]; padding coordinates (>= numParams) are 0.
    function _signedSums(SecureLeafContext calldata ctx, uint256[] memory sums, uint256 totalWeight)
        internal
        pure
        returns (int256[] memory signed)
    {
        // clip < 2^31 and Wt <= 256 * 2^20, so the bound is far below 2^255.
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 bound = int256(ctx.clip * totalWeight);
        uint256 first = ctx.leafIndex * sums.length;
        signed = new int256[](sums.length);
        for (uint256 c = 0; c < sums.length; ++c) {
            if (first + c >= ctx.numParams) continue;
            // A residue of Z_2^64 read as two's complement: the cast takes exactly its 64 bits.
            // forge-lint: disable-next-line(unsafe-typecast)
            int256 value = int64(uint64(sums[c]));
            signed[c] = value > bound ? bound : (value < -bound ? -bound : value);
        }
    }

    /// @dev Splits a head word into participant, advertise index and weight, checking index and weight.
    function _head(SecureLeafContext calldata ctx, bytes32 word)
        internal
        pure
        returns (address participant, uint256 index, uint256 weight)
    {
        uint256 head = uint256(word);
        // The head word is participant << 96 | index << 32 | weight; each cast takes its whole field.
        // forge-lint: disable-start(unsafe-typecast)
        participant = address(uint160(head >> 96));
        index = uint64(head >> 32);
        weight = uint32(head);
        // forge-lint: disable-end(unsafe-typecast)
        if (index >= ctx.advertised) revert AdvertiseIndexOutOfRange(participant, index);
        if (weight == 0) revert ZeroSampleCount();
    }
}
