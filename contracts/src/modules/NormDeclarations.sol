// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and the weight cast is bounded by sampleCap.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorStorage} from "../CoordinatorStorage.sol";
import {AggregationRule, Member, NormProof, Round, TaskParams} from "../FedTypes.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {NormTree} from "../libraries/NormTree.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";
import {NormBoundedRule} from "../rules/NormBoundedRule.sol";

/// @title NormDeclarations
/// @notice Norm declarations of a norm-bounded task (rule 3, docs/protocol.md section 4.4), part of the Registry
/// module (whose initcode has room; the chain behind Availability has little): a member that revealed declares
/// the squared norms of its update's leaves, the contract builds their Merkle sum tree and stores its root and
/// sum; a false leaf value is proven at one leaf, and an update left undeclared at the reveal deadline is
/// dropped. Both drops slash like proveViolation (section 9.2).
abstract contract NormDeclarations is CoordinatorStorage {
    /// @notice The coordinator reported in UpdateDropped for an update dropped as undeclared.
    uint256 public constant UNDECLARED_NORM = type(uint256).max;

    /// @notice Declares the squared norms of the caller's revealed update of the current round: `leafNorms[i]`
    /// is the sum of the squares of the coordinates of its leaf i, for every leaf that holds real coordinates
    /// (ceil(numParams / (8 * wordsPerLeaf)) values). Window: the caller revealed in this round, now < revealEnd,
    /// once per round. Reverts NormOverLimit when the sum is above the task's hard limit.
    /// @param taskId Task of the round.
    /// @param leafNorms The update's per-leaf squared norms.
    function declareNorm(uint256 taskId, uint256[] calldata leafNorms) external {
        uint256 r = _normRound(taskId);
        TaskParams storage p = _params[taskId];
        uint256 revealEnd = _revealEnd(taskId, r);
        if (block.timestamp >= revealEnd) revert OutsideWindow(0, revealEnd);
        Member storage m = _members[taskId][msg.sender];
        if (m.lastCommitRound != r + 1 || !Commitments.isRevealed(m.entry)) revert NotIncluded(msg.sender);
        if (NormTree.declaredIn(_norms[taskId][msg.sender], r)) revert NormAlreadyDeclared(msg.sender);
        uint256 coordsPerLeaf = 8 * uint256(p.wordsPerLeaf);
        uint256 leaves = (uint256(p.numParams) + coordsPerLeaf - 1) / coordsPerLeaf;
        if (leafNorms.length != leaves) revert NormListLength(leafNorms.length, leaves);
        (bytes32 normRoot, uint256 normSq) = NormTree.build(leafNorms, _tasks[taskId].depth);
        if (NormBoundedRule.overLimit(normSq, p.clip, p.numParams, p.ruleParam)) revert NormOverLimit(normSq);
        _norms[taskId][msg.sender] = NormTree.declaration(r, normRoot, normSq);
        emit NormDeclared(taskId, r, msg.sender, normRoot, normSq, leafNorms);
    }

    /// @notice Drops a revealed update of the current round whose owner declared no norm by the reveal deadline,
    /// and slashes it violationSlashBps (bounty to the caller); a pending proposal is voided.
    /// @param taskId Task of the round.
    /// @param participant Owner of the update.
    /// @param root Revealed root of the update.
    /// @param weight Weight recorded at reveal.
    function dropUndeclared(uint256 taskId, address participant, bytes32 root, uint256 weight) external {
        uint256 r = _normRound(taskId);
        uint256 revealEnd = _revealEnd(taskId, r);
        if (block.timestamp < revealEnd) revert OutsideWindow(revealEnd, type(uint256).max);
        Member storage m = _members[taskId][participant];
        if (m.entry != Commitments.revealedEntry(r, root, weight)) revert NotIncluded(participant);
        if (NormTree.declaredIn(_norms[taskId][participant], r)) revert NormIsDeclared(participant);
        _dropForNorm(taskId, r, m, participant, weight, UNDECLARED_NORM);
    }

    /// @notice Proves a member's norm declaration of the current round false at one leaf: the update's leaf
    /// under its revealed root and the norm tree's leaf under the declared root, whose value is not the leaf's
    /// squared norm. The update is dropped and its owner slashed (bounty to the caller); a pending proposal is
    /// voided. Reverts NormCorrect when the value is right.
    /// @param taskId Task of the round.
    /// @param participant Owner of the update.
    /// @param root Revealed root of the update.
    /// @param weight Weight recorded at reveal.
    /// @param proof The declaration, the update leaf and the norm leaf.
    function proveNormViolation(
        uint256 taskId,
        address participant,
        bytes32 root,
        uint256 weight,
        NormProof calldata proof
    ) external {
        uint256 r = _normRound(taskId);
        Member storage m = _members[taskId][participant];
        if (m.entry != Commitments.revealedEntry(r, root, weight)) revert NotIncluded(participant);
        if (_norms[taskId][participant] != NormTree.declaration(r, proof.normRoot, proof.normSq)) {
            revert NormMismatch(participant);
        }
        uint256 depth = _tasks[taskId].depth;
        uint256 wordsPerLeaf = _params[taskId].wordsPerLeaf;
        if (proof.leaf.words.length != wordsPerLeaf) revert WrongLeafWidth(proof.leaf.words.length, wordsPerLeaf);
        if (!PositionalMerkle.verify(root, depth, proof.leafIndex, proof.leaf.words, proof.leaf.siblings)) {
            revert InvalidMerkleProof(0);
        }
        if (proof.hashes.length != depth || proof.sums.length != depth) revert InvalidMerkleProof(1);
        (bytes32 normRoot, uint256 normSq) = NormTree.rootFrom(proof.leafIndex, proof.value, proof.hashes, proof.sums);
        if (normRoot != proof.normRoot || normSq != proof.normSq) revert InvalidMerkleProof(1);
        if (NormTree.leafNormSq(proof.leaf.words) == proof.value) revert NormCorrect(proof.leafIndex);
        _dropForNorm(taskId, r, m, participant, weight, proof.leafIndex * 8 * wordsPerLeaf);
    }

    /// @notice The member's norm declaration word (NormTree.declaration of its last declared round; 0 if none).
    function normDeclarationOf(uint256 taskId, address member) external view returns (bytes32) {
        return _norms[taskId][member];
    }

    /// @dev The current round of a running norm-bounded task, which must be active.
    function _normRound(uint256 taskId) private view returns (uint256 r) {
        r = _runningTask(taskId).currentRound;
        _activeRound(taskId, r);
        if (_params[taskId].rule != uint8(AggregationRule.NormBounded)) revert NotNormBounded(taskId);
    }

    /// @dev Drops the update as proveViolation does (docs/protocol.md section 9.2) and slashes its owner.
    function _dropForNorm(
        uint256 taskId,
        uint256 r,
        Member storage m,
        address participant,
        uint256 weight,
        uint256 coordinate
    ) private {
        Round storage round = _rounds[taskId][r];
        m.entry = Commitments.DROPPED;
        round.included -= 1;
        round.totalWeight -= uint32(weight);
        if (round.proposedAt != 0) _voidProposal(taskId, r, round, true);
        (uint256 slashed, uint256 bounty) =
            _slashMember(taskId, participant, _params[taskId].violationSlashBps, msg.sender);
        emit UpdateDropped(taskId, r, participant, msg.sender, coordinate, slashed, bounty);
        _pay(taskId, msg.sender, bounty);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
