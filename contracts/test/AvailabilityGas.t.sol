// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow small test values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,incorrect-shift)

import {PlainGasBench} from "./Gas.t.sol";
import {SecureRoundBench} from "./secure/SecureGas.t.sol";
import {ProtocolHarness} from "./utils/ProtocolHarness.sol";
import {Trees} from "./utils/Trees.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {ChallengeStatus, DisputeStatus, InputChallenge, MaskedRecord} from "../src/FedTypes.sol";
import {TaskParamsValidator} from "../src/TaskParamsValidator.sol";
import {PositionalMerkle} from "../src/libraries/PositionalMerkle.sol";
import {SecureAggregation} from "../src/secure/SecureAggregation.sol";

/// @dev What the chunks of a challenged tree cost: its words (random 32-byte words, the worst case for calldata;
/// padding leaves zero) and the path of chunk 0, or of every chunk when the tree has at most 8 subtrees of chunk
/// size (then every chunk is real and consistent).
abstract contract ChunkBench {
    ProtocolHarness internal chunkHarness = new ProtocolHarness();

    /// @dev Height c of a chunk's subtree (Chunks.levels).
    function _chunkLevels(uint256 depth, uint256 leafWords) internal pure returns (uint256 c) {
        c = 11;
        for (uint256 w = leafWords; w > 1; w >>= 1) {
            --c;
        }
        if (c > depth) c = depth;
    }

    /// @dev The words of subtree `k` (height c) of a tree whose first `realLeaves` leaves are random words
    /// (seeded by `seed`) and the rest zero padding.
    function _subtreeWords(uint256 seed, uint256 k, uint256 c, uint256 leafWords, uint256 realLeaves)
        internal
        pure
        returns (bytes32[] memory words)
    {
        words = new bytes32[]((uint256(1) << c) * leafWords);
        for (uint256 i = 0; i < (uint256(1) << c); ++i) {
            if ((k << c) + i >= realLeaves) break;
            for (uint256 w = 0; w < leafWords; ++w) {
                words[i * leafWords + w] = keccak256(abi.encode(seed, k, i, w));
            }
        }
    }

    /// @dev A tree of depth `depth` and `realLeaves` real leaves, chunked at height c: the words of its chunks to
    /// post (all of them if it has at most 8 subtrees of height c, else chunk 0 only, with arbitrary siblings
    /// above it), their paths, and the root they lead to.
    function _chunkedTree(uint256 seed, uint256 depth, uint256 c, uint256 leafWords, uint256 realLeaves)
        internal
        view
        returns (bytes32[][] memory words, bytes32[][] memory paths, bytes32 root)
    {
        uint256 subtrees = uint256(1) << (depth - c);
        uint256 chunks = ((realLeaves + (uint256(1) << c) - 1) >> c);
        if (subtrees > 8) {
            words = new bytes32[][](1);
            paths = new bytes32[][](1);
            words[0] = _subtreeWords(seed, 0, c, leafWords, realLeaves);
            paths[0] = new bytes32[](depth - c);
            for (uint256 h = 0; h < depth - c; ++h) {
                paths[0][h] = keccak256(abi.encode("sibling", seed, h));
            }
            root = Trees.rootFrom(chunkHarness.subtreeRoot(0, c, leafWords, words[0]), 0, paths[0]);
            return (words, paths, root);
        }
        bytes32[][] memory top = new bytes32[][](subtrees);
        words = new bytes32[][](chunks);
        for (uint256 k = 0; k < subtrees; ++k) {
            bytes32[] memory w = _subtreeWords(seed, k, c, leafWords, realLeaves);
            if (k < chunks) words[k] = w;
            top[k] = new bytes32[](1);
            top[k][0] = chunkHarness.subtreeRoot(k, c, leafWords, w);
        }
        // the subtree roots are the bottom level of what is left: a small tree of plain node hashes
        bytes32[][] memory levels = new bytes32[][](depth - c + 1);
        levels[0] = new bytes32[](subtrees);
        for (uint256 k = 0; k < subtrees; ++k) {
            levels[0][k] = top[k][0];
        }
        for (uint256 h = 1; h <= depth - c; ++h) {
            levels[h] = new bytes32[](subtrees >> h);
            for (uint256 i = 0; i < (subtrees >> h); ++i) {
                levels[h][i] = Trees.nodeHash(levels[h - 1][2 * i], levels[h - 1][2 * i + 1]);
            }
        }
        root = levels[depth - c][0];
        paths = new bytes32[][](chunks);
        for (uint256 k = 0; k < chunks; ++k) {
            paths[k] = new bytes32[](depth - c);
            for (uint256 h = 0; h < depth - c; ++h) {
                paths[k][h] = levels[h][(k >> h) ^ 1];
            }
        }
    }
}

