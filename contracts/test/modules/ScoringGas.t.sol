// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// forge-lint: disable-start(block-timestamp,unsafe-typecast,divide-before-multiply)

import {PlainGasBench} from "../Gas.t.sol";
import {Deployments} from "../utils/Deployments.sol";
import {DevToken} from "../../src/DevToken.sol";
import {ScoringParams} from "../../src/FedTypes.sol";

/// @dev Gas of scored rounds (docs/protocol.md section 12), logged for BENCHMARKS.md: run
/// `forge test --match-contract ScoringGasTest -vv`. Measured as GasMeter says, in round 2 of a task (the steady
/// state: each commit books a scored reward), with a committee of COMMITTEE validators scoring every update.
contract ScoringGasTest is PlainGasBench {
    uint256 internal constant COMMITTEE = 3;
    address[] internal validators;
    address[] internal participants;
    /// @dev When set, every validator scores the last member 0 and validator 2 scores member 0 0 (a lie).
    bool internal faults;

    /// @dev A scored task with `cohort` members and COMMITTEE validators seated before round 0 opens.
    function _setUpScored(uint256 cohort) internal {
        vm.warp(1_000_000);
        token = new DevToken("Fed", "FED");
        coordinator = Deployments.plain();
        _fund(address(this));
        ScoringParams memory s = ScoringParams({
            committee: uint8(COMMITTEE),
            scoreWindow: uint32(WINDOW),
            minScoreBps: 2000,
            toleranceBps: 2500,
            validatorSlashBps: 1000,
            validatorFeeBps: 500,
            validatorStake: 1e18
        });
        taskId = coordinator.createScoredTask(_taskParams(1000, cohort), s, keccak256("model"), keccak256("blob"));
        _fund(aggregator);
        vm.prank(aggregator);
        coordinator.postBond(taskId, 100e18);
        delete validators;
        for (uint256 v = 0; v < COMMITTEE; ++v) {
            address validator = address(uint160(0x50000 + v));
            validators.push(validator);
            _fund(validator);
            vm.prank(validator);
            coordinator.joinCommittee(taskId);
        }
        delete members;
        for (uint256 i = 0; i < cohort; ++i) {
            address m = address(uint160(0x10000 + i));
            members.push(m);
            _fund(m);
            vm.prank(m);
            coordinator.join(taskId, 1e18);
        }
        participants = members;
    }

    function _scores(uint256 r, uint256 v) internal view returns (uint16[] memory s) {
        s = new uint16[](members.length);
        for (uint256 i = 0; i < s.length; ++i) {
            s[i] = uint16(5000 + uint256(keccak256(abi.encode(r, v, i))) % 5001);
        }
        if (faults) {
            s[s.length - 1] = 0;
            if (v == 2) s[0] = 0;
        }
    }

    function _scoresHash(uint256 r, uint256 v) internal view returns (bytes32) {
        return coordinator.scoresCommitmentOf(taskId, r, validators[v], participants, _scores(r, v), bytes32(v));
    }

    /// @dev Commits and reveals every update and every committee member's scores; ends when propose opens.
    function _inputsAndScores(uint256 r) internal {
        for (uint256 i = 0; i < members.length; ++i) {
            bytes32 hash = _commitHash(r, i);
            vm.prank(members[i]);
            coordinator.commit(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < members.length; ++i) {
            vm.prank(members[i]);
            coordinator.reveal(taskId, _updateRoot(r, i), 1000 + i, bytes32(i), keccak256("blob"));
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 v = 0; v < COMMITTEE; ++v) {
            bytes32 hash = _scoresHash(r, v);
            vm.prank(validators[v]);
            coordinator.commitScores(taskId, hash);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 v = 0; v < COMMITTEE; ++v) {
            vm.prank(validators[v]);
            coordinator.revealScores(taskId, participants, _scores(r, v), bytes32(v));
        }
        vm.warp(block.timestamp + WINDOW);
    }

    function _playScoredRound(uint256 r) internal {
        _inputsAndScores(r);
        vm.prank(aggregator);
        coordinator.propose(taskId, keccak256(abi.encode("next", r)), keccak256("nb"));
        vm.warp(block.timestamp + WINDOW);
        coordinator.finalize(taskId);
    }

    /// @dev Per participant per round of a scored task at `cohort`: its own commit and reveal, its share of the
    /// committee's score commits and reveals, and of propose and finalize.
    function _perParticipant(uint256 cohort) internal {
        _setUpScored(cohort);
        _playScoredRound(0);
        _playScoredRound(1);
        uint256 r = 2;
        uint256 inputs;
        for (uint256 i = 0; i < cohort; ++i) {
            Cost memory c = _measure(members[i], abi.encodeCall(coordinator.commit, (taskId, _commitHash(r, i))));
            inputs += _tx(c);
            if (i == 0) _log("scored commit (books the last round's scored reward)", c);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 i = 0; i < cohort; ++i) {
            inputs += _tx(
                _measure(
                    members[i],
                    abi.encodeCall(
                        coordinator.reveal, (taskId, _updateRoot(r, i), 1000 + i, bytes32(i), keccak256("blob"))
                    )
                )
            );
        }
        vm.warp(block.timestamp + WINDOW);
        uint256 scoring;
        for (uint256 v = 0; v < COMMITTEE; ++v) {
            Cost memory c =
                _measure(validators[v], abi.encodeCall(coordinator.commitScores, (taskId, _scoresHash(r, v))));
            scoring += _tx(c);
            if (v == 0) _log("commitScores", c);
        }
        vm.warp(block.timestamp + WINDOW);
        for (uint256 v = 0; v < COMMITTEE; ++v) {
            Cost memory c = _measure(
                validators[v],
                abi.encodeCall(coordinator.revealScores, (taskId, participants, _scores(r, v), bytes32(v)))
            );
            scoring += _tx(c);
            _log(string.concat("revealScores cohort ", vm.toString(cohort), " validator ", vm.toString(v)), c);
        }
        vm.warp(block.timestamp + WINDOW);
        Cost memory proposeCost =
            _measure(aggregator, abi.encodeCall(coordinator.propose, (taskId, keccak256("next"), keccak256("nb"))));
        vm.warp(block.timestamp + WINDOW);
        Cost memory finalizeCost = _measure(address(0xF1), abi.encodeCall(coordinator.finalize, (taskId)));
        _log("scored finalize (books the validators' fees)", finalizeCost);
        uint256 shared = (_tx(proposeCost) + _tx(finalizeCost)) / cohort;
        emit log_named_uint(string.concat("cohort ", vm.toString(cohort), ": commit + reveal, mean"), inputs / cohort);
        emit log_named_uint(string.concat("cohort ", vm.toString(cohort), ": share of the scoring"), scoring / cohort);
        emit log_named_uint(string.concat("cohort ", vm.toString(cohort), ": share of propose + finalize"), shared);
        emit log_named_uint(
            string.concat("cohort ", vm.toString(cohort), ": per participant per round, scored"),
            (inputs + scoring) / cohort + shared
        );
    }

    function test_gasScoredRoundPerParticipant() external {
        _perParticipant(8);
        _perParticipant(32);
        _perParticipant(64);
    }

    /// @dev The provable steps at cohort 64: dropping an update scored below the threshold, slashing a validator
    /// whose score deviates from the median.
    function test_gasScoreProofs() external {
        _setUpScored(64);
        faults = true;
        _inputsAndScores(0);
        Cost memory drop =
            _measure(address(0xB0), abi.encodeCall(coordinator.dropLowScore, (taskId, members[members.length - 1])));
        _log("dropLowScore", drop);
        Cost memory deviation =
            _measure(address(0xB0), abi.encodeCall(coordinator.slashDeviation, (taskId, 0, validators[2], members[0])));
        _log("slashDeviation", deviation);
    }
}
// forge-lint: disable-end(block-timestamp,unsafe-typecast,divide-before-multiply)
