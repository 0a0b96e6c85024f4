// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title BN254
/// @notice The few operations on BN254 (alt_bn128) G1 that secure mode needs (docs/protocol.md section 10.2):
/// a curve-membership test and scalar multiplication through the ecMul precompile at address 0x07 (EIP-196).
library BN254 {
    /// @notice Prime of the base field.
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @notice Order of G1, the scalar field of mask keys and Shamir shares.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Generator G = (1, 2).
    uint256 internal constant GX = 1;
    /// @notice See GX.
    uint256 internal constant GY = 2;

    /// @notice True iff (x, y) is an affine point of G1 other than infinity: y^2 = x^3 + 3 over F_p.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P || (x == 0 && y == 0)) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
    }

    /// @notice s * (x, y) through the ecMul precompile; ok is false when the precompile rejects the input
    /// (a point not on the curve).
    function mul(uint256 x, uint256 y, uint256 s) internal view returns (bool ok, uint256 rx, uint256 ry) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, x)
            mstore(add(ptr, 0x20), y)
            mstore(add(ptr, 0x40), s)
            ok := staticcall(gas(), 0x07, ptr, 0x60, ptr, 0x40)
            rx := mload(ptr)
            ry := mload(add(ptr, 0x20))
        }
    }

    /// @notice True iff `secret` is in [1, R) and secret * G == (x, y).
    function isKeyOf(uint256 secret, uint256 x, uint256 y) internal view returns (bool) {
        if (secret == 0 || secret >= R) return false;
        (bool ok, uint256 rx, uint256 ry) = mul(GX, GY, secret);
        return ok && rx == x && ry == y;
    }
}