/// @dev Gas of availability challenges and model disputes in plain mode, logged for BENCHMARKS.md (run
/// `forge test --match-contract AvailabilityGasTest -vv`), measured as GasMeter says; and the per-transaction
/// bounds of TaskParamsValidator checked against real transactions at the largest parameters it accepts.
contract AvailabilityGasTest is PlainGasBench, ChunkBench {
    uint256 internal constant MAX_TX_GAS = 1 << 24;
    uint256 internal constant MAX_TX_BYTES = 128 * 1024;
    uint256 internal constant DISPUTE_LEAF = 12_345;

    address internal watcher = address(0x7A7C4);

    /// @dev Members 0..roots.length-1 commit and reveal `roots`; ends at the reveal deadline.
    /// (The watcher, the challenger of these benches, is funded here.)
    function _revealRoots(bytes32[] memory roots) internal {
        _fund(watcher);
        for (uint256 i = 0; i < roots.length; ++i) {
            bytes32 hash = coordinator.commitmentOf(taskId, 0, members[i], roots[i], 1000 + i, bytes32(i));
            vm.prank(members[i]);
            coordinator.commit(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < roots.length; ++i) {
            vm.prank(members[i]);
            coordinator.reveal(taskId, roots[i], 1000 + i, bytes32(i), keccak256("blob"));
        }
        vm.warp(block.timestamp + WINDOW);
    }

    function _checkFits(string memory what, Cost memory c, uint256 size) internal {
        _log(what, c);
        emit log_named_uint(string.concat(what, " calldata bytes"), size);
        assertTrue(_tx(c) <= MAX_TX_GAS, string.concat(what, ": over the transaction gas cap"));
        assertTrue(size <= MAX_TX_BYTES, string.concat(what, ": over the calldata budget"));
    }

    // ================================================================ a whole resolution by blob size

    /// @dev Reveals member 0's update of a `numParams` model (W = words) whose chunks are built here, challenges
    /// it and posts its chunks (all of them when the tree has at most 8 chunk subtrees, else chunk 0 only);
    /// returns the chunk count, the gas of the first chunk and the gas of all the chunks posted.
    function _resolution(uint256 numParams) internal returns (uint256 chunks, uint256 posted) {
        _setUp(numParams, 2, keccak256("model"));
        uint256 c = _chunkLevels(depth, words);
        uint256 realLeaves = (numParams + 8 * words - 1) / (8 * words);
        (bytes32[][] memory chunkWords, bytes32[][] memory paths, bytes32 root) =
            _chunkedTree(numParams, depth, c, words, realLeaves);
        bytes32[] memory roots = new bytes32[](2);
        (roots[0], roots[1]) = (root, keccak256("other update"));
        _revealRoots(roots);
        uint256 challengeGas =
            _tx(_measure(watcher, abi.encodeCall(coordinator.challengeUpdate, (taskId, members[0], root, 1000))));
        chunks = coordinator.inputChallenge(taskId, 0, members[0]).chunks;
        (uint256 firstChunk, uint256 postedGas) = _postMeasured(numParams, chunkWords, paths);
        posted = chunkWords.length;
        if (posted == chunks) {
            assertTrue(coordinator.inputChallenge(taskId, 0, members[0]).status == ChallengeStatus.Resolved, "resolved");
        }
        string memory label = string.concat("params ", vm.toString(numParams));
        emit log_named_uint(string.concat(label, ": depth"), depth);
        emit log_named_uint(string.concat(label, ": leaves per chunk"), uint256(1) << c);
        emit log_named_uint(string.concat(label, ": chunks"), chunks);
        emit log_named_uint(string.concat(label, ": challengeUpdate tx"), challengeGas);
        emit log_named_uint(string.concat(label, ": first chunk tx"), firstChunk);
        emit log_named_uint(string.concat(label, ": chunks posted and measured"), posted);
        emit log_named_uint(string.concat(label, ": their gas"), postedGas);
        if (posted == chunks) emit log_named_uint(string.concat(label, ": whole resolution (measured)"), postedGas);
        else emit log_named_uint(string.concat(label, ": whole resolution (chunks x first)"), chunks * firstChunk);
    }

    /// @dev Posts member 0's chunks in order, each measured; returns the first's gas and the sum.
    function _postMeasured(uint256 numParams, bytes32[][] memory chunkWords, bytes32[][] memory paths)
        internal
        returns (uint256 firstChunk, uint256 postedGas)
    {
        for (uint256 k = 0; k < chunkWords.length; ++k) {
            bytes memory data =
                abi.encodeCall(coordinator.postChunk, (taskId, 0, members[0], k, chunkWords[k], paths[k]));
            Cost memory cost = _measure(members[0], data);
            if (k == 0) {
                firstChunk = _tx(cost);
                _checkFits(string.concat("postChunk, params ", vm.toString(numParams)), cost, data.length);
            }
            postedGas += _tx(cost);
        }
    }

    function test_gasOfAWholeResolutionByBlobSize() external {
        uint256[5] memory sizes = [uint256(1_000), 10_000, 100_000, 1_000_000, 10_000_000];
        uint256[5] memory expectedChunks = [uint256(1), 1, 7, 62, 611];
        for (uint256 i = 0; i < sizes.length; ++i) {
            (uint256 chunks, uint256 posted) = _resolution(sizes[i]);
            assertEq(chunks, expectedChunks[i], "chunks: ceil(ceil(numParams / 16) / 2^c)");
            if (sizes[i] <= 100_000) assertEq(posted, chunks, "every chunk measured");
        }
    }

    // ================================================================ each challenge and dispute step

    /// @dev A proposal tree over a leaf at DISPUTE_LEAF with arbitrary siblings: nodes[h] is the node at height h
    /// on the leaf's path (nodes[depth] the root), siblings[h] its sibling.
    function _disputeTree(uint256 width)
        internal
        view
        returns (bytes32[] memory leaf, bytes32[] memory nodes, bytes32[] memory siblings)
    {
        leaf = new bytes32[](width);
        for (uint256 w = 0; w < width; ++w) {
            leaf[w] = keccak256(abi.encode("proposed leaf", w));
        }
        nodes = new bytes32[](depth + 1);
        siblings = new bytes32[](depth);
        uint256 index = DISPUTE_LEAF & ((uint256(1) << depth) - 1);
        nodes[0] = Trees.leafHash(index, leaf);
        for (uint256 h = 0; h < depth; ++h) {
            siblings[h] = keccak256(abi.encode("proposed sibling", h));
            nodes[h + 1] =
                (index >> h) & 1 == 0 ? Trees.nodeHash(nodes[h], siblings[h]) : Trees.nodeHash(siblings[h], nodes[h]);
        }
    }

    /// @dev The children of the node at height h on the path, in order, and whether the path goes right.
    function _children(bytes32[] memory nodes, bytes32[] memory siblings, uint256 h)
        internal
        view
        returns (bytes32 left, bytes32 right, bool goRight)
    {
        goRight = ((DISPUTE_LEAF & ((uint256(1) << depth) - 1)) >> (h - 1)) & 1 == 1;
        (left, right) = goRight ? (siblings[h - 1], nodes[h - 1]) : (nodes[h - 1], siblings[h - 1]);
    }

    /// @dev Plays `challenger`'s dispute down to the leaf, answered by the aggregator; measures the first answer
    /// and choice and openLeaf, returns the sum of every step's tx (openDispute excluded).
    function _playDispute(address challenger, bytes32[] memory leaf, bytes32[] memory nodes, bytes32[] memory siblings)
        internal
        returns (uint256 stepsGas)
    {
        for (uint256 h = depth; h > 0; --h) {
            (bytes32 left, bytes32 right, bool goRight) = _children(nodes, siblings, h);
            bytes memory answer = abi.encodeCall(coordinator.answerDispute, (taskId, challenger, left, right));
            Cost memory a = _measure(aggregator, answer);
            bytes memory choice = abi.encodeCall(coordinator.chooseChild, (taskId, left, right, goRight));
            Cost memory ch = _measure(challenger, choice);
            if (h == depth) {
                _checkFits("answerDispute", a, answer.length);
                _checkFits("chooseChild", ch, choice.length);
            }
            stepsGas += _tx(a) + _tx(ch);
        }
        bytes memory open = abi.encodeCall(coordinator.openLeaf, (taskId, challenger, leaf));
        Cost memory o = _measure(aggregator, open);
        _checkFits(string.concat("openLeaf W ", vm.toString(leaf.length)), o, open.length);
        stepsGas += _tx(o);
    }

    function test_gasOfEachChallengeAndDisputeStep() external {
        uint256 numParams = 1_000_000;
        _setUp(numParams, 4, keccak256("model"));
        uint256 c = _chunkLevels(depth, words);
        (bytes32[][] memory chunkWords, bytes32[][] memory paths, bytes32 root) =
            _chunkedTree(1, depth, c, words, (numParams + 15) / 16);
        bytes32[] memory roots = new bytes32[](4);
        for (uint256 i = 0; i < 4; ++i) {
            roots[i] = i == 0 ? root : keccak256(abi.encode("update", i));
        }
        _revealRoots(roots);

        // an availability challenge, one chunk of 62 posted, then applied at the deadline
        bytes memory data = abi.encodeCall(coordinator.challengeUpdate, (taskId, members[0], root, 1000));
        _checkFits("challengeUpdate", _measure(watcher, data), data.length);
        data = abi.encodeCall(coordinator.postChunk, (taskId, 0, members[0], 0, chunkWords[0], paths[0]));
        _checkFits("postChunk (2048 words, depth 16)", _measure(members[0], data), data.length);
        vm.warp(coordinator.inputChallenge(taskId, 0, members[0]).deadline);
        data = abi.encodeCall(coordinator.dropUnavailable, (taskId, 0, members[0]));
        _checkFits("dropUnavailable (slash, refund and bounty)", _measure(address(0xD409), data), data.length);
        assertTrue(coordinator.inputChallenge(taskId, 0, members[0]).status == ChallengeStatus.Unavailable, "dropped");

        // a proposal and three disputes of it: one played to the leaf and lapsed, one never answered, one moot
        coordinator.reopenAggregation(taskId);
        (bytes32[] memory leaf, bytes32[] memory nodes, bytes32[] memory siblings) = _disputeTree(words);
        vm.prank(aggregator);
        coordinator.propose(taskId, nodes[depth], keccak256("proposal blob"));
        address[3] memory challengers = [address(0xC1), address(0xC2), address(0xC3)];
        for (uint256 i = 0; i < 3; ++i) {
            _fund(challengers[i]);
            data = abi.encodeCall(coordinator.openDispute, (taskId));
            Cost memory opened = _measure(challengers[i], data);
            if (i == 0) _checkFits("openDispute", opened, data.length);
        }
        uint256 stepsGas = _playDispute(challengers[0], leaf, nodes, siblings);
        assertTrue(coordinator.disputeOf(taskId, 0, challengers[0]).status == DisputeStatus.LeafOpened, "opened");
        emit log_named_uint("dispute depth 16: every answer, choice and openLeaf, tx", stepsGas);
        vm.warp(coordinator.disputeOf(taskId, 0, challengers[0]).deadline);
        data = abi.encodeCall(coordinator.settleDispute, (taskId, 0, challengers[0]));
        _checkFits("settleDispute (ChallengerLapsed)", _measure(address(0xD409), data), data.length);
        data = abi.encodeCall(coordinator.settleDispute, (taskId, 0, challengers[1]));
        _checkFits(
            "settleDispute (ProposalUnopened: rejects and slashes)", _measure(address(0xD409), data), data.length
        );
        data = abi.encodeCall(coordinator.settleDispute, (taskId, 0, challengers[2]));
        _checkFits("settleDispute (Moot)", _measure(address(0xD409), data), data.length);
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, 50e18, "the unanswered dispute rejected");
    }

    // ================================================================ the bounds of TaskParamsValidator

    /// @dev The largest cohortCap the validator accepts for the bench's task at `numParams` (W = words), found
    /// from its own bound; checks through createTask that it is accepted and the next one refused.
    function _largestCohort(uint256 numParams) internal returns (uint256 n) {
        _setUp(numParams, 1, keccak256("model"));
        TaskParamsValidator validator = TaskParamsValidator(address(coordinator.PARAMS_VALIDATOR()));
        for (n = 256; n > 0; --n) {
            (uint256 gas, uint256 size) = validator.worstFraudProof(_taskParams(numParams, n));
            if (gas <= MAX_TX_GAS && size <= MAX_TX_BYTES) break;
        }
        assertTrue(n > 0 && n < 256, "the bound binds below the cohort cap");
        coordinator.createTask(_taskParams(numParams, n), keccak256("model"), keccak256("blob"));
        (uint256 gasNext, uint256 sizeNext) = validator.worstFraudProof(_taskParams(numParams, n + 1));
        assertTrue(gasNext > MAX_TX_GAS || sizeNext > MAX_TX_BYTES, "the next cohort does not fit");
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "cohortCap"));
        coordinator.createTask(_taskParams(numParams, n + 1), keccak256("model"), keccak256("blob"));
        emit log_named_uint(
            string.concat(
                "largest plain cohort, rule ",
                vm.toString(rule),
                " W ",
                vm.toString(words),
                " params ",
                vm.toString(numParams)
            ),
            n
        );
    }

    /// @dev The proof of a round of the largest accepted cohort, every member included, measured: it must cost
    /// no more than the validator's bound, which must fit the cap.
    function _worstPlainProof(uint256 numParams) internal {
        uint256 n = _largestCohort(numParams);
        (uint256 boundGas, uint256 boundSize) =
            TaskParamsValidator(address(coordinator.PARAMS_VALIDATOR())).worstFraudProof(_taskParams(numParams, n));
        (Cost memory c, uint256 size) = _fraudProofCost(numParams, n);
        string memory label = string.concat(
            "worst plain proof, rule ",
            vm.toString(rule),
            " W ",
            vm.toString(words),
            " params ",
            vm.toString(numParams),
            " cohort ",
            vm.toString(n)
        );
        _checkFits(label, c, size);
        emit log_named_uint(string.concat(label, " bound gas"), boundGas);
        assertEq(size, boundSize, "the calldata bound is exact");
        assertTrue(_tx(c) <= boundGas, "the measured proof is within the bound");
    }

    function test_theWorstPlainProofAtTheLargestAcceptedCohortFits() external {
        _worstPlainProof(10_000_000); // W = 2, depth 20
    }

    function test_theWorstPlainProofAtTheDeepestTreeFits() external {
        words = 8;
        _worstPlainProof(1 << 40); // the largest model: depth 34
    }

    /// @dev The order-statistic rules sort every coordinate of the leaf: their bound, and the largest cohort it
    /// allows, measured against real proofs at the widest leaf (the most coordinates to sort).
    function test_theWorstMedianAndTrimmedMeanProofsFit() external {
        words = 8;
        for (rule = 1; rule <= 2; ++rule) {
            ruleParam = rule == 2 ? 1 : 0; // trimming next to nothing sums the most values
            _worstPlainProof(10_000_000);
        }
    }

    /// @dev The largest chunk the coordinator takes (2048 words: 2^11 one-word leaves, or 2^8 eight-word ones)
    /// with the longest path (the deepest tree), and every dispute step at that depth.
    function _largestChunkAndSteps(uint256 width) internal {
        words = width;
        uint256 numParams = 1 << 40;
        _setUp(numParams, 2, keccak256("model"));
        uint256 c = _chunkLevels(depth, width);
        (bytes32[][] memory chunkWords, bytes32[][] memory paths, bytes32 root) =
            _chunkedTree(width, depth, c, width, numParams / (8 * width));
        bytes32[] memory roots = new bytes32[](2);
        (roots[0], roots[1]) = (root, keccak256("other"));
        _revealRoots(roots);
        vm.prank(watcher);
        coordinator.challengeUpdate(taskId, members[0], root, 1000);
        InputChallenge memory ch = coordinator.inputChallenge(taskId, 0, members[0]);
        assertEq(ch.chunks, numParams / (8 * width) >> c, "2^(depth - c) chunks");
        emit log_named_uint(string.concat("chunks of a 2^40-parameter update, W ", vm.toString(width)), ch.chunks);
        bytes memory data = abi.encodeCall(coordinator.postChunk, (taskId, 0, members[0], 0, chunkWords[0], paths[0]));
        _checkFits(
            string.concat("largest postChunk, W ", vm.toString(width), " depth ", vm.toString(depth)),
            _measure(members[0], data),
            data.length
        );
        (bytes32[] memory leaf, bytes32[] memory nodes, bytes32[] memory siblings) = _disputeTree(width);
        vm.prank(aggregator);
        coordinator.propose(taskId, nodes[depth], keccak256("proposal"));
        data = abi.encodeCall(coordinator.openDispute, (taskId));
        _checkFits("openDispute at depth 34+", _measure(watcher, data), data.length);
        _playDispute(watcher, leaf, nodes, siblings);
    }

    function test_theLargestChunkAndEveryDisputeStepFitOneTransaction() external {
        _largestChunkAndSteps(1); // depth 37: 2048 leaf hashes and a path of 26
        _largestChunkAndSteps(8); // depth 34: 256 leaves of 8 words, a path of 26, the widest leaf opened
    }
}

