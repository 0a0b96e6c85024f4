// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow vector values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {SecureVectors} from "./SecureVectors.sol";
import {SecureHarness} from "./SecureHarness.sol";
import {ChaCha20Reference} from "./ChaCha20Reference.sol";
import {ChaCha20} from "../../src/libraries/ChaCha20.sol";

/// @dev The packed-row ChaCha20 block function (docs/protocol.md section 10.3) against the shared vectors
/// (RFC 8439 appendix A.1 among them) and against a plain reference implementation.
contract ChaCha20Test is SecureVectors {
    SecureHarness internal harness;

    function setUp() external {
        _loadVectors();
        harness = new SecureHarness();
    }

    function test_sharedVectors() external view {
        uint256 n = _count("chacha");
        assertTrue(n >= 4, "chacha vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory k = _key("chacha", i);
            bytes32 key = _b32(k, "key");
            uint256 counter = _uint(k, "counter");
            bytes32[] memory blockWords = vm.parseJsonBytes32Array(json, string.concat(k, ".block"));
            bytes memory expected = abi.encodePacked(blockWords[0], blockWords[1]);
            assertEq(keccak256(harness.block64(key, counter)), keccak256(expected), "block equals the vector");
            assertEq(
                keccak256(ChaCha20Reference.block64(key, uint64(counter))),
                keccak256(expected),
                "reference equals the vector"
            );
        }
    }

    function test_rfc8439BlockOne() external view {
        bytes memory out = harness.block64(bytes32(0), 0);
        bytes32 first;
        assembly {
            first := mload(add(out, 32))
        }
        assertEq(first, 0x76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7, "RFC 8439 A.1 #1");
    }

    function testFuzz_matchesReference(bytes32 key, uint64 counter) external view {
        assertEq(keccak256(harness.block64(key, counter)), keccak256(ChaCha20Reference.block64(key, counter)), "block");
    }

    function testFuzz_lanesAreLittleEndianEightByteGroups(bytes32 key, uint64 counter) external view {
        bytes memory raw = ChaCha20Reference.block64(key, counter);
        uint64[8] memory lanes = harness.lanes(key, counter);
        for (uint256 j = 0; j < 8; ++j) {
            uint64 expected = 0;
            for (uint256 b = 0; b < 8; ++b) {
                expected |= uint64(uint8(raw[8 * j + b])) << uint64(8 * b);
            }
            assertEq(uint256(lanes[j]), uint256(expected), "lane");
        }
    }

    function test_counterAbove64BitsReverts() external {
        vm.expectRevert(abi.encodeWithSelector(ChaCha20.BlockCounterTooLarge.selector, uint256(1) << 64));
        harness.block64(bytes32(0), uint256(1) << 64);
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
