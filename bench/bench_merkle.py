"""Merkle-root throughput against the raw keccak throughput of the same machine, in one run.

    .venv/bin/python bench/bench_merkle.py [params] [words_per_leaf]

The tree hashes every leaf and inner node once (2 * width - 1 keccak calls). The ratio compares the
tree's hash rate with a bare loop of keccak over 64-byte inputs, so it is stable across noisy machines:
1.0 would mean the tree adds no overhead beyond the hashing itself.
"""

import sys
import time

import numpy as np

from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree

DEFAULT_PARAMS = 1_000_000
DEFAULT_WORDS_PER_LEAF = 8
RAW_SAMPLES = 200_000


def raw_keccak_rate(samples: int = RAW_SAMPLES) -> float:
    """Keccak calls per second over distinct 65-byte inputs (the size of an inner-node preimage)."""
    inputs = [i.to_bytes(65, "big") for i in range(samples)]
    started = time.perf_counter()
    for data in inputs:
        keccak256(data)
    return samples / (time.perf_counter() - started)


def main(argv: list[str]) -> None:
    """Build one tree and print its size, time, hash rate and the ratio to raw keccak."""
    num_params = int(argv[1]) if len(argv) > 1 else DEFAULT_PARAMS
    words_per_leaf = int(argv[2]) if len(argv) > 2 else DEFAULT_WORDS_PER_LEAF
    layout = LeafLayout(num_params, words_per_leaf)
    vector = np.random.default_rng(0).integers(INT32_MIN, INT32_MAX, size=num_params, endpoint=True)
    raw_rate = raw_keccak_rate()
    started = time.perf_counter()
    tree = MerkleTree(vector.astype(np.int32), layout)
    elapsed = time.perf_counter() - started
    tree_rate = (2 * layout.width - 1) / elapsed
    print(
        f"params={num_params} W={words_per_leaf} leaves={layout.width} depth={layout.depth} "
        f"time={elapsed:.3f}s tree_hashes/s={tree_rate:,.0f} raw_keccak/s={raw_rate:,.0f} "
        f"ratio={tree_rate / raw_rate:.2f} root=0x{tree.root.hex()[:16]}"
    )


if __name__ == "__main__":
    main(sys.argv)