/// @dev Gas of the availability steps of secure mode (run `forge test --match-contract SecureAvailabilityGasTest
/// -vv`): the SecureRoundBench round at 1M parameters (W = 2, depth 16), each masked vector's tree made of
/// chunk 0 (512 leaves of 4 words) and arbitrary siblings above it.
contract SecureAvailabilityGasTest is SecureRoundBench, ChunkBench {
    bytes32 internal subtree; // chunk 0's subtree root, the same words for every member
    bytes32[] internal chunkWords;

    function _chunkPath(uint256 i) internal view returns (bytes32[] memory path) {
        path = new bytes32[](depth - _chunkLevels(depth, 2 * leafWidth));
        for (uint256 h = 0; h < path.length; ++h) {
            path[h] = keccak256(abi.encode("masked sibling", i, h));
        }
    }

    function _maskedRoot(uint256 i) internal view override returns (bytes32) {
        return Trees.rootFrom(subtree, 0, _chunkPath(i));
    }

    function _record(uint256 i) internal view returns (MaskedRecord memory r) {
        (uint256 x, uint256 y) = _pk(i);
        r = MaskedRecord({
            index: i,
            pkX: x,
            pkY: y,
            selfSeedHash: SecureAggregation.selfSeedHash(_seed(i)),
            shareBundleRef: _bundleRef(i),
            weight: _weight(i),
            maskedRoot: _maskedRoot(i)
        });
    }

    function test_gasOfTheSecureAvailabilitySteps() external {
        depth = PositionalMerkle.depthFor(numParams, leafWidth);
        uint256 c = _chunkLevels(depth, 2 * leafWidth);
        chunkWords = _subtreeWords(7, 0, c, 2 * leafWidth, 1 << c);
        subtree = chunkHarness.subtreeRoot(0, c, 2 * leafWidth, chunkWords);
        _roundUploaded(8, 0); // in the upload window
        address watcher = address(0x7A7C4);
        _fund(watcher);
        bytes memory data = abi.encodeCall(coordinator.challengeMaskedVector, (taskId, _member(0), _record(0)));
        _log("challengeMaskedVector", _measure(address(coordinator), address(token), watcher, data));
        InputChallenge memory ch = coordinator.inputChallenge(taskId, 0, _member(0));
        emit log_named_uint("masked vector of 1M parameters (W = 2): chunks", ch.chunks);
        emit log_named_uint("masked vector: leaves per chunk", uint256(1) << ch.chunkLevels);
        assertEq(ch.chunks, 123, "ceil(62500 / 512)");
        data = abi.encodeCall(coordinator.postChunk, (taskId, 0, _member(0), 0, chunkWords, _chunkPath(0)));
        Cost memory posted = _measure(address(coordinator), address(token), _member(0), data);
        _log("postChunk of a masked vector (2048 words, depth 16)", posted);
        emit log_named_uint("postChunk of a masked vector: calldata bytes", data.length);
        assertTrue(_tx(posted) <= 1 << 24 && data.length <= 128 * 1024, "fits one transaction");

        data = abi.encodeCall(coordinator.challengeMaskedVector, (taskId, _member(1), _record(1)));
        vm.prank(watcher);
        (bool ok,) = address(coordinator).call(data);
        assertTrue(ok, "second challenge");
        vm.warp(coordinator.inputChallenge(taskId, 0, _member(1)).deadline);
        data = abi.encodeCall(coordinator.dropUnavailable, (taskId, 0, _member(1)));
        _log("dropUnavailable (secure: leaves U3)", _measure(address(coordinator), address(token), watcher, data));
        assertEq(coordinator.secureRound(taskId, 0).uploaded & (1 << 1), 0, "out of U3");
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,incorrect-shift)
