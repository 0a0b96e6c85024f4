// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {LeafProof} from "../../src/FedTypes.sol";

/// @dev One included update of a fraud proof, before flattening into AggregateFraudProof.updates.
struct UpdateLeaf {
    address participant;
    uint256 weight;
    LeafProof leaf;
}

/// @dev Builds the flat update list of an aggregate fraud proof (docs/protocol.md section 9.1).
library UpdateLists {
    function encode(UpdateLeaf[] memory updates) internal pure returns (bytes32[] memory flat) {
        uint256 total = 0;
        for (uint256 i = 0; i < updates.length; ++i) {
            total += 1 + updates[i].leaf.words.length + updates[i].leaf.siblings.length;
        }
        flat = new bytes32[](total);
        uint256 at = 0;
        for (uint256 i = 0; i < updates.length; ++i) {
            UpdateLeaf memory update = updates[i];
            flat[at++] = bytes32((uint256(uint160(update.participant)) << 96) | update.weight);
            for (uint256 k = 0; k < update.leaf.words.length; ++k) {
                flat[at++] = update.leaf.words[k];
            }
            for (uint256 k = 0; k < update.leaf.siblings.length; ++k) {
                flat[at++] = update.leaf.siblings[k];
            }
        }
    }
}
