// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevToken
/// @notice An ERC-20 with an open faucet, for development chains, simulations and tests only.
/// @dev Anyone may mint up to `MAX_MINT` per call. Never deploy it where the token must have value:
/// real consortia use an existing ERC-20 for stakes and rewards.
contract DevToken is ERC20 {
    /// @notice The most one faucet call may mint.
    uint256 public constant MAX_MINT = 1e30;

    /// @notice A faucet request asked for more than `MAX_MINT`.
    error MintTooLarge(uint256 requested, uint256 maximum);

    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` tokens to `to` (faucet; development chains only).
    /// @param to The recipient.
    /// @param amount How many base units to mint, at most `MAX_MINT`.
    function mint(address to, uint256 amount) external {
        if (amount > MAX_MINT) revert MintTooLarge(amount, MAX_MINT);
        _mint(to, amount);
    }
}
