// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {TestBase} from "./TestBase.sol";
import {Trees} from "./Trees.sol";
import {DevToken} from "../../src/DevToken.sol";
import {IFedCoordinator} from "../../src/IFedCoordinator.sol";
import {Deployments} from "./Deployments.sol";
import {AggregateFraudProof, InputChallenge, LeafProof, RoundView, TaskParams} from "../../src/FedTypes.sol";
import {UpdateLeaf, UpdateLists} from "./UpdateLists.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {ProtocolHarness} from "./ProtocolHarness.sol";

/// @dev A deployed coordinator, a funded token, members and an aggregator, and helpers that drive a round.
/// The model has numParams = 12 coordinates in 2 leaves of one word (coordinates 12..15 are padding).
abstract contract CoordinatorFixture is TestBase {
    uint256 internal constant WINDOW = 100;
    uint256 internal constant STAKE = 100e18;
    uint256 internal constant BOND = 1000e18;
    uint256 internal constant REWARD = 10e18;
    uint256 internal constant DEPOSIT = 5e18;
    uint256 internal constant CLIP = 1000;
    uint256 internal constant PARAMS = 12;
    uint256 internal constant LEAVES = 2;

    DevToken internal token;
    ProtocolHarness internal harness;
    IFedCoordinator internal coordinator;
    address internal requester = address(0xA11CE);
    address internal aggregator = address(0xA66);
    address internal watcher = address(0x7A7C4);
    address[] internal members;
    uint256 internal taskId;
    bytes32[][] internal model; // leaves of the current global model
    mapping(address => bytes32[][]) internal updateOf;
    mapping(address => uint256) internal countOf;
    mapping(address => bytes32) internal saltOf;

    function setUp() public virtual {
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        harness = new ProtocolHarness();
        coordinator = Deployments.plain();
        for (uint256 i = 1; i <= 4; ++i) {
            members.push(address(uint160(0x1000 + i)));
        }
        _fund(requester, 1e24);
        _fund(aggregator, 1e24);
        _fund(watcher, 1e24);
        for (uint256 i = 0; i < members.length; ++i) {
            _fund(members[i], 1e24);
        }
        model = _vector(_fill(0, 3));
        taskId = _createTask(defaultParams());
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
        }
        vm.prank(aggregator);
        coordinator.postBond(taskId, BOND);
    }

    function defaultParams() internal view returns (TaskParams memory p) {
        p.commitWindow = uint32(WINDOW);
        p.revealWindow = uint32(WINDOW);
        p.proposeWindow = uint32(WINDOW);
        p.challengeWindow = uint32(WINDOW);
        p.availabilityWindow = uint32(WINDOW);
        p.availabilityBond = uint96(DEPOSIT);
        p.cohortCap = 8;
        p.minParticipants = 2;
        p.sampleCap = 1000;
        p.numRounds = 3;
        p.maxSilentRounds = 1;
        p.token = address(token);
        p.scaleBits = 16;
        p.wordsPerLeaf = 1;
        p.clip = uint32(CLIP);
        p.numParams = uint64(PARAMS);
        p.serverLrBps = 5000;
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
        p.modelSpecHash = keccak256("spec");
    }

    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(coordinator), type(uint256).max);
    }

    function _createTask(TaskParams memory p) internal returns (uint256 id) {
        vm.prank(requester);
        id = coordinator.createTask(p, Trees.root(model), keccak256("model blob"));
    }

    // ---------------------------------------------------------------- vectors

    /// @dev 16 lanes: value(i) = base + step * i for real coordinates, 0 for padding.
    function _fill(int256 base, int256 step) internal pure returns (int32[16] memory values) {
        for (uint256 i = 0; i < PARAMS; ++i) {
            values[i] = int32(base + step * int256(i));
        }
    }

    function _vector(int32[16] memory values) internal pure returns (bytes32[][] memory leaves) {
        leaves = new bytes32[][](LEAVES);
        for (uint256 l = 0; l < LEAVES; ++l) {
            int32[8] memory lanes;
            for (uint256 j = 0; j < 8; ++j) {
                lanes[j] = values[8 * l + j];
            }
            leaves[l] = new bytes32[](1);
            leaves[l][0] = Lanes.pack(lanes);
        }
    }

    /// @dev A model of `leaves` one-word leaves (numParams = 8 * leaves, no padding): coordinate c is
    /// (base + step * c) mod 500, in range for the fixture's clip.
    function _wideVector(int256 base, int256 step, uint256 leaves) internal pure returns (bytes32[][] memory v) {
        v = new bytes32[][](leaves);
        for (uint256 l = 0; l < leaves; ++l) {
            int32[8] memory lanes;
            for (uint256 j = 0; j < 8; ++j) {
                lanes[j] = int32((base + step * int256(8 * l + j)) % 500);
            }
            v[l] = new bytes32[](1);
            v[l][0] = Lanes.pack(lanes);
        }
    }

    /// @dev Member i's update in _commitAndReveal: distinct, in range, as wide as the current model.
    function _updateVector(uint256 i) internal view returns (bytes32[][] memory) {
        if (model.length == LEAVES) return _vector(_fill(int256(i) * 7 - 10, int256(i) + 1));
        return _wideVector(int256(i) * 7 - 10, int256(i) + 1, model.length);
    }

    /// @dev A copy of `correct` with coordinate `lane` of the first word of leaf `leaf` one higher: a tampered model.
    function _wrong(bytes32[][] memory correct, uint256 leaf, uint256 lane)
        internal
        pure
        returns (bytes32[][] memory w)
    {
        w = new bytes32[][](correct.length);
        for (uint256 l = 0; l < correct.length; ++l) {
            w[l] = new bytes32[](correct[l].length);
            for (uint256 k = 0; k < correct[l].length; ++k) {
                w[l][k] = correct[l][k];
            }
        }
        w[leaf][0] = Lanes.set(w[leaf][0], lane, Lanes.get(w[leaf][0], lane) + 1);
    }

    function _leafProof(bytes32[][] memory leaves, uint256 index) internal pure returns (LeafProof memory) {
        return LeafProof({words: leaves[index], siblings: Trees.proof(leaves, index)});
    }

    // ---------------------------------------------------------------- round drivers

    function _view() internal view returns (RoundView memory) {
        return coordinator.roundView(taskId, coordinator.taskState(taskId).currentRound);
    }

    function _commit(address member, bytes32[][] memory update, uint256 sampleCount) internal {
        uint256 round = coordinator.taskState(taskId).currentRound;
        updateOf[member] = update;
        countOf[member] = sampleCount;
        saltOf[member] = keccak256(abi.encode(member, round));
        bytes32 hash = coordinator.commitmentOf(taskId, round, member, Trees.root(update), sampleCount, saltOf[member]);
        vm.prank(member);
        coordinator.commit(taskId, hash);
    }

    function _reveal(address member) internal {
        vm.prank(member);
        coordinator.reveal(
            taskId, Trees.root(updateOf[member]), countOf[member], saltOf[member], keccak256(abi.encode(member))
        );
    }

    /// @dev Members 0..n-1 commit distinct in-range updates and reveal; ends at the reveal deadline.
    function _commitAndReveal(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            _commit(members[i], _updateVector(i), 100 * (i + 1));
        }
        vm.warp(_view().commitEnd);
        for (uint256 i = 0; i < n; ++i) {
            _reveal(members[i]);
        }
        vm.warp(_view().revealEnd);
    }

    function _weight(address member) internal view returns (uint256) {
        uint256 cap = coordinator.taskParams(taskId).sampleCap;
        return countOf[member] < cap ? countOf[member] : cap;
    }

    /// @dev The correct next model for the first n members' updates, under the task's rule.
    function _aggregate(uint256 n) internal view returns (bytes32[][] memory next) {
        next = new bytes32[][](model.length);
        TaskParams memory p = coordinator.taskParams(taskId);
        for (uint256 l = 0; l < model.length; ++l) {
            bytes32[][] memory leafUpdates = new bytes32[][](n);
            uint256[] memory counts = new uint256[](n);
            for (uint256 i = 0; i < n; ++i) {
                leafUpdates[i] = updateOf[members[i]][l];
                counts[i] = countOf[members[i]];
            }
            next[l] = harness.ruleLeaf(p.rule, p.ruleParam, model[l], leafUpdates, counts, p.sampleCap, p.serverLrBps);
        }
    }

    function _propose(bytes32[][] memory proposal) internal {
        vm.prank(aggregator);
        coordinator.propose(taskId, Trees.root(proposal), keccak256(abi.encode("proposal", proposal)));
    }

    /// @dev A fraud proof at `leafIndex` for a proposal over the first n members.
    function _fraudProof(bytes32[][] memory proposal, uint256 n, uint256 leafIndex)
        internal
        view
        returns (AggregateFraudProof memory)
    {
        return _fraudProofWith(proposal, leafIndex, _updateLeaves(n, leafIndex));
    }

    /// @dev A fraud proof at `leafIndex` for a proposal, with the given (possibly doctored) update leaves.
    function _fraudProofWith(bytes32[][] memory proposal, uint256 leafIndex, UpdateLeaf[] memory updates)
        internal
        view
        returns (AggregateFraudProof memory proof)
    {
        proof.leafIndex = leafIndex;
        proof.previous = _leafProof(model, leafIndex);
        proof.proposed = _leafProof(proposal, leafIndex);
        proof.updates = UpdateLists.encode(updates);
    }

    /// @dev The update leaves of the first n members at `leafIndex`.
    function _updateLeaves(uint256 n, uint256 leafIndex) internal view returns (UpdateLeaf[] memory updates) {
        updates = new UpdateLeaf[](n);
        for (uint256 i = 0; i < n; ++i) {
            address member = members[i];
            updates[i] = UpdateLeaf({
                participant: member, weight: _weight(member), leaf: _leafProof(updateOf[member], leafIndex)
            });
        }
    }

    function _finalizeWith(bytes32[][] memory proposal) internal {
        _propose(proposal);
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
        model = proposal;
    }

    // ---------------------------------------------------------------- other tasks and availability

    /// @dev Switches the fixture to a new task of rules `p` and initial model `initial` (numParams must fit it):
    /// every member joins it and the aggregator bonds; the round drivers then play it.
    function _useTask(TaskParams memory p, bytes32[][] memory initial) internal {
        model = initial;
        taskId = _createTask(p);
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
        }
        vm.prank(aggregator);
        coordinator.postBond(taskId, BOND);
    }

    /// @dev Asserts that every token the coordinator holds is owed to someone: for every task, its pool, the
    /// rewards it owes, the members' stakes, and the bonds and fees of `bonded`; plus `escrowed`, the
    /// availability bonds of challenges and disputes still open. (All tasks must use the fixture's token.)
    function _assertSolvent(address[] memory bonded, uint256 escrowed) internal view {
        uint256 owed = escrowed;
        for (uint256 id = 1; id < coordinator.nextTaskId(); ++id) {
            owed += coordinator.taskState(id).pool + coordinator.taskState(id).owedRewards;
            for (uint256 i = 0; i < members.length; ++i) {
                owed += coordinator.memberOf(id, members[i]).stake;
            }
            for (uint256 i = 0; i < bonded.length; ++i) {
                owed += coordinator.aggregatorOf(id, bonded[i]).bond + coordinator.feesOf(id, bonded[i]);
            }
        }
        assertEq(token.balanceOf(address(coordinator)), owed, "the coordinator holds exactly what it owes");
    }

    /// @dev `challenger` demands that `member`'s revealed update be put on chain.
    function _challengeUpdate(address challenger, address member) internal {
        bytes32 root = Trees.root(updateOf[member]);
        uint256 weight = _weight(member);
        vm.prank(challenger);
        coordinator.challengeUpdate(taskId, member, root, weight);
    }

    /// @dev `poster` puts every remaining chunk of `member`'s challenged update on chain.
    function _postChunks(address poster, address member) internal {
        uint256 r = coordinator.taskState(taskId).currentRound;
        InputChallenge memory c = coordinator.inputChallenge(taskId, r, member);
        for (uint256 k = c.chunksPosted; k < c.chunks; ++k) {
            (bytes32[] memory words, bytes32[] memory path) = Trees.chunk(updateOf[member], k, c.chunkLevels);
            vm.prank(poster);
            coordinator.postChunk(taskId, r, member, k, words, path);
        }
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
