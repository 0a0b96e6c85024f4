// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title OrderStatistics
/// @notice Sorting of the coordinate-major values of a leaf (see LeafRule), for the rules built on order
/// statistics. Heapsort: no recursion, and its gas has a worst-case bound of O(n log n) whatever the values.
library OrderStatistics {
    /// @notice Execution gas bound of sorting n values: SORT_GAS_PER_STEP per value per level of the heap,
    /// plus SORT_GAS_PER_VALUE per value (measured in AvailabilityGas.t.sol).
    uint256 internal constant SORT_GAS_PER_STEP = 260;
    /// @notice See SORT_GAS_PER_STEP.
    uint256 internal constant SORT_GAS_PER_VALUE = 300;

    /// @notice Sorts values[start .. start + n) in ascending order, in place.
    function sortRange(int256[] memory values, uint256 start, uint256 n) internal pure {
        if (n < 2) return;
        for (uint256 i = n / 2; i > 0; --i) {
            _siftDown(values, start, i - 1, n);
        }
        for (uint256 end = n - 1; end > 0; --end) {
            (values[start], values[start + end]) = (values[start + end], values[start]);
            _siftDown(values, start, 0, end);
        }
    }

    /// @notice Upper bound of the gas sortRange spends on n values.
    function sortGas(uint256 n) internal pure returns (uint256) {
        uint256 levels = 1;
        while ((uint256(1) << levels) <= n) ++levels;
        return n * (2 * levels * SORT_GAS_PER_STEP + SORT_GAS_PER_VALUE);
    }

    /// @dev Moves the value at heap position `root` down the max-heap of the first `size` positions.
    function _siftDown(int256[] memory values, uint256 start, uint256 root, uint256 size) private pure {
        unchecked {
            while (true) {
                uint256 child = 2 * root + 1;
                if (child >= size) return;
                if (child + 1 < size && values[start + child] < values[start + child + 1]) ++child;
                if (values[start + root] >= values[start + child]) return;
                (values[start + root], values[start + child]) = (values[start + child], values[start + root]);
                root = child;
            }
        }
    }
}
