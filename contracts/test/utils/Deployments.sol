// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {FedCoordinator} from "../../src/FedCoordinator.sol";
import {IFedCoordinator} from "../../src/IFedCoordinator.sol";
import {Availability} from "../../src/modules/Availability.sol";
import {Registry} from "../../src/modules/Registry.sol";
import {ISecureCoordinator} from "../../src/secure/ISecureCoordinator.sol";
import {SecureCoordinator} from "../../src/secure/SecureCoordinator.sol";

/// @dev A coordinator of each mode as a user deploys one: its two modules first, then the coordinator with
/// their addresses; tests talk to it through its whole interface.
library Deployments {
    function plain() internal returns (IFedCoordinator) {
        return IFedCoordinator(address(new FedCoordinator(address(new Registry()), address(new Availability()))));
    }

    function secure() internal returns (ISecureCoordinator) {
        return
            ISecureCoordinator(address(new SecureCoordinator(address(new Registry()), address(new Availability()))));
    }
}
