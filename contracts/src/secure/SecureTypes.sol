// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafProof} from "../FedTypes.sol";

/// @notice What a secure round stores besides its Round (counts: commits = |U1| advertised, reveals = |U2|
/// committed, included = |U3| uploaded; totalWeight = the survivors' weights).
struct SecureRound {
    bytes32 digest; // running advertise digest (docs/protocol.md section 10.2)
    bytes32 seed; // round seed, 0 until fixRoundSeed
    uint256 randomness; // block.prevrandao the seed was fixed with
    uint256 uploaded; // bit i set: advertise index i uploaded (and was not dropped as unavailable)
    bytes32 transcriptHash; // keccak(abi.encodePacked(transcript)) of the last proposal
}

/// @notice The round and task facts a secure fraud proof is checked against; the coordinator fills it from
/// storage (docs/protocol.md section 10.10).
struct SecureLeafContext {
    uint256 depth; // tree depth D of the task
    uint256 wordsPerLeaf; // W of the model; a masked leaf has 2W words
    uint256 leafIndex;
    bytes32 previousRoot; // current global model
    bytes32 proposedRoot; // pending proposal
    uint256 serverLrBps;
    uint256 clip;
    uint256 numParams;
    bytes32 roundSeed;
    uint256 advertised; // |U1|: advertise indices run 0..advertised-1
    uint256 neighbours; // k
    uint256 uploads; // |U3|
    uint256 commits; // |U2|
    bytes32 transcriptHash; // keccak(abi.encodePacked(transcript)) of the pending proposal
}

/// @notice A fraud proof against a secure-mode proposal at one leaf (docs/protocol.md section 10.10).
/// `survivors` lists U3 by increasing address, 6 + 2W + D words each:
///     head, pkX, pkY, selfSeedHash, shareBundleRef, selfSeed, the 2W masked leaf words, the D path siblings
/// `dropped` lists U2 minus U3 by increasing address, 6 words each:
///     head, pkX, pkY, selfSeedHash, shareBundleRef, maskKey
/// head = uint256(uint160(participant)) << 96 | advertiseIndex << 32 | weight. selfSeed and maskKey are the
/// proposal's transcript, in this order (survivors, then dropped).
struct SecureFraudProof {
    LeafProof previous;
    LeafProof proposed;
    bytes32[] survivors;
    bytes32[] dropped;
}
