// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(unsafe-typecast,block-timestamp)

import {CoordinatorFixture} from "../utils/CoordinatorFixture.sol";
import {Trees} from "../utils/Trees.sol";
import {ICoordinatorEvents as E} from "../../src/ICoordinator.sol";
import {
    AggregateFraudProof,
    AggregationRule,
    EntryState,
    LeafProof,
    Mode,
    NormProof,
    TaskParams
} from "../../src/FedTypes.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {LeafRules} from "../../src/libraries/LeafRules.sol";
import {NormTree} from "../../src/libraries/NormTree.sol";
import {NormBoundedRule} from "../../src/rules/NormBoundedRule.sol";
import {TaskParamsValidator} from "../../src/TaskParamsValidator.sol";
import {NormHarness} from "../utils/NormHarness.sol";

/// @dev Rule 3, norm-bounded averaging (docs/protocol.md section 4.4): the rule against a naive reference, the
/// norm sum tree, and on the real coordinator every cheat: a wrong aggregate proven at its one leaf (a correct
/// one at none), a false norm declaration proven at one leaf (a true one at none), an update over the hard limit
/// or left undeclared dropped, and fraud proofs with doctored declarations refused.
contract NormBoundedTest is CoordinatorFixture {
    uint256 internal constant NORM_BOUNDED = uint256(AggregationRule.NormBounded);
    /// @dev B = 5% of clip * sqrt(12): about 173; the hard limit about 693.
    uint256 internal constant BOUND_BPS = 500;

    NormHarness internal norms;
    mapping(address => uint256[]) internal leafNormsOf;

    function setUp() public override {
        super.setUp();
        norms = new NormHarness();
        TaskParams memory p = defaultParams();
        p.rule = uint8(NORM_BOUNDED);
        p.ruleParam = uint16(BOUND_BPS);
        _useTask(p, _vector(_fill(0, 3)));
    }

    // ---------------------------------------------------------------- against a reference

    /// @dev The scale is the largest s <= 2^16 with s^2 * 10^8 * N <= 2^32 * clip^2 * P * rho^2 (or 2^16 when
    /// N fits the bound): an isqrt-free definition of section 4.4's formula.
    function testFuzz_scaleMatchesItsDefinition(uint256 normSq, uint32 clip, uint40 numParams, uint16 rho)
        external
        view
    {
        uint256 c = 1 + uint256(clip) % uint256(uint32(type(int32).max));
        uint256 p = 1 + uint256(numParams) % (1 << 40);
        uint256 r = 1 + uint256(rho) % 10_000;
        normSq = normSq % (1 << 139);
        uint256 k = c * c * p * r * r;
        uint256 s = norms.scale(normSq, c, p, r);
        assertTrue(s <= 1 << 16, "at most 1");
        if (normSq * 1e8 <= k) {
            assertEq(s, 1 << 16, "within the bound: unscaled");
        } else {
            assertTrue(s * s * 1e8 * normSq <= k << 32, "s is small enough");
            assertTrue((s + 1) * (s + 1) * 1e8 * normSq > k << 32, "and the largest such");
        }
    }

    function testFuzz_ruleMatchesTheReference(uint256 seed, uint8 count, uint16 rho, uint32 lrBps) external view {
        uint256 n = 1 + count % 24;
        uint256[4] memory task = [uint256(CLIP), 12, 1 + rho % 10_000, 1 + lrBps % 100_000];
        bytes32[] memory previous = new bytes32[](1);
        previous[0] = keccak256(abi.encode(seed, "previous"));
        bytes32[][] memory updates = new bytes32[][](n);
        uint256[] memory weights = new uint256[](n);
        uint256[] memory normSqs = new uint256[](n);
        bool[] memory declared = new bool[](n);
        for (uint256 u = 0; u < n; ++u) {
            int32[8] memory lanes;
            for (uint256 j = 0; j < 8; ++j) {
                lanes[j] = int32(int256(uint256(keccak256(abi.encode(seed, u, j))) % 2001) - 1000);
            }
            updates[u] = new bytes32[](1);
            updates[u][0] = Lanes.pack(lanes);
            weights[u] = 1 + uint256(keccak256(abi.encode(seed, u, "w"))) % (1 << 20);
            normSqs[u] = uint256(keccak256(abi.encode(seed, u, "n"))) % (1 << 40);
            declared[u] = uint256(keccak256(abi.encode(seed, u, "d"))) % 5 != 0;
        }
        bytes32 next = norms.leaf(previous, updates, _packed(weights, normSqs, declared, task), task[3])[0];
        for (uint256 j = 0; j < 8; ++j) {
            int256 center = _referenceCenter(updates, weights, normSqs, declared, task, j);
            int256 stepped = int256(Lanes.get(previous[0], j)) + center * int256(task[3]) / 10_000;
            assertEq(Lanes.get(next, j), LeafRules.clampInt32(stepped), "lane");
        }
    }

    function _referenceCenter(
        bytes32[][] memory updates,
        uint256[] memory weights,
        uint256[] memory normSqs,
        bool[] memory declared,
        uint256[4] memory task,
        uint256 j
    ) internal pure returns (int256) {
        int256 sum = 0;
        uint256 total = 0;
        uint256 k = task[0] * task[0] * task[1] * task[2] * task[2];
        for (uint256 u = 0; u < updates.length; ++u) {
            total += weights[u];
            if (declared[u]) {
                sum += int256(weights[u] * _referenceScale(normSqs[u], k) / 65_536) * Lanes.get(updates[u][0], j);
            }
        }
        return sum / int256(total);
    }

    function _packed(uint256[] memory weights, uint256[] memory normSqs, bool[] memory declared, uint256[4] memory task)
        internal
        pure
        returns (uint256[] memory packed)
    {
        packed = new uint256[](weights.length);
        for (uint256 u = 0; u < weights.length; ++u) {
            uint256 e =
                declared[u] ? NormBoundedRule.effectiveWeight(weights[u], normSqs[u], task[0], task[1], task[2]) : 0;
            packed[u] = weights[u] << 128 | e;
        }
    }

    function _referenceScale(uint256 normSq, uint256 k) internal pure returns (uint256 s) {
        if (normSq * 1e8 <= k) return 1 << 16;
        uint256 low = 0;
        uint256 high = 1 << 16;
        while (low < high) {
            uint256 mid = (low + high + 1) / 2;
            if (mid * mid * 1e8 * normSq <= k << 32) low = mid;
            else high = mid - 1;
        }
        return low;
    }

    /// @dev NormTree.build agrees with a level-by-level reference, and every leaf's path leads to its root and sum.
    function testFuzz_normTreeBuildsAndOpens(uint256 seed, uint8 count) external view {
        uint256 depth = count % 5;
        uint256 length = 1 + uint256(keccak256(abi.encode(seed))) % (1 << depth);
        uint256[] memory values = new uint256[](length);
        for (uint256 i = 0; i < length; ++i) {
            values[i] = uint256(keccak256(abi.encode(seed, i))) % (1 << 70);
        }
        (bytes32 root, uint256 total) = norms.build(values, depth);
        (bytes32[][] memory hashes, uint256[][] memory sums) = _normLevels(values, depth);
        assertEq(root, hashes[depth][0], "root");
        assertEq(total, sums[depth][0], "sum");
        for (uint256 i = 0; i < (1 << depth); ++i) {
            (bytes32[] memory h, uint256[] memory s) = _normPath(hashes, sums, i);
            (bytes32 r, uint256 t) = norms.rootFrom(i, i < length ? values[i] : 0, h, s);
            assertEq(r, root, "path root");
            assertEq(t, total, "path sum");
        }
    }

    function test_normTreeRefusesAValueOf2To128() external {
        uint256[] memory values = new uint256[](2);
        values[1] = 1 << 128;
        vm.expectRevert(abi.encodeWithSelector(NormTree.NormValueTooLarge.selector, 1, 1 << 128));
        norms.build(values, 1);
    }

    // ---------------------------------------------------------------- task parameters

    function test_taskParametersOfTheRule() external {
        TaskParamsValidator validator = new TaskParamsValidator();
        TaskParams memory p = defaultParams();
        p.rule = uint8(NORM_BOUNDED);
        p.ruleParam = 10_000;
        validator.validate(p);
        p.ruleParam = 0;
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "ruleParam"));
        validator.validate(p);
        p.ruleParam = 10_001;
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "ruleParam"));
        validator.validate(p);
        p.ruleParam = 1;
        p.mode = uint8(Mode.Secure);
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "ruleParam"));
        validator.validate(p);
        p.mode = uint8(Mode.Plain);
        p.numParams = 8 * 2048; // 2^11 leaves: the deepest norm tree
        validator.validate(p);
        p.numParams = 8 * 2048 + 1;
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "numParams"));
        validator.validate(p);
    }

    // ---------------------------------------------------------------- declarations

    function test_anHonestRoundDeclaresAndFinalizes() external {
        _honestRound(4);
        bytes32[][] memory next = _aggregateNormed(4);
        _propose(next);
        for (uint256 leaf = 0; leaf < LEAVES; ++leaf) {
            AggregateFraudProof memory proof = _normedProof(next, 4, leaf);
            vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, leaf));
            coordinator.challengeAggregate(taskId, proof);
        }
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        assertEq(coordinator.taskState(taskId).modelRoot, Trees.root(next), "the norm-bounded model is anchored");
    }

    function testFuzz_aWrongAggregateIsProvenAtItsLeafAndOnlyThere(uint8 count, uint8 leaf, uint8 lane) external {
        uint256 n = 2 + count % 3;
        uint256 wrongLeaf = leaf % LEAVES;
        _honestRound(n);
        bytes32[][] memory bad = _wrong(_aggregateNormed(n), wrongLeaf, lane % 8);
        _propose(bad);
        uint256 rightLeaf = (wrongLeaf + 1) % LEAVES;
        AggregateFraudProof memory unfounded = _normedProof(bad, n, rightLeaf);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, rightLeaf));
        coordinator.challengeAggregate(taskId, unfounded);
        AggregateFraudProof memory proof = _normedProof(bad, n, wrongLeaf);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, proof);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "the aggregator's bond slashed");
    }

    /// @dev Plain FedAvg lets the big update in at full weight: the aggregator that ignores the norms is proven wrong.
    function test_anAggregatorThatIgnoresTheNormsIsProvenWrong() external {
        _declaredRoundWithABigUpdate();
        bytes32[][] memory averaged = new bytes32[][](LEAVES);
        for (uint256 l = 0; l < LEAVES; ++l) {
            bytes32[][] memory leafUpdates = new bytes32[][](4);
            uint256[] memory counts = new uint256[](4);
            for (uint256 i = 0; i < 4; ++i) {
                (leafUpdates[i], counts[i]) = (updateOf[members[i]][l], countOf[members[i]]);
            }
            averaged[l] = harness.ruleLeaf(0, 0, model[l], leafUpdates, counts, 1000, 5000);
        }
        _propose(averaged);
        AggregateFraudProof memory proof = _normedProof(averaged, 4, 0);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, proof);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "slashed");
    }

    /// @dev The attack: member 3 sends a big update and declares a small norm (its second leaf's value
    /// understated). The watcher proves it at that leaf: the update is dropped, its owner slashed.
    function test_aMemberThatUnderstatesItsNormIsProvenAndSlashed() external {
        _commitAll(true);
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(members[i]);
            _declare(members[i]);
        }
        address cheat = members[3];
        _reveal(cheat);
        uint256[] memory lie = _leafNorms(updateOf[cheat]);
        lie[1] = 0;
        leafNormsOf[cheat] = lie;
        vm.prank(cheat);
        coordinator.declareNorm(taskId, lie);
        (, uint256 declaredSq) = norms.build(lie, 1);
        assertEq(norms.scale(declaredSq, CLIP, PARAMS, BOUND_BPS), 1 << 16, "the lie would count at full weight");
        vm.warp(_view().revealEnd);

        NormProof memory honestLeaf = _normProof(cheat, 0);
        (bytes32 root, uint256 weight) = (Trees.root(updateOf[cheat]), _weight(cheat));
        vm.expectRevert(abi.encodeWithSelector(E.NormCorrect.selector, 0));
        coordinator.proveNormViolation(taskId, cheat, root, weight, honestLeaf);

        uint256 stake = coordinator.memberOf(taskId, cheat).stake;
        uint256 before = token.balanceOf(watcher);
        NormProof memory proof = _normProof(cheat, 1);
        vm.prank(watcher);
        coordinator.proveNormViolation(taskId, cheat, root, weight, proof);
        assertEq(uint256(coordinator.entryState(taskId, 0, cheat)), uint256(EntryState.Dropped), "dropped");
        assertEq(coordinator.memberOf(taskId, cheat).stake, stake / 2, "slashed violationSlashBps");
        assertEq(token.balanceOf(watcher) - before, stake / 2 * 2000 / 10_000, "bounty");
    }

    function test_aTrueDeclarationCannotBeProvenFalseAtAnyLeaf() external {
        _honestRound(2);
        for (uint256 leaf = 0; leaf < LEAVES; ++leaf) {
            NormProof memory proof = _normProof(members[1], leaf);
            uint256 weight = _weight(members[1]);
            vm.expectRevert(abi.encodeWithSelector(E.NormCorrect.selector, leaf));
            coordinator.proveNormViolation(taskId, members[1], Trees.root(updateOf[members[1]]), weight, proof);
        }
    }

    function test_aProofAgainstAnotherDeclarationOrPathIsRefused() external {
        _honestRound(2);
        address m = members[1];
        (bytes32 root, uint256 weight) = (Trees.root(updateOf[m]), _weight(m));
        NormProof memory proof = _normProof(m, 1);
        proof.normSq += 1;
        vm.expectRevert(abi.encodeWithSelector(E.NormMismatch.selector, m));
        coordinator.proveNormViolation(taskId, m, root, weight, proof);
        proof = _normProof(m, 1);
        proof.value += 1; // a value the declared tree does not hold
        vm.expectRevert(abi.encodeWithSelector(E.InvalidMerkleProof.selector, 1));
        coordinator.proveNormViolation(taskId, m, root, weight, proof);
        proof = _normProof(m, 1);
        proof.leaf.words[0] = bytes32(uint256(proof.leaf.words[0]) ^ 1); // not the revealed update
        vm.expectRevert(abi.encodeWithSelector(E.InvalidMerkleProof.selector, 0));
        coordinator.proveNormViolation(taskId, m, root, weight, proof);
    }

    /// @dev An update over the hard limit cannot be declared; undeclared at the deadline, it is dropped and its
    /// owner slashed, and a pending proposal is voided.
    function test_anUpdateOverTheHardLimitIsDropped() external {
        _commitAll(false);
        address big = members[3];
        _commit(big, _vector(_fill(300, 0)), 1000); // norm sqrt(12) * 300 ~ 1039 > 4 * 173
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 3; ++i) {
            _reveal(members[i]);
            _declare(members[i]);
        }
        _reveal(big);
        uint256[] memory values = _leafNorms(updateOf[big]);
        vm.expectRevert(abi.encodeWithSelector(E.NormOverLimit.selector, 12 * 300 * 300));
        vm.prank(big);
        coordinator.declareNorm(taskId, values);
        uint256 bigWeight = _weight(big);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, _view().revealEnd, type(uint256).max));
        coordinator.dropUndeclared(taskId, big, Trees.root(updateOf[big]), bigWeight);
        vm.warp(_view().revealEnd);

        // Undeclared, the update counts with effective weight 0 until it is dropped.
        bytes32[][] memory next = _aggregateNormed(4);
        _propose(next);
        AggregateFraudProof memory proof = _normedProof(next, 4, 0);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, 0));
        coordinator.challengeAggregate(taskId, proof);

        uint256 weight0 = _weight(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NormIsDeclared.selector, members[0]));
        coordinator.dropUndeclared(taskId, members[0], Trees.root(updateOf[members[0]]), weight0);
        uint256 stake = coordinator.memberOf(taskId, big).stake;
        vm.prank(watcher);
        coordinator.dropUndeclared(taskId, big, Trees.root(updateOf[big]), bigWeight);
        assertEq(uint256(coordinator.entryState(taskId, 0, big)), uint256(EntryState.Dropped), "dropped");
        assertEq(coordinator.memberOf(taskId, big).stake, stake / 2, "slashed");
        assertEq(coordinator.roundView(taskId, 0).challengeEnd, 0, "the proposal is voided");
    }

    function test_declareNormChecksItsCaller() external {
        _commitAll(false);
        vm.warp(_view().commitEnd);
        address m = members[0];
        uint256[] memory values = _leafNorms(updateOf[m]);
        vm.expectRevert(abi.encodeWithSelector(E.NotIncluded.selector, m));
        vm.prank(m);
        coordinator.declareNorm(taskId, values);
        _reveal(m);
        vm.expectRevert(abi.encodeWithSelector(E.NormListLength.selector, 1, 2));
        vm.prank(m);
        coordinator.declareNorm(taskId, new uint256[](1));
        _declare(m);
        vm.expectRevert(abi.encodeWithSelector(E.NormAlreadyDeclared.selector, m));
        vm.prank(m);
        coordinator.declareNorm(taskId, values);
        _reveal(members[1]);
        vm.warp(_view().revealEnd);
        vm.expectRevert(abi.encodeWithSelector(E.OutsideWindow.selector, 0, _view().revealEnd));
        vm.prank(members[1]);
        coordinator.declareNorm(taskId, _leafNorms(updateOf[members[1]]));
    }

    function test_theNormFunctionsNeedANormBoundedTask() external {
        TaskParams memory p = defaultParams();
        _useTask(p, _vector(_fill(0, 3)));
        _commitAndReveal(2);
        uint256 weight = _weight(members[0]);
        vm.expectRevert(abi.encodeWithSelector(E.NotNormBounded.selector, taskId));
        coordinator.dropUndeclared(taskId, members[0], Trees.root(updateOf[members[0]]), weight);
    }

    /// @dev A fraud proof must carry each member's own declaration: another normSq, or "undeclared" for a member
    /// that declared, is refused.
    function test_aFraudProofWithDoctoredDeclarationsIsRefused() external {
        _honestRound(2);
        bytes32[][] memory bad = _wrong(_aggregateNormed(2), 0, 0);
        _propose(bad);
        AggregateFraudProof memory proof = _normedProof(bad, 2, 0);
        uint256 stride = proof.updates.length / 2;
        proof.updates[stride + 2] = bytes32(uint256(proof.updates[stride + 2]) + 1);
        vm.expectRevert(abi.encodeWithSelector(E.NormMismatch.selector, members[1]));
        coordinator.challengeAggregate(taskId, proof);
        proof = _normedProof(bad, 2, 0);
        (proof.updates[1], proof.updates[2]) = (bytes32(0), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(E.NormMismatch.selector, members[0]));
        coordinator.challengeAggregate(taskId, proof);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Members commit their usual updates (member 3 a big one, norm ~ 400 > B, if `big`).
    function _commitAll(bool big) internal {
        for (uint256 i = 0; i < 3; ++i) {
            _commit(members[i], _updateVector(i), 100 * (i + 1));
        }
        if (big) _commit(members[3], _vector(_bigInSecondLeaf()), 1000);
    }

    /// @dev Small coordinates in leaf 0, 200 in the real coordinates of leaf 1: squared norm 8 * 25 + 4 * 40000,
    /// above B^2 = 30000, below the hard limit 16 * B^2.
    function _bigInSecondLeaf() internal pure returns (int32[16] memory values) {
        for (uint256 i = 0; i < PARAMS; ++i) {
            values[i] = i < 8 ? int32(5) : int32(200);
        }
    }

    /// @dev Members 0..n-1 commit, reveal and declare truthfully; ends at the reveal deadline.
    function _honestRound(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            _commit(members[i], _updateVector(i), 100 * (i + 1));
        }
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < n; ++i) {
            _reveal(members[i]);
            _declare(members[i]);
        }
        vm.warp(_view().revealEnd);
    }

    function _declaredRoundWithABigUpdate() internal {
        _commitAll(true);
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < 4; ++i) {
            _reveal(members[i]);
            _declare(members[i]);
        }
        vm.warp(_view().revealEnd);
    }

    function _declare(address m) internal {
        leafNormsOf[m] = _leafNorms(updateOf[m]);
        vm.prank(m);
        coordinator.declareNorm(taskId, leafNormsOf[m]);
    }

    function _leafNorms(bytes32[][] memory update) internal pure returns (uint256[] memory values) {
        values = new uint256[](update.length);
        for (uint256 l = 0; l < update.length; ++l) {
            for (uint256 j = 0; j < 8; ++j) {
                int256 v = Lanes.get(update[l][0], j);
                values[l] += uint256(v * v);
            }
        }
    }

    function _declaredSq(address m) internal view returns (bool declared, bytes32 root, uint256 total) {
        if (leafNormsOf[m].length == 0) return (false, bytes32(0), 0);
        (root, total) = norms.build(leafNormsOf[m], 1);
        declared = true;
    }

    function _aggregateNormed(uint256 n) internal view returns (bytes32[][] memory next) {
        next = new bytes32[][](model.length);
        uint256[] memory weights = new uint256[](n);
        uint256[] memory normSqs = new uint256[](n);
        bool[] memory declared = new bool[](n);
        for (uint256 i = 0; i < n; ++i) {
            weights[i] = _weight(members[i]);
            (declared[i],, normSqs[i]) = _declaredSq(members[i]);
        }
        for (uint256 l = 0; l < model.length; ++l) {
            bytes32[][] memory leafUpdates = new bytes32[][](n);
            for (uint256 i = 0; i < n; ++i) {
                leafUpdates[i] = updateOf[members[i]][l];
            }
            next[l] = norms.leaf(
                model[l], leafUpdates, _packed(weights, normSqs, declared, [CLIP, PARAMS, BOUND_BPS, 5000]), 5000
            );
            // padding coordinates keep their previous value (0)
            next[l][0] = l == 1 ? _keepPadding(next[l][0], model[l][0]) : next[l][0];
        }
    }

    function _keepPadding(bytes32 word, bytes32 previous) internal pure returns (bytes32) {
        for (uint256 j = 4; j < 8; ++j) {
            word = Lanes.set(word, j, Lanes.get(previous, j));
        }
        return word;
    }

    /// @dev A fraud proof of a norm-bounded task: each update's head, declaration words, leaf and path.
    function _normedProof(bytes32[][] memory proposal, uint256 n, uint256 leafIndex)
        internal
        view
        returns (AggregateFraudProof memory proof)
    {
        proof.leafIndex = leafIndex;
        proof.previous = _leafProof(model, leafIndex);
        proof.proposed = _leafProof(proposal, leafIndex);
        uint256 stride = 3 + 1 + 1;
        proof.updates = new bytes32[](n * stride);
        for (uint256 i = 0; i < n; ++i) {
            address m = members[i];
            (, bytes32 normRoot, uint256 normSq) = _declaredSq(m);
            LeafProof memory leaf = _leafProof(updateOf[m], leafIndex);
            proof.updates[i * stride] = bytes32((uint256(uint160(m)) << 96) | _weight(m));
            proof.updates[i * stride + 1] = normRoot;
            proof.updates[i * stride + 2] = bytes32(normSq);
            proof.updates[i * stride + 3] = leaf.words[0];
            proof.updates[i * stride + 4] = leaf.siblings[0];
        }
    }

    function _normProof(address m, uint256 leafIndex) internal view returns (NormProof memory proof) {
        (, proof.normRoot, proof.normSq) = _declaredSq(m);
        proof.leafIndex = leafIndex;
        proof.leaf = _leafProof(updateOf[m], leafIndex);
        proof.value = leafNormsOf[m][leafIndex];
        (bytes32[][] memory hashes, uint256[][] memory sums) = _normLevels(leafNormsOf[m], 1);
        (proof.hashes, proof.sums) = _normPath(hashes, sums, leafIndex);
    }

    /// @dev Reference sum tree: every level's hashes and sums, leaves first.
    function _normLevels(uint256[] memory values, uint256 depth)
        internal
        pure
        returns (bytes32[][] memory hashes, uint256[][] memory sums)
    {
        hashes = new bytes32[][](depth + 1);
        sums = new uint256[][](depth + 1);
        uint256 width = 1 << depth;
        hashes[0] = new bytes32[](width);
        sums[0] = new uint256[](width);
        for (uint256 i = 0; i < width; ++i) {
            sums[0][i] = i < values.length ? values[i] : 0;
            hashes[0][i] = keccak256(abi.encodePacked(uint8(2), i, sums[0][i]));
        }
        for (uint256 level = 1; level <= depth; ++level) {
            width /= 2;
            hashes[level] = new bytes32[](width);
            sums[level] = new uint256[](width);
            for (uint256 i = 0; i < width; ++i) {
                (bytes32 lh, uint256 ls) = (hashes[level - 1][2 * i], sums[level - 1][2 * i]);
                (bytes32 rh, uint256 rs) = (hashes[level - 1][2 * i + 1], sums[level - 1][2 * i + 1]);
                hashes[level][i] = keccak256(abi.encodePacked(uint8(3), lh, ls, rh, rs));
                sums[level][i] = ls + rs;
            }
        }
    }

    function _normPath(bytes32[][] memory hashes, uint256[][] memory sums, uint256 index)
        internal
        pure
        returns (bytes32[] memory h, uint256[] memory s)
    {
        uint256 depth = hashes.length - 1;
        h = new bytes32[](depth);
        s = new uint256[](depth);
        for (uint256 k = 0; k < depth; ++k) {
            uint256 sibling = (index >> k) ^ 1;
            (h[k], s[k]) = (hashes[k][sibling], sums[k][sibling]);
        }
    }
}
