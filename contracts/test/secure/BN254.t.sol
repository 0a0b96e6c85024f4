// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow vector values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {SecureVectors} from "./SecureVectors.sol";
import {SecureHarness} from "./SecureHarness.sol";
import {BN254} from "../../src/secure/BN254.sol";

/// @dev BN254 mask keys (docs/protocol.md section 10.2) against the shared vectors and edge cases.
contract BN254Test is SecureVectors {
    SecureHarness internal harness;

    function setUp() external {
        _loadVectors();
        harness = new SecureHarness();
    }

    function test_publicKeysOfTheVectors() external view {
        uint256 i = 0;
        for (; vm.keyExistsJson(json, string.concat(".curve.keys[", vm.toString(i), "]")); ++i) {
            string memory k = string.concat(".curve.keys[", vm.toString(i), "]");
            uint256 secret = uint256(_b32(k, "secret"));
            uint256 x = uint256(_b32(k, "x"));
            uint256 y = uint256(_b32(k, "y"));
            assertTrue(harness.isOnCurve(x, y), "on curve");
            assertTrue(harness.isKeyOf(secret, x, y), "secret of its key");
            assertTrue(!harness.isKeyOf(secret + 1 == BN254.R ? 1 : secret + 1, x, y), "another secret");
            assertTrue(!harness.isKeyOf(secret + BN254.R, x, y), "unreduced secret");
        }
        assertTrue(i >= 5, "key vectors");
    }

    function test_diffieHellmanPointsOfTheVectors() external view {
        uint256 i = 0;
        for (; vm.keyExistsJson(json, string.concat(".curve.dh[", vm.toString(i), "]")); ++i) {
            string memory k = string.concat(".curve.dh[", vm.toString(i), "]");
            (bool ok, uint256 x, uint256 y) =
                harness.mul(uint256(_b32(k, "peerX")), uint256(_b32(k, "peerY")), uint256(_b32(k, "secret")));
            assertTrue(ok, "ecMul accepts the peer key");
            assertEq(x, uint256(_b32(k, "x")), "x");
            assertEq(y, uint256(_b32(k, "y")), "y");
        }
        assertTrue(i >= 3, "dh vectors");
    }

    function test_curveMembershipEdges() external view {
        assertTrue(harness.isOnCurve(1, 2), "generator");
        assertTrue(harness.isOnCurve(1, BN254.P - 2), "minus generator");
        assertTrue(!harness.isOnCurve(0, 0), "infinity is not a key");
        assertTrue(!harness.isOnCurve(1, 3), "off curve");
        assertTrue(!harness.isOnCurve(1 + BN254.P, 2), "x not reduced");
        assertTrue(!harness.isOnCurve(1, 2 + BN254.P), "y not reduced");
    }

    function test_isKeyOfRejectsZeroAndUnreducedSecrets() external view {
        assertTrue(harness.isKeyOf(1, 1, 2), "1 * G");
        assertTrue(!harness.isKeyOf(0, 0, 0), "zero secret");
        assertTrue(!harness.isKeyOf(BN254.R + 1, 1, 2), "R + 1 is not in [1, R)");
        assertTrue(harness.isKeyOf(BN254.R - 1, 1, BN254.P - 2), "R - 1 gives -G");
    }

    function test_ecMulRejectsPointsOffTheCurve() external view {
        (bool ok,,) = harness.mul(1, 3, 5);
        assertTrue(!ok, "precompile rejects an off-curve point");
    }

    function testFuzz_mulIsConsistentWithIsKeyOf(uint256 secret) external view {
        secret = 1 + secret % (BN254.R - 1);
        (bool ok, uint256 x, uint256 y) = harness.mul(1, 2, secret);
        assertTrue(ok, "generator multiple");
        assertTrue(harness.isOnCurve(x, y), "result on curve");
        assertTrue(harness.isKeyOf(secret, x, y), "isKeyOf");
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
