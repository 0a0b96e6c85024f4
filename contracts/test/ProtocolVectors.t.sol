// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TestBase} from "./utils/TestBase.sol";
import {ProtocolHarness} from "./utils/ProtocolHarness.sol";
import {NormHarness} from "./utils/NormHarness.sol";
import {Commitments} from "../src/libraries/Commitments.sol";
import {Lanes} from "../src/libraries/Lanes.sol";
import {PositionalMerkle} from "../src/libraries/PositionalMerkle.sol";
import {Scores} from "../src/libraries/Scores.sol";

/// @dev Checks every shared vector of tests/vectors/protocol.json (written from the Python reference of
/// docs/protocol.md) against the Solidity libraries, so both sides agree bit for bit.
contract ProtocolVectorsTest is TestBase {
    string internal constant PATH = "../tests/vectors/protocol.json";
    string internal json;
    ProtocolHarness internal harness;
    NormHarness internal norms;

    function setUp() external {
        json = vm.readFile(PATH);
        harness = new ProtocolHarness();
        norms = new NormHarness();
    }

    function _key(string memory section, uint256 i) internal pure returns (string memory) {
        return string.concat(".", section, "[", vm.toString(i), "]");
    }

    function _count(string memory section) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _key(section, n))) ++n;
    }

    /// @dev parseJsonBytes32Array cannot type an empty JSON array; a zero count means an empty list.
    function _words(string memory key, uint256 count) internal view returns (bytes32[] memory) {
        if (count == 0) return new bytes32[](0);
        return vm.parseJsonBytes32Array(json, key);
    }

    function test_lanes() external view {
        uint256 n = _count("lanes");
        assertTrue(n > 0, "no lane vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("lanes", i);
            bytes32 word = vm.parseJsonBytes32(json, string.concat(k, ".word"));
            int256[] memory lanes = vm.parseJsonIntArray(json, string.concat(k, ".lanes"));
            assertEq(lanes.length, 8, "eight lanes");
            int32[8] memory values;
            for (uint256 j = 0; j < 8; ++j) {
                assertEq(int256(Lanes.get(word, j)), lanes[j], "lane value");
                values[j] = int32(lanes[j]);
            }
            assertEq(Lanes.pack(values), word, "packed word");
        }
    }

    function test_merkle() external view {
        uint256 n = _count("merkle");
        assertTrue(n > 0, "no merkle vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("merkle", i);
            uint256 width = vm.parseJsonUint(json, string.concat(k, ".wordsPerLeaf"));
            uint256 depth = vm.parseJsonUint(json, string.concat(k, ".depth"));
            uint256 numParams = vm.parseJsonUint(json, string.concat(k, ".numParams"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(k, ".root"));
            assertEq(PositionalMerkle.depthFor(numParams, width), depth, "depth from numParams");
            uint256 leaves = 0;
            while (vm.keyExistsJson(json, string.concat(k, ".leaves[", vm.toString(leaves), "]"))) {
                string memory lk = string.concat(k, ".leaves[", vm.toString(leaves), "]");
                uint256 index = vm.parseJsonUint(json, string.concat(lk, ".index"));
                bytes32[] memory words = vm.parseJsonBytes32Array(json, string.concat(lk, ".words"));
                bytes32[] memory siblings = _words(string.concat(lk, ".siblings"), depth);
                assertEq(words.length, width, "leaf width");
                assertTrue(harness.verify(root, depth, index, words, siblings), "proof verifies");
                if (depth > 0) {
                    assertTrue(!harness.verify(root, depth, index ^ 1, words, siblings), "position bound");
                }
                ++leaves;
            }
            assertTrue(leaves > 0, "vector without leaves");
        }
    }

    function test_commitments() external view {
        uint256 n = _count("commitments");
        assertTrue(n > 0, "no commitment vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("commitments", i);
            bytes32 hash = Commitments.commitHash(
                vm.parseJsonUint(json, string.concat(k, ".chainId")),
                vm.parseJsonAddress(json, string.concat(k, ".coordinator")),
                vm.parseJsonUint(json, string.concat(k, ".taskId")),
                vm.parseJsonUint(json, string.concat(k, ".round")),
                vm.parseJsonAddress(json, string.concat(k, ".participant")),
                vm.parseJsonBytes32(json, string.concat(k, ".root")),
                vm.parseJsonUint(json, string.concat(k, ".sampleCount")),
                vm.parseJsonBytes32(json, string.concat(k, ".salt"))
            );
            assertEq(hash, vm.parseJsonBytes32(json, string.concat(k, ".hash")), "commit hash");
        }
    }

    function test_scoreCommitments() external view {
        uint256 n = _count("scoreCommitments");
        assertTrue(n >= 4, "no score commitment vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("scoreCommitments", i);
            bytes32 hash = harness.scoresHash(
                vm.parseJsonUint(json, string.concat(k, ".chainId")),
                vm.parseJsonAddress(json, string.concat(k, ".coordinator")),
                vm.parseJsonUint(json, string.concat(k, ".taskId")),
                vm.parseJsonUint(json, string.concat(k, ".round")),
                vm.parseJsonAddress(json, string.concat(k, ".validator")),
                _addresses(string.concat(k, ".participants")),
                _uint16s(string.concat(k, ".scores")),
                vm.parseJsonBytes32(json, string.concat(k, ".salt"))
            );
            assertEq(hash, vm.parseJsonBytes32(json, string.concat(k, ".hash")), "scores hash");
        }
    }

    function test_scoreWords() external view {
        uint256 n = _count("scoreWords");
        assertTrue(n >= 8, "no score word vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("scoreWords", i);
            uint16[] memory scores = _uint16s(string.concat(k, ".scores"));
            uint256[] memory lanes =
                scores.length == 0 ? new uint256[](0) : vm.parseJsonUintArray(json, string.concat(k, ".lanes"));
            uint256 word;
            for (uint256 j = 0; j < lanes.length; ++j) {
                word = Scores.withScore(word, lanes[j], scores[j]);
            }
            assertEq(bytes32(word), vm.parseJsonBytes32(json, string.concat(k, ".word")), "score word");
            (uint256 count, uint256 median) = Scores.median(word);
            assertEq(count, vm.parseJsonUint(json, string.concat(k, ".count")), "count");
            assertEq(median, vm.parseJsonUint(json, string.concat(k, ".median")), "median");
        }
    }

    /// @dev An address list (empty when the JSON array is: parseJsonAddressArray cannot type one).
    function _addresses(string memory key) internal view returns (address[] memory) {
        if (!vm.keyExistsJson(json, string.concat(key, "[0]"))) return new address[](0);
        return vm.parseJsonAddressArray(json, key);
    }

    function _uint16s(string memory key) internal view returns (uint16[] memory out) {
        if (!vm.keyExistsJson(json, string.concat(key, "[0]"))) return new uint16[](0);
        uint256[] memory values = vm.parseJsonUintArray(json, key);
        out = new uint16[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            out[i] = uint16(values[i]);
        }
    }

    function test_revealedEntries() external view {
        uint256 n = _count("entries");
        assertTrue(n > 0, "no entry vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("entries", i);
            uint256 weight = vm.parseJsonUint(json, string.concat(k, ".weight"));
            bytes32 entry = Commitments.revealedEntry(
                vm.parseJsonUint(json, string.concat(k, ".round")),
                vm.parseJsonBytes32(json, string.concat(k, ".root")),
                weight
            );
            assertEq(entry, vm.parseJsonBytes32(json, string.concat(k, ".entry")), "revealed entry");
            assertEq(Commitments.weightOf(entry), weight, "weight");
        }
    }

    function test_rules() external view {
        uint256 n = _count("rules");
        assertTrue(n > 0, "no rule vectors");
        bool[3] memory seen;
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("rules", i);
            uint256 rule = vm.parseJsonUint(json, string.concat(k, ".rule"));
            seen[rule] = true;
            uint256[] memory counts = vm.parseJsonUintArray(json, string.concat(k, ".sampleCounts"));
            bytes32[][] memory updates = new bytes32[][](counts.length);
            for (uint256 u = 0; u < counts.length; ++u) {
                updates[u] = vm.parseJsonBytes32Array(json, string.concat(k, ".updates[", vm.toString(u), "]"));
            }
            bytes32[] memory next = harness.ruleLeaf(
                rule,
                vm.parseJsonUint(json, string.concat(k, ".ruleParam")),
                vm.parseJsonBytes32Array(json, string.concat(k, ".previous")),
                updates,
                counts,
                vm.parseJsonUint(json, string.concat(k, ".sampleCap")),
                vm.parseJsonUint(json, string.concat(k, ".serverLrBps"))
            );
            bytes32[] memory expected = vm.parseJsonBytes32Array(json, string.concat(k, ".expected"));
            assertEq(next.length, expected.length, "leaf width");
            assertEq(vm.parseJsonUint(json, string.concat(k, ".wordsPerLeaf")), expected.length, "wordsPerLeaf");
            for (uint256 w = 0; w < next.length; ++w) {
                assertEq(next[w], expected[w], "aggregated word");
            }
        }
        assertTrue(seen[0] && seen[1] && seen[2], "vectors of every rule");
    }

    /// @dev Rule 3 (docs/protocol.md section 4.4): effective weights and one leaf of the next model.
    function test_normBounded() external view {
        uint256 n = _count("normBounded");
        assertTrue(n > 0, "no norm-bounded vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("normBounded", i);
            uint256[4] memory task = [
                vm.parseJsonUint(json, string.concat(k, ".clip")),
                vm.parseJsonUint(json, string.concat(k, ".numParams")),
                vm.parseJsonUint(json, string.concat(k, ".ruleParam")),
                vm.parseJsonUint(json, string.concat(k, ".serverLrBps"))
            ];
            uint256[] memory packed = _normPacked(k, task);
            bytes32[][] memory updates = new bytes32[][](packed.length);
            for (uint256 u = 0; u < packed.length; ++u) {
                updates[u] = vm.parseJsonBytes32Array(json, string.concat(k, ".updates[", vm.toString(u), "]"));
            }
            bytes32[] memory next =
                norms.leaf(vm.parseJsonBytes32Array(json, string.concat(k, ".previous")), updates, packed, task[3]);
            bytes32[] memory expected = vm.parseJsonBytes32Array(json, string.concat(k, ".expected"));
            assertEq(next.length, expected.length, "leaf width");
            for (uint256 w = 0; w < next.length; ++w) {
                assertEq(next[w], expected[w], "aggregated word");
            }
        }
    }

    /// @dev w << 128 | e of each update of a norm-bounded vector, e checked against the vector's.
    function _normPacked(string memory k, uint256[4] memory task) internal view returns (uint256[] memory packed) {
        uint256[] memory counts = vm.parseJsonUintArray(json, string.concat(k, ".sampleCounts"));
        uint256[] memory declared = vm.parseJsonUintArray(json, string.concat(k, ".declared"));
        bytes32[] memory normSqs = vm.parseJsonBytes32Array(json, string.concat(k, ".normSqs"));
        uint256[] memory effective = vm.parseJsonUintArray(json, string.concat(k, ".effectiveWeights"));
        uint256 cap = vm.parseJsonUint(json, string.concat(k, ".sampleCap"));
        packed = new uint256[](counts.length);
        for (uint256 u = 0; u < counts.length; ++u) {
            uint256 w = counts[u] < cap ? counts[u] : cap;
            uint256 e = declared[u] == 1 ? norms.effectiveWeight(w, uint256(normSqs[u]), task[0], task[1], task[2]) : 0;
            assertEq(e, effective[u], "effective weight");
            packed[u] = w << 128 | e;
        }
    }

    /// @dev The norm sum tree: its root and sum, every leaf's path, and the declaration word.
    function test_normTrees() external view {
        uint256 n = _count("normTrees");
        assertTrue(n > 0, "no norm tree vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("normTrees", i);
            uint256 depth = vm.parseJsonUint(json, string.concat(k, ".depth"));
            bytes32[] memory words = vm.parseJsonBytes32Array(json, string.concat(k, ".values"));
            uint256[] memory values = new uint256[](words.length);
            for (uint256 v = 0; v < words.length; ++v) {
                values[v] = uint256(words[v]);
            }
            bytes32 root = vm.parseJsonBytes32(json, string.concat(k, ".root"));
            uint256 total = uint256(vm.parseJsonBytes32(json, string.concat(k, ".total")));
            (bytes32 built, uint256 sum) = norms.build(values, depth);
            assertEq(built, root, "root");
            assertEq(sum, total, "sum");
            for (uint256 leaf = 0; leaf < (1 << depth); ++leaf) {
                string memory at = string.concat("[", vm.toString(leaf), "]");
                bytes32[] memory hashes = _words(string.concat(k, ".pathHashes", at), depth);
                bytes32[] memory sumWords = _words(string.concat(k, ".pathSums", at), depth);
                uint256[] memory sums = new uint256[](depth);
                for (uint256 d = 0; d < depth; ++d) {
                    sums[d] = uint256(sumWords[d]);
                }
                (bytes32 reached, uint256 reachedSum) =
                    norms.rootFrom(leaf, leaf < values.length ? values[leaf] : 0, hashes, sums);
                assertEq(reached, root, "path root");
                assertEq(reachedSum, total, "path sum");
            }
            assertEq(
                norms.declaration(vm.parseJsonUint(json, string.concat(k, ".round")), root, total),
                vm.parseJsonBytes32(json, string.concat(k, ".declaration")),
                "declaration word"
            );
        }
    }
}
