// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ICoordinatorEvents} from "./ICoordinator.sol";
import {AggregateFraudProof, LeafProof} from "./FedTypes.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {LeafRules} from "./libraries/LeafRules.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";
import {LeafRule} from "./rules/LeafRule.sol";
import {NormBoundedRule} from "./rules/NormBoundedRule.sol";
import {RuleRegistry} from "./rules/RuleRegistry.sol";

/// @notice Which tree a leaf is proven against, and the task facts the rule needs.
struct LeafContext {
    uint256 round; // the current round, bound into every revealed entry
    uint256 depth;
    uint256 wordsPerLeaf;
    uint256 leafIndex;
    bytes32 previousRoot; // current global model
    bytes32 proposedRoot; // pending proposal
    uint256 rule; // the task's aggregation rule id (docs/protocol.md section 4)
    uint256 ruleParam;
    uint256 serverLrBps;
    uint256 clip;
    uint256 numParams;
}

/// @title LeafVerifier
/// @notice Stateless leaf-level checks of the fraud proofs (docs/protocol.md section 9): Merkle paths of one
/// leaf and the leaf-local rule. The coordinator deploys it in its constructor and checks everything that
/// needs storage (which updates are included, their weights) itself; this split keeps the coordinator under
/// the EIP-170 code size limit and leaves room for more leaf-local rules (src/rules).
contract LeafVerifier is ICoordinatorEvents {
    /// @notice Position in an InvalidMerkleProof error of the previous-model leaf and the proposal leaf.
    uint256 public constant PREVIOUS_LEAF = type(uint256).max;
    /// @notice See PREVIOUS_LEAF.
    uint256 public constant PROPOSED_LEAF = type(uint256).max - 1;

    /// @notice Verifies the previous-model and proposal leaves of `proof` at ctx.leafIndex, reads the flat
    /// update list (see AggregateFraudProof), computes the root each update leaf and path lead to, and
    /// recomputes the task's rule (docs/protocol.md section 4) over the real coordinates: a padding coordinate
    /// (position >= numParams) keeps its previous value (0 in every well-formed model) whatever the updates hold
    /// there, so no update's padding, posted or not, decides an aggregate. Reverts on a bad leaf width, a Merkle
    /// path of the wrong shape, a list that is not whole updates, participants not strictly increasing, or no
    /// update at all. The caller must check that the returned (participant, entry) pairs are exactly the round's
    /// included set, and for a normed rule (LeafRule.normed) that each update's declaration words (normRoot,
    /// normSq; normRoot 0 for a member that declared nothing, whose effective weight is 0) are its member's.
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
        (bool known, LeafRule memory rule) = RuleRegistry.find(ctx.rule);
        if (!known) revert InvalidTaskParameter("rule"); // unreachable: the task's rule was validated at creation
        uint256 stride = strideOf(ctx, rule.normed);
        if (proof.updates.length % stride != 0 || proof.updates.length == 0) {
            revert MalformedUpdateList(proof.updates.length, stride);
        }
        // an exact division (checked above)
        // slither-disable-next-line divide-before-multiply
        uint256 n = proof.updates.length / stride;
        int256[] memory values = new int256[](8 * ctx.wordsPerLeaf * n);
        uint256[] memory weights = new uint256[](n);
        participants = new address[](n);
        revealedEntries = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            (address participant, uint256 weight, bytes32 root) =
                _readUpdate(ctx, proof.updates, i * stride, rule.normed ? 2 : 0, i, n, values);
            if (i != 0 && participant <= participants[i - 1]) revert UpdatesNotSorted(i);
            participants[i] = participant;
            weights[i] = rule.normed ? _packedWeight(ctx, proof.updates, i * stride, weight) : weight;
            revealedEntries[i] = Commitments.revealedEntry(ctx.round, root, weight);
        }
        bytes32[] memory expected =
            LeafRules.applyStep(_centers(ctx, rule, values, n, weights), proof.previous.words, ctx.serverLrBps);
        differs = keccak256(abi.encodePacked(expected)) != keccak256(abi.encodePacked(proof.proposed.words));
    }

    /// @dev The task's rule's centers of the leaf's coordinates, padding coordinates zeroed.
    function _centers(
        LeafContext calldata ctx,
        LeafRule memory rule,
        int256[] memory values,
        uint256 n,
        uint256[] memory weights
    ) internal pure returns (int256[] memory centers) {
        centers = rule.center(values, n, weights, ctx.ruleParam);
        LeafRules.clearPadding(centers, ctx.leafIndex, ctx.numParams);
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

    /// @notice Words per update in the flat list of a fraud proof: the head, the norm declaration (normRoot,
    /// normSq) for a normed rule, the leaf words and the path.
    function strideOf(LeafContext calldata ctx, bool normed) public pure returns (uint256) {
        return 1 + (normed ? 2 : 0) + ctx.wordsPerLeaf + ctx.depth;
    }

    /// @dev Reads update `i` of the flat list of `n`, starting at `start`: its head word (participant, weight),
    /// its leaf after `extra` declaration words (stored as update i's column of `values`) and the root its leaf
    /// and path lead to.
    function _readUpdate(
        LeafContext calldata ctx,
        bytes32[] calldata updates,
        uint256 start,
        uint256 extra,
        uint256 i,
        uint256 n,
        int256[] memory values
    ) internal pure returns (address participant, uint256 weight, bytes32 root) {
        (participant, weight) = _head(updates[start]);
        _storeLeaf(ctx.wordsPerLeaf, updates, start + 1 + extra, i, n, values);
        root = _rootAt(ctx, updates, start + 1 + extra);
    }

    /// @dev w << 128 | e for the update at `start` (LeafRule.normed): e = 0 for an undeclared norm (normRoot 0),
    /// else NormBoundedRule.effectiveWeight of its declared normSq.
    function _packedWeight(LeafContext calldata ctx, bytes32[] calldata updates, uint256 start, uint256 weight)
        internal
        pure
        returns (uint256)
    {
        uint256 normSq = uint256(updates[start + 2]);
        if (updates[start + 1] == bytes32(0)) return weight << 128;
        return weight << 128 | NormBoundedRule.effectiveWeight(weight, normSq, ctx.clip, ctx.numParams, ctx.ruleParam);
    }

    /// @dev Stores the leaf words at `wordsStart` of the flat list as update i's column of `values`.
    function _storeLeaf(
        uint256 wordsPerLeaf,
        bytes32[] calldata updates,
        uint256 wordsStart,
        uint256 i,
        uint256 n,
        int256[] memory values
    ) internal pure {
        LeafRules.storeLanes(values, n, i, updates[wordsStart:wordsStart + wordsPerLeaf]);
    }

    /// @dev The head word of an update is exactly (participant << 96 | weight): both casts take their whole field.
    function _head(bytes32 word) internal pure returns (address participant, uint256 weight) {
        // forge-lint: disable-next-line(unsafe-typecast)
        participant = address(uint160(uint256(word) >> 96));
        // forge-lint: disable-next-line(unsafe-typecast)
        weight = uint96(uint256(word));
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
