// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title OrderStatistics
/// @notice Sorting of the coordinate-major values of a leaf (see LeafRule), for the rules built on order
/// statistics. Heapsort: no recursion, and its gas has a worst-case bound of O(n log n) whatever the values.
library OrderStatistics {
    /// @notice Execution gas bound of sorting n values: SORT_GAS_PER_STEP per value per level of the heap,
    /// plus SORT_GAS_PER_VALUE per value (measured in AvailabilityGas.t.sol).
    uint256 internal constant SORT_GAS_PER_STEP = 90;
    /// @notice See SORT_GAS_PER_STEP.
    uint256 internal constant SORT_GAS_PER_VALUE = 250;

    /// @notice Thrown when a range to sort does not lie inside the array.
    error RangeOutside(uint256 start, uint256 n, uint256 length);

    /// @notice Sorts values[start .. start + n) in ascending order, in place. In assembly: it runs
    /// O(n log n) steps for every coordinate of a leaf in the fraud proofs of the order-statistic rules.
    function sortRange(int256[] memory values, uint256 start, uint256 n) internal pure {
        if (start + n > values.length) revert RangeOutside(start, n, values.length);
        if (n < 2) return;
        assembly ("memory-safe") {
            // Moves the value at heap position `root` down the max-heap of the first `size` values at `b`.
            function siftDown(b, root, size) {
                for {} 1 {} {
                    let child := add(shl(1, root), 1)
                    if iszero(lt(child, size)) { break }
                    let childPtr := add(b, shl(5, child))
                    let childValue := mload(childPtr)
                    if lt(add(child, 1), size) {
                        let rightValue := mload(add(childPtr, 0x20))
                        if slt(childValue, rightValue) {
                            child := add(child, 1)
                            childPtr := add(childPtr, 0x20)
                            childValue := rightValue
                        }
                    }
                    let rootPtr := add(b, shl(5, root))
                    let rootValue := mload(rootPtr)
                    if iszero(slt(rootValue, childValue)) { break }
                    mstore(rootPtr, childValue)
                    mstore(childPtr, rootValue)
                    root := child
                }
            }
            let base := add(add(values, 0x20), shl(5, start))
            for { let i := shr(1, n) } gt(i, 0) { i := sub(i, 1) } { siftDown(base, sub(i, 1), n) }
            for { let last := sub(n, 1) } gt(last, 0) { last := sub(last, 1) } {
                let lastPtr := add(base, shl(5, last))
                let first := mload(base)
                mstore(base, mload(lastPtr))
                mstore(lastPtr, first)
                siftDown(base, 0, last)
            }
        }
    }

    /// @notice Upper bound of the gas sortRange spends on n values.
    function sortGas(uint256 n) internal pure returns (uint256) {
        uint256 levels = 1;
        while ((uint256(1) << levels) <= n) ++levels;
        return n * (2 * levels * SORT_GAS_PER_STEP + SORT_GAS_PER_VALUE);
    }
}
