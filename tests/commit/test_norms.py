"""The norm sum tree and declaration word (docs/protocol.md §4.4) against an independent reference and the shared
vectors that forge checks too."""

import json
from pathlib import Path

import numpy as np
import pytest
from eth_hash.auto import keccak

from fedchain.commit.errors import LayoutError
from fedchain.commit.leaves import LeafLayout, leaf_words
from fedchain.commit.norms import (
    NormPath,
    NormTree,
    declared_in,
    leaf_norm_of_words,
    leaf_norms,
    norm_declaration,
    norm_root_from,
)

VECTORS = Path(__file__).parents[1] / "vectors" / "protocol.json"


def _u256(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _reference_root(values: list[int], depth: int) -> tuple[bytes, int]:
    leaves = values + [0] * ((1 << depth) - len(values))
    level = [(keccak(b"\x02" + _u256(i) + _u256(v)), v) for i, v in enumerate(leaves)]
    while len(level) > 1:
        level = [(keccak(b"\x03" + level[i][0] + _u256(level[i][1]) + level[i + 1][0] + _u256(level[i + 1][1])),
                  level[i][1] + level[i + 1][1]) for i in range(0, len(level), 2)]
    return level[0]


def test_the_tree_matches_the_reference_and_every_path_opens() -> None:
    rng = np.random.default_rng(7)
    for depth in range(5):
        values = [int(v) for v in rng.integers(0, 2**62, size=int(rng.integers(1, (1 << depth) + 1)))]
        tree = NormTree(values, depth)
        assert (tree.root, tree.total) == _reference_root(values, depth)
        assert tree.total == sum(values)
        for index in range(1 << depth):
            assert norm_root_from(index, tree.values[index], tree.path(index)) == (tree.root, tree.total)


def test_a_wrong_value_or_sibling_sum_does_not_reach_the_root() -> None:
    tree = NormTree([5, 6, 7], 2)
    path = tree.path(1)
    assert norm_root_from(1, 5, path) != (tree.root, tree.total)
    doctored = NormPath(path.hashes, (path.sums[0] + 1, *path.sums[1:]))
    assert norm_root_from(1, 6, doctored)[0] != tree.root


def test_leaf_norms_are_the_squares_of_each_leafs_coordinates() -> None:
    layout = LeafLayout(num_params=20, words_per_leaf=1)
    vector = np.arange(20, dtype=np.int64) * 1000 - 10_000
    norms = leaf_norms(vector, layout)
    assert norms == tuple(int(sum(int(v) ** 2 for v in vector[8 * i:8 * i + 8])) for i in range(3))
    assert all(leaf_norm_of_words(leaf_words(vector, layout, i)) == norms[i] for i in range(3))
    assert leaf_norm_of_words(leaf_words(vector, layout, 3)) == 0, "a padding leaf holds 0"
    extreme = np.full(8, -(2**31) + 1, dtype=np.int64)
    assert leaf_norms(extreme, LeafLayout(8, 1)) == (8 * (2**31 - 1) ** 2,), "exact beyond int64"


def test_bad_trees_are_refused_with_a_clear_error() -> None:
    with pytest.raises(LayoutError, match="depth must be in"):
        NormTree([1], 12)
    with pytest.raises(LayoutError, match="do not fit"):
        NormTree([1, 2, 3], 1)
    with pytest.raises(LayoutError, match="outside"):
        NormTree([2**128], 0)
    with pytest.raises(LayoutError, match="vector has 3 coordinates"):
        leaf_norms([1, 2, 3], LeafLayout(8, 1))


def test_the_declaration_word_binds_the_round() -> None:
    word = norm_declaration(41, b"\x11" * 32, 123)
    assert declared_in(word, 41) and not declared_in(word, 40)
    digest = keccak(_u256(41) + b"\x11" * 32 + _u256(123))
    assert word[:28] == digest[:28] and int.from_bytes(word[28:], "big") == 42


def test_the_shared_vectors() -> None:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["normTrees"]
    assert vectors
    for case in vectors:
        values = [int(v, 16) for v in case["values"]]
        tree = NormTree(values, case["depth"])
        assert "0x" + tree.root.hex() == case["root"]
        assert tree.total == int(case["total"], 16) == sum(values)
        for index, (hashes, sums) in enumerate(zip(case["pathHashes"], case["pathSums"], strict=True)):
            path = NormPath(tuple(bytes.fromhex(h[2:]) for h in hashes), tuple(int(s, 16) for s in sums))
            assert path == tree.path(index)
        assert "0x" + norm_declaration(case["round"], tree.root, tree.total).hex() == case["declaration"]
