// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {TestBase} from "../utils/TestBase.sol";
import {Trees} from "../utils/Trees.sol";
import {DevToken} from "../../src/DevToken.sol";
import {LeafProof, MaskedRecord, TaskParams} from "../../src/FedTypes.sol";
import {ChaCha20} from "../../src/libraries/ChaCha20.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {BN254} from "../../src/secure/BN254.sol";
import {SecureAggregation} from "../../src/secure/SecureAggregation.sol";
import {ISecureCoordinator} from "../../src/secure/ISecureCoordinator.sol";
import {SecureFraudProof} from "../../src/secure/SecureTypes.sol";
import {Deployments} from "../utils/Deployments.sol";

/// @dev The secure round on chain (docs/protocol.md section 10.12) with real keys (ecMul), real ChaCha20
/// masks and real fraud proofs: four members, a complete neighbour graph (k = 4 >= n - 1), threshold 2,
/// one leaf of one word (8 coordinates, tree depth 0). Every masked vector is built here the way
/// fedchain.secagg.masking builds it, so the honest proposal is the one the verifier must accept. The
/// availability phase between upload and unmask lasts 2 * AVAIL.
abstract contract SecureFixture is TestBase {
    uint256 internal constant WINDOW = 100;
    uint256 internal constant AVAIL = 50;
    uint256 internal constant UNMASK = 3 * WINDOW + 2 * AVAIL; // unmask start, from the round's start
    uint256 internal constant END = 4 * WINDOW + 2 * AVAIL; // end of the input phases (revealEnd)
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant BOND = 1000e18;
    uint256 internal constant REWARD = 10e18;
    uint256 internal constant N = 4;

    DevToken internal token;
    ISecureCoordinator internal coordinator;
    address internal requester = address(0xA11CE);
    address internal aggregator = address(0xA66);
    address internal watcher = address(0x7A7C4);
    address[N] internal members;
    uint256 internal taskId;
    bytes32 internal previousWord; // the global model: one leaf of one word
    bytes32 internal seed;
    uint256[N] internal index; // advertise index of each member
    bool[N] internal committed;
    bool[N] internal uploadedBy;
    bytes32[N] internal bundleRef;

    function setUp() public {
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        coordinator = Deployments.secure();
        for (uint256 i = 0; i < N; ++i) {
            bundleRef[i] = sha256(_bundleBytes(i));
        }
        _fund(requester);
        _fund(aggregator);
        _fund(watcher);
        for (uint256 i = 0; i < N; ++i) {
            members[i] = address(uint160(0x1000 + i + 1));
            _fund(members[i]);
        }
        previousWord = Lanes.pack([int32(5), -5, 100, 0, 7, -7, 1, 2]);
        taskId = _createTask(secureParams());
        for (uint256 i = 0; i < N; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
        }
        vm.prank(aggregator);
        coordinator.postBond(taskId, BOND);
    }

    function secureParams() internal view returns (TaskParams memory p) {
        p.commitWindow = uint32(WINDOW);
        p.revealWindow = uint32(WINDOW);
        p.proposeWindow = uint32(WINDOW);
        p.challengeWindow = uint32(WINDOW);
        p.availabilityWindow = uint32(AVAIL);
        p.availabilityBond = 5e18;
        p.cohortCap = uint16(N);
        p.minParticipants = 2;
        p.sampleCap = 1000;
        p.numRounds = 3;
        p.maxSilentRounds = 2;
        p.token = address(token);
        p.mode = 1;
        p.scaleBits = 8;
        p.wordsPerLeaf = 1;
        p.clip = 1000;
        p.numParams = 8;
        p.serverLrBps = 10_000;
        p.unbondingDelay = 50;
        p.missedRevealSlashBps = 1000;
        p.silenceSlashBps = 500;
        p.violationSlashBps = 5000;
        p.aggregatorSlashBps = 5000;
        p.bountyBps = 2000;
        p.aggregatorFeeBps = 1000;
        p.minStake = uint128(STAKE);
        p.aggregatorBond = uint128(BOND);
        p.rewardPerRound = uint128(REWARD);
        p.neighbours = 4;
        p.threshold = 2;
        p.modelSpecHash = keccak256("spec");
    }

    function _fund(address who) internal {
        token.mint(who, 1e24);
        vm.prank(who);
        token.approve(address(coordinator), type(uint256).max);
    }

    function _createTask(TaskParams memory p) internal returns (uint256 id) {
        vm.prank(requester);
        id = coordinator.createTask(p, _modelRoot(previousWord), keccak256("model blob"));
    }

    // ---------------------------------------------------------------- the members' data

    function _secret(uint256 i) internal pure returns (uint256) {
        return 1000 + 7919 * i;
    }

    function _pk(uint256 i) internal view returns (uint256 x, uint256 y) {
        bool ok;
        (ok, x, y) = BN254.mul(BN254.GX, BN254.GY, _secret(i));
        assertTrue(ok, "ecMul");
    }

    function _selfSeed(uint256 i) internal pure returns (uint256) {
        return 5000 + i;
    }

    /// @dev Member i's share bundle as it goes on chain (its content is opaque to the contract).
    function _bundleBytes(uint256 i) internal pure returns (bytes memory) {
        return abi.encode("share bundle", i);
    }

    /// @dev Its reference: the sha256 the contract computes at commitShares (computed once in setUp: a
    /// precompile call between vm.prank and the pranked call would take the prank).
    function _bundle(uint256 i) internal view returns (bytes32) {
        return bundleRef[i];
    }

    function _sampleCount(uint256 i) internal pure returns (uint256) {
        return 10 * (i + 1);
    }

    function _update(uint256 i, uint256 c) internal pure returns (int256) {
        return int256(c * 3 + i * 11) - 20;
    }

    function _modelRoot(bytes32 word) internal pure returns (bytes32) {
        bytes32[] memory words = new bytes32[](1);
        words[0] = word;
        return Trees.leafHash(0, words);
    }

    // ---------------------------------------------------------------- driving a round

    function _advertise(uint256 i) internal {
        (uint256 x, uint256 y) = _pk(i);
        vm.prank(members[i]);
        coordinator.advertise(taskId, x, y, keccak256(abi.encode("x25519", i)));
        index[i] = coordinator.roundView(taskId, coordinator.taskState(taskId).currentRound).round.commits - 1;
    }

    function _fixSeed() internal {
        vm.warp(_round().start + WINDOW);
        coordinator.fixRoundSeed(taskId);
        seed = coordinator.secureRound(taskId, 0).seed;
    }

    function _commit(uint256 i) internal {
        (uint256 x, uint256 y) = _pk(i);
        vm.prank(members[i]);
        coordinator.commitShares(
            taskId, index[i], x, y, SecureAggregation.selfSeedHash(_selfSeed(i)), _bundleBytes(i), _sampleCount(i)
        );
        committed[i] = true;
    }

    function _upload(uint256 i) internal {
        (uint256 x, uint256 y) = _pk(i);
        bytes32[] memory words = _maskedWords(i);
        vm.prank(members[i]);
        coordinator.upload(
            taskId,
            index[i],
            x,
            y,
            SecureAggregation.selfSeedHash(_selfSeed(i)),
            _bundle(i),
            _sampleCount(i),
            Trees.leafHash(0, words),
            keccak256(abi.encode("masked blob", i))
        );
        uploadedBy[i] = true;
    }

    /// @dev All four advertise and commit; the members in `uploaders` upload; time moves to the propose window.
    function _playRound(bool[N] memory uploaders) internal {
        // (test_onlySurvivorsPublishUnmaskBundlesInTheUnmaskWindow warps back into the unmask window)
        for (uint256 i = 0; i < N; ++i) {
            _advertise(i);
        }
        _fixSeed();
        for (uint256 i = 0; i < N; ++i) {
            _commit(i);
        }
        vm.warp(_round().start + 2 * WINDOW);
        for (uint256 i = 0; i < N; ++i) {
            if (uploaders[i]) _upload(i);
        }
        vm.warp(_round().start + END);
    }

    function _round() internal view returns (SecureRoundView memory v) {
        v.start = coordinator.roundView(taskId, coordinator.taskState(taskId).currentRound).round.start;
    }

    struct SecureRoundView {
        uint256 start;
    }

    /// @dev Member i's masked leaf: w * u + selfMask(b) + sum over committed peers of sign * pairMask (mod 2^64),
    /// lane c big-endian at bytes [8(c % 4), 8(c % 4) + 8) of word c / 4.
    function _maskedWords(uint256 i) internal view returns (bytes32[] memory words) {
        uint256[8] memory lanes;
        for (uint256 c = 0; c < 8; ++c) {
            unchecked {
                lanes[c] = uint256(_update(i, c) * int256(_sampleCount(i)));
            }
        }
        _addStream(lanes, bytes32(_selfSeed(i)), true);
        for (uint256 v = 0; v < N; ++v) {
            if (v == i || !committed[v]) continue;
            _addStream(lanes, _pairKey(i, v), members[i] < members[v]);
        }
        words = new bytes32[](2);
        for (uint256 c = 0; c < 8; ++c) {
            uint256 lane = lanes[c] & type(uint64).max;
            words[c / 4] |= bytes32(lane << (192 - 64 * (c % 4)));
        }
    }

    function _pairKey(uint256 u, uint256 v) internal view returns (bytes32) {
        (uint256 px, uint256 py) = _pk(v);
        (bool ok, uint256 x, uint256 y) = BN254.mul(px, py, _secret(u));
        assertTrue(ok, "dh");
        return SecureAggregation.pairMaskKey(seed, x, y, members[u], members[v]);
    }

    function _addStream(uint256[8] memory lanes, bytes32 key, bool add) internal pure {
        (uint256 a, uint256 b, uint256 c, uint256 d) = ChaCha20.rows(key, 0);
        for (uint256 j = 0; j < 8; ++j) {
            uint256 mask = ChaCha20.lane(a, b, c, d, j);
            unchecked {
                lanes[j] = add ? lanes[j] + mask : lanes[j] - mask;
            }
        }
    }

    /// @dev The next model: previous + tdiv(sum of survivors' w * u, sum of their w) (server rate 1).
    function _nextWord() internal view returns (bytes32) {
        int32[8] memory previous = Lanes.unpack(previousWord);
        int32[8] memory next;
        int256 total;
        for (uint256 i = 0; i < N; ++i) {
            if (uploadedBy[i]) total += int256(_sampleCount(i));
        }
        for (uint256 c = 0; c < 8; ++c) {
            int256 sum;
            for (uint256 i = 0; i < N; ++i) {
                if (uploadedBy[i]) sum += _update(i, c) * int256(_sampleCount(i));
            }
            next[c] = int32(int256(previous[c]) + sum / total);
        }
        return Lanes.pack(next);
    }

    /// @dev Members sorted by address: survivors, then dropped (committed, not uploaded).
    function _ordered(bool survivors) internal view returns (uint256[] memory list) {
        uint256 count;
        uint256[N] memory picked;
        for (uint256 i = 0; i < N; ++i) {
            if (committed[i] && uploadedBy[i] == survivors) picked[count++] = i;
        }
        list = new uint256[](count);
        for (uint256 k = 0; k < count; ++k) {
            list[k] = picked[k]; // members[] ascend with i
        }
    }

    function _transcript() internal view returns (bytes32[] memory words) {
        uint256[] memory survivors = _ordered(true);
        uint256[] memory dropped = _ordered(false);
        words = new bytes32[](survivors.length + dropped.length);
        for (uint256 k = 0; k < survivors.length; ++k) {
            words[k] = bytes32(_selfSeed(survivors[k]));
        }
        for (uint256 k = 0; k < dropped.length; ++k) {
            words[survivors.length + k] = bytes32(_secret(dropped[k])); // complete graph: every survivor neighbours it
        }
    }

    function _propose(bytes32 word, bytes32[] memory transcript) internal {
        vm.prank(aggregator);
        coordinator.propose(taskId, _modelRoot(word), keccak256(abi.encode("model", word)), transcript);
    }

    function _head(uint256 i) internal view returns (bytes32) {
        return bytes32(uint256(uint160(members[i])) << 96 | index[i] << 32 | _sampleCount(i));
    }

    function _proof(bytes32 proposedWord, bytes32[] memory transcript)
        internal
        view
        returns (SecureFraudProof memory proof)
    {
        bytes32[] memory previousWords = new bytes32[](1);
        previousWords[0] = previousWord;
        bytes32[] memory proposedWords = new bytes32[](1);
        proposedWords[0] = proposedWord;
        proof.previous = LeafProof(previousWords, new bytes32[](0));
        proof.proposed = LeafProof(proposedWords, new bytes32[](0));
        uint256[] memory survivors = _ordered(true);
        uint256[] memory dropped = _ordered(false);
        proof.survivors = new bytes32[](8 * survivors.length);
        for (uint256 k = 0; k < survivors.length; ++k) {
            uint256 i = survivors[k];
            (uint256 x, uint256 y) = _pk(i);
            bytes32[] memory masked = _maskedWords(i);
            bytes32[8] memory entry = [
                _head(i),
                bytes32(x),
                bytes32(y),
                SecureAggregation.selfSeedHash(_selfSeed(i)),
                _bundle(i),
                transcript[k],
                masked[0],
                masked[1]
            ];
            for (uint256 w = 0; w < 8; ++w) {
                proof.survivors[8 * k + w] = entry[w];
            }
        }
        proof.dropped = new bytes32[](6 * dropped.length);
        for (uint256 k = 0; k < dropped.length; ++k) {
            uint256 i = dropped[k];
            (uint256 x, uint256 y) = _pk(i);
            bytes32[6] memory entry = [
                _head(i),
                bytes32(x),
                bytes32(y),
                SecureAggregation.selfSeedHash(_selfSeed(i)),
                _bundle(i),
                transcript[survivors.length + k]
            ];
            for (uint256 w = 0; w < 6; ++w) {
                proof.dropped[6 * k + w] = entry[w];
            }
        }
    }

    function _allUpload() internal pure returns (bool[N] memory all) {
        all = [true, true, true, true];
    }

    function _lastDrops() internal pure returns (bool[N] memory some) {
        some = [true, true, true, false];
    }

    /// @dev Proposes `word` (the honest aggregator was barred; a second one is bonded) and returns `proof`
    /// with its proposed leaf replaced.
    function _withProposal(SecureFraudProof memory proof, bytes32 word, bytes32[] memory transcript)
        internal
        returns (SecureFraudProof memory)
    {
        address second = address(0xB66);
        _fund(second);
        vm.prank(second);
        coordinator.postBond(taskId, BOND);
        vm.prank(second);
        coordinator.propose(taskId, _modelRoot(word), keccak256("second"), transcript);
        proof.proposed.words[0] = word;
        return proof;
    }


    /// @dev Member i's record as uploaded (what challengeMaskedVector restates).
    function _record(uint256 i) internal view returns (MaskedRecord memory record) {
        (uint256 x, uint256 y) = _pk(i);
        record = MaskedRecord({
            index: index[i],
            pkX: x,
            pkY: y,
            selfSeedHash: SecureAggregation.selfSeedHash(_selfSeed(i)),
            shareBundleRef: _bundle(i),
            weight: _sampleCount(i),
            maskedRoot: Trees.leafHash(0, _maskedWords(i))
        });
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
