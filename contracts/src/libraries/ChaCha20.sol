// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ChaCha20
/// @notice The ChaCha20 block function of RFC 8439 with a 64-bit block counter in state words 12-13 and a zero
/// nonce in words 14-15: the mask stream of secure mode (docs/protocol.md section 10.3). The 4x4 state is held
/// as four rows, each row's four 32-bit words in the low halves of four 64-bit slots of one uint256 (word c
/// of a row at bits [64c, 64c + 32)), so each step of the quarter round runs on a whole row at once.
library ChaCha20 {
    /// @notice Thrown when a block counter does not fit the 64-bit counter.
    error BlockCounterTooLarge(uint256 counter);

    /// @notice Output block `counter` of the stream keyed by `key`, as four rows (see the library notice).
    /// Key word i is bytes [4i, 4i + 4) of `key` read little-endian, as RFC 8439 specifies.
    function rows(bytes32 key, uint256 counter) internal pure returns (uint256 a, uint256 b, uint256 c, uint256 d) {
        if (counter > type(uint64).max) revert BlockCounterTooLarge(counter);
        assembly ("memory-safe") {
            let m := 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff

            // key words: byte-swap every 32-bit group of the key, then spread the eight words over two rows
            let k := key
            k := or(
                and(shr(8, k), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff),
                shl(8, and(k, 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff))
            )
            k := or(
                and(shr(16, k), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff),
                shl(16, and(k, 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff))
            )
            let b0 :=
                or(
                    or(shr(224, k), shl(64, and(shr(192, k), 0xffffffff))),
                    or(shl(128, and(shr(160, k), 0xffffffff)), shl(192, and(shr(128, k), 0xffffffff)))
                )
            let c0 :=
                or(
                    or(and(shr(96, k), 0xffffffff), shl(64, and(shr(64, k), 0xffffffff))),
                    or(shl(128, and(shr(32, k), 0xffffffff)), shl(192, and(k, 0xffffffff)))
                )
            // "expand 32-byte k"
            let a0 := 0x000000006b2065740000000079622d32000000003320646e0000000061707865
            let d0 := or(and(counter, 0xffffffff), shl(64, shr(32, counter)))
            a := a0
            b := b0
            c := c0
            d := d0
            for { let i := 0 } lt(i, 10) { i := add(i, 1) } {
                // column round: the quarter round on the four columns at once (written out twice, no call)
                a := and(add(a, b), m)
                d := xor(d, a)
                d := and(or(shl(16, d), shr(16, d)), m)
                c := and(add(c, d), m)
                b := xor(b, c)
                b := and(or(shl(12, b), shr(20, b)), m)
                a := and(add(a, b), m)
                d := xor(d, a)
                d := and(or(shl(8, d), shr(24, d)), m)
                c := and(add(c, d), m)
                b := xor(b, c)
                b := and(or(shl(7, b), shr(25, b)), m)
                // diagonals: lane j of a meets lane j+1 of b, j+2 of c, j+3 of d
                b := or(shr(64, b), shl(192, b))
                c := or(shr(128, c), shl(128, c))
                d := or(shr(192, d), shl(64, d))
                // diagonal round: the same on the four diagonals the shuffle lined up
                a := and(add(a, b), m)
                d := xor(d, a)
                d := and(or(shl(16, d), shr(16, d)), m)
                c := and(add(c, d), m)
                b := xor(b, c)
                b := and(or(shl(12, b), shr(20, b)), m)
                a := and(add(a, b), m)
                d := xor(d, a)
                d := and(or(shl(8, d), shr(24, d)), m)
                c := and(add(c, d), m)
                b := xor(b, c)
                b := and(or(shl(7, b), shr(25, b)), m)
                b := or(shr(192, b), shl(64, b))
                c := or(shr(128, c), shl(128, c))
                d := or(shr(64, d), shl(192, d))
            }
            a := and(add(a, a0), m)
            b := and(add(b, b0), m)
            c := and(add(c, c0), m)
            d := and(add(d, d0), m)
        }
    }

    /// @notice State word `j` (0..15) of a block given as rows: the little-endian 32-bit word at bytes [4j, 4j + 4).
    function word(uint256 a, uint256 b, uint256 c, uint256 d, uint256 j) internal pure returns (uint32) {
        uint256 row = j < 8 ? (j < 4 ? a : b) : (j < 12 ? c : d);
        // A row's word sits in the low 32 bits of its 64-bit slot: the cast selects it.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(row >> (64 * (j % 4)));
    }

    /// @notice Mask lane `j` (0..7) of a block: bytes [8j, 8j + 8) read as a little-endian uint64, i.e.
    /// word 2j plus word 2j + 1 times 2^32.
    function lane(uint256 a, uint256 b, uint256 c, uint256 d, uint256 j) internal pure returns (uint64) {
        uint256 row = j < 4 ? (j < 2 ? a : b) : (j < 6 ? c : d);
        uint256 shift = 128 * (j % 2);
        return uint64(((row >> shift) & 0xffffffff) | (((row >> (shift + 64)) & 0xffffffff) << 32));
    }
}
