// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {ICoordinatorEvents as E} from "../src/ICoordinator.sol";
import {TaskParams} from "../src/FedTypes.sol";
import {TaskParamsValidator} from "../src/TaskParamsValidator.sol";

/// @dev Every TaskParams range check, through createTask (the error names the field).
contract TaskParamsValidatorTest is CoordinatorFixture {
    function _expectInvalid(TaskParams memory p, string memory name) internal {
        vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, name));
        coordinator.createTask(p, keccak256("root"), keccak256("blob"));
    }

    /// @dev Each rule takes only its own parameter, and secure mode only the rule it can apply to a masked sum.
    function test_eachRuleTakesItsOwnParameterAndSecureModeOnlyFedAvg() external {
        TaskParamsValidator validator = TaskParamsValidator(address(coordinator.PARAMS_VALIDATOR()));
        TaskParams memory p = defaultParams();
        p.ruleParam = 1;
        _expectInvalid(p, "ruleParam"); // FedAvg takes none
        p.rule = 1;
        _expectInvalid(p, "ruleParam"); // nor does the median
        p.ruleParam = 0;
        validator.validate(p);
        p.rule = 2;
        _expectInvalid(p, "ruleParam"); // the trimmed mean trims something
        p.ruleParam = 5_000;
        _expectInvalid(p, "ruleParam"); // and keeps something
        p.ruleParam = 4_999;
        assertEq(validator.validate(p)[2] >> 240, 4_999, "ruleParam packed in slot 2");
        p.ruleParam = 1;
        validator.validate(p);
        (p.mode, p.neighbours, p.threshold) = (1, 4, 3);
        for (uint8 rule = 1; rule <= 2; ++rule) {
            p.rule = rule;
            vm.expectRevert(abi.encodeWithSelector(E.InvalidTaskParameter.selector, "ruleParam"));
            validator.validate(p);
        }
        (p.rule, p.ruleParam) = (0, 0);
        validator.validate(p);
    }

    /// @dev A window of 1 second used to be accepted: nobody can watch and answer in it.
    function test_windowsHaveAFloor() external {
        TaskParams memory p = defaultParams();
        p.commitWindow = 9;
        _expectInvalid(p, "commitWindow");
        p = defaultParams();
        p.revealWindow = 9;
        _expectInvalid(p, "revealWindow");
        p = defaultParams();
        p.proposeWindow = 9;
        _expectInvalid(p, "proposeWindow");
        p = defaultParams();
        p.challengeWindow = 1;
        _expectInvalid(p, "challengeWindow");
        p.challengeWindow = 9;
        _expectInvalid(p, "challengeWindow");
        p = defaultParams();
        p.availabilityWindow = 9;
        _expectInvalid(p, "availabilityWindow");
        p = defaultParams();
        (p.commitWindow, p.revealWindow, p.proposeWindow, p.challengeWindow, p.availabilityWindow) =
        (10, 10, 10, 10, 10);
        vm.prank(requester);
        coordinator.createTask(p, keccak256("root"), keccak256("blob"));
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
        p.mode = 2;
        _expectInvalid(p, "mode");
        // a secure task needs its own k and t, and a plain task has none
        p.mode = 1;
        _expectInvalid(p, "neighbours");
        p.neighbours = 4;
        p.threshold = 5;
        _expectInvalid(p, "threshold");
        p.threshold = 3;
        _expectInvalid(p, "mode"); // valid rules, but this is the plain coordinator
        p.mode = 0;
        _expectInvalid(p, "neighbours");
        p.neighbours = 0;
        _expectInvalid(p, "threshold");
        p = defaultParams();
        p.rule = 4; // no rule has this id
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
        p.availabilityBond = 0;
        _expectInvalid(p, "availabilityBond");
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

    /// @dev A bounty of the whole slash made challenging one's own wrong proposal free delay; a slash of zero
    /// made a proven fault free. Every proven fault now costs the party at least half of a nonzero slash.
    function test_everyProvenFaultCostsSomething() external {
        TaskParams memory p = defaultParams();
        p.bountyBps = 10_000;
        _expectInvalid(p, "bountyBps");
        p.bountyBps = 5_001;
        _expectInvalid(p, "bountyBps");
        p = defaultParams();
        p.aggregatorSlashBps = 0;
        _expectInvalid(p, "aggregatorSlashBps");
        p = defaultParams();
        p.violationSlashBps = 0;
        _expectInvalid(p, "violationSlashBps");
        p = defaultParams();
        p.missedRevealSlashBps = 0;
        _expectInvalid(p, "missedRevealSlashBps");
        p = defaultParams();
        p.bountyBps = 5_000;
        vm.prank(requester);
        coordinator.createTask(p, keccak256("root"), keccak256("blob"));
    }

    function test_depthFollowsNumParamsAndWordsPerLeaf() external {
        TaskParams memory p = defaultParams();
        p.wordsPerLeaf = 8;
        p.numParams = 10_000_000;
        vm.prank(requester);
        uint256 id = coordinator.createTask(p, keccak256("root"), keccak256("blob"));
        assertEq(coordinator.taskState(id).depth, 18, "ceil(log2(ceil(1e7 / 64)))");
    }

    /// @dev The validator's hand-packed storage words are what the compiler's own layout reads back.
    function testFuzz_packedParamsReadBackAsCreated(uint256 seed, bool allowlist) external {
        TaskParams memory p = defaultParams();
        p.commitWindow = uint32(10 + _draw(seed, 0) % (type(uint32).max - 9));
        p.revealWindow = uint32(10 + _draw(seed, 1) % (type(uint32).max - 9));
        p.proposeWindow = uint32(10 + _draw(seed, 2) % (type(uint32).max - 9));
        p.challengeWindow = uint32(10 + _draw(seed, 3) % (type(uint32).max - 9));
        p.availabilityWindow = uint32(10 + _draw(seed, 23) % (type(uint32).max - 9));
        p.availabilityBond = uint96(1 + _draw(seed, 24) % type(uint96).max);
        p.cohortCap = uint16(1 + _draw(seed, 4) % 256);
        p.minParticipants = uint16(1 + _draw(seed, 5) % p.cohortCap);
        p.sampleCap = uint32(1 + _draw(seed, 6) % (1 << 20));
        p.minStake = uint128(1 + _draw(seed, 7) % type(uint96).max);
        p.scaleBits = uint8(_draw(seed, 8) % 31);
        p.clip = uint32(1 + _draw(seed, 9) % uint32(type(int32).max));
        p.numParams = uint64(1 + _draw(seed, 10) % (1 << 40));
        p.serverLrBps = uint32(1 + _draw(seed, 11) % 100_000);
        p.unbondingDelay = uint40(1 + _draw(seed, 12) % type(uint40).max);
        p.allowlist = allowlist;
        p.missedRevealSlashBps = uint16(1 + _draw(seed, 13) % 10_000);
        p.silenceSlashBps = uint16(_draw(seed, 14) % 10_001);
        p.violationSlashBps = uint16(1 + _draw(seed, 15) % 10_000);
        p.aggregatorSlashBps = uint16(1 + _draw(seed, 16) % 10_000);
        p.bountyBps = uint16(_draw(seed, 17) % 5_001);
        p.aggregatorFeeBps = uint16(_draw(seed, 18) % 10_001);
        p.numRounds = uint32(1 + _draw(seed, 19) % type(uint24).max);
        p.aggregatorBond = uint128(1 + _draw(seed, 20) % type(uint128).max);
        p.rewardPerRound = uint128(_draw(seed, 21) % (type(uint96).max / p.numRounds));
        p.modelSpecHash = bytes32(1 + _draw(seed, 22) % type(uint256).max);
        // the largest fraud proof of the task must fit one transaction: halve the cohort until it does
        TaskParamsValidator validator = TaskParamsValidator(coordinator.PARAMS_VALIDATOR());
        (uint256 gas, uint256 size) = validator.worstFraudProof(p);
        while (gas > validator.MAX_TX_GAS() || size > validator.MAX_TX_BYTES()) {
            p.cohortCap = p.cohortCap / 2;
            p.minParticipants = 1;
            (gas, size) = validator.worstFraudProof(p);
        }
        token.mint(address(this), uint256(p.numRounds) * p.rewardPerRound);
        token.approve(address(coordinator), type(uint256).max);
        uint256 id = coordinator.createTask(p, keccak256("root"), keccak256("blob"));
        assertEq(keccak256(abi.encode(coordinator.taskParams(id))), keccak256(abi.encode(p)), "round trip");
    }

    function _draw(uint256 seed, uint256 field) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, field)));
    }
}
