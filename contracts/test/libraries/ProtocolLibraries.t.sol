// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {TestBase} from "../utils/TestBase.sol";
import {ProtocolHarness} from "../utils/ProtocolHarness.sol";
import {Trees} from "../utils/Trees.sol";
import {Commitments} from "../../src/libraries/Commitments.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {LeafRules} from "../../src/libraries/LeafRules.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";

/// @dev Fuzz tests of the protocol libraries against straightforward Solidity references.
contract ProtocolLibrariesTest is TestBase {
    ProtocolHarness internal harness;

    function setUp() external {
        harness = new ProtocolHarness();
    }

    // ---------------------------------------------------------------- lanes

    function testFuzz_lanesRoundTrip(int32[8] memory values) external pure {
        bytes32 word = Lanes.pack(values);
        int32[8] memory back = Lanes.unpack(word);
        for (uint256 j = 0; j < 8; ++j) {
            assertEq(int256(back[j]), int256(values[j]), "lane");
            // reference: big-endian bytes [4j, 4j + 4) in two's complement
            uint32 raw = uint32(bytes4(word << (32 * j)));
            assertEq(int256(int32(raw)), int256(values[j]), "byte layout");
        }
    }

    function test_laneEdges() external pure {
        int32[8] memory values = [type(int32).min, type(int32).max, int32(-1), int32(0), int32(1), -2, 2, 0];
        bytes32 word = Lanes.pack(values);
        assertEq(word, bytes32(0x800000007fffffffffffffff0000000000000001fffffffe0000000200000000), "packed edges");
    }

    // ---------------------------------------------------------------- merkle

    function _leaves(uint256 seed, uint256 count, uint256 width) internal pure returns (bytes32[][] memory leaves) {
        leaves = new bytes32[][](count);
        for (uint256 i = 0; i < count; ++i) {
            leaves[i] = new bytes32[](width);
            for (uint256 k = 0; k < width; ++k) {
                leaves[i][k] = keccak256(abi.encode(seed, i, k));
            }
        }
    }

    function testFuzz_merkleMatchesReferenceAndBindsPosition(
        uint256 seed,
        uint8 depthSeed,
        uint8 widthSeed,
        uint256 index
    ) external view {
        uint256 depth = depthSeed % 6;
        uint256 width = uint256(1) << (widthSeed % 4);
        bytes32[][] memory leaves = _leaves(seed, uint256(1) << depth, width);
        index = index % leaves.length;
        bytes32 root = Trees.root(leaves);
        bytes32[] memory siblings = Trees.proof(leaves, index);
        assertEq(harness.leafHash(index, leaves[index]), Trees.leafHash(index, leaves[index]), "leaf hash");
        assertTrue(harness.verify(root, depth, index, leaves[index], siblings), "valid proof");
        if (depth > 0) {
            uint256 other = (index + 1) % leaves.length;
            assertTrue(!harness.verify(root, depth, other, leaves[index], siblings), "other position");
            assertTrue(!harness.verify(root, depth, index, leaves[other], siblings), "other leaf");
            bytes32[] memory shorter = new bytes32[](depth - 1);
            assertTrue(!harness.verify(root, depth, index, leaves[index], shorter), "wrong length");
        }
        assertTrue(!harness.verify(root, depth, index + leaves.length, leaves[index], siblings), "index >= 2^D");
    }

    function test_depthFor() external pure {
        assertEq(PositionalMerkle.depthFor(1, 1), 0, "one leaf");
        assertEq(PositionalMerkle.depthFor(8, 1), 0, "one full leaf");
        assertEq(PositionalMerkle.depthFor(9, 1), 1, "two leaves");
        assertEq(PositionalMerkle.depthFor(64 * 1024, 8), 10, "exact power");
        assertEq(PositionalMerkle.depthFor(64 * 1024 + 1, 8), 11, "one more");
    }

    // ---------------------------------------------------------------- rule

    /// @dev Reference FedAvg for one coordinate, in plain checked arithmetic.
    function _reference(int256 previous, int32[] memory values, uint256[] memory counts, uint256 cap, uint256 lr)
        internal
        pure
        returns (int32)
    {
        int256 sum;
        int256 total;
        for (uint256 i = 0; i < values.length; ++i) {
            int256 w = int256(counts[i] < cap ? counts[i] : cap);
            sum += w * int256(values[i]);
            total += w;
        }
        int256 next = previous + (sum / total) * int256(lr) / 10_000;
        if (next > type(int32).max) return type(int32).max;
        if (next < type(int32).min) return type(int32).min;
        return int32(next);
    }

    function testFuzz_fedAvgMatchesReference(uint256 seed, uint8 updateCount, uint32 sampleCap, uint32 lrBps)
        external
        view
    {
        uint256 n = 1 + updateCount % 8;
        uint256 cap = 1 + sampleCap % (1 << 20);
        uint256 lr = 1 + lrBps % 100_000;
        bytes32[] memory previous = new bytes32[](1);
        bytes32[][] memory updates = new bytes32[][](n);
        uint256[] memory counts = new uint256[](n);
        int32[8][] memory lanes = new int32[8][](n);
        int32[8] memory prev;
        for (uint256 j = 0; j < 8; ++j) {
            prev[j] = _edgy(keccak256(abi.encode(seed, "p", j)));
        }
        previous[0] = Lanes.pack(prev);
        for (uint256 i = 0; i < n; ++i) {
            for (uint256 j = 0; j < 8; ++j) {
                lanes[i][j] = _edgy(keccak256(abi.encode(seed, i, j)));
            }
            updates[i] = new bytes32[](1);
            updates[i][0] = Lanes.pack(lanes[i]);
            counts[i] = 1 + uint256(keccak256(abi.encode(seed, i))) % (2 * cap);
        }
        bytes32[] memory next = harness.ruleLeaf(0, 0, previous, updates, counts, cap, lr);
        for (uint256 j = 0; j < 8; ++j) {
            int32[] memory column = new int32[](n);
            for (uint256 i = 0; i < n; ++i) {
                column[i] = lanes[i][j];
            }
            assertEq(int256(Lanes.get(next[0], j)), int256(_reference(prev[j], column, counts, cap, lr)), "coordinate");
        }
    }

    /// @dev Values concentrated at the int32 edges and around zero.
    function _edgy(bytes32 entropy) internal pure returns (int32) {
        uint256 r = uint256(entropy);
        uint256 kind = r % 4;
        if (kind == 0) return type(int32).max - int32(int256((r >> 8) % 4));
        if (kind == 1) return type(int32).min + int32(int256((r >> 8) % 4));
        if (kind == 2) return int32(int256((r >> 8) % 7) - 3);
        return int32(uint32(r >> 8));
    }

    function testFuzz_storeLanesWritesOneColumn(int32[8] memory lanes, uint8 updateCount, uint8 which) external view {
        uint256 n = 1 + updateCount % 5;
        uint256 u = which % n;
        bytes32[] memory words = new bytes32[](1);
        words[0] = Lanes.pack(lanes);
        int256[] memory values = new int256[](8 * n);
        values[0] = -5;
        int256[] memory out = harness.storeLanes(values, n, u, words);
        for (uint256 c = 0; c < 8; ++c) {
            for (uint256 v = 0; v < n; ++v) {
                int256 expected = v == u ? int256(lanes[c]) : (c == 0 && v == 0 ? int256(-5) : int256(0));
                assertEq(out[c * n + v], expected, "coordinate-major value");
            }
        }
    }

    function test_storeLanesRejectsAMismatchedBuffer() external {
        bytes32[] memory words = new bytes32[](2);
        vm.expectRevert(abi.encodeWithSelector(LeafRules.ValuesLengthMismatch.selector, 8, 2, 1));
        harness.storeLanes(new int256[](8), 1, 0, words);
        vm.expectRevert(abi.encodeWithSelector(LeafRules.ValuesLengthMismatch.selector, 16, 1, 2));
        harness.storeLanes(new int256[](16), 2, 2, new bytes32[](1));
    }

    // ---------------------------------------------------------------- violations

    function testFuzz_violationAtTheClipEdges(uint32 clipSeed, uint8 lane, bool above) external view {
        uint256 clip = 1 + clipSeed % uint256(uint32(type(int32).max) - 1);
        int32[8] memory values;
        uint256 j = lane % 8;
        values[j] = above ? int32(int256(clip)) : -int32(int256(clip));
        bytes32[] memory words = new bytes32[](1);
        words[0] = Lanes.pack(values);
        (bool found,) = harness.findViolation(words, 0, clip, 8);
        assertTrue(!found, "exactly +-clip is allowed");
        values[j] = above ? int32(int256(clip) + 1) : -int32(int256(clip)) - 1;
        words[0] = Lanes.pack(values);
        uint256 coordinate;
        (found, coordinate) = harness.findViolation(words, 3, clip, 1000);
        assertTrue(found, "one past clip is a violation");
        assertEq(coordinate, 24 + j, "global coordinate");
    }

    function test_paddingMustBeZero() external view {
        int32[8] memory values;
        values[7] = 1;
        bytes32[] memory words = new bytes32[](1);
        words[0] = Lanes.pack(values);
        (bool found, uint256 coordinate) = harness.findViolation(words, 1, 100, 15);
        assertTrue(found && coordinate == 15, "padding coordinate 15 is nonzero");
        (found,) = harness.findViolation(words, 1, 100, 16);
        assertTrue(!found, "coordinate 15 is real when numParams is 16");
    }

    // ---------------------------------------------------------------- commitments

    function testFuzz_entryEncodingsNeverCollide(bytes32 hash, uint256 round, bytes32 root, uint32 weight)
        external
        pure
    {
        bytes32 committed = Commitments.committedEntry(hash);
        bytes32 revealed = Commitments.revealedEntry(round, root, weight);
        assertTrue(committed != revealed, "commit vs reveal");
        assertTrue(!Commitments.isCommitted(revealed), "a reveal is not a commitment");
        assertTrue(Commitments.isRevealed(revealed) && !Commitments.isRevealed(committed), "reveal bit");
        assertTrue(!Commitments.isCommitted(Commitments.DROPPED), "dropped");
        assertTrue(!Commitments.isCommitted(Commitments.forfeitedEntry(committed)), "forfeited");
        assertTrue(Commitments.isForfeited(Commitments.forfeitedEntry(committed)), "forfeited reads back");
        assertTrue(Commitments.holdsCommitment(Commitments.forfeitedEntry(committed), committed), "keeps it");
        assertTrue(!Commitments.isForfeited(revealed) && !Commitments.isForfeited(committed), "not forfeited");
        assertTrue(!Commitments.isCommitted(bytes32(0)), "empty");
    }

    function testFuzz_revealedEntryCarriesItsWeightAndBindsItsRound(uint128 round, bytes32 root, uint32 weight)
        external
        pure
    {
        bytes32 entry = Commitments.revealedEntry(round, root, weight);
        assertEq(Commitments.weightOf(entry), weight, "weight read back");
        assertTrue(entry != Commitments.revealedEntry(uint256(round) + 1, root, weight), "another round, another entry");
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
