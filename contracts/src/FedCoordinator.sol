// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorBase} from "./CoordinatorBase.sol";
import {
    AggregateFraudProof,
    AggregationRule,
    LeafProof,
    Member,
    Mode,
    Round,
    RoundPhase,
    TaskParams,
    TaskState
} from "./FedTypes.sol";
import {LeafContext, LeafVerifier} from "./LeafVerifier.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {NormTree} from "./libraries/NormTree.sol";

/// @title FedCoordinator
/// @notice Plain-mode coordinator of federated training tasks: commit-reveal of update roots, bonded
/// proposals of the next global model, one-leaf fraud proofs against a wrong aggregate or an update out of
/// the rules (docs/protocol.md sections 7-9). The proposal lifecycle comes from CoordinatorBase; tasks,
/// stakes, rewards and member slashing from its Registry module, availability challenges and model disputes
/// from its Availability module (section 11). The whole interface is IFedCoordinator.
contract FedCoordinator is CoordinatorBase {
    /// @notice Stateless leaf-level fraud-proof checks, deployed with this contract.
    LeafVerifier public immutable LEAF_VERIFIER;

    /// @param registry A deployed Registry module.
    /// @param availability A deployed Availability module.
    constructor(address registry, address availability) CoordinatorBase(registry, availability) {
        LEAF_VERIFIER = new LeafVerifier();
    }

    // ------------------------------------------------------------------ rounds

    /// @notice Commits to an update in the current round: commitHash per docs/protocol.md section 5.
    /// Window: start <= now < start + commitWindow. Needs stake >= minStake and no pending exit.
    /// @param taskId Task of the round.
    /// @param commitHash keccak(abi.encode(chainId, coordinator, taskId, round, sender, root, sampleCount, salt)).
    function commit(uint256 taskId, bytes32 commitHash) external {
        if (commitHash == bytes32(0)) revert ZeroHash();
        (uint256 r, Member storage m,) = _enterRound(taskId);
        m.entry = Commitments.committedEntry(commitHash);
        emit Committed(taskId, r, msg.sender);
    }

    /// @notice Reveals the committed update of the current round. Window: commitEnd <= now < revealEnd.
    /// @param taskId Task of the round.
    /// @param root Merkle root of the quantized update.
    /// @param sampleCount Local sample count, >= 1; the weight is min(sampleCount, sampleCap).
    /// @param salt Salt of the commitment.
    /// @param blobRef sha256 reference of the update blob (already uploaded).
    function reveal(uint256 taskId, bytes32 root, uint256 sampleCount, bytes32 salt, bytes32 blobRef) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _rounds[taskId][r];
        _checkRevealWindow(p, round);
        if (sampleCount == 0) revert ZeroSampleCount();
        if (root == bytes32(0) || blobRef == bytes32(0)) revert ZeroHash();
        // The commit hash binds this round, so an entry of an earlier round (or none) never matches.
        Member storage m = _members[taskId][msg.sender];
        if (m.entry != _committedEntryFor(taskId, r, root, sampleCount, salt)) revert CommitmentMismatch(msg.sender);

        uint256 weight = sampleCount < p.sampleCap ? sampleCount : p.sampleCap;
        m.entry = Commitments.revealedEntry(r, root, weight);
        unchecked {
            round.reveals += 1;
            round.included += 1;
            round.totalWeight += uint32(weight);
        }
        emit Revealed(taskId, r, msg.sender, root, sampleCount, weight, blobRef);
    }

    /// @notice Proposes the next global model for the current round, under the caller's bond. The included
    /// set is every revealed, undropped update. Window: proposeStart <= now < proposeStart + proposeWindow.
    /// @param taskId Task of the round.
    /// @param root Merkle root of the proposed model.
    /// @param blobRef sha256 reference of the proposed model blob.
    function propose(uint256 taskId, bytes32 root, bytes32 blobRef) external {
        _recordProposal(taskId, root, blobRef);
    }

    // ------------------------------------------------------------------ fraud proofs

    /// @notice Proves the pending proposal wrong at one leaf (docs/protocol.md section 9). On success the
    /// aggregator's bond is slashed (bounty to the caller, rest to the pool), the aggregator is barred for
    /// this round and a new propose window opens. Reverts with ProposalCorrect if the leaf matches the rule.
    /// Allowed while the proposal may be challenged: before its challenge end (section 8.2), or while an
    /// availability challenge or model dispute of the round is open.
    /// @param taskId Task of the current round.
    /// @param proof Leaf index, leaves and paths of the previous model, the proposal and every included update.
    function challengeAggregate(uint256 taskId, AggregateFraudProof calldata proof) external {
        (uint256 r, Round storage round) = _challengeableRound(taskId);
        uint256 proofStart;
        assembly {
            proofStart := proof
        }
        (bool differs, address[] memory participants, bytes32[] memory revealedEntries) = _callVerifier(
            address(LEAF_VERIFIER),
            LeafVerifier.proposalDiffers.selector,
            abi.encode(_leafContext(taskId, r, proof.leafIndex, round)),
            proofStart
        );
        _checkIncludedSet(_members[taskId], round.included, participants, revealedEntries);
        if (_params[taskId].rule == uint8(AggregationRule.NormBounded)) {
            _checkNorms(taskId, r, participants, proof.updates);
        }
        if (!differs) revert ProposalCorrect(proof.leafIndex);
        _rejectProposal(taskId, r, round, proof.leafIndex, msg.sender);
    }

    /// @notice Proves that a revealed update of the current round breaks the rules at one leaf: a coordinate
    /// outside [-clip, clip] or a nonzero padding coordinate (position >= numParams). The update is dropped,
    /// the participant slashed (bounty to the caller); a pending proposal is voided without slashing the
    /// aggregator and aggregation reopens.
    /// @param taskId Task of the current round.
    /// @param participant Owner of the update.
    /// @param root Revealed root of the update.
    /// @param weight Weight recorded at reveal: min(sampleCount, sampleCap).
    /// @param leafIndex Index of the leaf shown.
    /// @param leaf Leaf words and Merkle path under `root`.
    function proveViolation(
        uint256 taskId,
        address participant,
        bytes32 root,
        uint256 weight,
        uint256 leafIndex,
        LeafProof calldata leaf
    ) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        Round storage round = _activeRound(taskId, r);
        Member storage m = _members[taskId][participant];
        if (m.entry != Commitments.revealedEntry(r, root, weight)) revert NotIncluded(participant);
        (bool found, uint256 coordinate) =
            LEAF_VERIFIER.findViolation(_leafContext(taskId, r, leafIndex, round), root, leaf);
        if (!found) revert NoViolation(leafIndex);

        m.entry = Commitments.DROPPED;
        round.included -= 1;
        round.totalWeight -= uint32(weight);
        if (round.proposedAt != 0) _voidProposal(taskId, r, round, true);
        _punishViolation(taskId, r, participant, coordinate);
    }

    // ------------------------------------------------------------------ views

    /// @notice The commit hash this contract expects (docs/protocol.md section 5).
    function commitmentOf(
        uint256 taskId,
        uint256 round,
        address participant,
        bytes32 root,
        uint256 sampleCount,
        bytes32 salt
    ) external view returns (bytes32) {
        return Commitments.commitHash(block.chainid, address(this), taskId, round, participant, root, sampleCount, salt);
    }

    // ------------------------------------------------------------------ internals

    function _mode() internal pure override returns (Mode) {
        return Mode.Plain;
    }

    /// @dev Plain rounds: Commit, then Reveal.
    function _inputPhase(TaskParams storage p, uint256 start) internal view override returns (RoundPhase) {
        return block.timestamp < start + p.commitWindow ? RoundPhase.Commit : RoundPhase.Reveal;
    }

    /// @dev Plain rounds aggregate at least minParticipants included updates.
    function _aggregatable(uint256 taskId, uint256, Round storage round) internal view override returns (bool) {
        return round.included >= _params[taskId].minParticipants;
    }

    function _checkRevealWindow(TaskParams storage p, Round storage round) internal view {
        uint256 commitEnd = uint256(round.start) + p.commitWindow;
        uint256 revealEnd = commitEnd + p.revealWindow;
        if (block.timestamp < commitEnd || block.timestamp >= revealEnd) revert OutsideWindow(commitEnd, revealEnd);
    }

    function _committedEntryFor(uint256 taskId, uint256 r, bytes32 root, uint256 sampleCount, bytes32 salt)
        internal
        view
        returns (bytes32)
    {
        return Commitments.committedEntry(
            Commitments.commitHash(block.chainid, address(this), taskId, r, msg.sender, root, sampleCount, salt)
        );
    }

    /// @dev Reverts unless the fraud proof's updates (participants already checked strictly increasing by the
    /// verifier) are as many as the round includes and each matches its participant's entry, which binds this
    /// round: together that makes them exactly the included set.
    function _checkIncludedSet(
        mapping(address => Member) storage members,
        uint256 included,
        address[] memory participants,
        bytes32[] memory revealedEntries
    ) internal view {
        if (participants.length != included) {
            revert IncompleteUpdateSet(participants.length, included);
        }
        for (uint256 i = 0; i < participants.length; ++i) {
            if (members[participants[i]].entry != revealedEntries[i]) revert NotIncluded(participants[i]);
        }
    }

    /// @dev Reverts unless each update's declaration words (after its head word: normRoot, normSq) are its
    /// member's declaration of round r, or (0, 0) for a member that declared none in round r. The verifier has
    /// checked that the list holds participants.length updates of 3 + W + D words each.
    function _checkNorms(uint256 taskId, uint256 r, address[] memory participants, bytes32[] calldata updates)
        internal
        view
    {
        mapping(address => bytes32) storage norms = _norms[taskId];
        uint256 stride = 3 + _params[taskId].wordsPerLeaf + _tasks[taskId].depth;
        for (uint256 i = 0; i < participants.length; ++i) {
            bytes32 normRoot = updates[i * stride + 1];
            uint256 normSq = uint256(updates[i * stride + 2]);
            bytes32 stored = norms[participants[i]];
            bool valid = normRoot == bytes32(0)
                ? normSq == 0 && !NormTree.declaredIn(stored, r)
                : stored == NormTree.declaration(r, normRoot, normSq);
            if (!valid) revert NormMismatch(participants[i]);
        }
    }

    function _leafContext(uint256 taskId, uint256 r, uint256 leafIndex, Round storage round)
        internal
        view
        returns (LeafContext memory)
    {
        TaskState storage task = _tasks[taskId];
        TaskParams storage p = _params[taskId];
        return LeafContext({
            round: r,
            depth: task.depth,
            wordsPerLeaf: p.wordsPerLeaf,
            leafIndex: leafIndex,
            previousRoot: task.modelRoot,
            proposedRoot: round.proposedRoot,
            rule: p.rule,
            ruleParam: p.ruleParam,
            serverLrBps: p.serverLrBps,
            clip: p.clip,
            numParams: p.numParams
        });
    }

    function _punishViolation(uint256 taskId, uint256 r, address participant, uint256 coordinate) internal {
        uint256 bps = _params[taskId].violationSlashBps;
        (uint256 slashed, uint256 bounty) = _slashMember(taskId, participant, bps, msg.sender);
        emit UpdateDropped(taskId, r, participant, msg.sender, coordinate, slashed, bounty);
        _pay(taskId, msg.sender, bounty);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
