// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Bytes of 32-bit words are taken with deliberate narrowing casts.
// forge-lint: disable-start(unsafe-typecast)

/// @dev RFC 8439's ChaCha20 block function written the plain way (a 16-word state, one quarter round at a
/// time, checked arithmetic masked to 32 bits), to check the packed-row library against.
library ChaCha20Reference {
    function _rotl(uint256 v, uint256 n) private pure returns (uint256) {
        return ((v << n) | (v >> (32 - n))) & 0xffffffff;
    }

    function _quarter(uint256[16] memory s, uint256 a, uint256 b, uint256 c, uint256 d) private pure {
        s[a] = (s[a] + s[b]) & 0xffffffff;
        s[d] = _rotl(s[d] ^ s[a], 16);
        s[c] = (s[c] + s[d]) & 0xffffffff;
        s[b] = _rotl(s[b] ^ s[c], 12);
        s[a] = (s[a] + s[b]) & 0xffffffff;
        s[d] = _rotl(s[d] ^ s[a], 8);
        s[c] = (s[c] + s[d]) & 0xffffffff;
        s[b] = _rotl(s[b] ^ s[c], 7);
    }

    /// @dev Block `counter` (64 bits: state words 12 and 13) of `key` with words 14 and 15 zero.
    function block64(bytes32 key, uint64 counter) internal pure returns (bytes memory out) {
        uint256[16] memory init;
        init[0] = 0x61707865;
        init[1] = 0x3320646e;
        init[2] = 0x79622d32;
        init[3] = 0x6b206574;
        for (uint256 i = 0; i < 8; ++i) {
            uint256 w = 0;
            for (uint256 k = 0; k < 4; ++k) {
                w |= uint256(uint8(key[4 * i + k])) << (8 * k);
            }
            init[4 + i] = w;
        }
        init[12] = counter & 0xffffffff;
        init[13] = counter >> 32;
        uint256[16] memory s = init;
        uint256[16] memory x;
        for (uint256 i = 0; i < 16; ++i) {
            x[i] = s[i];
        }
        for (uint256 r = 0; r < 10; ++r) {
            _quarter(x, 0, 4, 8, 12);
            _quarter(x, 1, 5, 9, 13);
            _quarter(x, 2, 6, 10, 14);
            _quarter(x, 3, 7, 11, 15);
            _quarter(x, 0, 5, 10, 15);
            _quarter(x, 1, 6, 11, 12);
            _quarter(x, 2, 7, 8, 13);
            _quarter(x, 3, 4, 9, 14);
        }
        out = new bytes(64);
        for (uint256 i = 0; i < 16; ++i) {
            uint256 w = (x[i] + init[i]) & 0xffffffff;
            for (uint256 k = 0; k < 4; ++k) {
                out[4 * i + k] = bytes1(uint8(w >> (8 * k)));
            }
        }
    }
}
// forge-lint: disable-end(unsafe-typecast)
