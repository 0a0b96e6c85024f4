// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {RoundView, TaskParams} from "../src/FedTypes.sol";
import {Cohort} from "../src/libraries/Cohort.sol";

/// @dev Cohort sampling (docs/protocol.md section 8.2): a round that opens with more members than its cohort
/// takes admits only the members the chain's randomness picked, each with the same chance every round.
contract CohortSamplingTest is CoordinatorFixture {
    uint256 internal constant CAP = 2;

    /// @dev Round 0 of a task with a cohort of 2 opens at the first join (not sampled: one member); all four
    /// members join; round 0 finalizes with randomness `randomness`, which opens round 1 with four members.
    function _sampledRound(uint256 randomness) internal {
        _proposeRoundZero();
        vm.prevrandao(bytes32(randomness));
        coordinator.finalize(taskId);
    }

    /// @dev Round 0 of the task with a cohort of 2, proposed and finalizable.
    function _proposeRoundZero() internal {
        TaskParams memory p = defaultParams();
        p.cohortCap = uint16(CAP);
        p.minParticipants = 1;
        _useTask(p, model);
        assertTrue(!coordinator.taskState(taskId).sampled, "round 0 opened with one member");
        _commitAndReveal(2);
        _propose(_aggregate(2));
        vm.warp(block.timestamp + WINDOW);
    }

    /// @dev The first randomness whose round-1 cohort has both members in it and members out of it.
    function _mixedRandomness() internal view returns (uint256 randomness, uint160 roundSeed) {
        uint256 nextTask = coordinator.nextTaskId();
        for (randomness = 1;; ++randomness) {
            roundSeed = Cohort.seed(randomness, nextTask, 1);
            uint256 picked;
            for (uint256 i = 0; i < members.length; ++i) {
                if (Cohort.includes(roundSeed, members.length, CAP, members[i])) ++picked;
            }
            if (picked > 0 && picked < members.length) return (randomness, roundSeed);
        }
    }

    function test_onlyTheSampledMembersEnterARoundWithMoreMembersThanItsCohort() external {
        (uint256 randomness, uint160 roundSeed) = _mixedRandomness();
        _proposeRoundZero();
        vm.prevrandao(bytes32(randomness));
        vm.expectEmit(true, true, true, true);
        emit E.CohortSampled(taskId, 1, members.length, roundSeed);
        coordinator.finalize(taskId);
        RoundView memory v = _view();
        assertEq(v.round.sampledFrom, members.length, "sampled from every member");
        assertEq(v.round.cohortSeed, roundSeed, "seed from the opening block's randomness");
        assertTrue(coordinator.taskState(taskId).sampled, "round 1 is sampled");
        uint256 entered;
        for (uint256 i = 0; i < members.length; ++i) {
            bool picked = Cohort.includes(roundSeed, members.length, CAP, members[i]);
            assertTrue(coordinator.inCohort(taskId, 1, members[i]) == picked, "inCohort recomputes the sampling");
            bytes32[][] memory update = _updateVector(i);
            if (!picked) {
                vm.prank(members[i]);
                vm.expectRevert(abi.encodeWithSelector(E.NotInCohort.selector, members[i], 1));
                coordinator.commit(taskId, keccak256("any commitment"));
            } else if (entered < CAP) {
                _commit(members[i], update, 10);
                ++entered;
            }
        }
        assertTrue(entered > 0, "somebody was picked");
    }

    /// @dev A sampled round with room left does not count towards silence: the members left out were not picked.
    function test_aSampledRoundDoesNotCountTowardsSilence() external {
        (uint256 randomness,) = _mixedRandomness();
        _sampledRound(randomness);
        uint256 spare = coordinator.taskState(taskId).spareRounds;
        vm.warp(_view().revealEnd);
        coordinator.failRound(taskId); // nobody entered round 1
        assertEq(coordinator.taskState(taskId).spareRounds, spare, "not a spare round");
        assertTrue(coordinator.taskState(taskId).sampled, "round 2 opened with four members too");
    }

    /// @dev Fair over rounds: with 10 members and a cohort of 3, each member is picked in about 30% of 500 rounds
    /// (expected 150, standard deviation 10.2; the bounds are 5 deviations), and no member in every round.
    function test_everyMemberHasTheSameChanceEachRound() external pure {
        uint256 n = 10;
        uint256 rounds = 500;
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            address member = address(uint160(0xC0FFEE + i));
            uint256 picked;
            for (uint256 r = 0; r < rounds; ++r) {
                if (Cohort.includes(Cohort.seed(r * 7919, 1, r), n, 3, member)) ++picked;
            }
            assertTrue(picked > 99, "picked too rarely");
            assertTrue(picked < 201, "picked too often");
            total += picked;
        }
        assertTrue(total > 3 * rounds - 120 && total < 3 * rounds + 120, "three per round on average");
    }

    function test_withoutSamplingEveryoneIsInTheCohort() external view {
        assertTrue(!coordinator.taskState(taskId).sampled, "four members, a cohort of eight");
        for (uint256 i = 0; i < members.length; ++i) {
            assertTrue(coordinator.inCohort(taskId, 0, members[i]), "in");
        }
        assertEq(_view().round.sampledFrom, 0, "not sampled");
    }
}
