// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests narrow test values and build bitmaps with shifts of 1 on purpose.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,incorrect-shift)

import {GasMeter} from "../utils/GasMeter.sol";
import {DevToken} from "../../src/DevToken.sol";
import {LeafProof, TaskParams} from "../../src/FedTypes.sol";
import {PositionalMerkle} from "../../src/libraries/PositionalMerkle.sol";
import {BN254} from "../../src/secure/BN254.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";
import {ISecureCoordinator} from "../../src/secure/ISecureCoordinator.sol";
import {Deployments} from "../utils/Deployments.sol";
import {SecureFraudProof} from "../../src/secure/SecureTypes.sol";

/// @dev A whole secure round on the SecureCoordinator, `cohort` members of which those at every `every`-th ring
/// position drop after committing, and `challengeAggregate` with a proof of it that passes every check and runs
/// the whole recomputation (the proposal is arbitrary, so it is rejected), measured as GasMeter says. Masked
/// leaves and Merkle siblings are arbitrary words: what the contract checks is that they lead to each member's
/// uploaded masked root, not what the masks are. The model's size and the secure rules (k, t) are storage,
/// 1M parameters at W = 2 (depth 16), k = 8, t = 4 unless a test sets them.
abstract contract SecureRoundBench is GasMeter {
    uint256 internal numParams = 1_000_000;
    uint256 internal leafWidth = 2;
    uint256 internal neighbours = 8;
    uint256 internal threshold = 4;
    uint256 internal constant WINDOW = 100;
    uint256 internal constant LEAF = 12_345; // the leaf every proof is at (its low `depth` bits: _leafIndex)

    DevToken internal token;
    ISecureCoordinator internal coordinator;
    address internal aggregator = address(0xA66);
    uint256 internal taskId;
    uint256 internal depth;
    uint256 internal cohort;
    uint256 internal every; // the members at every `every`-th ring position drop after committing; 0: none
    uint256 internal gapFrom; // if nonzero instead: the members at ring positions >= gapFrom drop (one big gap)
    uint256[] internal positions; // ring position of each advertise index

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

    function _leaf(uint256 width, string memory label, uint256 i)
        internal
        view
        returns (LeafProof memory leaf, bytes32 root)
    {
        leaf.words = new bytes32[](width);
        leaf.siblings = new bytes32[](depth);
        for (uint256 w = 0; w < width; ++w) {
            leaf.words[w] = _word(label, 1000 * i + w);
        }
        for (uint256 d = 0; d < depth; ++d) {
            leaf.siblings[d] = _word(label, 1000 * i + 100 + d);
        }
        root = SecureRoundBench(address(this)).rootOf(_leafIndex(), leaf.words, leaf.siblings);
    }

    function _leafIndex() internal view returns (uint256) {
        return LEAF & ((uint256(1) << depth) - 1);
    }

    function _member(uint256 i) internal pure returns (address) {
        return address(uint160(0x1000 + i));
    }

    function _secret(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("secret", i))) % (BN254.R - 1) + 1;
    }

    function _pk(uint256 i) internal view returns (uint256 x, uint256 y) {
        (, x, y) = BN254.mul(BN254.GX, BN254.GY, _secret(i));
    }

    function _seed(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("self seed", i))) % BN254.R;
    }

    function _weight(uint256 i) internal pure returns (uint256) {
        return 1 + i % 1000;
    }

    /// @dev Dropped members are spread evenly over the ring, so the survivors stay unmaskable (10.7).
    function _dropped(uint256 i) internal view returns (bool) {
        if (gapFrom != 0) return positions[i] >= gapFrom;
        return every != 0 && (positions[i] + 1) % every == 0;
    }

    function _fund(address who) internal {
        token.mint(who, 1e24);
        vm.prank(who);
        token.approve(address(coordinator), type(uint256).max);
    }

    /// @dev A task and a round played up to its propose window: everyone advertises and commits; all but
    /// the dropped members upload their masked roots.
    function _round(uint256 cohort_, uint256 every_) internal {
        _roundUploaded(cohort_, every_);
        vm.warp(1_000_000 + 4 * WINDOW + 2 * WINDOW); // the availability phase lasts 2 * availabilityWindow
    }

    /// @dev The rules of the bench's task for a cohort of `size` (token: the current one).
    function _taskParams(uint256 size) internal view returns (TaskParams memory p) {
        (p.commitWindow, p.revealWindow, p.proposeWindow, p.challengeWindow) =
            (uint32(WINDOW), uint32(WINDOW), uint32(WINDOW), uint32(WINDOW));
        (p.cohortCap, p.minParticipants, p.sampleCap, p.numRounds, p.maxSilentRounds) = (uint16(size), 1, 1000, 10, 3);
        (p.token, p.mode, p.scaleBits, p.wordsPerLeaf, p.clip) = (address(token), 1, 16, uint8(leafWidth), 1 << 20);
        (p.numParams, p.serverLrBps, p.unbondingDelay) = (uint64(numParams), 10_000, 1);
        (p.aggregatorSlashBps, p.bountyBps, p.minStake, p.aggregatorBond) = (5000, 5000, 1e18, 100e18);
        (p.missedRevealSlashBps, p.violationSlashBps, p.availabilityWindow, p.availabilityBond) =
            (1000, 5000, uint32(WINDOW), 1e18);
        (p.rewardPerRound, p.neighbours, p.threshold, p.modelSpecHash) =
            (1e18, uint8(neighbours), uint8(threshold), keccak256("spec"));
    }

    /// @dev The same round up to its uploads: the time is then in the upload window.
    function _roundUploaded(uint256 cohort_, uint256 every_) internal {
        (cohort, every) = (cohort_, every_);
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        coordinator = Deployments.secure();
        depth = PositionalMerkle.depthFor(numParams, leafWidth);
        TaskParams memory p = _taskParams(cohort);
        (, bytes32 modelRoot) = _leaf(leafWidth, "previous", 0);
        _fund(address(this));
        taskId = coordinator.createTask(p, modelRoot, keccak256("blob"));
        _fund(aggregator);
        vm.prank(aggregator);
        coordinator.postBond(taskId, 100e18);
        for (uint256 i = 0; i < cohort; ++i) {
            _fund(_member(i));
            vm.prank(_member(i));
            coordinator.join(taskId, 1e18);
            (uint256 x, uint256 y) = _pk(i);
            vm.prank(_member(i));
            coordinator.advertise(taskId, x, y, _word("x25519", i));
        }
        vm.warp(1_000_000 + WINDOW);
        coordinator.fixRoundSeed(taskId);
        positions = SecureAggregation.ringPositions(coordinator.secureRound(taskId, 0).seed, cohort);
        for (uint256 i = 0; i < cohort; ++i) {
            (uint256 x, uint256 y) = _pk(i);
            vm.prank(_member(i));
            coordinator.commitShares(
                taskId, i, x, y, SecureAggregation.selfSeedHash(_seed(i)), abi.encodePacked(_word("bundle", i)), _weight(i)
            );
        }
        vm.warp(1_000_000 + 2 * WINDOW);
        for (uint256 i = 0; i < cohort; ++i) {
            if (!_dropped(i)) _upload(i);
        }
    }

    function _upload(uint256 i) internal {
        (uint256 x, uint256 y) = _pk(i);
        // before the prank: the calls that compute them (sha256, the tree helper) would take it
        bytes32 bundleRef = _bundleRef(i);
        bytes32 maskedRoot = _maskedRoot(i);
        vm.prank(_member(i));
        coordinator.upload(
            taskId, i, x, y, SecureAggregation.selfSeedHash(_seed(i)), bundleRef, _weight(i), maskedRoot, bundleRef
        );
    }

    function _maskedRoot(uint256 i) internal view virtual returns (bytes32 root) {
        (, root) = _leaf(2 * leafWidth, "masked", i);
    }

    /// @dev Member i's share bundle reference: the sha256 of the bundle it committed.
    function _bundleRef(uint256 i) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(_word("bundle", i)));
    }

    /// @dev The transcript (survivors' seeds, then the dropped members' keys where a survivor neighbours them)
    /// and the proof of the arbitrary `proposed` leaf.
    function _proof(LeafProof memory proposed)
        internal
        view
        returns (bytes32[] memory transcript, SecureFraudProof memory proof)
    {
        (proof.previous,) = _leaf(leafWidth, "previous", 0);
        proof.proposed = proposed;
        uint256 drops = _drops();
        uint256 stride = 6 + 2 * leafWidth + depth;
        proof.survivors = new bytes32[]((cohort - drops) * stride);
        proof.dropped = new bytes32[](drops * 6);
        transcript = new bytes32[](cohort);
        (uint256 s, uint256 d) = (0, 0);
        for (uint256 i = 0; i < cohort; ++i) {
            (uint256 x, uint256 y) = _pk(i);
            bytes32 head = bytes32((uint256(uint160(_member(i))) << 96) | (i << 32) | _weight(i));
            if (!_dropped(i)) {
                (LeafProof memory masked,) = _leaf(2 * leafWidth, "masked", i);
                bytes32[] memory entry = proof.survivors;
                uint256 at = s * stride;
                (entry[at], entry[at + 1], entry[at + 2]) = (head, bytes32(x), bytes32(y));
                (entry[at + 3], entry[at + 4], entry[at + 5]) =
                    (SecureAggregation.selfSeedHash(_seed(i)), _bundleRef(i), bytes32(_seed(i)));
                for (uint256 w = 0; w < 2 * leafWidth; ++w) {
                    entry[at + 6 + w] = masked.words[w];
                }
                for (uint256 k = 0; k < depth; ++k) {
                    entry[at + 6 + 2 * leafWidth + k] = masked.siblings[k];
                }
                transcript[s++] = bytes32(_seed(i));
            } else {
                bytes32 key = _touchesSurvivor(i) ? bytes32(_secret(i)) : bytes32(0);
                bytes32[6] memory entry = [
                    head, bytes32(x), bytes32(y), SecureAggregation.selfSeedHash(_seed(i)), _bundleRef(i), key
                ];
                for (uint256 w = 0; w < 6; ++w) {
                    proof.dropped[6 * d + w] = entry[w];
                }
                transcript[cohort - drops + d++] = key;
            }
        }
    }

    function _drops() internal view returns (uint256 count) {
        for (uint256 i = 0; i < cohort; ++i) {
            if (_dropped(i)) ++count;
        }
    }

    function _touchesSurvivor(uint256 i) internal view returns (bool) {
        for (uint256 j = 0; j < cohort; ++j) {
            if (!_dropped(j) && SecureAggregation.adjacent(positions[i], positions[j], cohort, neighbours)) return true;
        }
        return false;
    }

    /// @dev Plays the round and measures the proof; returns its cost and its calldata bytes.
    function _challengeGas(uint256 cohort_, uint256 every_) internal returns (Cost memory c, uint256 size) {
        _round(cohort_, every_);
        (LeafProof memory proposed, bytes32 proposedRoot) = _leaf(leafWidth, "proposed", 0);
        (bytes32[] memory transcript, SecureFraudProof memory proof) = _proof(proposed);
        vm.prank(aggregator);
        coordinator.propose(taskId, proposedRoot, keccak256("next"), transcript);
        bytes memory data = abi.encodeCall(coordinator.challengeAggregate, (taskId, _leafIndex(), proof));
        size = data.length;
        c = _measure(address(coordinator), address(coordinator.SECURE_VERIFIER()), address(0xC4A11), data);
        assertTrue(coordinator.aggregatorOf(taskId, aggregator).bond < 100e18, "the challenge succeeded");
        string memory label = string.concat(
            "secure fraud proof cohort ",
            vm.toString(cohort),
            " dropped ",
            vm.toString(_drops()),
            " calldata bytes ",
            vm.toString(4 + 32 * (10 + proof.survivors.length + proof.dropped.length + 2 * (leafWidth + depth)))
        );
        _log(label, c);
    }
}

/// @dev Gas of one secure fraud proof for BENCHMARKS.md (run `forge test --match-contract SecureGasTest -vv`):
/// the SecureRoundBench round at 1M parameters (W = 2, depth 16), k = 8, t = 4, cohorts 8, 32 and 64 with and
/// without dropped members.
contract SecureGasTest is SecureRoundBench {
    function test_gasSecureFraudProofCohort8() external {
        _challengeGas(8, 0);
        _challengeGas(8, 4);
    }

    function test_gasSecureFraudProofCohort32() external {
        _challengeGas(32, 0);
        _challengeGas(32, 8);
    }

    function test_gasSecureFraudProofCohort64() external {
        _challengeGas(64, 0);
        _challengeGas(64, 8);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,incorrect-shift)
