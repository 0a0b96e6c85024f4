// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(unsafe-typecast)

import {TestBase} from "./utils/TestBase.sol";
import {AggregateFraudProof, LeafProof} from "../src/FedTypes.sol";
import {LeafContext, LeafVerifier} from "../src/LeafVerifier.sol";
import {Lanes} from "../src/libraries/Lanes.sol";
import {Trees} from "./utils/Trees.sol";

/// @dev Every plain aggregate rule ignores padding coordinates (docs/protocol.md sections 4 and 11.5): a member that
/// commits nonzero padding, in a part of its tree nobody can see, cannot make an honest aggregate provably wrong.
contract LeafVerifierPaddingTest is TestBase {
    LeafVerifier internal verifier;

    uint256 internal constant NUM_PARAMS = 3; // one leaf of 8 coordinates: 3 real, 5 padding
    address internal constant MEMBER = address(0xBEEF);

    function setUp() external {
        verifier = new LeafVerifier();
    }

    function test_anUpdatesNonzeroPaddingDoesNotEnterTheAggregate() external view {
        bytes32 update = Lanes.pack([int32(1000), 2000, 3000, 77_777, -5, 0, 0, 9]);
        bytes32 honest = Lanes.pack([int32(1000), 2000, 3000, 0, 0, 0, 0, 0]);
        bytes32 copied = Lanes.pack([int32(1000), 2000, 3000, 77_777, -5, 0, 0, 9]);
        uint256[3] memory params = [uint256(0), 0, 2_500]; // FedAvg, median, trimmed mean (one update: none trimmed)
        for (uint256 rule = 0; rule < params.length; ++rule) {
            (bool differs,,) = verifier.proposalDiffers(_context(honest, rule, params[rule]), _proof(update, honest));
            assertTrue(!differs, "an aggregate with zero padding is right whatever the update's padding holds");
            (differs,,) = verifier.proposalDiffers(_context(copied, rule, params[rule]), _proof(update, copied));
            assertTrue(differs, "an aggregate that takes up the padding is wrong");
        }
    }

    function test_paddingIsStillAViolationOfTheUpdate() external view {
        bytes32 update = Lanes.pack([int32(1), 2, 3, 4, 0, 0, 0, 0]);
        bytes32[] memory words = new bytes32[](1);
        words[0] = update;
        LeafContext memory ctx = _context(bytes32(0), 0, 0);
        (bool found, uint256 coordinate) =
            verifier.findViolation(ctx, Trees.leafHash(0, words), LeafProof(words, new bytes32[](0)));
        assertTrue(found && coordinate == NUM_PARAMS, "the first padding coordinate that is not zero");
    }

    function _context(bytes32 proposed, uint256 rule, uint256 ruleParam)
        internal
        pure
        returns (LeafContext memory ctx)
    {
        bytes32[] memory words = new bytes32[](1);
        words[0] = proposed;
        ctx = LeafContext({
            round: 0,
            depth: 0,
            wordsPerLeaf: 1,
            leafIndex: 0,
            previousRoot: Trees.leafHash(0, new bytes32[](1)),
            proposedRoot: Trees.leafHash(0, words),
            rule: rule,
            ruleParam: ruleParam,
            serverLrBps: 10_000,
            clip: 1 << 20,
            numParams: NUM_PARAMS
        });
    }

    function _proof(bytes32 update, bytes32 proposed) internal pure returns (AggregateFraudProof memory proof) {
        bytes32[] memory proposedWords = new bytes32[](1);
        proposedWords[0] = proposed;
        bytes32[] memory updates = new bytes32[](2);
        updates[0] = bytes32((uint256(uint160(MEMBER)) << 96) | 1);
        updates[1] = update;
        proof.leafIndex = 0;
        proof.previous = LeafProof(new bytes32[](1), new bytes32[](0));
        proof.proposed = LeafProof(proposedWords, new bytes32[](0));
        proof.updates = updates;
    }
}
// forge-lint: disable-end(unsafe-typecast)
