// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {DevToken} from "../../src/DevToken.sol";

/// @dev Told of every transfer to it by a HookToken (as an ERC-777 or ERC-1363 recipient would be).
interface ITransferObserver {
    function onTokensReceived(address from, uint256 amount) external;
}

/// @dev A DevToken that calls its observer back on every transfer to it, before the transfer returns: a
/// recipient with a hook sees the payer's state as it is at the moment of payment (checks-effects-interactions
/// tests).
contract HookToken is DevToken {
    address public observer;

    constructor() DevToken("Hook", "HOOK") {}

    function setObserver(address observer_) external {
        observer = observer_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (to == observer && observer != address(0)) ITransferObserver(to).onTokensReceived(from, value);
    }
}
