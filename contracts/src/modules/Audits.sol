// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the AuditParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorStorage} from "../CoordinatorStorage.sol";
import {
    Audit,
    AuditParams,
    AuditStatus,
    Dataset,
    Member,
    Mode,
    Round,
    StepOpening,
    TaskParams,
    TrajectoryLeaf
} from "../FedTypes.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";

/// @notice EZKL's Halo2 verifier of a task's step circuit (the generated contract's ABI).
interface IHalo2Verifier {
    /// @notice Whether `proof` proves the circuit for the public `instances` (field elements).
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);
}

/// @title Audits
/// @notice A coordinator module: training audits (docs/protocol.md section 13). It runs only by delegatecall
/// from a coordinator, in its storage, reached through the Scoring module's fallback.
///
/// An audited task names the verifier of a step circuit (EZKL). A member registers a commitment to its
/// training data (a Merkle root over the Poseidon hashes of its salted batches) before its first commit, and
/// each round commits to its trajectory: the models after each of the task's S steps, with their Poseidon
/// hashes. After the reveal deadline the chain's randomness selects updates and steps to audit, and anyone may
/// demand the audit of any step against a bond. An audited member must post, within the proof window, a
/// proof of the step whose public instances the contract builds from what the chain holds: the trajectory's
/// models before and after the step, opened against the trajectory and bound to the anchored global model
/// (its first model) and to the revealed update (its last model minus its first), and the committed hash of
/// the step's batch. A proof that is missing at the deadline drops the update and slashes its owner; a proof
/// that passes pays the demander's bond to the member.
contract Audits is CoordinatorStorage {
    /// @notice The scalar field of BN254, in which every public instance lives.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Most steps a round's trajectory may have.
    uint256 public constant MAX_STEPS = 1024;
    /// @notice Most steps drawn for a selected update.
    uint256 public constant MAX_AUDIT_STEPS = 16;
    /// @dev Separates the audit draw's seed from every other seed taken from a block's randomness.
    bytes32 internal constant AUDIT_DOMAIN = keccak256("fedchain.audit");

    /// @notice No function of a coordinator is left: the selector is unknown.
    fallback() external {
        revert UnknownFunction(msg.sig);
    }

    // ------------------------------------------------------------------ tasks and commitments

    /// @notice Creates a plain task whose members' training is audited, and escrows numRounds *
    /// rewardPerRound of the task token from the caller (approve first).
    /// @param params Rules of the task, checked as createTask checks them; the mode must be plain.
    /// @param audits The audits' rules (section 13.1).
    /// @param modelRoot Merkle root of the initial global model.
    /// @param modelBlobRef sha256 reference of the initial model blob.
    /// @return taskId Id of the new task.
    function createAuditedTask(
        TaskParams calldata params,
        AuditParams calldata audits,
        bytes32 modelRoot,
        bytes32 modelBlobRef
    ) external returns (uint256 taskId) {
        uint256 escrow;
        (taskId, escrow) = _createTask(params, modelRoot, modelBlobRef);
        if (params.mode != uint8(Mode.Plain)) revert InvalidTaskParameter("mode");
        _checkAudits(audits);
        _auditing[taskId] = audits;
        emit AuditsSet(taskId, audits);
        _collect(taskId, escrow);
    }

    /// @notice Registers the caller's training data (section 13.2): the root of a Merkle tree over the
    /// Poseidon hashes of its `batches` salted batches of batchSize samples. Once per member, before its first
    /// commit; its weight in every round must then be min(batches * batchSize, sampleCap).
    /// @param taskId A running audited task the caller is a member of.
    /// @param root The dataset's root.
    /// @param batches How many batches the dataset holds (1..2^32-1).
    function registerDataset(uint256 taskId, bytes32 root, uint256 batches) external {
        _runningTask(taskId);
        _audited(taskId);
        Member storage m = _joinedMember(taskId, msg.sender);
        if (root == bytes32(0)) revert ZeroHash();
        if (batches == 0 || batches > type(uint32).max) revert InvalidTaskParameter("batches");
        Dataset storage d = _datasets[taskId][msg.sender];
        if (d.batches != 0 || m.lastCommitRound != 0) revert DatasetFixed(msg.sender);
        d.root = root;
        d.batches = uint32(batches);
        emit DatasetRegistered(taskId, msg.sender, root, batches);
    }

    /// @notice Commits to the caller's training trajectory of the current round (section 13.3): the root of a
    /// Merkle tree over the S + 1 models it held, before and after each step. Once per round, by a member
    /// holding the round's commitment or reveal, with a registered dataset, before the reveal deadline.
    /// @param taskId A running audited task.
    /// @param root The trajectory's root.
    function commitTrajectory(uint256 taskId, bytes32 root) external {
        uint256 r = _runningTask(taskId).currentRound;
        Round storage round = _activeRound(taskId, r);
        _audited(taskId);
        if (root == bytes32(0)) revert ZeroHash();
        Member storage m = _joinedMember(taskId, msg.sender);
        bytes32 entry = m.entry;
        if (m.lastCommitRound != r + 1 || !(Commitments.isCommitted(entry) || Commitments.isRevealed(entry))) {
            revert NotIncluded(msg.sender);
        }
        uint256 revealEnd = _revealEnd(taskId, r);
        if (block.timestamp >= revealEnd) revert OutsideWindow(round.start, revealEnd);
        if (_datasets[taskId][msg.sender].batches == 0) revert NoDataset(msg.sender);
        mapping(address => bytes32) storage trajectories = _trajectories[taskId][r];
        if (trajectories[msg.sender] != bytes32(0)) revert TrajectoryExists(msg.sender);
        trajectories[msg.sender] = root;
        emit TrajectoryCommitted(taskId, r, msg.sender, root);
    }

    // ------------------------------------------------------------------ selecting audits

    /// @notice Draws the current round's audits from the randomness of this block (section 13.4): from the
    /// reveal deadline on (every trajectory is fixed by then), once per round, while the round is active and
    /// its pending proposal (if any) may still be challenged. Anyone may call.
    /// @param taskId A running audited task.
    function drawAudits(uint256 taskId) external {
        (uint256 r,) = _auditableRound(taskId);
        mapping(uint256 => uint256) storage seeds = _auditSeeds[taskId];
        if (seeds[r] != 0) revert AuditsAlreadyDrawn(r);
        uint256 seed = uint256(keccak256(abi.encode(block.prevrandao, taskId, r, AUDIT_DOMAIN)));
        if (seed == 0) seed = 1; // 0 means "not drawn"
        seeds[r] = seed;
        emit AuditsDrawn(taskId, r, seed);
    }

    /// @notice Opens the drawn audit `draw` (0..auditSteps-1) of `participant`'s update in the current round,
    /// which the draw selected; no bond. Its step is auditDraw's. Anyone may open it (the bounty of a failure
    /// goes to the opener) while the round is active and its pending proposal may still be challenged.
    /// @param taskId The task.
    /// @param participant The update's owner.
    /// @param root The revealed update root.
    /// @param weight The revealed weight.
    /// @param draw Which of the update's drawn steps.
    function openAudit(uint256 taskId, address participant, bytes32 root, uint256 weight, uint256 draw) external {
        (uint256 r,) = _auditableRound(taskId);
        uint256 seed = _auditSeeds[taskId][r];
        if (seed == 0) revert AuditsNotDrawn(r);
        AuditParams storage ap = _auditing[taskId];
        if (draw >= ap.auditSteps || !_selected(seed, participant, ap.auditBps)) {
            revert NotSelected(participant, draw);
        }
        _open(taskId, r, participant, root, weight, _drawnStep(seed, participant, draw, ap.steps), false);
    }

    /// @notice Demands the audit of step `step` of `participant`'s update in the current round, against
    /// demandBond (pulled from the caller): paid to the participant if its proof passes, returned with the
    /// bounty if it does not. From the reveal deadline on, while the round is active and its pending proposal
    /// may still be challenged; each step of an update is audited at most once per round.
    /// @param taskId The task.
    /// @param participant The update's owner.
    /// @param root The revealed update root.
    /// @param weight The revealed weight.
    /// @param step The step (0..steps-1).
    function demandAudit(uint256 taskId, address participant, bytes32 root, uint256 weight, uint256 step) external {
        (uint256 r,) = _auditableRound(taskId);
        uint256 steps = _auditing[taskId].steps;
        if (step >= steps) revert StepOutOfRange(step, steps);
        _open(taskId, r, participant, root, weight, step, true);
        _collect(taskId, _auditing[taskId].demandBond);
    }

    // ------------------------------------------------------------------ proofs and settlement

    /// @notice Posts the proof of an audited step before its deadline (section 13.6). The contract builds the
    /// public instances from the openings, checked against the chain (stepInstances), and calls the task's
    /// verifier; a proof it refuses reverts (the audit stays open). A proof that passes closes the audit and
    /// pays a demand's bond to the participant. Anyone may post.
    /// @param taskId The task.
    /// @param round The round of the audit (the current one).
    /// @param participant The update's owner.
    /// @param step The audited step.
    /// @param opening Trajectory leaves 0, t, t + 1 and S, and the step's batch hash with its dataset path.
    /// @param proof The proof's bytes, as the verifier takes them.
    function proveStep(
        uint256 taskId,
        uint256 round,
        address participant,
        uint256 step,
        StepOpening calldata opening,
        bytes calldata proof
    ) external {
        Audit storage a = _audits[taskId][round][participant][step];
        if (a.status != AuditStatus.Open) revert NoOpenAudit(participant, step);
        if (block.timestamp >= a.deadline) revert OutsideWindow(0, a.deadline);
        uint256[] memory instances = _stepInstances(taskId, round, participant, step, a.root, a.weight, opening);
        if (!_verifies(_auditing[taskId].verifier, proof, instances)) revert ProofRejected(participant, step);
        a.status = AuditStatus.Proven;
        _rounds[taskId][round].openChallenges -= 1;
        uint256 bond = a.bonded ? _auditing[taskId].demandBond : 0;
        emit StepProven(taskId, round, participant, step, bond);
        _pay(taskId, participant, bond);
    }

    /// @notice Settles an audit whose deadline passed without a valid proof. If the update is still in the
    /// round it is dropped, its owner slashed violationSlashBps (the bounty to the challenger), and a pending
    /// proposal voided (no fault) and aggregation reopened: Failed. If it already left the round: Moot. Either
    /// way a demander's bond goes back. Anyone may call.
    /// @param taskId The task.
    /// @param round The round of the audit.
    /// @param participant The update's owner.
    /// @param step The audited step.
    function settleAudit(uint256 taskId, uint256 round, address participant, uint256 step) external {
        Audit storage a = _audits[taskId][round][participant][step];
        if (a.status != AuditStatus.Open) revert NoOpenAudit(participant, step);
        if (block.timestamp < a.deadline) revert OutsideWindow(a.deadline, type(uint256).max);
        Round storage stored = _rounds[taskId][round];
        stored.openChallenges -= 1;
        address challenger = a.challenger;
        uint256 slashed = 0;
        uint256 bounty = 0;
        Member storage m = _members[taskId][participant];
        if (m.entry == Commitments.revealedEntry(round, a.root, a.weight)) {
            a.status = AuditStatus.Failed;
            m.entry = Commitments.DROPPED;
            stored.included -= 1;
            stored.totalWeight -= a.weight;
            stored.settledAt = uint40(block.timestamp);
            (slashed, bounty) = _slashMember(taskId, participant, _params[taskId].violationSlashBps, challenger);
            if (stored.proposedAt != 0) _voidProposal(taskId, round, stored, true);
        } else {
            a.status = AuditStatus.Moot;
        }
        uint256 refund = a.bonded ? _auditing[taskId].demandBond : 0;
        emit AuditSettled(taskId, round, participant, step, a.status, challenger, slashed, bounty);
        _pay(taskId, challenger, refund + bounty);
    }

    // ------------------------------------------------------------------ views

    /// @notice The task's audit parameters (all zero for a task without audits).
    /// @param taskId The task.
    function auditParams(uint256 taskId) external view returns (AuditParams memory) {
        return _auditing[taskId];
    }

    /// @notice The member's registered dataset (batches 0 when none).
    /// @param taskId The task. @param member The member.
    function datasetOf(uint256 taskId, address member) external view returns (Dataset memory) {
        return _datasets[taskId][member];
    }

    /// @notice The member's committed trajectory root of `round` (0 when none).
    /// @param taskId The task. @param round The round. @param member The member.
    function trajectoryOf(uint256 taskId, uint256 round, address member) external view returns (bytes32) {
        return _trajectories[taskId][round][member];
    }

    /// @notice The seed of `round`'s audits (0 until drawn).
    /// @param taskId The task. @param round The round.
    function auditSeed(uint256 taskId, uint256 round) external view returns (uint256) {
        return _auditSeeds[taskId][round];
    }

    /// @notice Whether the draw of `round` selected `participant`'s update, and if so its drawn steps (draw
    /// index order, repeats possible). Reverts AuditsNotDrawn before the draw.
    /// @param taskId The task. @param round The round. @param participant The update's owner.
    function auditDraw(uint256 taskId, uint256 round, address participant)
        external
        view
        returns (bool selected, uint256[] memory steps)
    {
        uint256 seed = _auditSeeds[taskId][round];
        if (seed == 0) revert AuditsNotDrawn(round);
        AuditParams storage ap = _auditing[taskId];
        selected = _selected(seed, participant, ap.auditBps);
        if (!selected) return (false, steps);
        steps = new uint256[](ap.auditSteps);
        for (uint256 j = 0; j < steps.length; ++j) {
            steps[j] = _drawnStep(seed, participant, j, ap.steps);
        }
    }

    /// @notice The audit of step `step` of `participant`'s update in `round` (status None if there is none).
    /// @param taskId The task. @param round The round. @param participant The owner. @param step The step.
    function auditOf(uint256 taskId, uint256 round, address participant, uint256 step)
        external
        view
        returns (Audit memory)
    {
        return _audits[taskId][round][participant][step];
    }

    /// @notice The public instances a proof of step `step` of `participant`'s update (revealed as `root`,
    /// `weight`) in the current round `round` must verify for, built from `opening` after every check
    /// proveStep makes (it reverts where proveStep would): [Poseidon(w_t), batchHash, w_t, w_t+1].
    /// @param taskId The task. @param round The round. @param participant The owner. @param step The step.
    /// @param root The revealed update root. @param weight The revealed weight. @param opening The openings.
    function stepInstances(
        uint256 taskId,
        uint256 round,
        address participant,
        uint256 step,
        bytes32 root,
        uint256 weight,
        StepOpening calldata opening
    ) external view returns (uint256[] memory) {
        return _stepInstances(taskId, round, participant, step, root, weight, opening);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Reverts unless `a` is a valid AuditParams (section 13.1).
    function _checkAudits(AuditParams calldata a) internal view {
        if (a.verifier.code.length == 0) revert InvalidTaskParameter("verifier");
        if (a.steps == 0 || a.steps > MAX_STEPS) revert InvalidTaskParameter("steps");
        if (a.batchSize == 0) revert InvalidTaskParameter("batchSize");
        if (a.auditBps > BPS) revert InvalidTaskParameter("auditBps");
        if (a.auditSteps == 0 || a.auditSteps > MAX_AUDIT_STEPS) revert InvalidTaskParameter("auditSteps");
        if (a.proofWindow < 10) revert InvalidTaskParameter("proofWindow");
        if (a.demandBond == 0 || a.demandBond > type(uint96).max) revert InvalidTaskParameter("demandBond");
    }

    /// @dev The task's audit parameters; reverts NotAudited for a task without audits.
    function _audited(uint256 taskId) internal view returns (AuditParams storage ap) {
        ap = _auditing[taskId];
        if (ap.verifier == address(0)) revert NotAudited(taskId);
    }

    /// @dev The current round of a running audited task, once its reveal deadline has passed and while its
    /// pending proposal (if any) may still be challenged.
    function _auditableRound(uint256 taskId) internal view returns (uint256 r, Round storage round) {
        r = _runningTask(taskId).currentRound;
        round = _activeRound(taskId, r);
        _audited(taskId);
        uint256 revealEnd = _revealEnd(taskId, r);
        if (block.timestamp < revealEnd) revert OutsideWindow(revealEnd, type(uint256).max);
        TaskParams storage p = _params[taskId];
        if (round.proposedAt != 0 && !_challengeable(p, round)) {
            revert OutsideWindow(round.proposedAt, _challengeEnd(p, round));
        }
    }

    /// @dev Whether the draw `seed` selects `participant`'s update: keccak(seed, participant) mod 10000 <
    /// auditBps.
    function _selected(uint256 seed, address participant, uint256 auditBps) internal pure returns (bool) {
        return uint256(keccak256(abi.encode(seed, participant))) % BPS < auditBps;
    }

    /// @dev Step of draw `j` of a selected update: keccak(seed, participant, j) mod steps.
    function _drawnStep(uint256 seed, address participant, uint256 j, uint256 steps) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, participant, j))) % steps;
    }

    /// @dev Opens the audit of `step` of the revealed update (root, weight) of `participant` in round r.
    function _open(
        uint256 taskId,
        uint256 r,
        address participant,
        bytes32 root,
        uint256 weight,
        uint256 step,
        bool bonded
    ) internal {
        if (_members[taskId][participant].entry != Commitments.revealedEntry(r, root, weight)) {
            revert NotIncluded(participant);
        }
        Audit storage a = _audits[taskId][r][participant][step];
        if (a.status != AuditStatus.None) revert AlreadyAudited(participant, step);
        AuditParams storage ap = _auditing[taskId];
        uint256 deadline = block.timestamp + ap.proofWindow;
        a.challenger = msg.sender;
        a.deadline = uint40(deadline);
        a.weight = uint32(weight);
        a.bonded = bonded;
        a.status = AuditStatus.Open;
        a.root = root;
        _rounds[taskId][r].openChallenges += 1;
        emit AuditOpened(taskId, r, participant, step, msg.sender, bonded ? ap.demandBond : 0, deadline);
    }

    /// @dev The public instances of step `step`'s proof (section 13.6), after checking every opening against the
    /// chain: the dataset fixes the weight and the step's batch, the trajectory the four leaves, the anchored
    /// global model its first model and the revealed update its last model minus its first.
    function _stepInstances(
        uint256 taskId,
        uint256 r,
        address participant,
        uint256 step,
        bytes32 root,
        uint256 weight,
        StepOpening calldata opening
    ) internal view returns (uint256[] memory instances) {
        uint256 steps = _audited(taskId).steps;
        if (step >= steps) revert StepOutOfRange(step, steps);
        _checkDataset(taskId, r, participant, step, steps, weight, opening);
        _checkTrajectory(taskId, _trajectories[taskId][r][participant], participant, step, steps, root, opening);
        uint256 params = _params[taskId].numParams;
        instances = new uint256[](2 + 2 * params);
        instances[0] = opening.leaves[1].poseidon;
        instances[1] = opening.batchHash;
        for (uint256 i = 0; i < params; ++i) {
            instances[2 + i] = _felt(_lane(opening.leaves[1].words, i));
            instances[2 + params + i] = _felt(_lane(opening.leaves[2].words, i));
        }
    }

    /// @dev Reverts unless the participant registered a dataset that gives `weight`, and `opening`'s batch hash
    /// is its batch (r * steps + step) mod batches.
    function _checkDataset(
        uint256 taskId,
        uint256 r,
        address participant,
        uint256 step,
        uint256 steps,
        uint256 weight,
        StepOpening calldata opening
    ) internal view {
        Dataset storage d = _datasets[taskId][participant];
        uint256 batches = d.batches;
        if (batches == 0) revert NoDataset(participant);
        uint256 samples = batches * _auditing[taskId].batchSize;
        uint256 cap = _params[taskId].sampleCap;
        uint256 expected = samples < cap ? samples : cap;
        if (weight != expected) revert WeightMismatch(weight, expected);
        uint256 batch = (r * steps + step) % batches;
        bytes32 leaf = keccak256(abi.encodePacked(uint8(0x03), batch, opening.batchHash));
        if (
            opening.batchPath.length != _depthOf(batches)
                || PositionalMerkle.rootFrom(leaf, batch, opening.batchPath) != d.root
        ) revert OpeningMismatch(6);
    }

    /// @dev Reverts unless `opening`'s four leaves are leaves 0, step, step + 1 and steps of `trajectory`, the
    /// first model is the anchored global model and clamp(last - first) is the revealed update `root`.
    function _checkTrajectory(
        uint256 taskId,
        bytes32 trajectory,
        address participant,
        uint256 step,
        uint256 steps,
        bytes32 root,
        StepOpening calldata opening
    ) internal view {
        if (trajectory == bytes32(0)) revert NoTrajectory(participant);
        TaskParams storage p = _params[taskId];
        uint256 depth = _tasks[taskId].depth;
        uint256 leafWords = p.wordsPerLeaf;
        uint256[4] memory positions = [uint256(0), step, step + 1, steps];
        uint256 trajectoryDepth = _depthOf(steps + 1);
        bytes32 first = bytes32(0); // set from leaf 0, always opened first
        for (uint256 k = 0; k < 4; ++k) {
            TrajectoryLeaf calldata leaf = opening.leaves[k];
            if (leaf.words.length != (uint256(1) << depth) * leafWords || leaf.path.length != trajectoryDepth) {
                revert OpeningMismatch(k);
            }
            bytes32 model = _vectorRoot(leaf.words, leafWords, depth);
            if (k == 0) first = model;
            bytes32 hash = keccak256(abi.encodePacked(uint8(0x02), positions[k], model, leaf.poseidon));
            if (PositionalMerkle.rootFrom(hash, positions[k], leaf.path) != trajectory) revert OpeningMismatch(k);
        }
        if (first != _tasks[taskId].modelRoot) revert OpeningMismatch(4);
        bytes32[] memory update = _clampedDifference(opening.leaves[3].words, opening.leaves[0].words, p.clip);
        if (_vectorRoot(update, leafWords, depth) != root) revert OpeningMismatch(5);
    }

    /// @dev Whether the verifier accepts `proof` for `instances` (a revert or anything but true is a refusal).
    function _verifies(address verifier, bytes calldata proof, uint256[] memory instances)
        internal
        view
        returns (bool)
    {
        // The verifier is the one the task named at creation; its answer is all that is read.
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory answer) =
            verifier.staticcall(abi.encodeCall(IHalo2Verifier.verifyProof, (proof, instances)));
        return ok && answer.length == 32 && abi.decode(answer, (bool));
    }

    /// @dev Coordinate i of a packed vector (section 2): lane i % 8 of word i / 8.
    function _lane(bytes32[] calldata words, uint256 i) internal pure returns (int256) {
        return int256(int32(uint32(uint256(words[i / 8]) >> (224 - 32 * (i % 8)))));
    }

    /// @dev A signed integer as the BN254 field element that stands for it (negatives wrap to p - |v|).
    function _felt(int256 v) internal pure returns (uint256) {
        return v >= 0 ? uint256(v) : FIELD_MODULUS - uint256(-v);
    }

    /// @dev The packed vector clamp(end - start, -clip, clip), lane by lane (section 1's update).
    function _clampedDifference(bytes32[] calldata end, bytes32[] calldata start, uint256 clip)
        internal
        pure
        returns (bytes32[] memory out)
    {
        out = new bytes32[](end.length);
        int256 bound = int256(clip);
        for (uint256 w = 0; w < end.length; ++w) {
            uint256 word = 0;
            for (uint256 j = 0; j < 8; ++j) {
                uint256 shift = 224 - 32 * j;
                int256 d =
                    int256(int32(uint32(uint256(end[w]) >> shift))) - int256(int32(uint32(uint256(start[w]) >> shift)));
                if (d > bound) d = bound;
                if (d < -bound) d = -bound;
                word |= uint256(uint32(int32(d))) << shift;
            }
            out[w] = bytes32(word);
        }
    }

    /// @dev The section-3 root of a packed vector of 2^depth leaves of leafWords words: every leaf hashed with
    /// its index, then the levels of nodes.
    function _vectorRoot(bytes32[] memory words, uint256 leafWords, uint256 depth) internal pure returns (bytes32) {
        uint256 leaves = uint256(1) << depth;
        bytes32[] memory level = new bytes32[](leaves);
        for (uint256 i = 0; i < leaves; ++i) {
            bytes32 hash;
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                mstore8(ptr, 0x00)
                mstore(add(ptr, 1), i)
                let from := add(add(words, 32), shl(5, mul(i, leafWords)))
                mcopy(add(ptr, 33), from, shl(5, leafWords))
                hash := keccak256(ptr, add(33, shl(5, leafWords)))
            }
            level[i] = hash;
        }
        for (uint256 width = leaves; width > 1; width /= 2) {
            for (uint256 i = 0; i < width / 2; ++i) {
                level[i] = PositionalMerkle.nodeHash(level[2 * i], level[2 * i + 1]);
            }
        }
        return level[0];
    }

    /// @dev The depth of a tree of n >= 1 leaves: the smallest d with 2^d >= n.
    function _depthOf(uint256 n) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < n) ++d;
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
