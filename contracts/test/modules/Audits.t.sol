// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorFixture} from "../utils/CoordinatorFixture.sol";
import {Trees} from "../utils/Trees.sol";
import {ICoordinatorEvents as E} from "../../src/ICoordinator.sol";
import {AuditParams, AuditStatus, EntryState, StepOpening, TaskParams, TrajectoryLeaf} from "../../src/FedTypes.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";

/// @dev A stand-in for EZKL's verifier: true for exactly one (proof, instances), false for anything else.
contract ExactVerifier {
    bytes32 public expected;

    function expect(bytes calldata proof, uint256[] calldata instances) external {
        expected = keccak256(abi.encode(proof, instances));
    }

    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool) {
        return keccak256(abi.encode(proof, instances)) == expected;
    }
}

/// @dev Training audits (docs/protocol.md section 13): every rule that stops a cheater, tried by the cheater.
contract AuditsTest is CoordinatorFixture {
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant P = 5; // 4 features and a bias, as the ZK tests' circuit
    uint256 internal constant S = 4; // steps per round
    uint256 internal constant BATCHES = 4;
    uint16 internal constant BATCH = 25;
    uint256 internal constant SAMPLES = 100; // BATCHES * BATCH
    uint256 internal constant DEMAND_BOND = 7e18;
    bytes internal constant PROOF = hex"c0ffee";

    ExactVerifier internal verifier;
    address internal cheater; // members[0]
    address internal honest; // members[1]

    function setUp() public override {
        super.setUp();
        verifier = new ExactVerifier();
        cheater = members[0];
        honest = members[1];
        _useAuditedTask(0);
    }

    // ---------------------------------------------------------------- fixtures

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "values differ");
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "words differ");
    }

    function assertTrue(bool condition) internal pure {
        assertTrue(condition, "condition failed");
    }

    function auditParams(uint16 auditBps) internal view returns (AuditParams memory a) {
        a.verifier = address(verifier);
        a.steps = uint16(S);
        a.batchSize = BATCH;
        a.auditBps = auditBps;
        a.auditSteps = 2;
        a.proofWindow = uint32(WINDOW);
        a.demandBond = uint128(DEMAND_BOND);
    }

    function auditedTaskParams() internal view returns (TaskParams memory p) {
        p = defaultParams();
        p.numParams = uint64(P);
    }

    /// @dev The global model: one leaf of one word, lanes 10, -20, 30, -40, 50 (and padding).
    function _model() internal pure returns (bytes32[][] memory leaves) {
        leaves = new bytes32[][](1);
        leaves[0] = new bytes32[](1);
        leaves[0][0] = Lanes.pack([int32(10), -20, 30, -40, 50, 0, 0, 0]);
    }

    /// @dev Model j of a trajectory from `start`: start + j * (1, -1, 2, -2, 3), shifted by `skew` at step S.
    function _trajectoryModel(bytes32[][] memory start, uint256 j, int32 skew) internal pure returns (bytes32) {
        int32[8] memory lanes = Lanes.unpack(start[0][0]);
        int32[5] memory dir = [int32(1), -1, 2, -2, 3];
        for (uint256 i = 0; i < P; ++i) {
            lanes[i] += int32(int256(j)) * dir[i] + (j == S ? skew : int32(0));
        }
        return Lanes.pack(lanes);
    }

    function _words(bytes32 word) internal pure returns (bytes32[] memory w) {
        w = new bytes32[](1);
        w[0] = word;
    }

    /// @dev The committed Poseidon hash of a model (any field element: the stand-in verifier only compares).
    function _poseidon(bytes32 word) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("poseidon", word))) % FIELD;
    }

    function _batchHash(address member, uint256 b) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("batch", member, b))) % FIELD;
    }

    /// @dev Root and path of leaf `index` of a tree over `hashes` (padded with zero hashes to a power of two).
    function _tree(bytes32[] memory hashes, uint256 index) internal pure returns (bytes32 root, bytes32[] memory path) {
        uint256 depth = 0;
        while ((uint256(1) << depth) < hashes.length) ++depth;
        bytes32[] memory level = new bytes32[](uint256(1) << depth);
        for (uint256 i = 0; i < hashes.length; ++i) {
            level[i] = hashes[i];
        }
        path = new bytes32[](depth);
        for (uint256 k = 0; k < depth; ++k) {
            path[k] = level[index ^ 1];
            bytes32[] memory up = new bytes32[](level.length / 2);
            for (uint256 i = 0; i < up.length; ++i) {
                up[i] = Trees.nodeHash(level[2 * i], level[2 * i + 1]);
            }
            level = up;
            index >>= 1;
        }
        root = level[0];
    }

    function _datasetHashes(address member) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](BATCHES);
        for (uint256 b = 0; b < BATCHES; ++b) {
            hashes[b] = keccak256(abi.encodePacked(uint8(0x03), b, _batchHash(member, b)));
        }
    }

    mapping(address => bytes32[]) internal modelsOf; // trajectory models
    mapping(address => bytes32[]) internal leavesOf; // trajectory leaf hashes

    /// @dev The member's trajectory from the current global model, its last model shifted by `skew`.
    function _trajectory(address member, bytes32[][] memory start, int32 skew) internal returns (bytes32 root) {
        delete modelsOf[member];
        delete leavesOf[member];
        for (uint256 j = 0; j <= S; ++j) {
            bytes32 word = _trajectoryModel(start, j, skew);
            modelsOf[member].push(word);
            bytes32 modelRoot = Trees.leafHash(0, _words(word)); // depth 0: the root is the leaf hash
            leavesOf[member].push(keccak256(abi.encodePacked(uint8(0x02), j, modelRoot, _poseidon(word))));
        }
        (root,) = _tree(leavesOf[member], 0);
    }

    /// @dev The update a trajectory gives: its last model minus its first, as leaves.
    function _updateOf(address member) internal view returns (bytes32[][] memory leaves) {
        int32[8] memory first = Lanes.unpack(modelsOf[member][0]);
        int32[8] memory last = Lanes.unpack(modelsOf[member][S]);
        int32[8] memory diff;
        for (uint256 i = 0; i < 8; ++i) {
            diff[i] = last[i] - first[i];
        }
        leaves = new bytes32[][](1);
        leaves[0] = _words(Lanes.pack(diff));
    }

    function _useAuditedTask(uint16 auditBps) internal {
        model = _model();
        vm.prank(requester);
        taskId = coordinator.createAuditedTask(
            auditedTaskParams(), auditParams(auditBps), Trees.root(model), keccak256("model blob")
        );
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
            (bytes32 root,) = _tree(_datasetHashes(members[i]), 0);
            vm.prank(members[i]);
            coordinator.registerDataset(taskId, root, BATCHES);
        }
        vm.prank(aggregator);
        coordinator.postBond(taskId, BOND);
    }

    /// @dev Members 0, 1 and 2 train (member 0's last model shifted by `skew` from what it reveals), commit their
    /// trajectories and reveal; ends at the reveal deadline.
    function _playRound(int32 skew) internal {
        for (uint256 i = 0; i < 3; ++i) {
            address m = members[i];
            bytes32 root = _trajectory(m, model, 0);
            bytes32[][] memory update = _updateOf(m);
            if (i == 0 && skew != 0) root = _trajectory(m, model, skew); // reveals the unskewed update
            _commit(m, update, SAMPLES);
            vm.prank(m);
            coordinator.commitTrajectory(taskId, root);
        }
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(members[i]);
        }
        vm.warp(_view().revealEnd);
    }

    function _opening(address member, uint256 step) internal view returns (StepOpening memory o) {
        uint256[4] memory pos = [uint256(0), step, step + 1, S];
        for (uint256 k = 0; k < 4; ++k) {
            bytes32 word = modelsOf[member][pos[k]];
            (, bytes32[] memory path) = _tree(leavesOf[member], pos[k]);
            o.leaves[k] = TrajectoryLeaf({words: _words(word), poseidon: _poseidon(word), path: path});
        }
        uint256 r = coordinator.taskState(taskId).currentRound;
        uint256 b = (r * S + step) % BATCHES;
        o.batchHash = _batchHash(member, b);
        (, o.batchPath) = _tree(_datasetHashes(member), b);
    }

    /// @dev The instances the proof of `step` must carry, computed here independently of the contract.
    function _instances(address member, uint256 step) internal view returns (uint256[] memory inst) {
        uint256 r = coordinator.taskState(taskId).currentRound;
        inst = new uint256[](2 + 2 * P);
        inst[0] = _poseidon(modelsOf[member][step]);
        inst[1] = _batchHash(member, (r * S + step) % BATCHES);
        int32[8] memory before = Lanes.unpack(modelsOf[member][step]);
        int32[8] memory afterStep = Lanes.unpack(modelsOf[member][step + 1]);
        for (uint256 i = 0; i < P; ++i) {
            inst[2 + i] = _felt(before[i]);
            inst[2 + P + i] = _felt(afterStep[i]);
        }
    }

    function _felt(int32 v) internal pure returns (uint256) {
        return v >= 0 ? uint256(int256(v)) : FIELD - uint256(-int256(v));
    }

    /// @dev Arguments are read before the prank (a view call would take it).
    function _demand(address demander, address member, uint256 step) internal {
        bytes32 root = Trees.root(updateOf[member]);
        uint256 weight = _weight(member);
        vm.prank(demander);
        coordinator.demandAudit(taskId, member, root, weight, step);
    }

    function _openDrawn(address opener, address member, uint256 draw) internal {
        bytes32 root = Trees.root(updateOf[member]);
        uint256 weight = _weight(member);
        vm.prank(opener);
        coordinator.openAudit(taskId, member, root, weight, draw);
    }

    function _prove(address member, uint256 step) internal {
        verifier.expect(PROOF, _instances(member, step));
        vm.prank(member);
        coordinator.proveStep(taskId, _round(), member, step, _opening(member, step), PROOF);
    }

    function _round() internal view returns (uint256) {
        return coordinator.taskState(taskId).currentRound;
    }

    // ---------------------------------------------------------------- the honest path

    function test_the_contract_builds_the_instances_from_the_chain() public {
        _playRound(0);
        for (uint256 step = 0; step < S; ++step) {
            uint256[] memory built = coordinator.stepInstances(
                taskId, 0, honest, step, Trees.root(updateOf[honest]), _weight(honest), _opening(honest, step)
            );
            assertEq(keccak256(abi.encode(built)), keccak256(abi.encode(_instances(honest, step))));
        }
    }

    function test_an_unfounded_demand_pays_its_bond_to_the_proven_member() public {
        _playRound(0);
        _demand(watcher, honest, 2);
        assertEq(coordinator.roundView(taskId, 0).round.openChallenges, 1);
        uint256 before = token.balanceOf(honest);
        verifier.expect(PROOF, _instances(honest, 2));
        StepOpening memory o = _opening(honest, 2);
        vm.expectEmit(true, true, true, true);
        emit E.StepProven(taskId, 0, honest, 2, DEMAND_BOND);
        vm.prank(honest);
        coordinator.proveStep(taskId, 0, honest, 2, o, PROOF);
        assertEq(token.balanceOf(honest), before + DEMAND_BOND, "the bond goes to the member");
        assertEq(uint8(coordinator.auditOf(taskId, 0, honest, 2).status), uint8(AuditStatus.Proven));
        assertEq(coordinator.roundView(taskId, 0).round.openChallenges, 0);
        assertEq(uint8(coordinator.entryState(taskId, 0, honest)), uint8(EntryState.Revealed));
    }

    function test_a_drawn_audit_selects_and_is_proven() public {
        _useAuditedTask(10_000); // every update selected
        _playRound(0);
        coordinator.drawAudits(taskId);
        (bool selected, uint256[] memory steps) = coordinator.auditDraw(taskId, 0, honest);
        assertTrue(selected);
        assertEq(steps.length, 2);
        _openDrawn(watcher, honest, 0);
        _prove(honest, steps[0]);
        assertEq(uint8(coordinator.auditOf(taskId, 0, honest, steps[0]).status), uint8(AuditStatus.Proven));
    }

    function test_the_draw_selects_at_the_task_rate() public {
        _useAuditedTask(2500);
        _playRound(0);
        coordinator.drawAudits(taskId);
        uint256 seed = coordinator.auditSeed(taskId, 0);
        uint256 hits = 0;
        for (uint256 i = 0; i < 2000; ++i) {
            address who = address(uint160(0x9000 + i));
            if (uint256(keccak256(abi.encode(seed, who))) % 10_000 < 2500) ++hits;
            (bool selected,) = coordinator.auditDraw(taskId, 0, who);
            assertTrue(selected == (uint256(keccak256(abi.encode(seed, who))) % 10_000 < 2500));
        }
        assertTrue(hits > 420 && hits < 580, "about a quarter selected");
    }

    // ---------------------------------------------------------------- cheaters

    function test_an_audited_member_without_a_proof_is_dropped_and_slashed() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        vm.warp(block.timestamp + WINDOW);
        uint256 stake = coordinator.memberOf(taskId, cheater).stake;
        uint256 watcherBefore = token.balanceOf(watcher);
        uint256 slashed = stake * 5000 / 10_000;
        uint256 bounty = slashed * 2000 / 10_000;
        vm.expectEmit(true, true, true, true);
        emit E.AuditSettled(taskId, 0, cheater, 1, AuditStatus.Failed, watcher, slashed, bounty);
        coordinator.settleAudit(taskId, 0, cheater, 1);
        assertEq(uint8(coordinator.entryState(taskId, 0, cheater)), uint8(EntryState.Dropped));
        assertEq(coordinator.memberOf(taskId, cheater).stake, stake - slashed);
        assertEq(token.balanceOf(watcher), watcherBefore + DEMAND_BOND + bounty, "bond back and bounty");
        assertEq(coordinator.roundView(taskId, 0).round.included, 2);
        assertEq(coordinator.roundView(taskId, 0).round.totalWeight, 2 * SAMPLES);
    }

    function test_a_failed_audit_voids_the_pending_proposal() public {
        _playRound(0);
        _propose(model);
        _demand(watcher, cheater, 0);
        vm.warp(block.timestamp + WINDOW);
        vm.expectEmit(true, true, true, true);
        emit E.ProposalVoided(taskId, 0, aggregator);
        coordinator.settleAudit(taskId, 0, cheater, 0);
        assertEq(coordinator.roundView(taskId, 0).round.proposedAt, 0);
    }

    function test_an_open_audit_holds_finalization() public {
        _playRound(0);
        _propose(model);
        _demand(watcher, cheater, 0);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(E.AvailabilityPending.selector, 1, 0));
        coordinator.finalize(taskId);
    }

    function test_a_wrong_proof_is_refused() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        verifier.expect(PROOF, _instances(cheater, 1));
        StepOpening memory o = _opening(cheater, 1);
        vm.expectRevert(abi.encodeWithSelector(E.ProofRejected.selector, cheater, 1));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, hex"c0ffef");
    }

    function test_a_proof_for_another_model_data_or_step_is_refused() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        StepOpening memory o = _opening(cheater, 1);
        uint256[] memory inst = _instances(cheater, 1);
        for (uint256 k = 0; k < 4; ++k) {
            uint256[] memory other = _instances(cheater, 1);
            if (k == 0) other[2] = _felt(12_345); // proven from another model
            if (k == 1) other[1] = _batchHash(cheater, 2); // on another batch
            if (k == 2) other[2 + P] += 1; // to another update
            if (k == 3) other = _instances(cheater, 2); // another step
            verifier.expect(PROOF, other);
            vm.expectRevert(abi.encodeWithSelector(E.ProofRejected.selector, cheater, 1));
            vm.prank(cheater);
            coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
        }
        verifier.expect(PROOF, inst); // the right one still passes
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
    }

    function test_openings_that_do_not_match_the_chain_are_refused() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        StepOpening memory o;
        // A model the trajectory does not hold at step t.
        o = _opening(cheater, 1);
        o.leaves[1].words[0] = modelsOf[cheater][0];
        _expectOpening(o, 1);
        // Another Poseidon hash than the committed one.
        o = _opening(cheater, 1);
        o.leaves[2].poseidon += 1;
        _expectOpening(o, 2);
        // Leaf t + 1 opened at another position.
        o = _opening(cheater, 1);
        o.leaves[2] = _opening(cheater, 2).leaves[2];
        _expectOpening(o, 2);
        // A batch the dataset does not hold at the step's index.
        o = _opening(cheater, 1);
        o.batchHash = _batchHash(cheater, 2);
        _expectOpening(o, 6);
        o = _opening(cheater, 1);
        o.batchPath = new bytes32[](1);
        _expectOpening(o, 6);
    }

    function _expectOpening(StepOpening memory o, uint256 which) internal {
        vm.expectRevert(abi.encodeWithSelector(E.OpeningMismatch.selector, which));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
    }

    function test_a_trajectory_that_does_not_end_at_the_update_cannot_be_proven() public {
        _playRound(3); // the cheater's committed last model is off the update it revealed
        _demand(watcher, cheater, 0);
        StepOpening memory o = _opening(cheater, 0);
        verifier.expect(PROOF, _instances(cheater, 0)); // even an honest proof of the step
        vm.expectRevert(abi.encodeWithSelector(E.OpeningMismatch.selector, 5));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 0, o, PROOF);
    }

    function test_a_trajectory_from_another_model_cannot_be_proven() public {
        // The cheater trains from another model than the anchored one, and reveals that trajectory's update.
        bytes32[][] memory other = _model();
        other[0][0] = Lanes.pack([int32(11), -20, 30, -40, 50, 0, 0, 0]);
        bytes32 root = _trajectory(cheater, other, 0);
        _commit(cheater, _updateOf(cheater), SAMPLES);
        vm.prank(cheater);
        coordinator.commitTrajectory(taskId, root);
        _trajectory(honest, model, 0);
        _commit(honest, _updateOf(honest), SAMPLES);
        vm.warp(_view().commitEnd);
        _reveal(cheater);
        _reveal(honest);
        vm.warp(_view().revealEnd);
        _demand(watcher, cheater, 1);
        StepOpening memory o = _opening(cheater, 1);
        verifier.expect(PROOF, _instances(cheater, 1));
        vm.expectRevert(abi.encodeWithSelector(E.OpeningMismatch.selector, 4));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
    }

    function test_a_weight_the_dataset_does_not_give_cannot_be_proven() public {
        _trajectory(cheater, model, 0);
        _commit(cheater, _updateOf(cheater), SAMPLES + 1); // claims one sample more than its data
        vm.prank(cheater);
        coordinator.commitTrajectory(taskId, _rootOf(cheater));
        _trajectory(honest, model, 0);
        _commit(honest, _updateOf(honest), SAMPLES);
        vm.warp(_view().commitEnd);
        _reveal(cheater);
        _reveal(honest);
        vm.warp(_view().revealEnd);
        _demand(watcher, cheater, 1);
        verifier.expect(PROOF, _instances(cheater, 1));
        StepOpening memory o = _opening(cheater, 1);
        vm.expectRevert(abi.encodeWithSelector(E.WeightMismatch.selector, SAMPLES + 1, SAMPLES));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
    }

    function _rootOf(address member) internal view returns (bytes32 root) {
        (root,) = _tree(leavesOf[member], 0);
    }

    function test_a_member_without_a_trajectory_cannot_prove() public {
        _trajectory(cheater, model, 0);
        _commit(cheater, _updateOf(cheater), SAMPLES);
        _trajectory(honest, model, 0);
        _commit(honest, _updateOf(honest), SAMPLES);
        vm.warp(_view().commitEnd);
        _reveal(cheater);
        _reveal(honest);
        vm.warp(_view().revealEnd);
        _demand(watcher, cheater, 1);
        StepOpening memory o = _opening(cheater, 1);
        vm.expectRevert(abi.encodeWithSelector(E.NoTrajectory.selector, cheater));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
    }

    function test_a_proof_after_the_window_is_refused() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        uint256 deadline = coordinator.auditOf(taskId, 0, cheater, 1).deadline;
        vm.warp(deadline);
        verifier.expect(PROOF, _instances(cheater, 1));
        StepOpening memory o = _opening(cheater, 1);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 0, deadline));
        vm.prank(cheater);
        coordinator.proveStep(taskId, 0, cheater, 1, o, PROOF);
    }

    function test_an_audit_cannot_be_settled_before_its_deadline() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        uint256 deadline = coordinator.auditOf(taskId, 0, cheater, 1).deadline;
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, deadline, type(uint256).max));
        coordinator.settleAudit(taskId, 0, cheater, 1);
    }

    function test_a_demand_needs_its_bond() public {
        _playRound(0);
        address poor = address(0xB0B);
        bytes32 root = Trees.root(updateOf[cheater]);
        uint256 weight = _weight(cheater);
        vm.prank(poor);
        (bool ok,) = address(coordinator)
            .call(abi.encodeCall(coordinator.demandAudit, (taskId, cheater, root, weight, uint256(1))));
        assertTrue(!ok, "a demand without its bond reverts");
        assertEq(uint8(coordinator.auditOf(taskId, 0, cheater, 1).status), uint8(AuditStatus.None));
    }

    function test_a_step_is_audited_once_per_round() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        bytes32 root = Trees.root(updateOf[cheater]);
        uint256 weight = _weight(cheater);
        vm.expectRevert(abi.encodeWithSelector(E.AlreadyAudited.selector, cheater, 1));
        vm.prank(requester);
        coordinator.demandAudit(taskId, cheater, root, weight, 1);
    }

    function test_a_demand_names_a_step_of_the_trajectory() public {
        _playRound(0);
        bytes32 root = Trees.root(updateOf[cheater]);
        uint256 weight = _weight(cheater);
        vm.expectRevert(abi.encodeWithSelector(E.StepOutOfRange.selector, S, S));
        vm.prank(watcher);
        coordinator.demandAudit(taskId, cheater, root, weight, S);
    }

    function test_a_demand_binds_the_revealed_update() public {
        _playRound(0);
        uint256 weight = _weight(cheater);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, cheater));
        vm.prank(watcher);
        coordinator.demandAudit(taskId, cheater, keccak256("another"), weight, 1);
    }

    function test_audits_open_only_after_the_reveal_deadline() public {
        _trajectory(cheater, model, 0);
        _commit(cheater, _updateOf(cheater), SAMPLES);
        vm.warp(_view().commitEnd);
        _reveal(cheater);
        uint256 revealEnd = _view().revealEnd;
        bytes32 root = Trees.root(updateOf[cheater]);
        uint256 weight = _weight(cheater);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, revealEnd, type(uint256).max));
        vm.prank(watcher);
        coordinator.demandAudit(taskId, cheater, root, weight, 1);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, revealEnd, type(uint256).max));
        coordinator.drawAudits(taskId);
    }

    function test_a_trajectory_is_committed_once() public {
        bytes32 root = _trajectory(cheater, model, 0);
        _commit(cheater, _updateOf(cheater), SAMPLES);
        vm.prank(cheater);
        coordinator.commitTrajectory(taskId, root);
        vm.expectRevert(abi.encodeWithSelector(E.TrajectoryExists.selector, cheater));
        vm.prank(cheater);
        coordinator.commitTrajectory(taskId, keccak256("another"));
        // A member without this round's commitment has no trajectory to commit.
        address late = members[2];
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, late));
        vm.prank(late);
        coordinator.commitTrajectory(taskId, keccak256("late"));
    }

    function test_a_trajectory_after_the_reveal_deadline_is_refused() public {
        _trajectory(cheater, model, 0);
        _commit(cheater, _updateOf(cheater), SAMPLES);
        vm.warp(_view().commitEnd);
        _reveal(cheater);
        uint256 revealEnd = _view().revealEnd;
        uint256 start = _view().round.start;
        vm.warp(revealEnd);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, start, revealEnd));
        vm.prank(cheater);
        coordinator.commitTrajectory(taskId, _rootOf(cheater));
    }

    function test_the_dataset_is_fixed_at_join() public {
        vm.expectRevert(abi.encodeWithSelector(E.DatasetFixed.selector, cheater));
        vm.prank(cheater);
        coordinator.registerDataset(taskId, keccak256("other data"), 8);
    }

    function test_the_draw_is_once_per_round_and_selects_only_its_picks() public {
        _playRound(0); // auditBps 0: nobody is selected
        coordinator.drawAudits(taskId);
        vm.expectRevert(abi.encodeWithSelector(E.AuditsAlreadyDrawn.selector, 0));
        coordinator.drawAudits(taskId);
        (bool selected, uint256[] memory steps) = coordinator.auditDraw(taskId, 0, cheater);
        assertTrue(!selected);
        assertEq(steps.length, 0);
        bytes32 root = Trees.root(updateOf[cheater]);
        uint256 weight = _weight(cheater);
        vm.expectRevert(abi.encodeWithSelector(E.NotSelected.selector, cheater, 0));
        coordinator.openAudit(taskId, cheater, root, weight, 0);
    }

    function test_a_drawn_audit_needs_the_draw() public {
        _playRound(0);
        bytes32 root = Trees.root(updateOf[cheater]);
        uint256 weight = _weight(cheater);
        vm.expectRevert(abi.encodeWithSelector(E.AuditsNotDrawn.selector, 0));
        coordinator.openAudit(taskId, cheater, root, weight, 0);
    }

    function test_a_drawn_audit_failure_pays_its_opener_the_bounty_and_no_bond() public {
        _useAuditedTask(10_000);
        _playRound(0);
        coordinator.drawAudits(taskId);
        (, uint256[] memory steps) = coordinator.auditDraw(taskId, 0, cheater);
        uint256 before = token.balanceOf(watcher);
        _openDrawn(watcher, cheater, 1);
        assertEq(token.balanceOf(watcher), before, "a drawn audit takes no bond");
        vm.warp(block.timestamp + WINDOW);
        coordinator.settleAudit(taskId, 0, cheater, steps[1]);
        uint256 bounty = STAKE * 5000 / 10_000 * 2000 / 10_000;
        assertEq(token.balanceOf(watcher), before + bounty);
    }

    function test_a_second_failed_audit_of_a_dropped_update_is_moot() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        _demand(requester, cheater, 2);
        vm.warp(block.timestamp + WINDOW);
        coordinator.settleAudit(taskId, 0, cheater, 1);
        uint256 stake = coordinator.memberOf(taskId, cheater).stake;
        uint256 before = token.balanceOf(requester);
        coordinator.settleAudit(taskId, 0, cheater, 2);
        assertEq(uint8(coordinator.auditOf(taskId, 0, cheater, 2).status), uint8(AuditStatus.Moot));
        assertEq(coordinator.memberOf(taskId, cheater).stake, stake, "slashed once");
        assertEq(token.balanceOf(requester), before + DEMAND_BOND, "the bond goes back");
        assertEq(coordinator.roundView(taskId, 0).round.openChallenges, 0);
    }

    function test_a_settled_or_proven_audit_is_closed() public {
        _playRound(0);
        _demand(watcher, honest, 1);
        _prove(honest, 1);
        StepOpening memory o = _opening(honest, 1);
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenAudit.selector, honest, 1));
        coordinator.proveStep(taskId, 0, honest, 1, o, PROOF);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(E.NoOpenAudit.selector, honest, 1));
        coordinator.settleAudit(taskId, 0, honest, 1);
    }

    function test_an_audited_round_finalizes_without_the_dropped_update() public {
        _playRound(0);
        _demand(watcher, cheater, 1);
        _demand(watcher, honest, 3);
        _prove(honest, 3);
        _propose(model); // with the cheater's update in it
        vm.warp(block.timestamp + WINDOW);
        coordinator.settleAudit(taskId, 0, cheater, 1); // voids the proposal and reopens aggregation
        _propose(model);
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        assertEq(_round(), 1);
        address[] memory bonded = new address[](1);
        bonded[0] = aggregator;
        _assertSolvent(bonded, 0);
    }

    // ---------------------------------------------------------------- creation and unaudited tasks

    function test_unaudited_tasks_have_no_audits() public {
        _useTask(defaultParams(), _vector(_fill(0, 3)));
        vm.expectRevert(abi.encodeWithSelector(E.NotAudited.selector, taskId));
        vm.prank(members[0]);
        coordinator.registerDataset(taskId, keccak256("data"), 1);
        assertEq(coordinator.auditParams(taskId).verifier, address(0), "no verifier");
    }

    function test_audit_parameters_are_checked() public {
        string[7] memory names =
            ["verifier", "steps", "batchSize", "auditBps", "auditSteps", "proofWindow", "demandBond"];
        for (uint256 k = 0; k < names.length; ++k) {
            AuditParams memory a = auditParams(100);
            if (k == 0) a.verifier = address(0xDEAD);
            if (k == 1) a.steps = 1025;
            if (k == 2) a.batchSize = 0;
            if (k == 3) a.auditBps = 10_001;
            if (k == 4) a.auditSteps = 17;
            if (k == 5) a.proofWindow = 9;
            if (k == 6) a.demandBond = 0;
            TaskParams memory p = auditedTaskParams();
            vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, names[k]));
            vm.prank(requester);
            coordinator.createAuditedTask(p, a, Trees.root(model), keccak256("blob"));
        }
    }

    function test_the_modules_chain_reaches_audits_and_ends_in_unknown_function() public {
        assertTrue(coordinator.AUDITS() != address(0));
        (bool ok, bytes memory answer) = address(coordinator).call(abi.encodeWithSelector(bytes4(0xdeadbeef)));
        assertTrue(!ok);
        assertEq(keccak256(answer), keccak256(abi.encodeWithSelector(E.UnknownFunction.selector, bytes4(0xdeadbeef))));
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
