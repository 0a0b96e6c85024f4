"""VerifiedBlobs: one agent's blobs and trees, each checked and hashed once, with every check still made."""

from pathlib import Path

import numpy as np
import pytest

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.storage import (
    BlobFormatError,
    BlobMismatchError,
    BlobNotFoundError,
    CorruptBlobError,
    ExpectedBlob,
    LocalBlobStore,
    StoredBlob,
    VerifiedBlobs,
    encode_blob,
)
from fedchain.storage.verified import tree_bytes
from tests.storage.storage_samples import NUM_PARAMS, SCALE_BITS, SHAPES, WORDS_PER_LEAF, sample_vector

LAYOUT = LeafLayout(num_params=NUM_PARAMS, words_per_leaf=WORDS_PER_LEAF)


class CountedTrees:
    """Counts the trees built while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built = 0
        build = MerkleTree.__init__

        def counted(tree: MerkleTree, vector: np.ndarray, layout: LeafLayout) -> None:
            self.built += 1
            build(tree, vector, layout)

        monkeypatch.setattr(MerkleTree, "__init__", counted)


@pytest.fixture
def trees(monkeypatch: pytest.MonkeyPatch) -> CountedTrees:
    return CountedTrees(monkeypatch)


def put_sample(verified: VerifiedBlobs, store: LocalBlobStore, vector: np.ndarray) -> StoredBlob:
    return verified.put_vector(store, vector, kind="update", scale_bits=SCALE_BITS, words_per_leaf=WORDS_PER_LEAF,
                               shapes=SHAPES)


def expected_for(stored: StoredBlob) -> ExpectedBlob:
    return ExpectedBlob(kind="update", num_params=NUM_PARAMS, scale_bits=SCALE_BITS, words_per_leaf=WORDS_PER_LEAF,
                        root=stored.header.root, shapes=SHAPES)


def test_a_blob_put_then_fetched_twice_hashes_its_tree_once(store: LocalBlobStore, trees: CountedTrees) -> None:
    verified = VerifiedBlobs()
    vector = sample_vector(1)
    stored = put_sample(verified, store, vector)

    first = verified.get_blob(store, stored.ref, expected_for(stored))
    again = verified.get_blob(store, stored.ref, expected_for(stored))

    assert stored.header.root == MerkleTree(vector, LAYOUT).root
    assert trees.built == 1 + 1  # once by the agent, once by this test's own check
    assert again is first
    assert np.array_equal(first.vector, vector)
    assert verified.tree(vector, LAYOUT).root == stored.header.root


def test_another_agent_verifies_for_itself(store: LocalBlobStore, trees: CountedTrees) -> None:
    stored = put_sample(VerifiedBlobs(), store, sample_vector(1))

    VerifiedBlobs().get_blob(store, stored.ref, expected_for(stored))

    assert trees.built == 2


def test_a_corrupt_copy_is_refused_before_anything_is_kept(store: LocalBlobStore) -> None:
    verified = VerifiedBlobs()
    stored = put_sample(VerifiedBlobs(), store, sample_vector(1))
    path = store.path_for(stored.ref)
    whole = path.read_bytes()
    path.write_bytes(whole[:-1] + bytes([whole[-1] ^ 1]))

    with pytest.raises(CorruptBlobError):
        verified.get_blob(store, stored.ref, expected_for(stored))
    path.write_bytes(whole)

    assert np.array_equal(verified.get_blob(store, stored.ref, expected_for(stored)).vector, sample_vector(1))


def test_a_blob_whose_payload_is_not_its_root_is_refused_even_when_the_tree_of_its_root_is_held(
        store: LocalBlobStore) -> None:
    verified = VerifiedBlobs()
    honest = put_sample(verified, store, sample_vector(1))
    forged = store.put(encode_blob(honest.header, sample_vector(2)))  # the honest header over another payload

    with pytest.raises(BlobFormatError, match="recomputed root"):
        verified.get_blob(store, forged, expected_for(honest))
    with pytest.raises(BlobFormatError, match="recomputed root"):
        verified.get_blob(store, forged, expected_for(honest))


def test_a_held_blob_is_still_checked_against_what_each_caller_expects(store: LocalBlobStore) -> None:
    verified = VerifiedBlobs()
    stored = put_sample(verified, store, sample_vector(1))
    verified.get_blob(store, stored.ref, expected_for(stored))

    with pytest.raises(BlobMismatchError, match="kind is 'update', expected 'model'"):
        verified.get_blob(store, stored.ref, ExpectedBlob(kind="model", num_params=NUM_PARAMS, scale_bits=SCALE_BITS,
                                                          words_per_leaf=WORDS_PER_LEAF, root=stored.header.root))


def test_a_fresh_read_asks_the_store_and_a_put_blob_is_not_read_back_from_memory(tmp_path: Path) -> None:
    verified = VerifiedBlobs()
    stored = put_sample(verified, LocalBlobStore(tmp_path / "a"), sample_vector(1))
    elsewhere = LocalBlobStore(tmp_path / "b")

    with pytest.raises(BlobNotFoundError):
        verified.get_blob(elsewhere, stored.ref, expected_for(stored))
    verified.get_blob(LocalBlobStore(tmp_path / "a"), stored.ref, expected_for(stored))
    verified.get_blob(elsewhere, stored.ref, expected_for(stored))
    with pytest.raises(BlobNotFoundError):
        verified.get_blob(elsewhere, stored.ref, expected_for(stored), fresh=True)


def test_it_holds_at_most_its_bytes_least_recently_used_going_first(trees: CountedTrees) -> None:
    size = tree_bytes(LAYOUT)
    verified = VerifiedBlobs(max_bytes=2 * size)
    first, second, third = (sample_vector(seed) for seed in (1, 2, 3))
    verified.tree(first, LAYOUT)
    verified.tree(second, LAYOUT)
    verified.tree(first, LAYOUT)

    verified.tree(third, LAYOUT)
    verified.tree(first, LAYOUT)

    assert verified.bytes_held == 2 * size
    assert trees.built == 3
    verified.tree(second, LAYOUT)
    assert trees.built == 4


def test_a_closed_round_drops_what_was_last_used_the_round_before(trees: CountedTrees) -> None:
    verified = VerifiedBlobs()
    old, kept = sample_vector(1), sample_vector(2)
    verified.tree(old, LAYOUT)
    verified.round_closed()
    verified.tree(kept, LAYOUT)

    verified.round_closed()

    assert verified.bytes_held == tree_bytes(LAYOUT)
    verified.tree(kept, LAYOUT)
    verified.tree(old, LAYOUT)
    assert trees.built == 3


def test_the_byte_count_of_a_tree_is_what_it_holds() -> None:
    tree = MerkleTree(sample_vector(1), LAYOUT)

    assert tree_bytes(LAYOUT) == tree._leaves.nbytes + sum(level.nbytes for level in tree._levels)
