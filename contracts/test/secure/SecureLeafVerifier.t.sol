// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow vector values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(unsafe-typecast,incorrect-shift)

import {SecureHarness} from "./SecureHarness.sol";
import {SecureVectors} from "./SecureVectors.sol";
import {ICoordinatorEvents} from "../../src/ICoordinator.sol";
import {ISecureLeafVerifierErrors} from "../../src/secure/ISecureLeafVerifier.sol";
import {BN254} from "../../src/secure/BN254.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";
import {SecureLeafVerifier} from "../../src/secure/SecureLeafVerifier.sol";
import {SecureFraudProof, SecureLeafContext} from "../../src/secure/SecureTypes.sol";

/// @dev SecureLeafVerifier.proposalDiffers (docs/protocol.md section 10.10) on the shared proofs (three rounds
/// with dropouts, honest and wrong proposals, wrong transcripts) and on every revert.
contract SecureLeafVerifierTest is SecureVectors {
    SecureLeafVerifier internal verifier;
    SecureHarness internal harness;

    function setUp() external {
        _loadVectors();
        verifier = new SecureLeafVerifier();
        harness = new SecureHarness();
    }

    function test_sharedProofs() external view {
        uint256 n = _count("proofs");
        assertTrue(n >= 12, "proof vectors");
        uint256 honest = 0;
        for (uint256 i = 0; i < n; ++i) {
            (SecureLeafContext memory ctx, SecureFraudProof memory proof, string memory name) = _proofCase(i);
            (bool differs, address[] memory participants, bytes32[] memory records) =
                verifier.proposalDiffers(ctx, proof);
            string memory k = _key("proofs", i);
            assertEq(differs ? 1 : 0, _uint(k, "differs"), name);
            address[] memory expectedParticipants =
                vmJson.parseJsonAddressArray(json, string.concat(k, ".participants"));
            bytes32[] memory expectedRecords = vm.parseJsonBytes32Array(json, string.concat(k, ".records"));
            assertEq(participants.length, ctx.commits, "one participant per commit");
            for (uint256 j = 0; j < participants.length; ++j) {
                assertEq(participants[j], expectedParticipants[j], name);
                assertEq(records[j], expectedRecords[j], name);
            }
            if (!differs) ++honest;
        }
        assertTrue(honest > 0 && honest < n, "both verdicts covered");
    }

    /// @dev The first shared proof: round "a" (dropouts at every phase), honest, leaf 0.
    function _honest() internal view returns (SecureLeafContext memory ctx, SecureFraudProof memory proof) {
        (ctx, proof,) = _proofCase(0);
        assertTrue(proof.dropped.length > 0, "round a has dropped members");
    }

    function _stride(SecureLeafContext memory ctx) internal view returns (uint256) {
        return verifier.survivorStride(ctx.wordsPerLeaf, ctx.depth);
    }

    function _expectRevert(SecureLeafContext memory ctx, SecureFraudProof memory proof, bytes memory reason) internal {
        vm.expectRevert(reason);
        verifier.proposalDiffers(ctx, proof);
    }

    function test_unsupportedLeafWidth() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        ctx.wordsPerLeaf = 8;
        _expectRevert(ctx, proof, abi.encodeWithSelector(ISecureLeafVerifierErrors.UnsupportedLeafWidth.selector, 8));
    }

    function test_impossibleRoundSets() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        ctx.uploads = 0;
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(ISecureLeafVerifierErrors.InvalidRoundSets.selector, ctx.advertised, ctx.commits, 0)
        );
        (ctx, proof) = _honest();
        ctx.commits = ctx.advertised + 1;
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(
                ISecureLeafVerifierErrors.InvalidRoundSets.selector, ctx.advertised, ctx.commits, ctx.uploads
            )
        );
        (ctx, proof) = _honest();
        ctx.advertised = 257;
        ctx.commits = 257;
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(ISecureLeafVerifierErrors.InvalidRoundSets.selector, 257, 257, ctx.uploads)
        );
    }

    function test_modelLeavesMustBeProven() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        proof.previous.words[0] = bytes32(uint256(proof.previous.words[0]) ^ 1);
        _expectRevert(
            ctx, proof, abi.encodeWithSelector(ICoordinatorEvents.InvalidMerkleProof.selector, type(uint256).max)
        );
        (ctx, proof) = _honest();
        ctx.proposedRoot = keccak256("another proposal");
        _expectRevert(
            ctx, proof, abi.encodeWithSelector(ICoordinatorEvents.InvalidMerkleProof.selector, type(uint256).max - 1)
        );
        (ctx, proof) = _honest();
        bytes32[] memory one = new bytes32[](1);
        proof.proposed.words = one;
        _expectRevert(
            ctx, proof, abi.encodeWithSelector(ICoordinatorEvents.WrongLeafWidth.selector, 1, ctx.wordsPerLeaf)
        );
        (ctx, proof) = _honest();
        ctx.leafIndex = 1 << ctx.depth;
        _expectRevert(
            ctx, proof, abi.encodeWithSelector(ICoordinatorEvents.InvalidMerkleProof.selector, type(uint256).max)
        );
    }

    function test_survivorListShape() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        uint256 stride = _stride(ctx);
        proof.survivors = _truncate(proof.survivors, proof.survivors.length - 1);
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(ICoordinatorEvents.MalformedUpdateList.selector, proof.survivors.length, stride)
        );
        (ctx, proof) = _honest();
        proof.survivors = _truncate(proof.survivors, proof.survivors.length - stride);
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(ICoordinatorEvents.IncompleteUpdateSet.selector, ctx.uploads - 1, ctx.uploads)
        );
    }

    function test_survivorsMustBeSorted() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        uint256 stride = _stride(ctx);
        for (uint256 w = 0; w < stride; ++w) {
            (proof.survivors[w], proof.survivors[stride + w]) = (proof.survivors[stride + w], proof.survivors[w]);
        }
        _expectRevert(ctx, proof, abi.encodeWithSelector(ICoordinatorEvents.UpdatesNotSorted.selector, 1));
    }

    function test_droppedListShapeAndOrder() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        uint256 count = ctx.commits - ctx.uploads;
        proof.dropped = _truncate(proof.dropped, proof.dropped.length - 1);
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(ISecureLeafVerifierErrors.MalformedDroppedList.selector, proof.dropped.length, count)
        );
        (ctx, proof) = _honest();
        assertTrue(count >= 2, "two dropped entries to swap");
        for (uint256 w = 0; w < 6; ++w) {
            (proof.dropped[w], proof.dropped[6 + w]) = (proof.dropped[6 + w], proof.dropped[w]);
        }
        _expectRevert(ctx, proof, abi.encodeWithSelector(ISecureLeafVerifierErrors.DroppedNotSorted.selector, 1));
    }

    function test_headChecks() external {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        uint256 head = uint256(proof.survivors[0]);
        address participant = address(uint160(head >> 96));
        proof.survivors[0] = bytes32((head & ~(uint256(type(uint64).max) << 32)) | (ctx.advertised << 32));
        _expectRevert(
            ctx,
            proof,
            abi.encodeWithSelector(
                ISecureLeafVerifierErrors.AdvertiseIndexOutOfRange.selector, participant, ctx.advertised
            )
        );
        (ctx, proof) = _honest();
        proof.dropped[0] = bytes32(uint256(proof.dropped[0]) & ~uint256(type(uint32).max));
        _expectRevert(ctx, proof, abi.encodeWithSelector(ICoordinatorEvents.ZeroSampleCount.selector));
    }

    function test_theProofMustCarryTheProposalsTranscript() external view {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        bytes32 expected = ctx.transcriptHash;
        proof.survivors[5] = bytes32(uint256(proof.survivors[5]) ^ 1);
        (bool ok, bytes memory reason) =
            address(verifier).staticcall(abi.encodeCall(SecureLeafVerifier.proposalDiffers, (ctx, proof)));
        assertTrue(!ok, "reverts");
        assertEq(bytes4(reason), ISecureLeafVerifierErrors.TranscriptMismatch.selector, "TranscriptMismatch");
        bytes32 computed;
        bytes32 carried;
        assembly {
            computed := mload(add(reason, 36))
            carried := mload(add(reason, 68))
        }
        assertEq(carried, expected, "names the proposal's hash");
        assertTrue(computed != expected, "and the proof's");
    }

    /// @dev One survivor, W = 1, depth 0, whose masked leaf is exactly its self mask: the unmasked sum is 0,
    /// so the correct proposal repeats the previous leaf.
    function _selfMaskOnly(uint256 seed)
        internal
        view
        returns (SecureLeafContext memory ctx, SecureFraudProof memory proof)
    {
        ctx.depth = 0;
        ctx.wordsPerLeaf = 1;
        ctx.serverLrBps = 10_000;
        ctx.clip = 100;
        ctx.numParams = 8;
        ctx.roundSeed = keccak256("one");
        ctx.advertised = 1;
        ctx.neighbours = 2;
        ctx.uploads = 1;
        ctx.commits = 1;
        bytes32[] memory previous = new bytes32[](1);
        previous[0] = keccak256("previous leaf");
        proof.previous.words = previous;
        proof.proposed.words = previous;
        ctx.previousRoot = harness.leafHash(0, previous);
        ctx.proposedRoot = ctx.previousRoot;
        uint64[8] memory lanes = harness.lanes(bytes32(seed), 0);
        proof.survivors = new bytes32[](8);
        proof.survivors[0] = bytes32((uint256(uint160(address(0xA11CE))) << 96) | 1);
        (, uint256 x, uint256 y) = BN254.mul(1, 2, 7);
        proof.survivors[1] = bytes32(x);
        proof.survivors[2] = bytes32(y);
        proof.survivors[3] = SecureAggregation.selfSeedHash(seed);
        proof.survivors[5] = bytes32(seed);
        for (uint256 j = 0; j < 8; ++j) {
            proof.survivors[6 + j / 4] |= bytes32(uint256(lanes[j]) << (192 - 64 * (j % 4)));
        }
        ctx.transcriptHash = keccak256(abi.encodePacked(seed));
    }

    function test_aSeedOutsideTheFieldIsNeverValid() external view {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _selfMaskOnly(BN254.R - 5);
        (bool differs,,) = verifier.proposalDiffers(ctx, proof);
        assertTrue(!differs, "control: a seed in F_r and the right leaf");
        // the owner committed to the hash of a seed >= r and the proposal used it consistently
        (ctx, proof) = _selfMaskOnly(BN254.R + 5);
        (differs,,) = verifier.proposalDiffers(ctx, proof);
        assertTrue(differs, "a seed outside F_r is never a valid reveal");
    }

    function test_recordsBindWhatTheSlotsHold() external view {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        (,, bytes32[] memory records) = verifier.proposalDiffers(ctx, proof);
        // change the share-bundle reference of a survivor and of a dropped member: only their records change
        proof.survivors[4] = keccak256("another bundle");
        proof.dropped[4] = keccak256("another bundle");
        (bool differs,, bytes32[] memory changed) = verifier.proposalDiffers(ctx, proof);
        assertTrue(!differs, "the leaf does not depend on the bundle reference");
        for (uint256 j = 0; j < records.length; ++j) {
            bool touched = j == 0 || j == ctx.uploads;
            assertTrue((records[j] != changed[j]) == touched, "record changes exactly where the entry did");
        }
    }

    function test_aSurvivorKeyOffTheCurveReverts() external view {
        (SecureLeafContext memory ctx, SecureFraudProof memory proof) = _honest();
        // every survivor: one of them neighbours the revealed dropped key; the coordinator never admits such keys
        uint256 stride = _stride(ctx);
        for (uint256 s = 0; s < proof.survivors.length; s += stride) {
            proof.survivors[s + 2] = bytes32(uint256(3));
        }
        (bool ok, bytes memory reason) =
            address(verifier).staticcall(abi.encodeCall(SecureLeafVerifier.proposalDiffers, (ctx, proof)));
        assertTrue(!ok, "reverts");
        assertEq(bytes4(reason), ISecureLeafVerifierErrors.InvalidPublicKey.selector, "InvalidPublicKey");
    }

    function _truncate(bytes32[] memory list, uint256 length) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](length);
        for (uint256 i = 0; i < length; ++i) {
            out[i] = list[i];
        }
    }
}
// forge-lint: disable-end(unsafe-typecast,incorrect-shift)
