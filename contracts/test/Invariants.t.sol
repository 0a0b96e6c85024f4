// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Vm} from "./utils/TestBase.sol";
import {UpdateLeaf, UpdateLists} from "./utils/UpdateLists.sol";
import {Trees} from "./utils/Trees.sol";
import {ProtocolHarness} from "./utils/ProtocolHarness.sol";
import {DevToken} from "../src/DevToken.sol";
import {IFedCoordinator} from "../src/IFedCoordinator.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {
    AggregateFraudProof,
    EntryState,
    LeafProof,
    Member,
    RoundPhase,
    RoundView,
    TaskParams
} from "../src/FedTypes.sol";
import {Lanes} from "../src/libraries/Lanes.sol";

/// @dev Drives random but well-formed protocol actions and records what must never happen.
contract CoordinatorHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant LEAVES = 2;

    IFedCoordinator public immutable coordinator;
    DevToken public immutable token;
    ProtocolHarness public immutable harness;
    uint256 public immutable taskId;
    uint256 public immutable minStake;
    uint256 public immutable missedRevealSlashBps;
    address public immutable aggregator;
    address[] public members;

    bytes32[][] internal model;
    bytes32[][] internal proposal;
    bool internal proposalCorrect;
    uint256 internal wrongLeaf;
    mapping(address => mapping(uint256 => bytes32[][])) internal updates; // member => round => leaves
    mapping(address => mapping(uint256 => uint256)) internal counts;
    mapping(address => uint256) public earnedBy; // rewards of this member's reveals in finalized rounds
    mapping(address => uint256) public paidTo;

    mapping(address => uint256) public stakeIn;
    mapping(address => uint256) public stakeOut;
    uint256 public rewardsAllocated;
    uint256 public rewardsClaimed;
    bool public correctProposalRejected;
    bool public wrongProposalSurvived;
    uint256 public challengesWon;
    uint256 public roundsFinalized;

    constructor(
        IFedCoordinator coordinator_,
        DevToken token_,
        uint256 taskId_,
        address aggregator_,
        address[] memory members_,
        bytes32[][] memory model_
    ) {
        coordinator = coordinator_;
        token = token_;
        harness = new ProtocolHarness();
        taskId = taskId_;
        minStake = coordinator_.taskParams(taskId_).minStake;
        missedRevealSlashBps = coordinator_.taskParams(taskId_).missedRevealSlashBps;
        aggregator = aggregator_;
        members = members_;
        model = model_;
        for (uint256 i = 0; i < members_.length; ++i) {
            stakeIn[members_[i]] = coordinator_.memberOf(taskId_, members_[i]).stake;
        }
    }

    function membersLength() external view returns (uint256) {
        return members.length;
    }

    function _round() internal view returns (uint256) {
        return coordinator.taskState(taskId).currentRound;
    }

    function _view() internal view returns (RoundView memory) {
        return coordinator.roundView(taskId, _round());
    }

    function _vector(uint256 seed) internal pure returns (bytes32[][] memory leaves) {
        leaves = new bytes32[][](LEAVES);
        for (uint256 l = 0; l < LEAVES; ++l) {
            int32[8] memory lanes;
            for (uint256 j = 0; j < 8 && 8 * l + j < 12; ++j) {
                lanes[j] = int32(int256(uint256(keccak256(abi.encode(seed, l, j))) % 2001) - 1000);
            }
            leaves[l] = new bytes32[](1);
            leaves[l][0] = Lanes.pack(lanes);
        }
    }

    function _salt(address member, uint256 round) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", member, round));
    }

    // ---------------------------------------------------------------- actions

    /// @dev Takes up to 8 natural protocol steps for the current phase, so that short runs get through
    /// whole rounds; `seed` decides who acts, whether a proposal is wrong, and when time moves on.
    function advance(uint256 seed) external {
        uint256 steps = 1 + seed % 8;
        for (uint256 i = 0; i < steps; ++i) {
            uint256 entropy = uint256(keccak256(abi.encode(seed, i)));
            RoundPhase phase = _view().phase;
            if (phase == RoundPhase.Commit && entropy % 4 != 0) commit(entropy >> 8, entropy >> 16);
            else if (phase == RoundPhase.Reveal && entropy % 5 != 0) reveal(entropy >> 8);
            else if (phase == RoundPhase.Propose && entropy % 4 != 0) propose(entropy % 3 != 0, entropy >> 8);
            else if (phase == RoundPhase.Challenge && entropy % 2 == 0) challenge(entropy >> 8);
            else if (phase == RoundPhase.Finalizable) finalize();
            else if (phase == RoundPhase.AwaitingFailure) failRound();
            else if (phase == RoundPhase.ProposeExpired) reopen();
            else warp(entropy >> 8);
        }
    }

    /// @dev Moves time to the end of the current phase (or a little, outside timed phases).
    function warp(uint256 seed) public {
        // one honest watcher: a wrong proposal is always challenged before its window closes
        if (_view().phase == RoundPhase.Challenge && !proposalCorrect) challenge(seed);
        RoundView memory v = _view();
        uint256 target = block.timestamp + 1 + seed % 100;
        if (v.phase == RoundPhase.Commit) target = v.commitEnd;
        else if (v.phase == RoundPhase.Reveal) target = v.revealEnd;
        else if (v.phase == RoundPhase.Propose) target = v.proposeEnd;
        else if (v.phase == RoundPhase.Challenge) target = v.challengeEnd;
        vm.warp(target);
    }

    /// @dev Commits for the first eligible member at or after `who` (cyclically).
    function commit(uint256 who, uint256 seed) public {
        uint256 r = _round();
        if (_view().phase != RoundPhase.Commit) return;
        for (uint256 k = 0; k < members.length; ++k) {
            address m = members[(who % members.length + k) % members.length];
            Member memory member = coordinator.memberOf(taskId, m);
            if (member.exiting || !member.joined || member.lastCommitRound == r + 1) continue;
            if (_stakeAfterSettlement(m, member) < minStake) continue;
            updates[m][r] = _vector(seed);
            counts[m][r] = 1 + seed % 1500;
            bytes32 hash = coordinator.commitmentOf(taskId, r, m, Trees.root(updates[m][r]), counts[m][r], _salt(m, r));
            vm.prank(m);
            coordinator.commit(taskId, hash);
            return;
        }
    }

    /// @dev The stake a commit will check: less the missed-reveal slash when the last commitment is forfeited.
    function _stakeAfterSettlement(address m, Member memory member) internal view returns (uint256) {
        if (member.lastCommitRound == 0) return member.stake;
        if (coordinator.entryState(taskId, member.lastCommitRound - 1, m) != EntryState.Committed) return member.stake;
        return member.stake - member.stake * missedRevealSlashBps / 10_000;
    }

    /// @dev Reveals for the first committed member at or after `who` (cyclically).
    function reveal(uint256 who) public {
        uint256 r = _round();
        if (_view().phase != RoundPhase.Reveal) return;
        for (uint256 k = 0; k < members.length; ++k) {
            address m = members[(who % members.length + k) % members.length];
            if (coordinator.entryState(taskId, r, m) != EntryState.Committed) continue;
            vm.prank(m);
            coordinator.reveal(taskId, Trees.root(updates[m][r]), counts[m][r], _salt(m, r), keccak256("blob"));
            return;
        }
    }

    function _included() internal view returns (address[] memory list) {
        uint256 r = _round();
        uint256 n;
        address[] memory all = new address[](members.length);
        for (uint256 i = 0; i < members.length; ++i) {
            if (coordinator.entryState(taskId, r, members[i]) == EntryState.Revealed) all[n++] = members[i];
        }
        list = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            list[i] = all[i];
        }
    }

    function _weight(address m, uint256 r) internal view returns (uint256) {
        return counts[m][r] < 1000 ? counts[m][r] : 1000;
    }

    function propose(bool correct, uint256 leafSeed) public {
        if (_view().phase != RoundPhase.Propose || block.timestamp < _view().proposeStart) return;
        if (coordinator.aggregatorOf(taskId, aggregator).barredRound == _round() + 1) return;
        address[] memory included = _included();
        uint256 r = _round();
        delete proposal;
        for (uint256 l = 0; l < LEAVES; ++l) {
            bytes32[][] memory leafUpdates = new bytes32[][](included.length);
            uint256[] memory sampleCounts = new uint256[](included.length);
            for (uint256 i = 0; i < included.length; ++i) {
                leafUpdates[i] = updates[included[i]][r][l];
                sampleCounts[i] = counts[included[i]][r];
            }
            proposal.push(harness.ruleLeaf(0, 0, model[l], leafUpdates, sampleCounts, 1000, 5000));
        }
        proposalCorrect = correct;
        if (!correct) {
            wrongLeaf = leafSeed % LEAVES;
            uint256 lane = (leafSeed >> 8) % 8;
            proposal[wrongLeaf][0] =
                Lanes.set(proposal[wrongLeaf][0], lane, Lanes.get(proposal[wrongLeaf][0], lane) ^ 1);
        }
        vm.prank(aggregator);
        coordinator.propose(taskId, Trees.root(proposal), keccak256("next"));
    }

    function challenge(uint256 leafSeed) public {
        if (_view().phase != RoundPhase.Challenge) return;
        uint256 leaf = proposalCorrect ? leafSeed % LEAVES : wrongLeaf;
        uint256 r = _round();
        address[] memory included = _included();
        AggregateFraudProof memory proof;
        proof.leafIndex = leaf;
        proof.previous = LeafProof(model[leaf], Trees.proof(model, leaf));
        proof.proposed = LeafProof(proposal[leaf], Trees.proof(proposal, leaf));
        UpdateLeaf[] memory leaves = new UpdateLeaf[](included.length);
        for (uint256 i = 0; i < included.length; ++i) {
            bytes32[][] memory u = updates[included[i]][r];
            leaves[i] = UpdateLeaf(included[i], _weight(included[i], r), LeafProof(u[leaf], Trees.proof(u, leaf)));
        }
        proof.updates = UpdateLists.encode(leaves);
        try coordinator.challengeAggregate(taskId, proof) {
            if (proposalCorrect) correctProposalRejected = true;
            ++challengesWon;
        } catch (bytes memory reason) {
            bool correctVerdict =
                keccak256(reason) == keccak256(abi.encodeWithSelector(E.ProposalCorrect.selector, leaf));
            if (!proposalCorrect || !correctVerdict) wrongProposalSurvived = true;
        }
    }

    function finalize() public {
        if (_view().phase != RoundPhase.Finalizable) return;
        if (!proposalCorrect) wrongProposalSurvived = true; // must have been challenged before
        uint256 r = _round();
        address[] memory included = _included();
        coordinator.finalize(taskId);
        RoundView memory v = coordinator.roundView(taskId, r);
        rewardsAllocated += uint256(v.round.rewardPerWeight) * v.round.totalWeight;
        for (uint256 i = 0; i < included.length; ++i) {
            earnedBy[included[i]] += uint256(v.round.rewardPerWeight) * _weight(included[i], r);
        }
        model = proposal;
        ++roundsFinalized;
    }

    function failRound() public {
        if (_view().phase == RoundPhase.AwaitingFailure) coordinator.failRound(taskId);
    }

    function reopen() public {
        if (_view().phase == RoundPhase.ProposeExpired) coordinator.reopenAggregation(taskId);
    }

    function slashMissedReveal(uint256 who) external {
        address m = members[who % members.length];
        uint256 r = _round();
        if (block.timestamp < _view().revealEnd || coordinator.entryState(taskId, r, m) != EntryState.Committed) return;
        coordinator.slashMissedReveal(taskId, r, m);
    }

    function claim(uint256 who) external {
        address m = members[who % members.length];
        if (coordinator.claimable(taskId, m) == 0) return;
        uint256 before = token.balanceOf(m);
        vm.prank(m);
        coordinator.claimRewards(taskId);
        uint256 paid = token.balanceOf(m) - before;
        rewardsClaimed += paid;
        paidTo[m] += paid;
    }

    function addStake(uint256 who, uint256 amount) external {
        address m = members[who % members.length];
        if (!coordinator.memberOf(taskId, m).joined) return;
        amount = 1 + amount % 1e20;
        vm.prank(m);
        coordinator.addStake(taskId, amount);
        stakeIn[m] += amount;
    }

    function exitAndWithdraw(uint256 who) external {
        address m = members[who % members.length];
        if (!coordinator.memberOf(taskId, m).joined) return;
        if (!coordinator.memberOf(taskId, m).exiting) {
            vm.prank(m);
            coordinator.requestExit(taskId);
            return;
        }
        uint256 lastCommit = coordinator.memberOf(taskId, m).lastCommitRound;
        if (block.timestamp < coordinator.memberOf(taskId, m).exitRequestedAt + 50 || lastCommit == _round() + 1) {
            return;
        }
        uint256 before = token.balanceOf(m);
        uint256 rewards = coordinator.claimable(taskId, m); // withdrawStake pays these too
        vm.prank(m);
        coordinator.withdrawStake(taskId);
        stakeOut[m] += token.balanceOf(m) - before - rewards;
        rewardsClaimed += rewards;
        paidTo[m] += rewards;
    }
}

