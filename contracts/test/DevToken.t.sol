// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {DevToken} from "../src/DevToken.sol";

/// @dev Faucet token used by simulations: minting works up to the cap and is refused above it.
contract DevTokenTest {
    DevToken internal token;

    function setUp() external {
        token = new DevToken("Fed", "FED");
    }

    function test_mintCreditsTheRecipient() external {
        token.mint(address(0xBEEF), 123);
        require(token.balanceOf(address(0xBEEF)) == 123, "balance");
        require(token.totalSupply() == 123, "supply");
    }

    function test_mintAboveTheCapReverts() external {
        uint256 cap = token.MAX_MINT();
        try token.mint(address(this), cap + 1) {
            revert("mint above the cap succeeded");
        } catch (bytes memory reason) {
            require(
                keccak256(reason) == keccak256(abi.encodeWithSelector(DevToken.MintTooLarge.selector, cap + 1, cap)),
                "wrong error"
            );
        }
    }
}
