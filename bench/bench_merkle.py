"""Time the Merkle root of a random int32 vector: ``.venv/bin/python bench/bench_merkle.py [params] [W]``."""

import sys
import time

import numpy as np

from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree

DEFAULT_PARAMS = 1_000_000
DEFAULT_WORDS_PER_LEAF = 8


def main(argv: list[str]) -> None:
    """Build one tree and print its size, the time taken and hashes per second."""
    num_params = int(argv[1]) if len(argv) > 1 else DEFAULT_PARAMS
    words_per_leaf = int(argv[2]) if len(argv) > 2 else DEFAULT_WORDS_PER_LEAF
    layout = LeafLayout(num_params, words_per_leaf)
    vector = np.random.default_rng(0).integers(INT32_MIN, INT32_MAX, size=num_params, endpoint=True)
    started = time.perf_counter()
    tree = MerkleTree(vector.astype(np.int32), layout)
    elapsed = time.perf_counter() - started
    hashes = 2 * layout.width - 1
    print(
        f"params={num_params} W={words_per_leaf} leaves={layout.width} depth={layout.depth} "
        f"keccak={keccak256.__qualname__} time={elapsed:.3f}s hashes/s={hashes / elapsed:,.0f} "
        f"root=0x{tree.root.hex()}"
    )


if __name__ == "__main__":
    main(sys.argv)
