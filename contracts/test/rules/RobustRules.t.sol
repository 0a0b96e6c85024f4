// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Tests build int32 lanes and small test values with deliberate narrowing casts.
// forge-lint: disable-start(unsafe-typecast)

import {CoordinatorFixture} from "../utils/CoordinatorFixture.sol";
import {ICoordinatorEvents as E} from "../../src/ICoordinator.sol";
import {AggregateFraudProof, AggregationRule, TaskParams} from "../../src/FedTypes.sol";
import {Lanes} from "../../src/libraries/Lanes.sol";
import {OrderStatistics} from "../../src/rules/OrderStatistics.sol";

/// @dev The order-statistic rules (docs/protocol.md sections 4.2 and 4.3): the fraud proofs' implementation
/// against a naive reference, and on the real coordinator a wrong aggregate proven at the one leaf where it is
/// wrong while a correct one cannot be challenged at any leaf.
contract RobustRulesTest is CoordinatorFixture {
    uint256 internal constant MEDIAN = uint256(AggregationRule.CoordinateMedian);
    uint256 internal constant TRIMMED_MEAN = uint256(AggregationRule.TrimmedMean);

    // ---------------------------------------------------------------- against a reference

    function testFuzz_orderStatisticRulesMatchTheReference(uint256 seed, uint8 count, uint16 trim, uint32 lrBps)
        external
        view
    {
        uint256 n = 1 + count % 40;
        uint256 trimBps = 1 + trim % 4_999;
        uint256 lr = 1 + lrBps % 100_000;
        bytes32[] memory previous = new bytes32[](1);
        previous[0] = keccak256(abi.encode(seed, "previous"));
        bytes32[][] memory updates = new bytes32[][](n);
        uint256[] memory counts = new uint256[](n);
        for (uint256 u = 0; u < n; ++u) {
            int32[8] memory lanes;
            for (uint256 j = 0; j < 8; ++j) {
                lanes[j] = _edgy(keccak256(abi.encode(seed, u, j)));
            }
            updates[u] = new bytes32[](1);
            updates[u][0] = Lanes.pack(lanes);
            counts[u] = 1 + u;
        }
        bytes32 median = harness.ruleLeaf(MEDIAN, 0, previous, updates, counts, 1000, lr)[0];
        bytes32 trimmed = harness.ruleLeaf(TRIMMED_MEAN, trimBps, previous, updates, counts, 1000, lr)[0];
        for (uint256 j = 0; j < 8; ++j) {
            int256[] memory column = _sortedColumn(updates, j);
            int256 old = Lanes.get(previous[0], j);
            assertEq(Lanes.get(median, j), _stepped(old, _median(column), lr), "median");
            assertEq(Lanes.get(trimmed, j), _stepped(old, _trimmedMean(column, trimBps), lr), "trimmed mean");
        }
    }

    function _median(int256[] memory column) internal pure returns (int256) {
        uint256 m = column.length / 2;
        return column.length % 2 == 1 ? column[m] : (column[m - 1] + column[m]) / 2;
    }

    function _trimmedMean(int256[] memory column, uint256 trimBps) internal pure returns (int256) {
        uint256 n = column.length;
        uint256 k = n * trimBps / 10_000;
        int256 sum = 0;
        for (uint256 i = k; i < n - k; ++i) {
            sum += column[i];
        }
        return sum / int256(n - 2 * k);
    }

    function testFuzz_sortRangeSortsExactlyItsRange(int256[] memory values, uint8 startSeed, uint8 countSeed)
        external
        view
    {
        vm.assume(values.length > 0 && values.length <= 64);
        uint256 start = startSeed % values.length;
        uint256 n = countSeed % (values.length - start + 1);
        int256[] memory sorted = harness.sortRange(values, start, n);
        for (uint256 i = 0; i < values.length; ++i) {
            if (i < start || i >= start + n) assertEq(sorted[i], values[i], "outside the range: untouched");
            if (i > start && i < start + n) assertTrue(sorted[i - 1] <= sorted[i], "ascending");
        }
        for (uint256 i = start; i < start + n; ++i) {
            uint256 before = 0;
            uint256 afterwards = 0;
            for (uint256 j = start; j < start + n; ++j) {
                if (values[j] == values[i]) ++before;
                if (sorted[j] == values[i]) ++afterwards;
            }
            assertEq(afterwards, before, "the same values, as often");
        }
    }

    function test_sortRangeRefusesARangeOutsideTheArray() external {
        vm.expectRevert(abi.encodeWithSelector(OrderStatistics.RangeOutside.selector, 2, 3, 4));
        harness.sortRange(new int256[](4), 2, 3);
    }

    // ---------------------------------------------------------------- fraud proofs on the coordinator

    function testFuzz_aWrongAggregateIsProvenAtItsLeafAndOnlyThere(
        bool trimmedMean,
        uint8 count,
        uint8 leaf,
        uint8 lane
    ) external {
        _useRule(trimmedMean ? TRIMMED_MEAN : MEDIAN);
        uint256 n = 2 + count % 3;
        uint256 wrongLeaf = leaf % LEAVES;
        _commitAndReveal(n);
        bytes32[][] memory bad = _wrong(_aggregate(n), wrongLeaf, lane % 8);
        _propose(bad);
        uint256 rightLeaf = (wrongLeaf + 1) % LEAVES;
        AggregateFraudProof memory unfounded = _fraudProof(bad, n, rightLeaf);
        vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, rightLeaf));
        coordinator.challengeAggregate(taskId, unfounded);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, _fraudProof(bad, n, wrongLeaf));
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "the aggregator's bond slashed");
    }

    function test_aCorrectAggregateCannotBeChallengedAtAnyLeaf() external {
        for (uint256 rule = MEDIAN; rule <= TRIMMED_MEAN; ++rule) {
            _useRule(rule);
            _roundWithAnOutlier();
            bytes32[][] memory next = _aggregate(4);
            _propose(next);
            for (uint256 leaf = 0; leaf < LEAVES; ++leaf) {
                AggregateFraudProof memory proof = _fraudProof(next, 4, leaf);
                vm.expectRevert(abi.encodeWithSelector(E.ProposalCorrect.selector, leaf));
                coordinator.challengeAggregate(taskId, proof);
            }
        }
    }

    /// @dev An aggregator that applies weighted FedAvg to a median task (letting an outlier with a large declared
    /// sample count pull the model) is proven wrong and slashed.
    function test_anAggregatorThatAveragesAMedianTaskIsProvenWrong() external {
        _useRule(MEDIAN);
        _roundWithAnOutlier();
        TaskParams memory p = coordinator.taskParams(taskId);
        bytes32[][] memory averaged = new bytes32[][](LEAVES);
        bytes32[][] memory leafUpdates = new bytes32[][](4);
        uint256[] memory counts = new uint256[](4);
        for (uint256 l = 0; l < LEAVES; ++l) {
            for (uint256 i = 0; i < 4; ++i) {
                (leafUpdates[i], counts[i]) = (updateOf[members[i]][l], countOf[members[i]]);
            }
            averaged[l] = harness.ruleLeaf(0, 0, model[l], leafUpdates, counts, p.sampleCap, p.serverLrBps);
        }
        _propose(averaged);
        vm.prank(watcher);
        coordinator.challengeAggregate(taskId, _fraudProof(averaged, 4, 0));
        assertEq(coordinator.aggregatorOf(taskId, aggregator).bond, BOND / 2, "slashed");
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Switches the fixture to a task of `rule` (the trimmed mean trims 25% at each end).
    function _useRule(uint256 rule) internal {
        TaskParams memory p = defaultParams();
        p.rule = uint8(rule);
        p.ruleParam = rule == TRIMMED_MEAN ? 2_500 : 0;
        _useTask(p, _vector(_fill(0, 3)));
    }

    /// @dev Members 0..2 commit and reveal their usual updates, member 3 an update at the clip with the largest
    /// sample count (what a model-replacement attacker sends); ends at the reveal deadline.
    function _roundWithAnOutlier() internal {
        for (uint256 m = 0; m < 3; ++m) {
            _commit(members[m], _updateVector(m), 100 * (m + 1));
        }
        _commit(members[3], _vector(_fill(int256(CLIP) - 16, 1)), 1000);
        vm.warp(_view().commitEnd);
        for (uint256 m = 0; m < 4; ++m) {
            _reveal(members[m]);
        }
        vm.warp(_view().revealEnd);
    }

    function _sortedColumn(bytes32[][] memory updates, uint256 j) internal pure returns (int256[] memory column) {
        column = new int256[](updates.length);
        for (uint256 u = 0; u < updates.length; ++u) {
            int256 value = Lanes.get(updates[u][0], j);
            uint256 slot = u;
            while (slot > 0 && column[slot - 1] > value) {
                column[slot] = column[slot - 1];
                --slot;
            }
            column[slot] = value;
        }
    }

    function _stepped(int256 old, int256 center, uint256 lr) internal pure returns (int32) {
        int256 next = old + center * int256(lr) / 10_000;
        if (next > type(int32).max) return type(int32).max;
        if (next < type(int32).min) return type(int32).min;
        return int32(next);
    }

    /// @dev Update values concentrated at the int32 edges and around zero (never int32.min, as for an update).
    function _edgy(bytes32 entropy) internal pure returns (int32) {
        uint256 r = uint256(entropy);
        uint256 kind = r % 4;
        if (kind == 0) return type(int32).max - int32(int256((r >> 8) % 4));
        if (kind == 1) return type(int32).min + 1 + int32(int256((r >> 8) % 4));
        if (kind == 2) return int32(int256((r >> 8) % 7) - 3);
        int32 value = int32(uint32(r >> 8));
        return value == type(int32).min ? int32(0) : value;
    }
}
// forge-lint: disable-end(unsafe-typecast)