/// @dev Handler-based invariants: conservation of tokens, no withdrawal beyond deposits and earnings, and
/// fraud proofs that reject exactly the wrong aggregates.
contract InvariantsTest is CoordinatorFixture {
    CoordinatorHandler internal handler;

    function setUp() public override {
        super.setUp();
        TaskParams memory p = defaultParams();
        p.numRounds = 1000;
        taskId = _createTask(p);
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.join(taskId, STAKE);
        }
        vm.prank(aggregator);
        coordinator.postBond(taskId, 100 * BOND);
        handler = new CoordinatorHandler(coordinator, token, taskId, aggregator, members, model);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = CoordinatorHandler.advance.selector;
        selectors[1] = CoordinatorHandler.warp.selector;
        selectors[2] = CoordinatorHandler.commit.selector;
        selectors[3] = CoordinatorHandler.reveal.selector;
        selectors[4] = CoordinatorHandler.propose.selector;
        selectors[5] = CoordinatorHandler.challenge.selector;
        selectors[6] = CoordinatorHandler.finalize.selector;
        selectors[7] = CoordinatorHandler.claim.selector;
        selectors[8] = CoordinatorHandler.failRound.selector;
        selectors[9] = CoordinatorHandler.reopen.selector;
        selectors[10] = CoordinatorHandler.slashMissedReveal.selector;
        selectors[11] = CoordinatorHandler.addStake.selector;
        selectors[12] = CoordinatorHandler.exitAndWithdraw.selector;
        selectors[13] = CoordinatorHandler.advance.selector;
        targetSelector(address(handler), selectors);
    }

    /// Tokens held == stakes + bonds + unclaimed fees + owed rewards + pools, over both tasks.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_tokensAreConserved() external view {
        uint256 expected;
        for (uint256 id = 1; id <= 2; ++id) {
            for (uint256 i = 0; i < members.length; ++i) {
                expected += coordinator.memberOf(id, members[i]).stake;
            }
            expected += coordinator.aggregatorOf(id, aggregator).bond + coordinator.feesOf(id, aggregator);
            expected += coordinator.taskState(id).owedRewards + coordinator.taskState(id).pool;
        }
        assertEq(token.balanceOf(address(coordinator)), expected, "balance");
    }

    function invariant_nobodyWithdrawsMoreThanDepositedPlusEarned() external view {
        for (uint256 i = 0; i < members.length; ++i) {
            assertTrue(handler.stakeOut(members[i]) <= handler.stakeIn(members[i]), "stake out <= in");
        }
        assertTrue(handler.rewardsClaimed() <= handler.rewardsAllocated(), "claimed <= allocated");
        uint256 owed = coordinator.taskState(taskId).owedRewards;
        assertEq(handler.rewardsAllocated() - handler.rewardsClaimed(), owed, "owed rewards");
    }

    /// Each member can claim exactly what its reveals in finalized rounds earned, less what it was paid.
    function invariant_claimableIsEarnedLessPaid() external view {
        for (uint256 i = 0; i < members.length; ++i) {
            address m = members[i];
            assertEq(coordinator.claimable(taskId, m), handler.earnedBy(m) - handler.paidTo(m), "claimable");
        }
    }

    function invariant_fraudProofsRejectExactlyWrongAggregates() external view {
        assertTrue(!handler.correctProposalRejected(), "a correct aggregate was rejected");
        assertTrue(!handler.wrongProposalSurvived(), "a wrong aggregate survived a fraud proof");
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
