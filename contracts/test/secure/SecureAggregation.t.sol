// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow vector values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {SecureVectors} from "./SecureVectors.sol";
import {SecureHarness} from "./SecureHarness.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";

/// @dev Hashes, the neighbour ring, the unmasking rule and the parameter rules of secure mode
/// (docs/protocol.md section 10) against the shared vectors and their defining properties.
contract SecureAggregationTest is SecureVectors {
    SecureHarness internal harness;

    function setUp() external {
        _loadVectors();
        harness = new SecureHarness();
    }

    function test_tags() external pure {
        assertEq(SecureAggregation.ROUND_SEED_TAG, keccak256("fedchain.secagg.v1.round-seed"), "round seed tag");
        assertEq(SecureAggregation.RING_TAG, keccak256("fedchain.secagg.v1.ring"), "ring tag");
        assertEq(SecureAggregation.SELF_SEED_TAG, keccak256("fedchain.secagg.v1.self-seed"), "self seed tag");
        assertEq(SecureAggregation.PAIR_MASK_TAG, keccak256("fedchain.secagg.v1.pair-mask"), "pair mask tag");
    }

    function test_derivationVectors() external view {
        for (uint256 i = 0; vm.keyExistsJson(json, _key("derive.advertise", i)); ++i) {
            string memory k = _key("derive.advertise", i);
            bytes32 digest = SecureAggregation.advertiseDigest(
                _b32(k, "previous"),
                vm.parseJsonAddress(json, string.concat(k, ".participant")),
                uint256(_b32(k, "pkX")),
                uint256(_b32(k, "pkY")),
                _b32(k, "encryptionKey")
            );
            assertEq(digest, _b32(k, "digest"), "advertise digest");
        }
        for (uint256 i = 0; vm.keyExistsJson(json, _key("derive.roundSeed", i)); ++i) {
            string memory k = _key("derive.roundSeed", i);
            bytes32 seed = SecureAggregation.roundSeed(
                _uint(k, "chainId"),
                vm.parseJsonAddress(json, string.concat(k, ".coordinator")),
                _uint(k, "taskId"),
                _uint(k, "round"),
                _b32(k, "digest"),
                uint256(_b32(k, "randomness"))
            );
            assertEq(seed, _b32(k, "seed"), "round seed");
        }
        for (uint256 i = 0; vm.keyExistsJson(json, _key("derive.selfSeed", i)); ++i) {
            string memory k = _key("derive.selfSeed", i);
            assertEq(SecureAggregation.selfSeedHash(uint256(_b32(k, "seed"))), _b32(k, "hash"), "self seed hash");
        }
        for (uint256 i = 0; vm.keyExistsJson(json, _key("derive.pairMask", i)); ++i) {
            string memory k = _key("derive.pairMask", i);
            address first = vm.parseJsonAddress(json, string.concat(k, ".first"));
            address second = vm.parseJsonAddress(json, string.concat(k, ".second"));
            bytes32 seed = _b32(k, "seed");
            uint256 x = uint256(_b32(k, "x"));
            uint256 y = uint256(_b32(k, "y"));
            assertEq(SecureAggregation.pairMaskKey(seed, x, y, first, second), _b32(k, "key"), "pair mask key");
            assertEq(SecureAggregation.pairMaskKey(seed, x, y, second, first), _b32(k, "key"), "symmetric");
        }
        for (uint256 i = 0; vm.keyExistsJson(json, _key("derive.record", i)); ++i) {
            string memory k = _key("derive.record", i);
            bytes32 record = SecureAggregation.record(
                _uint(k, "index"),
                uint256(_b32(k, "pkX")),
                uint256(_b32(k, "pkY")),
                _b32(k, "selfSeedHash"),
                _b32(k, "shareBundleRef"),
                _uint(k, "weight"),
                _b32(k, "maskedRoot")
            );
            assertEq(record, _b32(k, "record"), "record");
        }
        for (uint256 i = 0; vm.keyExistsJson(json, _key("derive.transcript", i)); ++i) {
            string memory k = _key("derive.transcript", i);
            bytes32[] memory words = vm.parseJsonBytes32Array(json, string.concat(k, ".words"));
            assertEq(keccak256(abi.encodePacked(words)), _b32(k, "hash"), "transcript hash");
        }
    }

    function test_ringVectors() external view {
        uint256 n = _count("ring");
        assertTrue(n > 0, "ring vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("ring", i);
            bytes32 seed = _b32(k, "seed");
            uint256 size = _uint(k, "n");
            uint256 neighbours = _uint(k, "k");
            uint256[] memory expected = vm.parseJsonUintArray(json, string.concat(k, ".positions"));
            uint256[] memory positions = harness.ringPositions(seed, size);
            assertEq(positions.length, size, "length");
            for (uint256 j = 0; j < size; ++j) {
                assertEq(positions[j], expected[j], "ring position");
            }
            for (uint256 a = 0; vm.keyExistsJson(json, string.concat(k, ".neighbours[", vm.toString(a), "]")); ++a) {
                uint256[] memory around =
                    vm.parseJsonUintArray(json, string.concat(k, ".neighbours[", vm.toString(a), "]"));
                uint256 found = 0;
                for (uint256 b = 0; b < size; ++b) {
                    bool isNeighbour = harness.adjacent(positions[a], positions[b], size, neighbours);
                    if (isNeighbour) {
                        assertEq(around[found], b, "neighbour list");
                        ++found;
                    }
                }
                assertEq(found, around.length, "degree");
            }
        }
    }

    function testFuzz_ringPositionsArePermutations(bytes32 seed, uint8 size) external view {
        uint256 n = 1 + uint256(size);
        uint256[] memory positions = harness.ringPositions(seed, n);
        uint256[] memory order = harness.ringOrder(seed, n);
        bool[] memory seen = new bool[](n);
        for (uint256 i = 0; i < n; ++i) {
            assertTrue(positions[i] < n && !seen[positions[i]], "each position once");
            seen[positions[i]] = true;
            assertEq(order[positions[i]], i, "order inverts positions");
        }
    }

    function testFuzz_adjacencyIsSymmetricAndKRegular(uint8 size, uint8 half) external view {
        uint256 n = 2 + uint256(size) % 60;
        uint256 k = 2 * (1 + uint256(half) % 20);
        uint256 degree = k < n - 1 ? k : n - 1;
        for (uint256 a = 0; a < n; ++a) {
            uint256 count = 0;
            for (uint256 b = 0; b < n; ++b) {
                bool ab = harness.adjacent(a, b, n, k);
                assertTrue(ab == harness.adjacent(b, a, n, k), "symmetric");
                if (a == b) assertTrue(!ab, "irreflexive");
                if (ab) ++count;
            }
            assertEq(count, degree, "k-regular");
        }
    }

    /// @dev The rule by brute force: count each survivor's surviving neighbours, then search the graph.
    function _unmaskableByBfs(bytes32 seed, uint256 n, uint256 k, uint256 t, uint256 uploaded)
        internal
        view
        returns (bool)
    {
        if (uploaded == 0) return false;
        uint256[] memory positions = harness.ringPositions(seed, n);
        for (uint256 a = 0; a < n; ++a) {
            if ((uploaded >> a) & 1 == 1 && _survivingNeighbours(positions, a, n, k, uploaded) < t) return false;
        }
        return _reachable(positions, n, k, uploaded) == uploaded;
    }

    function _survivingNeighbours(uint256[] memory positions, uint256 a, uint256 n, uint256 k, uint256 uploaded)
        internal
        view
        returns (uint256 count)
    {
        for (uint256 b = 0; b < n; ++b) {
            if ((uploaded >> b) & 1 == 1 && harness.adjacent(positions[a], positions[b], n, k)) ++count;
        }
    }

    /// @dev Survivors reachable from the lowest one, as a bitmap (depth-first search).
    function _reachable(uint256[] memory positions, uint256 n, uint256 k, uint256 uploaded)
        internal
        view
        returns (uint256 reached)
    {
        uint256 first = 0;
        while ((uploaded >> first) & 1 == 0) ++first;
        reached = 1 << first;
        uint256[] memory stack = new uint256[](n);
        uint256 top = 1;
        stack[0] = first;
        while (top > 0) {
            uint256 a = stack[--top];
            for (uint256 b = 0; b < n; ++b) {
                bool fresh = (uploaded >> b) & 1 == 1 && (reached >> b) & 1 == 0;
                if (fresh && harness.adjacent(positions[a], positions[b], n, k)) {
                    reached |= 1 << b;
                    stack[top++] = b;
                }
            }
        }
    }

    function testFuzz_unmaskableMatchesBruteForce(bytes32 seed, uint8 size, uint8 half, uint8 threshold, uint256 bits)
        external
        view
    {
        uint256 n = 3 + uint256(size) % 30;
        uint256 k = 2 * (1 + uint256(half) % 5);
        uint256 t = 2 + uint256(threshold) % (k - 1);
        uint256 uploaded = bits & ((1 << n) - 1);
        if (uint256(keccak256(abi.encode(bits))) % 2 == 0) uploaded |= bits >> 128 & ((1 << n) - 1); // denser sets too
        assertEq(
            harness.unmaskable(seed, n, k, t, uploaded) ? 1 : 0,
            _unmaskableByBfs(seed, n, k, t, uploaded) ? 1 : 0,
            "ring-gap rule equals brute force"
        );
    }

    function test_unmaskableVectors() external view {
        uint256 n = _count("unmaskable");
        uint256 yes = 0;
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("unmaskable", i);
            bool got = harness.unmaskable(
                _b32(k, "seed"), _uint(k, "n"), _uint(k, "k"), _uint(k, "t"), uint256(_b32(k, "uploaded"))
            );
            assertEq(got ? 1 : 0, _uint(k, "expected"), "unmaskable");
            if (got) ++yes;
        }
        assertTrue(yes > 0 && yes < n, "both outcomes covered");
    }

    function test_unmaskableEdges() external view {
        bytes32 seed = keccak256("edges");
        assertTrue(!harness.unmaskable(seed, 10, 4, 2, 0), "nobody uploaded");
        assertTrue(!harness.unmaskable(seed, 10, 4, 2, 1 << 10), "a bit beyond n");
        assertTrue(!harness.unmaskable(seed, 0, 4, 2, 0), "empty ring");
        assertTrue(!harness.unmaskable(seed, 257, 4, 2, 1), "ring too large");
        assertTrue(harness.unmaskable(seed, 10, 4, 2, (1 << 10) - 1), "everyone uploaded");
        assertTrue(harness.unmaskable(seed, 5, 4, 3, 0x1e), "complete graph, 4 survivors, t = 3");
        assertTrue(!harness.unmaskable(seed, 5, 4, 4, 0x1e), "complete graph, 4 survivors, t = 4");
        assertTrue(harness.unmaskable(seed, 256, 8, 4, type(uint256).max), "a full ring of 256");
    }

    function test_parameterVectors() external view {
        uint256 n = _count("params");
        assertTrue(n > 0, "params vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("params", i);
            string memory got = harness.invalidParameter(
                _uint(k, "neighbours"),
                _uint(k, "threshold"),
                _uint(k, "wordsPerLeaf"),
                _uint(k, "clip"),
                _uint(k, "sampleCap"),
                _uint(k, "cohortCap")
            );
            string memory expected = vmJson.parseJsonString(json, string.concat(k, ".invalid"));
            assertEq(keccak256(bytes(got)), keccak256(bytes(expected)), string.concat("invalid parameter ", expected));
        }
    }

    function testFuzz_ringBoundIsExact(uint64 clip, uint32 sampleCap, uint16 cohortCap) external view {
        vm.assume(clip > 0 && sampleCap > 0 && cohortCap > 0 && cohortCap <= 256);
        bool fits = uint256(clip) * sampleCap * cohortCap <= uint256(uint64(type(int64).max));
        string memory got = harness.invalidParameter(8, 5, 2, clip, sampleCap, cohortCap);
        assertEq(keccak256(bytes(got)), keccak256(bytes(fits ? "" : "ringBound")), "ring bound");
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
