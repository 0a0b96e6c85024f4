// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICoordinatorEvents} from "../ICoordinator.sol";
import {LeafProof} from "../FedTypes.sol";
import {ChaCha20} from "../libraries/ChaCha20.sol";
import {LeafRules} from "../libraries/LeafRules.sol";
import {FedAvgRule} from "../rules/FedAvgRule.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";
import {BN254} from "./BN254.sol";
import {ISecureLeafVerifierErrors} from "./ISecureLeafVerifier.sol";
import {SecureAggregation} from "./SecureAggregation.sol";
import {SecureFraudProof, SecureLeafContext} from "./SecureTypes.sol";

/// @title SecureLeafVerifier
/// @notice Stateless leaf-level check of a fraud proof against a secure-mode proposal (docs/protocol.md
/// section 10.10). The proof carries the proposal's transcript (each survivor's self seed, each dropped
/// member's mask key), which must hash to ctx.transcriptHash. The proposal is wrong if some transcript entry
/// does not match its owner's commitment (a self seed whose hash is not the committed one; a dropped
/// member's key that is not the secret of its public key although a survivor neighbours it, or not zero
/// although none does), or else if its leaf differs from the leaf recomputed from the survivors' masked
/// leaves (each proven under the masked root it computes), minus their self masks, minus the pairwise masks
/// of every survivor with every dropped neighbour, through the FedAvg leaf of docs/protocol.md section 4 with
/// the secure clamp. The caller (the coordinator) checks what needs storage: that each returned record is the
/// participant's slot, which binds the masked root, the self-seed hash, the public key, the share-bundle
/// reference, the weight and the advertise index.
contract SecureLeafVerifier is ICoordinatorEvents, ISecureLeafVerifierErrors {
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
    uint256 public constant SURVIVOR_HEAD_WORDS = 6;
    /// @dev An internal buffer index out of range (cannot happen for a context that passed _checkContext).
    error SumsOutOfRange();

    /// @notice Checks the model leaves, reads both lists and the transcript, and decides the proposal at
    /// ctx.leafIndex.
    /// @param ctx Task and round facts from the coordinator's storage.
    /// @param proof The challenger's data (docs/protocol.md section 10.10).
    /// @return differs True iff the proposal is wrong: an invalid transcript, or a leaf that differs.
    /// @return participants Survivors (increasing), then dropped members (increasing).
    /// @return records SecureAggregation.record of each participant, as its slot must bind it: survivors with
    /// their computed masked root, dropped members with a zero masked root.
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
        bytes32[] memory secrets = new bytes32[](ctx.commits);
        _readSurvivors(ctx, proof.survivors, participants, records, secrets);
        _readDropped(ctx, proof.dropped, participants, records, secrets);
        bytes32 computed = keccak256(abi.encodePacked(secrets));
        if (computed != ctx.transcriptHash) revert TranscriptMismatch(computed, ctx.transcriptHash);
        uint256[] memory positions = SecureAggregation.ringPositions(ctx.roundSeed, ctx.advertised);
        // only the passes over dropped members read it
        uint256[] memory survivorAt = proof.dropped.length != 0
            ? _survivorsByPosition(ctx, proof.survivors, positions)
            : new uint256[](0);
        if (!_transcriptValid(ctx, proof, positions, survivorAt)) return (true, participants, records);
        differs = _leafDiffers(ctx, proof, positions, survivorAt);
    }

    /// @notice Words per survivor entry: 6 + 2W + D.
    /// @param wordsPerLeaf W of the task.
    /// @param depth D of the task.
    /// @return The stride of the survivor list.
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
        if (!PositionalMerkle.verify(root, ctx.depth, ctx.leafIndex, leaf.words, leaf.siblings)) {
            revert InvalidMerkleProof(position);
        }
    }

    /// @dev Checks the survivor list's shape and order; fills participants, records and secrets 0..uploads-1.
    function _readSurvivors(
        SecureLeafContext calldata ctx,
        bytes32[] calldata list,
        address[] memory participants,
        bytes32[] memory records,
        bytes32[] memory secrets
    ) internal pure {
        uint256 stride = survivorStride(ctx.wordsPerLeaf, ctx.depth);
        if (list.length % stride != 0) revert MalformedUpdateList(list.length, stride);
        if (list.length / stride != ctx.uploads) revert IncompleteUpdateSet(list.length / stride, ctx.uploads);
        for (uint256 i = 0; i < ctx.uploads; ++i) {
            bytes32[] calldata entry = list[i * stride:(i + 1) * stride];
            (address participant, bytes32 record) = _readSurvivor(ctx, entry);
            if (i != 0 && participant <= participants[i - 1]) revert UpdatesNotSorted(i);
            participants[i] = participant;
            records[i] = record;
            secrets[i] = entry[5];
        }
    }

    /// @dev One survivor entry: its participant and its record with the masked root its leaf and path give.
    function _readSurvivor(SecureLeafContext calldata ctx, bytes32[] calldata entry)
        internal
        pure
        returns (address participant, bytes32 record)
    {
        uint256 index;
        uint256 weight;
        (participant, index, weight) = _head(ctx, entry[0]);
        uint256 wordsEnd = SURVIVOR_HEAD_WORDS + 2 * ctx.wordsPerLeaf;
        bytes32 maskedRoot = PositionalMerkle.rootFrom(
            PositionalMerkle.leafHash(ctx.leafIndex, entry[SURVIVOR_HEAD_WORDS:wordsEnd]),
            ctx.leafIndex,
            entry[wordsEnd:]
        );
        record = SecureAggregation.record(
            index, uint256(entry[1]), uint256(entry[2]), entry[3], entry[4], weight, maskedRoot
        );
    }

    /// @dev Checks the dropped list's shape and order; fills participants, records and secrets uploads..commits-1.
    function _readDropped(
        SecureLeafContext calldata ctx,
        bytes32[] calldata list,
        address[] memory participants,
        bytes32[] memory records,
        bytes32[] memory secrets
    ) internal pure {
        uint256 count = ctx.commits - ctx.uploads;
        if (list.length != count * DROPPED_STRIDE) revert MalformedDroppedList(list.length, count);
        for (uint256 i = 0; i < count; ++i) {
            bytes32[] calldata entry = list[i * DROPPED_STRIDE:(i + 1) * DROPPED_STRIDE];
            (address participant, uint256 index, uint256 weight) = _head(ctx, entry[0]);
            uint256 slot = ctx.uploads + i;
            if (i != 0 && participant <= participants[slot - 1]) revert DroppedNotSorted(i);
            participants[slot] = participant;
            records[slot] = SecureAggregation.record(
                index, uint256(entry[1]), uint256(entry[2]), entry[3], entry[4], weight, bytes32(0)
            );
            secrets[slot] = entry[5];
        }
    }

    /// @dev survivorAt[p] = 1 + the offset in the survivor list of the survivor at ring position p, 0 where none
    /// is: the passes over dropped members visit their ring neighbours, at most k each, instead of every
    /// survivor, so a proof costs O(survivors + dropped * k), not O(survivors * dropped).
    function _survivorsByPosition(
        SecureLeafContext calldata ctx,
        bytes32[] calldata survivors,
        uint256[] memory positions
    ) internal pure returns (uint256[] memory survivorAt) {
        survivorAt = new uint256[](ctx.advertised);
        uint256 stride = survivorStride(ctx.wordsPerLeaf, ctx.depth);
        for (uint256 s = 0; s < survivors.length; s += stride) {
            (, uint256 index,) = _head(ctx, survivors[s]);
            survivorAt[positions[index]] = s + 1;
        }
    }

    /// @dev How many ring positions neighbour each one (SecureAggregation.adjacent): every other one when the
    /// graph is complete (n - 1 <= k), else the k / 2 on each side.
    function _neighbourCount(SecureLeafContext calldata ctx) internal pure returns (uint256) {
        uint256 n = ctx.advertised;
        if (n - 1 <= ctx.neighbours) return n - 1;
        return ctx.neighbours - ctx.neighbours % 2;
    }

    /// @dev The j-th neighbour (j < _neighbourCount) of ring position `position`: the positions after it, then
    /// (in a ring larger than k + 1) the k / 2 before it. They are distinct: 2 * (k / 2) < n - 1.
    function _neighbourAt(SecureLeafContext calldata ctx, uint256 position, uint256 j) internal pure returns (uint256) {
        uint256 n = ctx.advertised;
        uint256 half = ctx.neighbours / 2;
        if (n - 1 <= ctx.neighbours || j < half) return (position + 1 + j) % n;
        return (position + n - (j - half + 1)) % n;
    }

    /// @dev Whether every transcript entry matches its owner's commitment (docs/protocol.md section 10.8).
    function _transcriptValid(
        SecureLeafContext calldata ctx,
        SecureFraudProof calldata proof,
        uint256[] memory positions,
        uint256[] memory survivorAt
    ) internal view returns (bool) {
        uint256 stride = survivorStride(ctx.wordsPerLeaf, ctx.depth);
        for (uint256 s = 0; s < proof.survivors.length; s += stride) {
            uint256 seed = uint256(proof.survivors[s + 5]);
            // A seed is an element of F_r (it is Shamir-shared): one outside it is never a valid reveal, even
            // if its owner committed to its hash.
            if (seed >= BN254.R || SecureAggregation.selfSeedHash(seed) != proof.survivors[s + 3]) return false;
        }
        for (uint256 d = 0; d < proof.dropped.length; d += DROPPED_STRIDE) {
            (, uint256 index,) = _head(ctx, proof.dropped[d]);
            uint256 maskKey = uint256(proof.dropped[d + 5]);
            if (!_touchesSurvivor(ctx, survivorAt, positions[index])) {
                if (maskKey != 0) return false;
            } else if (!BN254.isKeyOf(maskKey, uint256(proof.dropped[d + 1]), uint256(proof.dropped[d + 2]))) {
                return false;
            }
        }
        return true;
    }

    /// @dev Whether some survivor sits within the neighbourhood of ring position `position`.
    function _touchesSurvivor(SecureLeafContext calldata ctx, uint256[] memory survivorAt, uint256 position)
        internal
        pure
        returns (bool)
    {
        uint256 count = _neighbourCount(ctx);
        for (uint256 j = 0; j < count; ++j) {
            if (survivorAt[_neighbourAt(ctx, position, j)] != 0) return true;
        }
        return false;
    }

    /// @dev Recomputes the leaf from the masked leaves and the transcript and compares it with the proposal's.
    function _leafDiffers(
        SecureLeafContext calldata ctx,
        SecureFraudProof calldata proof,
        uint256[] memory positions,
        uint256[] memory survivorAt
    ) internal view returns (bool) {
        uint256[] memory sums = new uint256[](8 * ctx.wordsPerLeaf);
        uint256 totalWeight = 0;
        uint256 stride = survivorStride(ctx.wordsPerLeaf, ctx.depth);
        uint256 wordsEnd = SURVIVOR_HEAD_WORDS + 2 * ctx.wordsPerLeaf;
        for (uint256 s = 0; s < proof.survivors.length; s += stride) {
            (,, uint256 weight) = _head(ctx, proof.survivors[s]);
            totalWeight += weight;
            _addMaskedLeaf(ctx, proof.survivors[s + SURVIVOR_HEAD_WORDS:s + wordsEnd], proof.survivors[s + 5], sums);
        }
        if (proof.dropped.length != 0) _removeDroppedPairs(ctx, proof, positions, survivorAt, sums);
        bytes32[] memory expected = LeafRules.applyStep(
            FedAvgRule.centerOfSums(_signedSums(ctx, sums, totalWeight), totalWeight), proof.previous.words,
            ctx.serverLrBps
        );
        return keccak256(abi.encodePacked(expected)) != keccak256(abi.encodePacked(proof.proposed.words));
    }

    /// @dev sums[c] += masked[c] - selfMask[c] for every coordinate c of the leaf; masked coordinate c is lane
    /// c % 4 (big-endian uint64) of word c / 4, mask c is lane c % 8 of stream block W * leafIndex + c / 8.
    function _addMaskedLeaf(
        SecureLeafContext calldata ctx,
        bytes32[] calldata words,
        bytes32 selfKey,
        uint256[] memory sums
    ) internal pure {
        uint256 firstBlock = ctx.leafIndex * ctx.wordsPerLeaf;
        for (uint256 b = 0; b < ctx.wordsPerLeaf; ++b) {
            (uint256 ra, uint256 rb, uint256 rc, uint256 rd) = ChaCha20.rows(selfKey, firstBlock + b);
            _addWords(sums, 8 * b, words[2 * b], words[2 * b + 1]);
            _applyBlock(sums, 8 * b, ra, rb, rc, rd, true);
        }
    }

    /// @dev sums[base + j] += lane j of (w0, w1): four big-endian uint64 lanes per word, j = 0..7. The sums are
    /// kept modulo 2^256 and read modulo 2^64 at the end (_signedSums), which is the same residue.
    function _addWords(uint256[] memory sums, uint256 base, bytes32 w0, bytes32 w1) internal pure {
        if (base + 8 > sums.length) revert SumsOutOfRange();
        assembly ("memory-safe") {
            let p := add(add(sums, 0x20), shl(5, base))
            let m := 0xffffffffffffffff
            for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                let shift := sub(192, shl(6, j))
                let q := add(p, shl(5, j))
                mstore(q, add(mload(q), and(shr(shift, w0), m)))
                q := add(q, 0x80)
                mstore(q, add(mload(q), and(shr(shift, w1), m)))
            }
        }
    }

    /// @dev sums[base + j] -= (or +=, when `subtract` is false) lane j of the block held as rows (a, b, c, d):
    /// bytes [8j, 8j + 8) as a little-endian uint64, i.e. state word 2j plus 2^32 times word 2j + 1
    /// (ChaCha20.lane, unrolled).
    function _applyBlock(uint256[] memory sums, uint256 base, uint256 a, uint256 b, uint256 c, uint256 d, bool subtract)
        internal
        pure
    {
        if (base + 8 > sums.length) revert SumsOutOfRange();
        assembly ("memory-safe") {
            function lane(row, high) -> v {
                let shift := shl(7, high)
                v := or(and(shr(shift, row), 0xffffffff), shl(32, and(shr(add(shift, 64), row), 0xffffffff)))
            }
            function applyLane(q, v, minus) {
                switch minus
                case 0 { mstore(q, add(mload(q), v)) }
                default { mstore(q, sub(mload(q), v)) }
            }
            let p := add(add(sums, 0x20), shl(5, base))
            applyLane(p, lane(a, 0), subtract)
            applyLane(add(p, 0x20), lane(a, 1), subtract)
            applyLane(add(p, 0x40), lane(b, 0), subtract)
            applyLane(add(p, 0x60), lane(b, 1), subtract)
            applyLane(add(p, 0x80), lane(c, 0), subtract)
            applyLane(add(p, 0xa0), lane(c, 1), subtract)
            applyLane(add(p, 0xc0), lane(d, 0), subtract)
            applyLane(add(p, 0xe0), lane(d, 1), subtract)
        }
    }

    /// @dev For every (survivor u, dropped neighbour v): removes sign(u, v) * pairMask(u, v) from `sums`. Each
    /// dropped member's ring neighbours are visited through `survivorAt`.
    function _removeDroppedPairs(
        SecureLeafContext calldata ctx,
        SecureFraudProof calldata proof,
        uint256[] memory positions,
        uint256[] memory survivorAt,
        uint256[] memory sums
    ) internal view {
        uint256 count = _neighbourCount(ctx);
        for (uint256 d = 0; d < proof.dropped.length; d += DROPPED_STRIDE) {
            (address dropped, uint256 droppedIndex,) = _head(ctx, proof.dropped[d]);
            DroppedMember memory member = DroppedMember(dropped, positions[droppedIndex], uint256(proof.dropped[d + 5]));
            for (uint256 j = 0; j < count; ++j) {
                uint256 slot = survivorAt[_neighbourAt(ctx, member.position, j)];
                if (slot != 0) _removePair(ctx, member, proof.survivors[slot - 1:slot + 2], sums);
            }
        }
    }

    /// @dev Removes the pairwise mask of one survivor (its head and public key words) and a dropped ring
    /// neighbour: the shared point is maskKey * survivor's public key (ecMul).
    function _removePair(
        SecureLeafContext calldata ctx,
        DroppedMember memory dropped,
        bytes32[] calldata survivorHead,
        uint256[] memory sums
    ) internal view {
        (address survivor,,) = _head(ctx, survivorHead[0]);
        (uint256 x, uint256 y) = _sharedPoint(survivor, survivorHead, dropped.maskKey);
        bytes32 key = SecureAggregation.pairMaskKey(ctx.roundSeed, x, y, survivor, dropped.participant);
        _removePairMask(ctx, key, survivor < dropped.participant, sums);
    }

    /// @dev maskKey times the survivor's public key (its head's words 1 and 2). The key is checked on the curve
    /// first: ecMul burns all the gas it is given when it rejects a point.
    function _sharedPoint(address survivor, bytes32[] calldata survivorHead, uint256 maskKey)
        internal
        view
        returns (uint256 x, uint256 y)
    {
        uint256 pkX = uint256(survivorHead[1]);
        uint256 pkY = uint256(survivorHead[2]);
        if (!BN254.isOnCurve(pkX, pkY)) revert InvalidPublicKey(survivor);
        bool ok;
        (ok, x, y) = BN254.mul(pkX, pkY, maskKey);
        if (!ok) revert InvalidPublicKey(survivor);
    }

    /// @dev The survivor added +mask when its address is the lower one, -mask otherwise; undo that.
    function _removePairMask(SecureLeafContext calldata ctx, bytes32 key, bool added, uint256[] memory sums)
        internal
        pure
    {
        uint256 firstBlock = ctx.leafIndex * ctx.wordsPerLeaf;
        for (uint256 b = 0; b < ctx.wordsPerLeaf; ++b) {
            (uint256 ra, uint256 rb, uint256 rc, uint256 rd) = ChaCha20.rows(key, firstBlock + b);
            _applyBlock(sums, 8 * b, ra, rb, rc, rd, added);
        }
    }

    /// @dev Residues read as int64, clamped to [-clip * Wt, clip * Wt]; padding coordinates (>= numParams) are 0.
    function _signedSums(SecureLeafContext calldata ctx, uint256[] memory sums, uint256 totalWeight)
        internal
        pure
        returns (int256[] memory signed)
    {
        // clip < 2^31 and Wt <= 256 * 2^20 come from the task's parameters, so the bound is far below 2^255.
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
