// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorStorage} from "../CoordinatorStorage.sol";
import {
    ChallengeStatus,
    Dispute,
    DisputeOutcome,
    DisputeStatus,
    InputChallenge,
    MaskedRecord,
    Mode,
    Round,
    TaskParams,
    TaskState,
    TaskStatus
} from "../FedTypes.sol";
import {Chunks} from "../libraries/Chunks.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";
import {Schedule} from "../libraries/Schedule.sol";
import {Scoring} from "./Scoring.sol";
import {SecureAggregation} from "../secure/SecureAggregation.sol";

/// @title Availability
/// @notice A coordinator module: every byte a fraud proof needs can be forced into the open, or its owner
/// loses (docs/protocol.md section 11). It runs only by delegatecall from a coordinator, in its storage.
///
/// - **Availability challenges on inputs.** Anyone may demand, against a bond, that a member's input of the
///   current round (plain: its revealed update; secure: its uploaded masked vector) be put on chain. Anyone
///   holding the data posts it, chunk by chunk (Chunks), within availabilityWindow, and is paid the bond
///   share of each chunk it posts; the data then sits in ChunkPosted events for every watcher. If the
///   deadline passes first, the input leaves the round, its owner is slashed violationSlashBps (bounty to the
///   challenger, who also gets its bond back) and a pending proposal that included it is voided without
///   fault. While a challenge is open the round cannot finalize, fail or be ended idle.
/// - **Model disputes.** Anyone may dispute the pending proposal, against a bond: the proposed tree is opened
///   from its root, one level per step. Whoever holds the tree posts the disputed node's two children (or at a
///   leaf its words) within availabilityWindow; the challenger picks the child to descend into within the same
///   window. A node left unanswered rejects the proposal as if proven wrong (the aggregator slashed, the
///   bounty and the bond to the challenger); a challenger that stops loses its bond to the aggregator. Once a
///   leaf is open its path is on chain, and the ordinary fraud proof can use it.
contract Availability is CoordinatorStorage {
    /// @notice Contribution scores (docs/protocol.md section 12), deployed with this module: the calls this
    /// module does not define go there.
    address public immutable SCORING;

    constructor() {
        SCORING = address(new Scoring());
    }

    /// @notice Passes every function this module does not define to the Scoring module, in the same (the
    /// coordinator's) storage.
    fallback() external {
        address module = SCORING;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), module, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
            return(ptr, returndatasize())
        }
    }

    // ------------------------------------------------------------------ availability challenges

    /// @notice Plain mode: demands that `participant`'s revealed update of the current round be put on chain.
    /// Allowed while the round is active and its pending proposal (if any) may still be challenged. Pulls
    /// availabilityBond from the caller.
    /// @param taskId Task of the round.
    /// @param participant The update's owner.
    /// @param root The revealed root.
    /// @param weight The revealed weight.
    function challengeUpdate(uint256 taskId, address participant, bytes32 root, uint256 weight) external {
        (uint256 r, Round storage round, TaskParams storage p) = _currentRound(taskId);
        if (Mode(p.mode) != Mode.Plain) revert UnknownFunction(msg.sig);
        if (round.proposedAt != 0 && !_challengeable(p, round)) {
            revert OutsideWindow(round.proposedAt, _challengeEnd(p, round));
        }
        bytes32 bound = Commitments.revealedEntry(r, root, weight);
        if (_members[taskId][participant].entry != bound) revert NotIncluded(participant);
        // A memory struct starts zeroed: the fields set below and in _openChallenge are all that differ.
        // slither-disable-next-line uninitialized-local
        InputChallenge memory c;
        c.root = root;
        c.leafWords = p.wordsPerLeaf;
        c.boundEntry = bound;
        c.droppedEntry = Commitments.DROPPED;
        c.weight = uint32(weight);
        _openChallenge(taskId, r, round, participant, c);
    }

    /// @notice Secure mode: demands that `participant`'s uploaded masked vector of the current round be put on
    /// chain. Allowed until availabilityWindow after the upload deadline, so that every challenge is settled
    /// when the unmask phase opens. The record is restated as uploaded. Pulls availabilityBond from the caller.
    /// @param taskId Task of the round.
    /// @param participant The masked vector's owner.
    /// @param record Its record as uploaded (docs/protocol.md section 10.4).
    function challengeMaskedVector(uint256 taskId, address participant, MaskedRecord calldata record) external {
        (uint256 r, Round storage round, TaskParams storage p) = _currentRound(taskId);
        if (Mode(p.mode) != Mode.Secure) revert UnknownFunction(msg.sig);
        uint256 closesAt = Schedule.maskedChallengeEnd(p, round.start);
        if (block.timestamp >= closesAt) revert OutsideWindow(round.start, closesAt);
        bytes32 entry = _members[taskId][participant].entry;
        (bytes32 uploaded, bytes32 committed) = _recordHashes(r, record);
        if (!Commitments.revealedBinds(entry, uploaded)) revert NotIncluded(participant);
        // A memory struct starts zeroed: the fields set below and in _openChallenge are all that differ.
        // slither-disable-next-line uninitialized-local
        InputChallenge memory c;
        c.root = record.maskedRoot;
        c.leafWords = 2 * p.wordsPerLeaf;
        c.boundEntry = entry;
        c.droppedEntry = Commitments.forfeitedEntry(Commitments.committedEntry(committed));
        c.weight = uint32(record.weight);
        c.index = uint16(record.index);
        _openChallenge(taskId, r, round, participant, c);
    }

    /// @notice Posts the next chunk of `owner`'s challenged input of `round`, before the challenge's deadline:
    /// the words of its 2^c leaves in order and the path of its subtree to the challenged root
    /// (docs/protocol.md section 11.2). Anyone holding the data may post; each chunk pays its poster its share
    /// of the challenger's bond (bond / chunks, the last one the remainder). The last chunk resolves the
    /// challenge.
    /// @param taskId Task of the round.
    /// @param round Round of the input (the current one).
    /// @param owner Owner of the input.
    /// @param chunkIndex The chunk: the next one after those already posted.
    /// @param words 2^c * leafWords leaf words.
    /// @param path depth - c siblings, bottom up.
    function postChunk(
        uint256 taskId,
        uint256 round,
        address owner,
        uint256 chunkIndex,
        bytes32[] calldata words,
        bytes32[] calldata path
    ) external {
        InputChallenge storage c = _challenges[taskId][round][owner];
        if (c.status != ChallengeStatus.Open) revert NotChallenged(owner);
        if (block.timestamp >= c.deadline) revert OutsideWindow(0, c.deadline);
        if (chunkIndex != c.chunksPosted) revert WrongChunk(chunkIndex, c.chunksPosted);
        _verifyChunk(_tasks[taskId].depth, c, chunkIndex, words, path);
        emit ChunkPosted(taskId, round, owner, chunkIndex, msg.sender, words, path);
        uint256 share = _countChunk(taskId, round, owner, c);
        _pay(taskId, msg.sender, share);
    }

    /// @notice Applies an availability challenge whose deadline passed before its last chunk: the input leaves
    /// the round (plain: the entry becomes Dropped; secure: the member leaves U3 and counts as dropped, its
    /// commitment kept), its owner is slashed violationSlashBps, the bounty and the bond go to the challenger,
    /// and a pending proposal is voided (no fault: the aggregator could not have known) and aggregation
    /// reopens. The shares of the bond already paid for the chunks that did come are made up to the challenger
    /// from the owner's slash, as far as it reaches. An input already dropped for a proven violation is left as
    /// it is (what is left of the bond still goes back).
    /// @param taskId Task of the round.
    /// @param round Round of the input.
    /// @param owner Owner of the input.
    function dropUnavailable(uint256 taskId, uint256 round, address owner) external {
        InputChallenge storage c = _challenges[taskId][round][owner];
        if (c.status != ChallengeStatus.Open) revert NotChallenged(owner);
        if (block.timestamp < c.deadline) revert OutsideWindow(c.deadline, type(uint256).max);
        TaskParams storage p = _params[taskId];
        Round storage stored = _rounds[taskId][round];
        c.status = ChallengeStatus.Unavailable;
        stored.openChallenges -= 1;
        stored.settledAt = uint40(block.timestamp);
        address challenger = c.challenger;
        uint256 slashed = 0;
        uint256 bounty = 0;
        if (_members[taskId][owner].entry == c.boundEntry) {
            _members[taskId][owner].entry = c.droppedEntry;
            stored.included -= 1;
            stored.totalWeight -= c.weight;
            if (Mode(p.mode) == Mode.Secure) _secure[taskId][round].uploaded &= ~(uint256(1) << c.index);
            (slashed, bounty) = _slashMember(taskId, owner, p.violationSlashBps, challenger);
            if (stored.proposedAt != 0) _voidProposal(taskId, round, stored, true);
        }
        uint256 refund = _challengerRefund(taskId, c, slashed - bounty);
        emit InputUnavailable(taskId, round, owner, challenger, slashed, bounty);
        _pay(taskId, challenger, refund + bounty);
    }

    // ------------------------------------------------------------------ model disputes

    /// @notice Disputes the pending proposal of the current round while it may still be challenged: its root
    /// must be opened, one level per step, down to a leaf the caller chooses. Pulls availabilityBond. One open
    /// dispute per challenger and round (settle an old one first).
    /// @param taskId Task of the round.
    function openDispute(uint256 taskId) external {
        (uint256 r, Round storage round, TaskParams storage p) = _currentRound(taskId);
        if (round.proposedAt == 0) revert WrongRoundState(r);
        if (!_challengeable(p, round)) revert OutsideWindow(round.proposedAt, _challengeEnd(p, round));
        Dispute storage d = _disputes[taskId][r][msg.sender];
        if (d.status != DisputeStatus.None && d.status != DisputeStatus.Settled) revert DisputeExists(msg.sender);
        uint256 deadline = block.timestamp + p.availabilityWindow;
        d.deadline = uint40(deadline);
        d.index = 0;
        d.proposal = round.proposals;
        d.level = _tasks[taskId].depth;
        d.status = DisputeStatus.AwaitingAnswer;
        d.node = round.proposedRoot;
        round.openDisputes += 1;
        emit DisputeOpened(taskId, r, msg.sender, round.proposals, deadline);
        _collect(taskId, p.availabilityBond);
    }

    /// @notice Posts the two children of `challenger`'s disputed inner node, before the deadline. Anyone
    /// holding the proposed tree may answer.
    /// @param taskId Task of the round.
    /// @param challenger Whose dispute.
    /// @param left Left child.
    /// @param right Right child.
    function answerDispute(uint256 taskId, address challenger, bytes32 left, bytes32 right) external {
        (uint256 r, Dispute storage d, TaskParams storage p) = _liveDispute(taskId, challenger);
        if (d.status != DisputeStatus.AwaitingAnswer || d.level == 0) revert WrongDisputeStep(uint8(d.status));
        if (block.timestamp >= d.deadline) revert OutsideWindow(0, d.deadline);
        if (PositionalMerkle.nodeHash(left, right) != d.node) revert NodeMismatch(d.node);
        uint256 deadline = block.timestamp + p.availabilityWindow;
        d.status = DisputeStatus.AwaitingChoice;
        d.deadline = uint40(deadline);
        emit DisputeAnswered(taskId, r, challenger, d.level, d.index, left, right, deadline);
    }

    /// @notice Posts the words of `challenger`'s disputed leaf, before the deadline. Anyone holding the
    /// proposed tree may answer. The challenger then has availabilityWindow to prove the proposal wrong there.
    /// @param taskId Task of the round.
    /// @param challenger Whose dispute.
    /// @param words The leaf's wordsPerLeaf words.
    function openLeaf(uint256 taskId, address challenger, bytes32[] calldata words) external {
        (uint256 r, Dispute storage d, TaskParams storage p) = _liveDispute(taskId, challenger);
        if (d.status != DisputeStatus.AwaitingAnswer || d.level != 0) revert WrongDisputeStep(uint8(d.status));
        if (block.timestamp >= d.deadline) revert OutsideWindow(0, d.deadline);
        if (words.length != p.wordsPerLeaf) revert WrongLeafWidth(words.length, p.wordsPerLeaf);
        if (PositionalMerkle.leafHash(d.index, words) != d.node) revert NodeMismatch(d.node);
        uint256 deadline = block.timestamp + p.availabilityWindow;
        d.status = DisputeStatus.LeafOpened;
        d.deadline = uint40(deadline);
        emit DisputeLeafOpened(taskId, r, challenger, d.index, words, deadline);
    }

    /// @notice The challenger descends into one child of its answered node, before the deadline; `left` and
    /// `right` restate the answer.
    /// @param taskId Task of the round.
    /// @param left Left child, as answered.
    /// @param right Right child, as answered.
    /// @param goRight Whether to descend into the right child.
    function chooseChild(uint256 taskId, bytes32 left, bytes32 right, bool goRight) external {
        (uint256 r, Dispute storage d, TaskParams storage p) = _liveDispute(taskId, msg.sender);
        if (d.status != DisputeStatus.AwaitingChoice) revert WrongDisputeStep(uint8(d.status));
        if (block.timestamp >= d.deadline) revert OutsideWindow(0, d.deadline);
        if (PositionalMerkle.nodeHash(left, right) != d.node) revert NodeMismatch(d.node);
        uint256 deadline = block.timestamp + p.availabilityWindow;
        bytes32 node = goRight ? right : left;
        uint256 index = 2 * uint256(d.index) + (goRight ? 1 : 0);
        uint256 level = d.level - 1;
        d.node = node;
        d.index = uint64(index);
        d.level = uint8(level);
        d.status = DisputeStatus.AwaitingAnswer;
        d.deadline = uint40(deadline);
        emit DisputeDescended(taskId, r, msg.sender, level, index, node, deadline);
    }

    /// @notice Ends `challenger`'s dispute of `round`: if its proposal is gone (rejected, voided, replaced or
    /// its round closed) the bond goes back (Moot); otherwise only after its deadline: an unanswered node
    /// rejects the proposal (ProposalUnopened: the aggregator slashed, bounty and bond to the challenger); a
    /// challenger that did not choose or prove in time loses its bond to the aggregator (ChallengerLapsed).
    /// Anyone may call.
    /// @param taskId Task of the round.
    /// @param round Round of the dispute.
    /// @param challenger Whose dispute.
    function settleDispute(uint256 taskId, uint256 round, address challenger) external {
        Dispute storage d = _disputes[taskId][round][challenger];
        DisputeStatus status = d.status;
        if (status == DisputeStatus.None || status == DisputeStatus.Settled) revert NoOpenDispute(challenger);
        uint256 bond = _params[taskId].availabilityBond;
        Round storage stored = _rounds[taskId][round];
        d.status = DisputeStatus.Settled;
        if (!_disputeLive(taskId, round, d)) {
            emit DisputeSettled(taskId, round, challenger, DisputeOutcome.Moot, challenger, bond);
            _pay(taskId, challenger, bond);
            return;
        }
        if (block.timestamp < d.deadline) revert OutsideWindow(d.deadline, type(uint256).max);
        if (status == DisputeStatus.AwaitingAnswer) {
            emit DisputeSettled(taskId, round, challenger, DisputeOutcome.ProposalUnopened, challenger, bond);
            _rejectProposal(taskId, round, stored, type(uint256).max, challenger);
            _pay(taskId, challenger, bond);
        } else {
            address aggregator = stored.aggregator;
            stored.openDisputes -= 1;
            emit DisputeSettled(taskId, round, challenger, DisputeOutcome.ChallengerLapsed, aggregator, bond);
            _pay(taskId, aggregator, bond);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice The availability challenge on `owner`'s input of `round` (status None if there is none).
    /// @param taskId The task. @param round The round. @param owner The input's owner.
    function inputChallenge(uint256 taskId, uint256 round, address owner)
        external
        view
        returns (InputChallenge memory)
    {
        return _challenges[taskId][round][owner];
    }

    /// @notice `challenger`'s model dispute in `round` (status None if there is none).
    /// @param taskId The task. @param round The round. @param challenger The challenger.
    function disputeOf(uint256 taskId, uint256 round, address challenger) external view returns (Dispute memory) {
        return _disputes[taskId][round][challenger];
    }

    // ------------------------------------------------------------------ internals

    /// @dev Reverts unless `words` and `path` are chunk `chunkIndex` of the challenged tree: 2^c leaves of
    /// leafWords words whose subtree, with the depth - c siblings of `path`, leads to the challenged root.
    function _verifyChunk(
        uint256 depth,
        InputChallenge storage c,
        uint256 chunkIndex,
        bytes32[] calldata words,
        bytes32[] calldata path
    ) internal view {
        uint256 levels = c.chunkLevels;
        uint256 expectedWords = (uint256(1) << levels) * c.leafWords;
        if (words.length != expectedWords || path.length != depth - levels) {
            revert MalformedChunk(words.length, path.length, expectedWords, depth - levels);
        }
        bytes32 subtree = Chunks.subtreeRoot(chunkIndex, levels, c.leafWords, words);
        if (PositionalMerkle.rootFrom(subtree, chunkIndex, path) != c.root) revert ChunkMismatch(chunkIndex);
    }

    /// @dev Counts a posted chunk of `owner`'s challenge and returns the poster's share of the bond (bond /
    /// chunks, the last chunk the remainder); the last chunk resolves the challenge.
    function _countChunk(uint256 taskId, uint256 round, address owner, InputChallenge storage c)
        internal
        returns (uint256 share)
    {
        uint256 chunks = c.chunks;
        uint256 posted = uint256(c.chunksPosted) + 1;
        uint256 bond = _params[taskId].availabilityBond;
        share = bond / chunks;
        c.chunksPosted = uint32(posted);
        if (posted == chunks) {
            // Intended: shares are the floor of bond / chunks, the last chunk takes the remainder.
            // slither-disable-next-line divide-before-multiply
            share = bond - share * (chunks - 1);
            c.status = ChallengeStatus.Resolved;
            Round storage stored = _rounds[taskId][round];
            stored.openChallenges -= 1;
            stored.settledAt = uint40(block.timestamp);
            emit InputResolved(taskId, round, owner);
        }
    }

    /// @dev What goes back to the challenger of an input dropped as unavailable: its bond less the shares
    /// _countChunk paid for the chunks that did come, those shares made up from `fromSlash` (the part of the
    /// owner's slash that went to the pool, taken back from it) as far as it reaches.
    function _challengerRefund(uint256 taskId, InputChallenge storage c, uint256 fromSlash) internal returns (uint256) {
        uint256 bond = _params[taskId].availabilityBond;
        // Intended: the same floor of bond / chunks that _countChunk paid for each chunk.
        // slither-disable-next-line divide-before-multiply
        uint256 paid = bond / c.chunks * c.chunksPosted;
        uint256 covered = paid < fromSlash ? paid : fromSlash;
        _tasks[taskId].pool -= uint128(covered);
        return bond - paid + covered;
    }

    /// @dev keccak(abi.encode(r, record)) of the record as uploaded and as committed (maskedRoot 0).
    function _recordHashes(uint256 r, MaskedRecord calldata m) internal pure returns (bytes32, bytes32) {
        bytes32 uploaded =
            SecureAggregation.record(m.index, m.pkX, m.pkY, m.selfSeedHash, m.shareBundleRef, m.weight, m.maskedRoot);
        bytes32 committed =
            SecureAggregation.record(m.index, m.pkX, m.pkY, m.selfSeedHash, m.shareBundleRef, m.weight, bytes32(0));
        return (keccak256(abi.encode(r, uploaded)), keccak256(abi.encode(r, committed)));
    }

    /// @dev The current, active round of a running task, and the task's rules.
    function _currentRound(uint256 taskId)
        internal
        view
        returns (uint256 r, Round storage round, TaskParams storage p)
    {
        r = _runningTask(taskId).currentRound;
        round = _activeRound(taskId, r);
        p = _params[taskId];
    }

    /// @dev Whether dispute `d` of `round` still concerns the pending proposal of the task's current round.
    function _disputeLive(uint256 taskId, uint256 round, Dispute storage d) internal view returns (bool) {
        TaskState storage task = _tasks[taskId];
        Round storage stored = _rounds[taskId][round];
        // Counters and states, not time: equality is the intent.
        // slither-disable-next-line incorrect-equality
        return task.status == TaskStatus.Running && round == task.currentRound && stored.proposedAt != 0
            && d.proposal == stored.proposals;
    }

    /// @dev `challenger`'s open dispute of the current round, still about the pending proposal.
    function _liveDispute(uint256 taskId, address challenger)
        internal
        view
        returns (uint256 r, Dispute storage d, TaskParams storage p)
    {
        r = _tasks[taskId].currentRound;
        d = _disputes[taskId][r][challenger];
        DisputeStatus status = d.status;
        if (status == DisputeStatus.None || status == DisputeStatus.Settled || !_disputeLive(taskId, r, d)) {
            revert NoOpenDispute(challenger);
        }
        p = _params[taskId];
    }

    /// @dev Opens an availability challenge on `owner`'s input of round r: `c` holds the challenged tree (root,
    /// leafWords), the member's entry it is bound to, what the entry becomes if the input turns out
    /// unavailable, and the input's weight and advertise index; the rest is filled in here.
    function _openChallenge(uint256 taskId, uint256 r, Round storage round, address owner, InputChallenge memory c)
        internal
    {
        InputChallenge storage stored = _challenges[taskId][r][owner];
        if (stored.status != ChallengeStatus.None) revert AlreadyChallenged(owner);
        TaskParams storage p = _params[taskId];
        uint256 levels = Chunks.levels(_tasks[taskId].depth, c.leafWords);
        uint256 chunks = Chunks.count(p.numParams, 8 * uint256(p.wordsPerLeaf), levels);
        uint256 deadline = block.timestamp + p.availabilityWindow;
        c.challenger = msg.sender;
        c.deadline = uint40(deadline);
        c.status = ChallengeStatus.Open;
        c.chunks = uint32(chunks);
        c.chunkLevels = uint8(levels);
        _challenges[taskId][r][owner] = c;
        round.openChallenges += 1;
        emit InputChallenged(taskId, r, owner, msg.sender, c.root, chunks, deadline);
        _collect(taskId, p.availabilityBond);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
