// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Bytes of 32-bit words are taken with deliberate narrowing casts.
// forge-lint: disable-start(unsafe-typecast)

import {ChaCha20} from "../../src/libraries/ChaCha20.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";
import {BN254} from "../../src/secure/BN254.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";

/// @dev Exposes the secure-mode libraries to tests, so that reverts can be expected and gas measured.
contract SecureHarness {
    function block64(bytes32 key, uint256 counter) external pure returns (bytes memory out) {
        (uint256 a, uint256 b, uint256 c, uint256 d) = ChaCha20.rows(key, counter);
        out = new bytes(64);
        for (uint256 j = 0; j < 16; ++j) {
            uint32 w = ChaCha20.word(a, b, c, d, j);
            for (uint256 byteIndex = 0; byteIndex < 4; ++byteIndex) {
                out[4 * j + byteIndex] = bytes1(uint8(w >> (8 * byteIndex)));
            }
        }
    }

    function lanes(bytes32 key, uint256 counter) external pure returns (uint64[8] memory out) {
        (uint256 a, uint256 b, uint256 c, uint256 d) = ChaCha20.rows(key, counter);
        for (uint256 j = 0; j < 8; ++j) {
            out[j] = ChaCha20.lane(a, b, c, d, j);
        }
    }

    function leafHash(uint256 index, bytes32[] calldata words) external pure returns (bytes32) {
        return PositionalMerkle.leafHash(index, words);
    }

    function isOnCurve(uint256 x, uint256 y) external pure returns (bool) {
        return BN254.isOnCurve(x, y);
    }

    function mul(uint256 x, uint256 y, uint256 s) external view returns (bool, uint256, uint256) {
        return BN254.mul(x, y, s);
    }

    function isKeyOf(uint256 secret, uint256 x, uint256 y) external view returns (bool) {
        return BN254.isKeyOf(secret, x, y);
    }

    function ringOrder(bytes32 seed, uint256 n) external pure returns (uint256[] memory) {
        return SecureAggregation.ringOrder(seed, n);
    }

    function ringPositions(bytes32 seed, uint256 n) external pure returns (uint256[] memory) {
        return SecureAggregation.ringPositions(seed, n);
    }

    function adjacent(uint256 first, uint256 second, uint256 n, uint256 k) external pure returns (bool) {
        return SecureAggregation.adjacent(first, second, n, k);
    }

    function unmaskable(bytes32 seed, uint256 n, uint256 k, uint256 t, uint256 uploaded) external pure returns (bool) {
        return SecureAggregation.unmaskable(seed, n, k, t, uploaded);
    }

    function invalidParameter(
        uint256 neighbours,
        uint256 threshold,
        uint256 wordsPerLeaf,
        uint256 clip,
        uint256 sampleCap,
        uint256 cohortCap
    ) external pure returns (string memory) {
        return SecureAggregation.invalidParameter(neighbours, threshold, wordsPerLeaf, clip, sampleCap, cohortCap);
    }
}
// forge-lint: disable-end(unsafe-typecast)
