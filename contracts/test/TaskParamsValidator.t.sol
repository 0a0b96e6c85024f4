// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {IFedCoordinatorEvents as E} from "../src/IFedCoordinator.sol";
import {TaskParams} from "../src/FedTypes.sol";

/// @dev Every TaskParams range check, through createTask (the error names the field).
contract TaskParamsValidatorTest is CoordinatorFixture {
    function _expectInvalid(TaskParams memory p, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, name));
        coordinator.createTask(p, keccak256("root"), keccak256("blob"));
    }

    function test_windowsMustBeNonzero() external {
        TaskParams memory p = defaultParams();
        p.commitWindow = 0;
        _expectInvalid(p, "commitWindow");
        p = defaultParams();
        p.revealWindow = 0;
        _expectInvalid(p, "revealWindow");
        p = defaultParams();
        p.proposeWindow = 0;
        _expectInvalid(p, "proposeWindow");
        p = defaultParams();
        p.challengeWindow = 0;
        _expectInvalid(p, "challengeWindow");
    }

    function test_cohortAndRounds() external {
        TaskParams memory p = defaultParams();
        p.cohortCap = 0;
        _expectInvalid(p, "cohortCap");
        p.cohortCap = 257;
        _expectInvalid(p, "cohortCap");
        p = defaultParams();
        p.minParticipants = 0;
        _expectInvalid(p, "minParticipants");
        p.minParticipants = p.cohortCap + 1;
        _expectInvalid(p, "minParticipants");
        p = defaultParams();
        p.sampleCap = 0;
        _expectInvalid(p, "sampleCap");
        p.sampleCap = (1 << 20) + 1;
        _expectInvalid(p, "sampleCap");
        p = defaultParams();
        p.numRounds = 0;
        _expectInvalid(p, "numRounds");
        p.numRounds = 1 << 24;
        p.rewardPerRound = 0;
        _expectInvalid(p, "numRounds");
        p.numRounds = (1 << 24) - 1;
        coordinator.createTask(p, keccak256("m"), keccak256("b"));
        p = defaultParams();
        p.maxSilentRounds = 0;
        _expectInvalid(p, "maxSilentRounds");
    }

    function test_tokenModeRuleAndQuantization() external {
        TaskParams memory p = defaultParams();
        p.token = address(0xDEAD);
        _expectInvalid(p, "token");
        p = defaultParams();
        p.mode = 1;
        _expectInvalid(p, "mode");
        p = defaultParams();
        p.rule = 1;
        _expectInvalid(p, "rule");
        p = defaultParams();
        p.scaleBits = 31;
        _expectInvalid(p, "scaleBits");
        p = defaultParams();
        p.clip = 0;
        _expectInvalid(p, "clip");
        p.clip = uint32(1) << 31;
        _expectInvalid(p, "clip");
        p = defaultParams();
        p.numParams = 0;
        _expectInvalid(p, "numParams");
        p.numParams = uint64(1 << 40) + 1;
        _expectInvalid(p, "numParams");
        p = defaultParams();
        p.serverLrBps = 0;
        _expectInvalid(p, "serverLrBps");
        p.serverLrBps = 100_001;
        _expectInvalid(p, "serverLrBps");
    }

    function test_wordsPerLeafIsAPowerOfTwoUpToEight() external {
        uint8[5] memory bad = [0, 3, 5, 9, 16];
        for (uint256 i = 0; i < bad.length; ++i) {
            TaskParams memory p = defaultParams();
            p.wordsPerLeaf = bad[i];
            _expectInvalid(p, "wordsPerLeaf");
        }
        uint8[4] memory good = [1, 2, 4, 8];
        for (uint256 i = 0; i < good.length; ++i) {
            TaskParams memory p = defaultParams();
            p.wordsPerLeaf = good[i];
            vm.prank(requester);
            coordinator.createTask(p, keccak256("root"), keccak256("blob"));
        }
    }

    function test_ratesAndAmounts() external {
        TaskParams memory p = defaultParams();
        p.unbondingDelay = 0;
        _expectInvalid(p, "unbondingDelay");
        p = defaultParams();
        p.missedRevealSlashBps = 10_001;
        _expectInvalid(p, "missedRevealSlashBps");
        p = defaultParams();
        p.silenceSlashBps = 10_001;
        _expectInvalid(p, "silenceSlashBps");
        p = defaultParams();
        p.violationSlashBps = 10_001;
        _expectInvalid(p, "violationSlashBps");
        p = defaultParams();
        p.aggregatorSlashBps = 10_001;
        _expectInvalid(p, "aggregatorSlashBps");
        p = defaultParams();
        p.bountyBps = 10_001;
        _expectInvalid(p, "bountyBps");
        p = defaultParams();
        p.aggregatorFeeBps = 10_001;
        _expectInvalid(p, "aggregatorFeeBps");
        p = defaultParams();
        p.minStake = 0;
        _expectInvalid(p, "minStake");
        p.minStake = uint128(type(uint96).max) + 1;
        _expectInvalid(p, "minStake");
        p = defaultParams();
        p.aggregatorBond = 0;
        _expectInvalid(p, "aggregatorBond");
        p = defaultParams();
        p.rewardPerRound = uint128(type(uint96).max) + 1;
        _expectInvalid(p, "rewardPerRound");
        // the whole escrow numRounds * rewardPerRound must fit 96 bits, so booked rewards never overflow
        p.numRounds = 2;
        p.rewardPerRound = uint128(type(uint96).max / 2) + 1;
        _expectInvalid(p, "rewardPerRound");
        p = defaultParams();
        p.modelSpecHash = bytes32(0);
        _expectInvalid(p, "modelSpecHash");
    }

    function test_depthFollowsNumParamsAndWordsPerLeaf() external {
        TaskParams memory p = defaultParams();
        p.wordsPerLeaf = 8;
        p.numParams = 10_000_000;
        vm.prank(requester);
        uint256 id = coordinator.createTask(p, keccak256("root"), keccak256("blob"));
        assertEq(coordinator.taskState(id).depth, 18, "ceil(log2(ceil(1e7 / 64)))");
    }
}
