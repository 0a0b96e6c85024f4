// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Deadlines are chain time by design (windows are minutes or more; validators skew timestamps by seconds),
// and every narrowing cast below is bounded by the TaskParams ranges or by a check before it.
// forge-lint: disable-start(block-timestamp,unsafe-typecast)

import {CoordinatorBase} from "../CoordinatorBase.sol";
import {Member, Mode, Round, RoundPhase, TaskParams, TaskState} from "../FedTypes.sol";
import {Commitments} from "../libraries/Commitments.sol";
import {Schedule} from "../libraries/Schedule.sol";
import {BN254} from "./BN254.sol";
import {ISecureCoordinatorEvents} from "./ISecureCoordinator.sol";
import {SecureAggregation} from "./SecureAggregation.sol";
import {SecureLeafVerifier} from "./SecureLeafVerifier.sol";
import {SecureFraudProof, SecureLeafContext, SecureRound} from "./SecureTypes.sol";

/// @title SecureCoordinator
/// @notice Coordinator of secure-mode tasks (docs/protocol.md section 10): SecAgg+ with the chain as the
/// broadcast channel. Members advertise round keys, commit to their shared secrets, upload masked updates
/// and publish unmask bundles; a bonded aggregator proposes the next model with the round's transcript of
/// secrets; anyone proves a wrong proposal at one leaf through the SecureLeafVerifier. Tasks, stakes,
/// rewards and slashing come from CoordinatorBase and its modules (the Availability module forces masked
/// vectors into the open before the unmask phase). Share bundles travel on chain, in the commitment. Each
/// member's entry word holds, for its round, the hash of (round, advertised keys), then of (round, record), as
/// docs/protocol.md section 10.12 says. The whole interface is ISecureCoordinator.
contract SecureCoordinator is CoordinatorBase, ISecureCoordinatorEvents {
    /// @notice Stateless leaf-level check of a secure fraud proof, deployed with this contract.
    SecureLeafVerifier public immutable SECURE_VERIFIER;

    /// @param registry A deployed Registry module.
    /// @param availability A deployed Availability module.
    constructor(address registry, address availability) CoordinatorBase(registry, availability) {
        SECURE_VERIFIER = new SecureLeafVerifier();
    }

    // ------------------------------------------------------------------ rounds

    /// @notice Advertises the caller's round keys (U1). Window: start <= now < start + commitWindow. Needs
    /// stake >= minStake (after the caller's last entry is settled), no pending exit, room in the cohort.
    /// @param taskId Task of the round.
    /// @param pkX Mask public key, BN254 G1 x coordinate.
    /// @param pkY Mask public key, y coordinate.
    /// @param encryptionKey X25519 public key that carries the shares sent to the caller.
    function advertise(uint256 taskId, uint256 pkX, uint256 pkY, bytes32 encryptionKey) external {
        if (!BN254.isOnCurve(pkX, pkY)) revert InvalidPublicKey(msg.sender);
        if (encryptionKey == bytes32(0)) revert ZeroHash();
        (uint256 r, Member storage m, uint256 index) = _enterRound(taskId);
        SecureRound storage secure = _secure[taskId][r];
        secure.digest = SecureAggregation.advertiseDigest(secure.digest, msg.sender, pkX, pkY, encryptionKey);
        m.entry = Commitments.advertisedEntry(keccak256(abi.encode(r, index, pkX, pkY)));
        emit Advertised(taskId, r, msg.sender, index, pkX, pkY, encryptionKey);
    }

    /// @notice Fixes the round seed (it keys the neighbour graph and every pairwise mask) from the final
    /// advertise digest and block.prevrandao. Anyone may call, once, from the advertise deadline on.
    /// @param taskId Task of the current round.
    function fixRoundSeed(uint256 taskId) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        Round storage round = _activeRound(taskId, r);
        uint256 advertiseEnd = uint256(round.start) + _params[taskId].commitWindow;
        if (block.timestamp < advertiseEnd) revert OutsideWindow(advertiseEnd, type(uint256).max);
        SecureRound storage secure = _secure[taskId][r];
        if (secure.seed != bytes32(0)) revert SeedAlreadyFixed(r);
        uint256 randomness = block.prevrandao;
        bytes32 seed = SecureAggregation.roundSeed(block.chainid, address(this), taskId, r, secure.digest, randomness);
        secure.seed = seed;
        secure.randomness = randomness;
        emit RoundSeedFixed(taskId, r, seed, randomness);
    }

    /// @notice Commits to the caller's shared secrets (U2): its self-seed hash, its share bundle (on chain, in
    /// the SharesCommitted event; its sha256 is the shareBundleRef of the record) and its sample count. Window:
    /// advertiseEnd <= now < advertiseEnd + commitWindow, with the seed fixed. The advertised keys and index are
    /// restated and checked.
    /// @param taskId Task of the round.
    /// @param index The caller's advertise index.
    /// @param pkX Advertised mask key, x.
    /// @param pkY Advertised mask key, y.
    /// @param selfSeedHash keccak(abi.encode(SELF_SEED_TAG, selfSeed)).
    /// @param shareBundle The share bundle (docs/protocol.md section 10.6).
    /// @param sampleCount Local sample count, >= 1; the weight is min(sampleCount, sampleCap).
    function commitShares(
        uint256 taskId,
        uint256 index,
        uint256 pkX,
        uint256 pkY,
        bytes32 selfSeedHash,
        bytes calldata shareBundle,
        uint256 sampleCount
    ) external {
        (uint256 r, uint256 weight) = _openCommit(taskId, sampleCount);
        if (selfSeedHash == bytes32(0) || shareBundle.length == 0) revert ZeroHash();
        bytes32 shareBundleRef = sha256(shareBundle);
        Member storage m = _members[taskId][msg.sender];
        if (m.entry != Commitments.advertisedEntry(keccak256(abi.encode(r, index, pkX, pkY)))) {
            revert CommitmentMismatch(msg.sender);
        }
        bytes32 record = SecureAggregation.record(index, pkX, pkY, selfSeedHash, shareBundleRef, weight, bytes32(0));
        m.entry = Commitments.committedEntry(keccak256(abi.encode(r, record)));
        emit SharesCommitted(taskId, r, msg.sender, selfSeedHash, shareBundleRef, sampleCount, weight, shareBundle);
    }

    /// @notice Uploads the caller's masked vector (U3): its Merkle root and blob reference. Window: commitEnd
    /// <= now < commitEnd + revealWindow. The committed record is restated and checked.
    /// @param taskId Task of the round.
    /// @param index The caller's advertise index.
    /// @param pkX Advertised mask key, x.
    /// @param pkY Advertised mask key, y.
    /// @param selfSeedHash As committed.
    /// @param shareBundleRef As committed.
    /// @param weight As committed: min(sampleCount, sampleCap).
    /// @param maskedRoot Merkle root of the masked vector (docs/protocol.md section 10.3).
    /// @param blobRef sha256 reference of the masked vector's blob (already in storage).
    function upload(
        uint256 taskId,
        uint256 index,
        uint256 pkX,
        uint256 pkY,
        bytes32 selfSeedHash,
        bytes32 shareBundleRef,
        uint256 weight,
        bytes32 maskedRoot,
        bytes32 blobRef
    ) external {
        uint256 r = _openUpload(taskId, index, weight);
        if (maskedRoot == bytes32(0) || blobRef == bytes32(0)) revert ZeroHash();
        Member storage m = _members[taskId][msg.sender];
        bytes32 committed = SecureAggregation.record(index, pkX, pkY, selfSeedHash, shareBundleRef, weight, bytes32(0));
        if (m.entry != Commitments.committedEntry(keccak256(abi.encode(r, committed)))) {
            revert CommitmentMismatch(msg.sender);
        }
        bytes32 record = SecureAggregation.record(index, pkX, pkY, selfSeedHash, shareBundleRef, weight, maskedRoot);
        m.entry = Commitments.revealedEntryOf(keccak256(abi.encode(r, record)), weight);
        emit Uploaded(taskId, r, msg.sender, maskedRoot, blobRef);
    }

    /// @notice Announces the caller's unmask bundle (docs/protocol.md section 10.6) for the aggregator and the
    /// watchers. Window: the unmask phase, unmaskStart <= now < revealEnd, with every masked-vector challenge
    /// settled (U3 final). Only a survivor (U3) may publish.
    /// @param taskId Task of the round.
    /// @param bundleRef sha256 reference of the unmask bundle (already in storage).
    function publishUnmaskBundle(uint256 taskId, bytes32 bundleRef) external {
        TaskState storage task = _runningTask(taskId);
        uint256 r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _activeRound(taskId, r);
        uint256 unmaskStart = Schedule.unmaskStart(p, round.start);
        uint256 unmaskEnd = unmaskStart + p.revealWindow;
        if (block.timestamp < unmaskStart || block.timestamp >= unmaskEnd) {
            revert OutsideWindow(unmaskStart, unmaskEnd);
        }
        if (round.openChallenges != 0) revert AvailabilityPending(round.openChallenges, round.openDisputes);
        Member storage m = _members[taskId][msg.sender];
        if (m.lastCommitRound != r + 1 || !Commitments.isRevealed(m.entry)) revert NotIncluded(msg.sender);
        if (bundleRef == bytes32(0)) revert ZeroHash();
        emit UnmaskBundlePublished(taskId, r, msg.sender, bundleRef);
    }

    /// @notice Proposes the next global model with the round's transcript (docs/protocol.md section 10.8):
    /// the survivors' self seeds, then the dropped members' mask keys (0 for one no survivor neighbours),
    /// each group by increasing address. Window and eligibility as in plain mode; the survivors must be
    /// unmaskable.
    /// @param taskId Task of the round.
    /// @param root Merkle root of the proposed model.
    /// @param blobRef sha256 reference of the proposed model blob.
    /// @param transcript One word per committed member.
    function propose(uint256 taskId, bytes32 root, bytes32 blobRef, bytes32[] calldata transcript) external {
        uint256 r = _recordProposal(taskId, root, blobRef);
        uint256 committed = _rounds[taskId][r].reveals;
        if (transcript.length != committed) revert WrongTranscriptLength(transcript.length, committed);
        _secure[taskId][r].transcriptHash = keccak256(abi.encodePacked(transcript));
        emit TranscriptProposed(taskId, r, transcript);
    }

    /// @notice Proves the pending proposal wrong at one leaf (docs/protocol.md section 10.10): its transcript
    /// holds a secret that does not match its owner's commitment, or the leaf differs from the one the
    /// survivors' masked leaves and the transcript give. The aggregator's bond is slashed (bounty to the
    /// caller), it is barred for this round and a new propose window opens. Reverts with ProposalCorrect if
    /// the proposal is right at this leaf. Allowed while the proposal may be challenged (section 8.2: before
    /// its challenge end, or while a model dispute of it is open).
    /// @param taskId Task of the current round.
    /// @param leafIndex The leaf shown.
    /// @param proof Model leaves, the survivors' and the dropped members' entries.
    function challengeAggregate(uint256 taskId, uint256 leafIndex, SecureFraudProof calldata proof) external {
        (uint256 r, Round storage round) = _challengeableRound(taskId);
        uint256 proofStart;
        assembly {
            proofStart := proof
        }
        (bool differs, address[] memory participants, bytes32[] memory records) = _callVerifier(
            address(SECURE_VERIFIER),
            SecureLeafVerifier.proposalDiffers.selector,
            abi.encode(_context(taskId, r, leafIndex, round)),
            proofStart
        );
        _checkRecords(taskId, r, round.included, participants, records);
        if (!differs) revert ProposalCorrect(leafIndex);
        _rejectProposal(taskId, r, round, leafIndex, msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @notice The secure state of a round: advertise digest, seed and its randomness, uploaded bitmap and the
    /// last proposal's transcript hash.
    function secureRound(uint256 taskId, uint256 round) external view returns (SecureRound memory) {
        return _secure[taskId][round];
    }

    // ------------------------------------------------------------------ internals

    function _mode() internal pure override returns (Mode) {
        return Mode.Secure;
    }

    /// @dev Secure rounds: Advertise, Commit, Upload, Availability, then Unmask (Schedule).
    function _inputPhase(TaskParams storage p, uint256 start) internal view override returns (RoundPhase) {
        uint256 t = block.timestamp;
        if (t < Schedule.advertiseEnd(p, start)) return RoundPhase.Advertise;
        if (t < Schedule.commitEnd(Mode.Secure, p, start)) return RoundPhase.Commit;
        if (t < Schedule.uploadEnd(p, start)) return RoundPhase.Upload;
        if (t < Schedule.unmaskStart(p, start)) return RoundPhase.Availability;
        return RoundPhase.Unmask;
    }

    /// @dev A secure round aggregates when its seed is fixed, at least minParticipants uploaded and the
    /// survivors may be unmasked (docs/protocol.md section 10.7).
    function _aggregatable(uint256 taskId, uint256 r, Round storage round) internal view override returns (bool) {
        TaskParams storage p = _params[taskId];
        SecureRound storage secure = _secure[taskId][r];
        if (secure.seed == bytes32(0) || round.included == 0 || round.included < p.minParticipants) return false;
        return SecureAggregation.unmaskable(secure.seed, round.commits, p.neighbours, p.threshold, secure.uploaded);
    }

    /// @dev Checks the commit window and the seed of the current round, counts the commitment and returns the
    /// round and the weight of `sampleCount`.
    function _openCommit(uint256 taskId, uint256 sampleCount) internal returns (uint256 r, uint256 weight) {
        TaskState storage task = _runningTask(taskId);
        r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _rounds[taskId][r];
        uint256 advertiseEnd = uint256(round.start) + p.commitWindow;
        uint256 commitEnd = advertiseEnd + p.commitWindow;
        if (block.timestamp < advertiseEnd || block.timestamp >= commitEnd) {
            revert OutsideWindow(advertiseEnd, commitEnd);
        }
        if (_secure[taskId][r].seed == bytes32(0)) revert SeedNotFixed(r);
        if (sampleCount == 0) revert ZeroSampleCount();
        weight = sampleCount < p.sampleCap ? sampleCount : p.sampleCap;
        unchecked {
            round.reveals += 1;
        }
    }

    /// @dev Checks the upload window of the current round, counts the upload of advertise index `index` with
    /// `weight` (the caller's record is checked by the caller) and returns the round.
    function _openUpload(uint256 taskId, uint256 index, uint256 weight) internal returns (uint256 r) {
        TaskState storage task = _runningTask(taskId);
        r = task.currentRound;
        TaskParams storage p = _params[taskId];
        Round storage round = _rounds[taskId][r];
        uint256 commitEnd = Schedule.commitEnd(Mode.Secure, p, round.start);
        uint256 uploadEnd = Schedule.uploadEnd(p, round.start);
        if (block.timestamp < commitEnd || block.timestamp >= uploadEnd) revert OutsideWindow(commitEnd, uploadEnd);
        // index < advertised <= 256 is bound by the record the caller checks; weight <= sampleCap <= 2^20
        _secure[taskId][r].uploaded |= 1 << index;
        unchecked {
            round.included += 1;
            round.totalWeight += uint32(weight);
        }
    }

    function _context(uint256 taskId, uint256 r, uint256 leafIndex, Round storage round)
        internal
        view
        returns (SecureLeafContext memory)
    {
        TaskState storage task = _tasks[taskId];
        TaskParams storage p = _params[taskId];
        SecureRound storage secure = _secure[taskId][r];
        return SecureLeafContext({
            depth: task.depth,
            wordsPerLeaf: p.wordsPerLeaf,
            leafIndex: leafIndex,
            previousRoot: task.modelRoot,
            proposedRoot: round.proposedRoot,
            serverLrBps: p.serverLrBps,
            clip: p.clip,
            numParams: p.numParams,
            roundSeed: secure.seed,
            advertised: round.commits,
            neighbours: p.neighbours,
            uploads: round.included,
            commits: round.reveals,
            transcriptHash: secure.transcriptHash
        });
    }

    /// @dev Reverts unless each record the verifier computed is bound by its participant's entry of round r:
    /// the first `uploads` as uploaded (survivors), the rest as committed and not uploaded (dropped). With the
    /// verifier's counts and orderings, that makes the lists exactly U3 and U2 minus U3.
    function _checkRecords(
        uint256 taskId,
        uint256 r,
        uint256 uploads,
        address[] memory participants,
        bytes32[] memory records
    ) internal view {
        mapping(address => Member) storage members = _members[taskId];
        for (uint256 i = 0; i < participants.length; ++i) {
            bytes32 entry = members[participants[i]].entry;
            bytes32 bound = keccak256(abi.encode(r, records[i]));
            bool ok = i < uploads
                ? Commitments.revealedBinds(entry, bound)
                : Commitments.holdsCommitment(entry, Commitments.committedEntry(bound));
            if (!ok) revert NotIncluded(participants[i]);
        }
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast)
