"""Ethereum's keccak-256 (not NIST SHA3-256), from fedchain's native kernel (``_keccak.c``).

:func:`keccak256` hashes one message. :func:`keccak256_rows` hashes every row of a 2-D byte array in one
call, without the GIL: a whole Merkle level costs one Python call instead of one per node. The kernel is
compiled when fedchain is installed (``pip install -e .``, which ``make setup`` runs).
"""

import numpy as np
from numpy.typing import NDArray

from fedchain.commit.constants import WORD_BYTES

try:
    from fedchain.commit import _keccak
except ImportError as error:  # a source tree that was never installed
    raise ImportError(
        "fedchain's native keccak kernel (fedchain/commit/_keccak.c) is not built: install fedchain with "
        "`pip install -e .` (or `make setup`), which needs a C compiler and Python's headers"
    ) from error

keccak256 = _keccak.keccak256


def keccak256_rows(rows: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Keccak every row of a 2-D byte array; return the digests as a ``(rows, 32)`` byte array."""
    digests = _keccak.keccak256_rows(np.ascontiguousarray(rows).data, rows.shape[1])
    return np.frombuffer(digests, dtype=np.uint8).reshape(-1, WORD_BYTES)
