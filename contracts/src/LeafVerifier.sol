// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICoordinatorEvents} from "./ICoordinator.sol";
import {AggregateFraudProof, LeafProof} from "./FedTypes.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {LeafRules} from "./libraries/LeafRules.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";

/// @notice Which tree a leaf is proven against, and the task facts the rule needs.
struct LeafContext {
    uint256 round; // the current round, bound into every revealed entry
    uint256 depth;
    uint256 wordsPerLeaf;
    uint256 leafIndex;
    bytes32 previousRoot; // current global model
    bytes32 proposedRoot; // pending proposal
    uint256 totalWeight; // sum of included weights
    uint256 serverLrBps;
    uint256 clip;
    uint256 numParams;
}

/// @title LeafVerifier
/// @notice Stateless leaf-level checks of the fraud proofs (docs/protocol.md section 9): Merkle paths of one
/// leaf and the leaf-local rule. The coordinator deploys it in its constructor and checks everything that
/// needs storage (which updates are included, their weights) itself; this split keeps the coordinator under
/// the EIP-170 code size limit and leaves room for more leaf-local rules.
contract LeafVerifier is ICoordinatorEvents {
    /// @notice Position in an InvalidMerkleProof error of the previous-model leaf and the proposal leaf.
    uint256 public constant PREVIOUS_LEAF = type(uint256).max;
    /// @notice See PREVIOUS_LEAF.
    uint256 public constant PROPOSED_LEAF = type(uint256).max - 1;

    /// @notice Verifies the previous-model and proposal leaves of `proof` at ctx.leafIndex, reads the flat
    /// update list (see AggregateFraudProof), computes the root each update leaf and path lead to, and
    /// recomputes weighted FedAvg (docs/protocol.md section 4) over the real coordinates: a padding coordinate
    /// (position >= numParams) sums to 0 whatever an update holds there, so its model value stays the previous
    /// one (0 in every well-formed model) and no update's padding, posted or not, decides an aggregate. Reverts on a bad leaf width, a Merkle path of
    /// the wrong shape, a list that is not whole updates, or participants not strictly increasing. The
    /// caller must check that the returned (participant, entry) pairs are exactly the round's included set.
    /// @return differs True iff the proposal's leaf differs from the recomputed one.
    /// @return participants Owner of each update, in proof order.
    /// @return revealedEntries Commitments.revealedEntry(round, root, weight) of each update, the root recomputed.
    function proposalDiffers(LeafContext calldata ctx, AggregateFraudProof calldata proof)
        external
        pure
        returns (bool differs, address[] memory participants, bytes32[] memory revealedEntries)
    {
        checkLeaf(ctx, ctx.previousRoot, proof.previous, PREVIOUS_LEAF);
        checkLeaf(ctx, ctx.proposedRoot, proof.proposed, PROPOSED_LEAF);
        uint256 stride = 1 + ctx.wordsPerLeaf + ctx.depth;
        if (proof.updates.length % stride != 0) revert MalformedUpdateList(proof.updates.length, stride);
        int256[] memory sums = new int256[](8 * ctx.wordsPerLeaf);
        participants = new address[](proof.updates.length / stride);
        revealedEntries = new bytes32[](participants.length);
        for (uint256 i = 0; i < participants.length; ++i) {
            (address participant, uint256 weight, bytes32 root) = _readUpdate(ctx, proof.updates, i * stride, sums);
            if (i != 0 && participant <= participants[i - 1]) revert UpdatesNotSorted(i);
            participants[i] = participant;
            revealedEntries[i] = Commitments.revealedEntry(ctx.round, root, weight);
        }
        LeafRules.clearPadding(sums, ctx.leafIndex, ctx.numParams);
        bytes32[] memory expected = LeafRules.applyAverage(sums, proof.previous.words, ctx.totalWeight, ctx.serverLrBps);
        differs = keccak256(abi.encodePacked(expected)) != keccak256(abi.encodePacked(proof.proposed.words));
    }

    /// @notice Verifies one update leaf under `root` and returns its first rule violation, if any: a
    /// coordinate outside [-clip, clip] or a nonzero padding coordinate (position >= numParams).
    /// @return found Whether the leaf breaks a rule.
    /// @return coordinate Global position of the first offending coordinate (0 when none).
    function findViolation(LeafContext calldata ctx, bytes32 root, LeafProof calldata leaf)
        external
        pure
        returns (bool found, uint256 coordinate)
    {
        checkLeaf(ctx, root, leaf, 0);
        return LeafRules.findViolation(leaf.words, ctx.leafIndex, ctx.clip, ctx.numParams);
    }

    /// @notice Reverts unless `leaf` has wordsPerLeaf words and its path leads to `root` at ctx.leafIndex.
    /// @param position Reported in InvalidMerkleProof: the update's position, PREVIOUS_LEAF or PROPOSED_LEAF.
    function checkLeaf(LeafContext calldata ctx, bytes32 root, LeafProof calldata leaf, uint256 position) public pure {
        if (rootOf(ctx, leaf, position) != root) revert InvalidMerkleProof(position);
    }

    /// @notice Root that `leaf` and its path lead to at ctx.leafIndex. Reverts unless the leaf has
    /// wordsPerLeaf words, the path has exactly depth siblings and leafIndex < 2^depth.
    /// @param position Reported in InvalidMerkleProof when the path has the wrong shape.
    function rootOf(LeafContext calldata ctx, LeafProof calldata leaf, uint256 position) public pure returns (bytes32) {
        if (leaf.words.length != ctx.wordsPerLeaf) revert WrongLeafWidth(leaf.words.length, ctx.wordsPerLeaf);
        uint256 index = ctx.leafIndex;
        if (ctx.depth > PositionalMerkle.MAX_DEPTH || leaf.siblings.length != ctx.depth || index >> ctx.depth != 0) {
            revert InvalidMerkleProof(position);
        }
        return PositionalMerkle.rootFrom(PositionalMerkle.leafHash(index, leaf.words), index, leaf.siblings);
    }

    /// @dev Reads the update starting at `start` of the flat list: its head word (participant, weight), its
    /// leaf (added into `sums` at its weight) and the root its leaf and path lead to.
    function _readUpdate(LeafContext calldata ctx, bytes32[] calldata updates, uint256 start, int256[] memory sums)
        internal
        pure
        returns (address participant, uint256 weight, bytes32 root)
    {
        uint256 head = uint256(updates[start]);
        // The head word is exactly (participant << 96 | weight): both casts take their whole field.
        // forge-lint: disable-next-line(unsafe-typecast)
        participant = address(uint160(head >> 96));
        // forge-lint: disable-next-line(unsafe-typecast)
        weight = uint96(head);
        root = _rootAt(ctx, updates, start + 1);
        LeafRules.accumulate(sums, updates[start + 1:start + 1 + ctx.wordsPerLeaf], weight);
    }

    /// @dev Root led to by the leaf words at `wordsStart` of the flat list and the path right after them.
    function _rootAt(LeafContext calldata ctx, bytes32[] calldata updates, uint256 wordsStart)
        internal
        pure
        returns (bytes32 root)
    {
        uint256 wordsEnd = wordsStart + ctx.wordsPerLeaf;
        root = PositionalMerkle.leafHash(ctx.leafIndex, updates[wordsStart:wordsEnd]);
        root = PositionalMerkle.rootFrom(root, ctx.leafIndex, updates[wordsEnd:wordsEnd + ctx.depth]);
    }
}
