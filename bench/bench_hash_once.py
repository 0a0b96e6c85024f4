"""What an agent's verified blobs save (issue #17, "hash once"): the CPU time of the blob work each party repeated
before, against the same work through :class:`fedchain.storage.VerifiedBlobs`, at 1M parameters.

    .venv/bin/python bench/bench_hash_once.py            # 1M parameters, W = 2 (the default)
    .venv/bin/python bench/bench_hash_once.py --quick    # 100k parameters: a second

Rows:

- ``participant put``: a participant stores its update and takes its root for the commitment. Before, the blob's
  root and the commitment's root were two trees; now the one tree gives both.
- ``fetch twice``: an agent reads the same blob twice in a round (an aggregator's previous model that it
  proposed, a watcher's update it answers a challenge with). Before, each read rebuilt the tree; now the second
  read is a lookup, and a blob whose tree the agent built (its own proposal) is not hashed at all.
- ``tree lookup``: what asking for a held tree costs (the sha256 of the vector).

Times are this process's CPU time, the best of a few repeats.
"""

import argparse
import tempfile
import time
from collections.abc import Callable

import numpy as np

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.storage import ExpectedBlob, LocalBlobStore, VerifiedBlobs, get_blob, put_vector

WORDS_PER_LEAF = 2


def best(run: Callable[[], object], repeats: int) -> float:
    """The least CPU time of ``repeats`` calls of ``run``."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k parameters")
    args = parser.parse_args()
    params, repeats = (100_000, 2) if args.quick else (1_000_000, 3)
    layout = LeafLayout(num_params=params, words_per_leaf=WORDS_PER_LEAF)
    vector = np.random.default_rng(0).integers(-(2**20), 2**20, size=params, dtype=np.int32)
    shapes = (("weights", (params,)),)
    with tempfile.TemporaryDirectory() as directory:
        store = LocalBlobStore(directory)
        stored = put_vector(store, vector, kind="update", scale_bits=16, words_per_leaf=WORDS_PER_LEAF, shapes=shapes)
        expected = ExpectedBlob(kind="update", num_params=params, scale_bits=16, words_per_leaf=WORDS_PER_LEAF,
                                root=stored.header.root)

        def put_before() -> None:
            put_vector(store, vector, kind="update", scale_bits=16, words_per_leaf=WORDS_PER_LEAF, shapes=shapes)
            MerkleTree(vector, layout)

        def put_after() -> None:
            VerifiedBlobs().put_vector(store, vector, kind="update", scale_bits=16, words_per_leaf=WORDS_PER_LEAF,
                                       shapes=shapes)

        def fetch_before() -> None:
            get_blob(store, stored.ref, expected)
            get_blob(store, stored.ref, expected)

        def fetch_after() -> None:
            verified = VerifiedBlobs()
            verified.get_blob(store, stored.ref, expected)
            verified.get_blob(store, stored.ref, expected)

        held = VerifiedBlobs()
        held.tree(vector, layout)
        rows = [
            ("participant put", best(put_before, repeats), best(put_after, repeats)),
            ("fetch twice", best(fetch_before, repeats), best(fetch_after, repeats)),
            ("tree lookup", best(lambda: MerkleTree(vector, layout), repeats),
             best(lambda: held.tree(vector, layout), repeats)),
        ]
    print(f"{params:,} parameters, W = {WORDS_PER_LEAF}: CPU seconds, best of {repeats}")
    print(f"{'':<18}{'before':>10}{'after':>10}{'ratio':>8}")
    for name, before, after in rows:
        print(f"{name:<18}{before:>10.3f}{after:>10.3f}{after / before:>8.2f}")


if __name__ == "__main__":
    main()
