"""A Merkle root's time against the permutation floor of its tree, measured in one run.

    .venv/bin/python bench/bench_merkle.py            # 1M and 10M parameters, W = 8 and the default W = 2
    .venv/bin/python bench/bench_merkle.py --quick    # 100k parameters, one repeat: a few seconds

Keccak-256 absorbs 136 bytes per keccak-f[1600] permutation, and a message of L bytes takes
ceil((L + 1) / 136) of them (the padding needs one byte). A tree of 2^D leaves of W words hashes 2^D leaf
preimages of 33 + 32W bytes and 2^D - 1 inner preimages of 65 bytes (one permutation each), so

    perms = 2^D * ceil((34 + 32W) / 136) + 2^D - 1
    floor = perms * t_perm

where t_perm is one permutation's time measured in the same run: a one-shot keccak of the tree's leaf words
(32W * 2^D bytes, long enough that call overheads vanish) divided by its permutations, taking the faster of
fedchain's native kernel and eth-hash's pycryptodome backend. ratio = root time / floor: 1.0 would mean
the tree costs nothing but its permutations.

Times are this process's CPU time (all single-threaded work), the best of a few repeats taken in turn, so
other programs sharing the machine's cores inflate none of them; the root's wall time is shown beside.
"""

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from eth_hash.backends import pycryptodome

from fedchain.commit.constants import INT32_MAX, INT32_MIN, NODE_PREFIX, WORD_BYTES
from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout, pack_leaves
from fedchain.commit.merkle import MerkleTree

RATE_BYTES = 136
LEAF_HEADER_BYTES = 33  # the 0x00 prefix and uint256(i)
NODE_PREIMAGE_BYTES = len(NODE_PREFIX) + 2 * WORD_BYTES
DEFAULT_WORDS_PER_LEAF = 2  # the task schema's default (fedchain.task.schema.OnChainRules.words_per_leaf)
FULL_CASES = tuple((params, words) for params in (1_000_000, 10_000_000) for words in (8, DEFAULT_WORDS_PER_LEAF))
QUICK_CASES = ((100_000, 8), (100_000, DEFAULT_WORDS_PER_LEAF))


def permutations(length: int) -> int:
    """Keccak-f[1600] permutations that keccak-256 of ``length`` bytes runs."""
    return (length + 1 + RATE_BYTES - 1) // RATE_BYTES


def tree_permutations(layout: LeafLayout) -> int:
    """Permutations of the whole tree: every leaf preimage and every inner node."""
    leaf = permutations(LEAF_HEADER_BYTES + layout.leaf_bytes)
    return layout.width * leaf + (layout.width - 1) * permutations(NODE_PREIMAGE_BYTES)


@dataclass(frozen=True)
class Result:
    """One tree's measurements, in seconds."""

    layout: LeafLayout
    root: float
    root_wall: float
    one_shot: float
    one_shot_pycryptodome: float
    one_shot_bytes: int

    @property
    def permutation(self) -> float:
        """One permutation's time: the faster one-shot over its permutations."""
        return min(self.one_shot, self.one_shot_pycryptodome) / permutations(self.one_shot_bytes)

    @property
    def floor(self) -> float:
        """The tree's permutations at that speed."""
        return tree_permutations(self.layout) * self.permutation


def cpu_time(function: Callable[[], object]) -> float:
    """The CPU time of one call."""
    started = time.process_time()
    function()
    return time.process_time() - started


def wall_time(function: Callable[[], object]) -> float:
    """The wall time of one call."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure(num_params: int, words_per_leaf: int, repeats: int) -> Result:
    """Time a root, and one-shot keccaks of its leaf words, ``repeats`` times each, interleaved; keep the best."""
    layout = LeafLayout(num_params, words_per_leaf)
    vector = np.random.default_rng(0).integers(INT32_MIN, INT32_MAX, size=num_params, endpoint=True, dtype=np.int32)
    words = pack_leaves(vector, layout).tobytes()
    root = root_wall = one_shot = one_shot_pycryptodome = float("inf")
    for _ in range(repeats):
        root = min(root, cpu_time(lambda: MerkleTree(vector, layout)))
        root_wall = min(root_wall, wall_time(lambda: MerkleTree(vector, layout)))
        one_shot = min(one_shot, cpu_time(lambda: keccak256(words)))
        one_shot_pycryptodome = min(one_shot_pycryptodome, cpu_time(lambda: pycryptodome.keccak256(words)))
    return Result(layout, root, root_wall, one_shot, one_shot_pycryptodome, len(words))


def row(result: Result) -> str:
    """One Markdown table row."""
    layout = result.layout
    return (
        f"| {layout.num_params:,} | {layout.words_per_leaf} | {layout.width:,} | {tree_permutations(layout):,} "
        f"| {result.root * 1e3:.0f} ms | {result.root_wall * 1e3:.0f} ms | {result.one_shot * 1e3:.1f} ms "
        f"| {result.one_shot_pycryptodome * 1e3:.1f} ms "
        f"| {result.permutation * 1e9:.0f} ns | {result.floor * 1e3:.0f} ms "
        f"| {result.root / result.one_shot:.1f} | **{result.root / result.floor:.2f}** |"
    )


def main() -> None:
    """Measure every case and print a Markdown table (the one in BENCHMARKS.md)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100k parameters, one repeat (a few seconds)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each timing (default 5)")
    arguments = parser.parse_args()
    cases, repeats = (QUICK_CASES, 1) if arguments.quick else (FULL_CASES, arguments.repeats)
    print(f"{os.cpu_count()} cores; CPU times, best of {repeats}")
    print("| params | W | leaves | permutations | root | root (wall) | one-shot keccak (native) "
          "| one-shot (pycryptodome) | t_perm | floor | root ÷ one-shot | root ÷ floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for num_params, words_per_leaf in cases:
        print(row(measure(num_params, words_per_leaf, repeats)), flush=True)


if __name__ == "__main__":
    main()
