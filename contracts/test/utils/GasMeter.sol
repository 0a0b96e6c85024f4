// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TestBase} from "./TestBase.sol";

/// @dev Measures a call as the transaction it stands for (BENCHMARKS.md). The target's and `alsoCool`'s
/// storage is cooled (vm.cool), so it reads as a fresh transaction would. The test reaches the target
/// through a CALL to a cold address, which a real transaction does not make (its `to` is warm and the
/// 21,000 base covers the call): execution is the measured gas less that cold CALL (2,600).
/// tx = 21,000 + calldata (4 per zero byte, 16 per nonzero) + execution; under EIP-7623 (Prague) a
/// transaction pays at least 21,000 + 10 * (zeros + 4 * nonzeros), the floor. All calls of a test share one
/// transaction, so a slot written earlier in the test is priced as a dirty slot (EIP-2200) and execution
/// reads a little low; a transaction that pays the floor is exact.
abstract contract GasMeter is TestBase {
    /// @dev What the test's CALL to the cooled target costs beyond a real transaction (EIP-2929).
    uint256 internal constant COLD_CALL = 2600;

    struct Cost {
        uint256 execution;
        uint256 calldataGas;
        uint256 floor;
    }

    function _measure(address target, address alsoCool, address sender, bytes memory data)
        internal
        returns (Cost memory c)
    {
        vm.cool(target);
        vm.cool(alsoCool);
        // `.call(data)` copies `data` to fresh memory first: pre-pay that memory expansion (then release the
        // region) so the measurement holds the target's gas only, not this test's memory growth.
        uint256 freePointer;
        assembly {
            freePointer := mload(0x40)
        }
        new bytes(data.length + 4096);
        assembly {
            mstore(0x40, freePointer)
        }
        vm.prank(sender);
        uint256 before = gasleft();
        (bool ok, bytes memory reason) = target.call(data);
        c.execution = before - gasleft() - COLD_CALL;
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
        uint256 tokens;
        for (uint256 i = 0; i < data.length; ++i) {
            if (data[i] == 0) {
                c.calldataGas += 4;
                tokens += 1;
            } else {
                c.calldataGas += 16;
                tokens += 4;
            }
        }
        c.floor = 21_000 + 10 * tokens;
    }

    function _tx(Cost memory c) internal pure returns (uint256) {
        uint256 standard = 21_000 + c.calldataGas + c.execution;
        return standard > c.floor ? standard : c.floor;
    }

    function _log(string memory what, Cost memory c) internal {
        emit log_named_uint(string.concat(what, " execution"), c.execution);
        emit log_named_uint(string.concat(what, " tx total"), _tx(c));
    }
}
