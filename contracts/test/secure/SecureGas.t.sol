// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow vector values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {TestBase} from "../utils/TestBase.sol";
import {LeafProof} from "../../src/FedTypes.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";
import {BN254} from "../../src/secure/BN254.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";
import {SecureLeafVerifier} from "../../src/secure/SecureLeafVerifier.sol";
import {SecureFraudProof, SecureLeafContext} from "../../src/secure/SecureTypes.sol";

/// @dev Gas of one secure fraud proof for BENCHMARKS.md (run `forge test --match-contract SecureGasTest -vv`):
/// SecureLeafVerifier.proposalDiffers on a proof that passes every check and runs the whole recomputation,
/// at 1M parameters (W = 2, depth 16), k = 8, cohorts 8, 32 and 64, with and without dropped members.
/// "calldata" is the proof as a coordinator's challenge would carry it (selector, taskId, leafIndex, proof);
/// "tx estimate" adds 21,000, that calldata (or the EIP-7623 floor where higher), the verifier's execution
/// and an estimate of the coordinator's own work: one cold slot read per committed participant to compare
/// its record (2,100 each) plus 20 cold reads for the context (the coordinator is not built yet).
contract SecureGasTest is TestBase {
    uint256 internal constant NUM_PARAMS = 1_000_000;
    uint256 internal constant WORDS = 2;
    uint256 internal constant NEIGHBOURS = 8;

    SecureLeafVerifier internal verifier;

    function setUp() external {
        verifier = new SecureLeafVerifier();
    }

    /// @dev PositionalMerkle works on calldata: the test reaches it through an external call to itself.
    function rootOf(uint256 index, bytes32[] calldata words, bytes32[] calldata siblings)
        external
        pure
        returns (bytes32)
    {
        return PositionalMerkle.rootFrom(PositionalMerkle.leafHash(index, words), index, siblings);
    }

    function _word(string memory label, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode(label, i));
    }

    function _leaf(uint256 depth, uint256 leafIndex, string memory label)
        internal
        view
        returns (LeafProof memory leaf, bytes32 root)
    {
        leaf.words = new bytes32[](WORDS);
        leaf.siblings = new bytes32[](depth);
        for (uint256 w = 0; w < WORDS; ++w) {
            leaf.words[w] = _word(label, w);
        }
        for (uint256 d = 0; d < depth; ++d) {
            leaf.siblings[d] = _word(label, 100 + d);
        }
        root = SecureGasTest(address(this)).rootOf(leafIndex, leaf.words, leaf.siblings);
    }

    /// @dev Builds the context and a proof for `cohort` committed members of which every `every`-th (by index,
    /// from 1) dropped after committing (every = 0: none).
    function _case(uint256 cohort, uint256 every)
        internal
        view
        returns (SecureLeafContext memory ctx, SecureFraudProof memory proof)
    {
        ctx = _context(cohort, every);
        (proof.previous, ctx.previousRoot) = _leaf(ctx.depth, ctx.leafIndex, "previous");
        (proof.proposed, ctx.proposedRoot) = _leaf(ctx.depth, ctx.leafIndex, "proposed");
        uint256 stride = verifier.survivorStride(WORDS, ctx.depth);
        proof.survivors = new bytes32[](ctx.uploads * stride);
        proof.dropped = new bytes32[]((cohort - ctx.uploads) * 6);
        bytes32[] memory secrets = new bytes32[](cohort);
        uint256[] memory positions = SecureAggregation.ringPositions(ctx.roundSeed, cohort);
        uint256 s = 0;
        uint256 d = 0;
        for (uint256 i = 0; i < cohort; ++i) {
            if (!_isDropped(i, cohort, every)) {
                secrets[s] = _writeSurvivor(proof.survivors, s * stride, stride, i);
                ++s;
            } else {
                bool touching = _touchesSurvivor(i, cohort, every, positions);
                secrets[ctx.uploads + d] = _writeDropped(proof.dropped, d * 6, i, touching);
                ++d;
            }
        }
        ctx.transcriptHash = keccak256(abi.encodePacked(secrets));
    }

    function _context(uint256 cohort, uint256 every) internal pure returns (SecureLeafContext memory ctx) {
        ctx.depth = PositionalMerkle.depthFor(NUM_PARAMS, WORDS);
        ctx.wordsPerLeaf = WORDS;
        ctx.leafIndex = 12_345;
        ctx.serverLrBps = 10_000;
        ctx.clip = 1 << 20;
        ctx.numParams = NUM_PARAMS;
        ctx.roundSeed = keccak256(abi.encode("seed", cohort));
        ctx.advertised = cohort;
        ctx.neighbours = NEIGHBOURS;
        ctx.commits = cohort;
        ctx.uploads = cohort - (every == 0 ? 0 : cohort / every);
    }

    function _isDropped(uint256 i, uint256 cohort, uint256 every) internal pure returns (bool) {
        return every != 0 && (i + 1) % every == 0 && i / every < cohort / every;
    }

    function _touchesSurvivor(uint256 i, uint256 cohort, uint256 every, uint256[] memory positions)
        internal
        pure
        returns (bool)
    {
        for (uint256 j = 0; j < cohort; ++j) {
            if (
                !_isDropped(j, cohort, every)
                    && SecureAggregation.adjacent(positions[i], positions[j], cohort, NEIGHBOURS)
            ) {
                return true;
            }
        }
        return false;
    }

    /// @dev Member i's key pair: a fixed secret and its public key.
    function _keys(uint256 i) internal view returns (uint256 secret, bytes32 x, bytes32 y) {
        secret = uint256(_word("secret", i)) % (BN254.R - 1) + 1;
        (, uint256 px, uint256 py) = BN254.mul(1, 2, secret);
        (x, y) = (bytes32(px), bytes32(py));
    }

    function _head(uint256 i) internal pure returns (bytes32) {
        return bytes32((uint256(uint160(0x1000 + i)) << 96) | (i << 32) | (1 + i % 1000));
    }

    function _writeSurvivor(bytes32[] memory list, uint256 offset, uint256 stride, uint256 i)
        internal
        view
        returns (bytes32 seed)
    {
        (, list[offset + 1], list[offset + 2]) = _keys(i);
        seed = bytes32(uint256(_word("self seed", i)) % BN254.R);
        list[offset] = _head(i);
        list[offset + 3] = SecureAggregation.selfSeedHash(uint256(seed));
        list[offset + 4] = _word("bundle", i);
        list[offset + 5] = seed;
        for (uint256 w = 6; w < stride; ++w) {
            list[offset + w] = _word("masked", offset + w);
        }
    }

    function _writeDropped(bytes32[] memory list, uint256 offset, uint256 i, bool touching)
        internal
        view
        returns (bytes32 maskKey)
    {
        uint256 secret;
        (secret, list[offset + 1], list[offset + 2]) = _keys(i);
        maskKey = touching ? bytes32(secret) : bytes32(0);
        list[offset] = _head(i);
        list[offset + 3] = _word("seed hash", i);
        list[offset + 4] = _word("bundle", i);
        list[offset + 5] = maskKey;
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 standard, uint256 floor) {
        uint256 tokens;
        for (uint256 i = 0; i < data.length; ++i) {
            if (data[i] == 0) {
                standard += 4;
                tokens += 1;
            } else {
                standard += 16;
                tokens += 4;
            }
        }
        floor = 10 * tokens;
    }

    function _measure(string memory what, uint256 cohort, uint256 every) internal returns (uint256 execution) {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _case(cohort, every);
        execution = _execute(ctx, proof);
        bytes memory challenge =
            abi.encodeWithSelector(bytes4(keccak256("challengeSecure")), uint256(1), ctx.leafIndex, proof);
        (uint256 standard, uint256 floor) = _calldataGas(challenge);
        uint256 plain = 21_000 + standard + execution + 2_100 * (ctx.commits + 20);
        uint256 floored = 21_000 + floor;
        emit log_named_uint(string.concat(what, " dropped"), cohort - ctx.uploads);
        emit log_named_uint(string.concat(what, " verifier execution"), execution);
        emit log_named_uint(string.concat(what, " calldata bytes"), challenge.length);
        emit log_named_uint(string.concat(what, " tx estimate"), plain > floored ? plain : floored);
    }

    /// @dev Execution gas of one proposalDiffers call with the verifier's account cold, as a transaction finds it.
    function _execute(SecureLeafContext memory ctx, SecureFraudProof memory proof)
        internal
        returns (uint256 execution)
    {
        bytes memory data = abi.encodeCall(SecureLeafVerifier.proposalDiffers, (ctx, proof));
        new bytes(data.length + 4096); // pre-pay this test's memory growth, as in Gas.t.sol
        vm.cool(address(verifier));
        uint256 before = gasleft();
        (bool ok, bytes memory result) = address(verifier).staticcall(data);
        execution = before - gasleft();
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        (bool differs,,) = abi.decode(result, (bool, address[], bytes32[]));
        assertTrue(differs, "an arbitrary proposal leaf differs from the recomputed one");
    }

    function test_gasCohort8() external {
        _measure("cohort 8, none dropped:", 8, 0);
        _measure("cohort 8, 2 dropped:", 8, 4);
    }

    function test_gasCohort32() external {
        _measure("cohort 32, none dropped:", 32, 0);
        _measure("cohort 32, 4 dropped:", 32, 8);
    }

    function test_gasCohort64() external {
        _measure("cohort 64, none dropped:", 64, 0);
        _measure("cohort 64, 8 dropped:", 64, 8);
    }

    function test_gasGrowsWithDroppedMembers() external {
        uint256 none = _measure("cohort 32, none dropped:", 32, 0);
        uint256 some = _measure("cohort 32, 4 dropped:", 32, 8);
        assertTrue(some > none, "dropped members add pair masks to the proof's work");
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
