// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafProof} from "../FedTypes.sol";

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
}

/// @notice A fraud proof against a secure-mode proposal at one leaf (docs/protocol.md section 10.10).
/// `survivors` lists U3 by increasing address, 5 + 2W + D words each:
///     head, pkX, pkY, selfSeed, shareBundleRef, the 2W masked leaf words, the D path siblings
/// `dropped` lists U2 minus U3 by increasing address, 6 words each:
///     head, pkX, pkY, selfSeedHash, shareBundleRef, maskKey (0 when no survivor neighbours it)
/// head = uint256(uint160(participant)) << 96 | advertiseIndex << 32 | weight.
struct SecureFraudProof {
    LeafProof previous;
    LeafProof proposed;
    bytes32[] survivors;
    bytes32[] dropped;
}
