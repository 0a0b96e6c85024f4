"""Ethereum's keccak-256, through the fastest eth-hash backend installed.

eth-hash picks pycryptodome by default; the pysha3 backend (package ``safe-pysha3``) hashes the
short preimages of a Merkle tree several times faster, so it is preferred when present. Both compute
the same function; only the speed differs.
"""

from collections.abc import Callable

from eth_hash.utils import load_backend

_BACKENDS_FASTEST_FIRST = ("pysha3", "pycryptodome")


def _load_fastest_backend() -> Callable[[bytes], bytes]:
    for name in _BACKENDS_FASTEST_FIRST:
        try:
            return load_backend(name).keccak256
        except ImportError:
            continue
    raise ImportError(f"no keccak backend for eth-hash is installed; install one of {_BACKENDS_FASTEST_FIRST}")


keccak256: Callable[[bytes], bytes] = _load_fastest_backend()
"""Return the 32-byte keccak-256 digest of ``data``."""
