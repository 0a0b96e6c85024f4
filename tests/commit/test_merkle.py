"""The position-binding Merkle tree (docs/protocol.md §3)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.commit.constants import INT32_MAX, INT32_MIN
from fedchain.commit.errors import EncodingError, LayoutError
from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout, leaf_words
from fedchain.commit.merkle import MerkleTree, leaf_hash, merkle_root, node_hash, verify_proof
from tests.vectors import reference


@st.composite
def vectors_and_layouts(draw: st.DrawFn) -> tuple[np.ndarray, LeafLayout]:
    words_per_leaf = draw(st.sampled_from([1, 2, 4, 8]))
    num_params = draw(st.integers(1, 8 * words_per_leaf * 40))
    values = draw(st.lists(st.integers(INT32_MIN, INT32_MAX), min_size=1, max_size=16))
    vector = np.resize(np.asarray(values, dtype=np.int64), num_params).astype(np.int32)
    return vector, LeafLayout(num_params, words_per_leaf)


def test_hash_preimages_follow_the_spec() -> None:
    word = bytes(range(32))
    assert leaf_hash(5, [word]) == keccak256(b"\x00" + (5).to_bytes(32, "big") + word)
    assert node_hash(word, bytes(32)) == keccak256(b"\x01" + word + bytes(32))
    assert node_hash(word, bytes(32)) != node_hash(bytes(32), word)


def test_leaf_hash_binds_the_index() -> None:
    words = [bytes(32)]
    assert leaf_hash(0, words) != leaf_hash(1, words)


def test_single_leaf_tree_root_is_the_leaf_hash() -> None:
    layout = LeafLayout(3, 1)
    vector = np.array([7, -7, INT32_MIN], dtype=np.int32)
    tree = MerkleTree(vector, layout)
    assert tree.root == leaf_hash(0, leaf_words(vector, layout, 0))
    assert tree.proof(0) == ()
    assert verify_proof(tree.root, 0, tree.leaf_words(0), (), 0)


def test_three_leaf_tree_by_hand() -> None:
    layout = LeafLayout(17, 1)  # N = 3, D = 2, leaf 3 is padding
    vector = np.arange(17, dtype=np.int32) - 8
    hashes = [leaf_hash(i, leaf_words(vector, layout, i)) for i in range(4)]
    root = node_hash(node_hash(hashes[0], hashes[1]), node_hash(hashes[2], hashes[3]))
    tree = MerkleTree(vector, layout)
    assert tree.root == root == merkle_root(vector, layout)
    assert tree.proof(2) == (hashes[3], node_hash(hashes[0], hashes[1]))
    assert tree.leaf_words(3) == (bytes(32),)


@pytest.mark.parametrize("words_per_leaf", [1, 2, 4, 8])
@pytest.mark.parametrize("num_leaves", [1, 2, 3, 5, 8, 37, 64])
def test_every_node_matches_the_reference_tree(words_per_leaf: int, num_leaves: int) -> None:
    """Each level hashed in one native call equals the spec's tree hashed node by node with pycryptodome."""
    num_params = 8 * words_per_leaf * (num_leaves - 1) + 3  # the last leaf partly padding
    vector = np.random.default_rng(num_params).integers(INT32_MIN, INT32_MAX, size=num_params, endpoint=True)
    tree = MerkleTree(vector, LeafLayout(num_params, words_per_leaf))
    levels = reference.merkle_levels([int(value) for value in vector], words_per_leaf)
    assert tree.root == levels[-1][0]
    for height, level in enumerate(levels):
        assert [tree.node(height, index) for index in range(len(level))] == level


@settings(max_examples=60, deadline=None)
@given(vectors_and_layouts(), st.data())
def test_every_proof_verifies_and_only_at_its_own_index(
    case: tuple[np.ndarray, LeafLayout], data: st.DataObject
) -> None:
    vector, layout = case
    tree = MerkleTree(vector, layout)
    index = data.draw(st.integers(0, layout.width - 1))
    words, siblings = tree.leaf_words(index), tree.proof(index)
    assert words == leaf_words(vector, layout, index)
    assert len(siblings) == layout.depth
    assert verify_proof(tree.root, index, words, siblings, layout.depth)
    other = data.draw(st.integers(0, 2 * layout.width).filter(lambda i: i != index))
    assert not verify_proof(tree.root, other, words, siblings, layout.depth)
    assert not verify_proof(tree.root, index, words, siblings, layout.depth + 1)
    if layout.depth:
        assert not verify_proof(tree.root, index, words, siblings[:-1], layout.depth - 1)
    word_number = data.draw(st.integers(0, layout.words_per_leaf - 1))
    byte_number = data.draw(st.integers(0, 31))
    changed = bytearray(words[word_number])
    changed[byte_number] ^= 1 << data.draw(st.integers(0, 7))
    tampered = (*words[:word_number], bytes(changed), *words[word_number + 1 :])
    assert not verify_proof(tree.root, index, tampered, siblings, layout.depth)


@settings(max_examples=30, deadline=None)
@given(vectors_and_layouts(), st.data())
def test_changing_any_coordinate_changes_the_root(case: tuple[np.ndarray, LeafLayout], data: st.DataObject) -> None:
    vector, layout = case
    position = data.draw(st.integers(0, layout.num_params - 1))
    changed = vector.copy()
    changed[position] = changed[position] + 1 if changed[position] < INT32_MAX else 0
    assert merkle_root(changed, layout) != merkle_root(vector, layout)


def test_same_vector_different_words_per_leaf_gives_different_roots() -> None:
    vector = np.arange(100, dtype=np.int32)
    assert merkle_root(vector, LeafLayout(100, 1)) != merkle_root(vector, LeafLayout(100, 2))


def test_verify_rejects_malformed_input_with_errors() -> None:
    with pytest.raises(EncodingError, match="root"):
        verify_proof(bytes(31), 0, [bytes(32)], [], 0)
    with pytest.raises(LayoutError, match="depth"):
        verify_proof(bytes(32), 0, [bytes(32)], [], -1)
    with pytest.raises(EncodingError, match="word 0"):
        verify_proof(bytes(32), 0, [bytes(33)], [], 0)
    with pytest.raises(LayoutError, match="at least one word"):
        leaf_hash(0, [])


def test_proof_index_out_of_range_is_an_error() -> None:
    tree = MerkleTree(np.zeros(9, dtype=np.int32), LeafLayout(9, 1))
    with pytest.raises(LayoutError, match="leaf index"):
        tree.proof(2)
    with pytest.raises(LayoutError, match="leaf index"):
        tree.leaf_words(-1)
