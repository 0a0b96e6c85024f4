"""Protocol constants shared by the commitment and aggregation code (docs/protocol.md §1-5).

Every number the Solidity side must agree on lives here, so a change to the protocol is a change to one
file on the Python side.
"""

from typing import Final

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
UINT256_MAX: Final = 2**256 - 1

MAX_SCALE_BITS: Final = 30
MIN_CLIP: Final = 1
MAX_CLIP: Final = INT32_MAX

WORD_BYTES: Final = 32
LANE_BYTES: Final = 4
LANES_PER_WORD: Final = WORD_BYTES // LANE_BYTES
ALLOWED_WORDS_PER_LEAF: Final = (1, 2, 4, 8)
ADDRESS_BYTES: Final = 20

LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
