"""put_vector / get_vector: storing quantized vectors and refusing any blob that is not the expected one."""

import dataclasses

import numpy as np
import pytest

from fedchain.commit.keccak import keccak256
from fedchain.storage import (
    BlobFormatError,
    BlobMismatchError,
    BlobNotFoundError,
    CorruptBlobError,
    DataSpec,
    ExpectedBlob,
    LocalBlobStore,
    RootFunction,
    StorageError,
    TensorShape,
    decode_blob,
    encode_blob,
    get_blob,
    get_vector,
    protocol_root,
    put_vector,
    verify_root,
)
from fedchain.storage.vectors import check_expected
from tests.storage.storage_samples import (
    NUM_PARAMS,
    SCALE_BITS,
    SHAPES,
    WORDS_PER_LEAF,
    digest_root,
    sample_header,
    sample_vector,
)


def expectation(vector: np.ndarray, **changes: object) -> ExpectedBlob:
    """What a reader expects of ``vector``'s update blob, with ``changes`` applied."""
    expected = ExpectedBlob(
        kind="update",
        num_params=NUM_PARAMS,
        scale_bits=SCALE_BITS,
        words_per_leaf=WORDS_PER_LEAF,
        root=digest_root(vector, WORDS_PER_LEAF),
        shapes=SHAPES,
    )
    return dataclasses.replace(expected, **changes)  # type: ignore[arg-type]


def put_sample(store: LocalBlobStore, root_of: RootFunction, vector: np.ndarray) -> bytes:
    return put_vector(
        store,
        vector,
        kind="update",
        scale_bits=SCALE_BITS,
        words_per_leaf=WORDS_PER_LEAF,
        shapes=[(shape.name, shape.dims) for shape in SHAPES],
        root_of=root_of,
    ).ref


def test_put_then_get_round_trips(store: LocalBlobStore, root_of: RootFunction) -> None:
    vector = sample_vector()
    stored = put_vector(
        store,
        vector,
        kind="update",
        scale_bits=SCALE_BITS,
        words_per_leaf=WORDS_PER_LEAF,
        shapes=SHAPES,
        root_of=root_of,
    )
    assert stored.header == sample_header(vector)
    assert stored.ref == put_sample(store, root_of, vector)
    fetched = get_vector(store, stored.ref, expectation(vector), root_of=root_of)
    np.testing.assert_array_equal(fetched, vector)
    blob = get_blob(store, stored.ref, expectation(vector), root_of=root_of)
    assert blob.header == stored.header
    assert blob.tensors()["layer.bias"].tolist() == vector[6:8].tolist()


def test_shapes_are_checked_only_when_expected(store: LocalBlobStore, root_of: RootFunction) -> None:
    vector = sample_vector()
    ref = put_sample(store, root_of, vector)
    np.testing.assert_array_equal(get_vector(store, ref, expectation(vector, shapes=None), root_of=root_of), vector)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"kind": "model"}, "kind is 'update', expected 'model'"),
        ({"num_params": NUM_PARAMS + 1}, f"numParams is {NUM_PARAMS}, expected {NUM_PARAMS + 1}"),
        ({"scale_bits": SCALE_BITS + 1}, f"scaleBits is {SCALE_BITS}, expected {SCALE_BITS + 1}"),
        ({"words_per_leaf": 4}, f"wordsPerLeaf is {WORDS_PER_LEAF}, expected 4"),
        ({"root": bytes(32)}, f"expected '0x{'00' * 32}'"),
        (
            {"shapes": (TensorShape("layer.weight", (3, 2)), *SHAPES[1:])},
            "shapes are [layer.weight[2, 3], layer.bias[2], scale[]], "
            "expected [layer.weight[3, 2], layer.bias[2], scale[]]",
        ),
    ],
)
def test_a_blob_of_another_layout_is_a_mismatch(
    store: LocalBlobStore, root_of: RootFunction, changes: dict[str, object], complaint: str
) -> None:
    vector = sample_vector()
    ref = put_sample(store, root_of, vector)
    with pytest.raises(BlobMismatchError) as caught:
        get_vector(store, ref, expectation(vector, **changes), root_of=root_of)
    message = str(caught.value)
    assert message.startswith(f"blob {ref.hex()} is not the expected blob: ")
    assert complaint in message


def test_mismatch_lists_every_differing_field() -> None:
    vector = sample_vector()
    expected = expectation(vector, kind="model", num_params=3, shapes=(TensorShape("w", (3,)),))
    with pytest.raises(BlobMismatchError) as caught:
        check_expected(sample_header(vector), expected, ref=bytes(32))
    assert str(caught.value).count(";") == 2


def test_a_foreign_task_blob_of_the_same_size_is_refused(store: LocalBlobStore, root_of: RootFunction) -> None:
    ours = sample_vector(seed=1)
    foreign = sample_vector(seed=2)
    foreign_ref = put_vector(
        store, foreign, kind="update", scale_bits=8, words_per_leaf=1, shapes=SHAPES, root_of=root_of
    ).ref
    with pytest.raises(BlobMismatchError, match="scaleBits is 8, expected 16; wordsPerLeaf is 1, expected 2"):
        get_vector(store, foreign_ref, expectation(ours), root_of=root_of)


def test_header_root_that_disagrees_with_the_payload_is_refused(store: LocalBlobStore, root_of: RootFunction) -> None:
    vector = sample_vector()
    claimed_root = bytes([0x42]) * 32
    forged = dataclasses.replace(sample_header(vector), root=claimed_root)
    ref = store.put(encode_blob(forged, vector))
    with pytest.raises(BlobFormatError, match=f"blob {ref.hex()}: recomputed root .* differs"):
        get_vector(store, ref, expectation(vector, root=claimed_root), root_of=root_of)


def test_corrupt_stored_blob_is_refused(store: LocalBlobStore, root_of: RootFunction) -> None:
    vector = sample_vector()
    ref = put_sample(store, root_of, vector)
    path = store.path_for(ref)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CorruptBlobError, match=ref.hex()):
        get_vector(store, ref, expectation(vector), root_of=root_of)


def test_missing_blob_is_not_found(store: LocalBlobStore, root_of: RootFunction) -> None:
    vector = sample_vector()
    with pytest.raises(BlobNotFoundError):
        get_vector(store, bytes(32), expectation(vector), root_of=root_of)


def test_bytes_that_are_not_a_blob_are_a_format_error(store: LocalBlobStore, root_of: RootFunction) -> None:
    ref = store.put(b"not a blob at all")
    with pytest.raises(BlobFormatError, match=f"blob {ref.hex()}: magic is b'not '"):
        get_vector(store, ref, expectation(sample_vector()), root_of=root_of)


def test_put_vector_checks_the_vector_before_computing_a_root(store: LocalBlobStore) -> None:
    def unreachable_root(vector: np.ndarray, words_per_leaf: int) -> bytes:
        raise AssertionError("root computed for an invalid vector")

    with pytest.raises(BlobFormatError, match="dtype is int64, expected int32"):
        put_vector(
            store,
            np.zeros(NUM_PARAMS, dtype=np.int64),
            kind="update",
            scale_bits=SCALE_BITS,
            words_per_leaf=WORDS_PER_LEAF,
            shapes=SHAPES,
            root_of=unreachable_root,
        )
    assert not store.directory.exists()


def test_put_vector_rejects_shapes_that_do_not_cover_the_vector(store: LocalBlobStore, root_of: RootFunction) -> None:
    with pytest.raises(BlobFormatError, match=f"shapes hold 6 values in all, but numParams is {NUM_PARAMS}"):
        put_vector(
            store,
            sample_vector(),
            kind="model",
            scale_bits=SCALE_BITS,
            words_per_leaf=WORDS_PER_LEAF,
            shapes=[("w", (2, 3))],
            root_of=root_of,
        )


def test_every_single_byte_flip_is_caught_even_without_the_sha256_check() -> None:
    """The format checks, the expectation and the root together refuse any one-byte change of a blob."""
    vector = sample_vector()
    data = encode_blob(sample_header(vector), vector)
    expected = expectation(vector)
    for position in range(len(data)):
        for bit in (0x01, 0x80):
            flipped = bytearray(data)
            flipped[position] ^= bit
            with pytest.raises(StorageError):
                blob = decode_blob(bytes(flipped))
                check_expected(blob.header, expected, ref=bytes(32))
                verify_root(blob, digest_root)


# --- with the protocol's Merkle tree (the default root function) ------------------------------------


def test_protocol_root_of_a_single_coordinate_is_its_leaf_hash() -> None:
    word = (-2).to_bytes(4, "big", signed=True) + bytes(28)
    expected = keccak256(b"\x00" + (0).to_bytes(32, "big") + word)
    assert protocol_root(np.array([-2], dtype=np.int32), 1) == expected


def test_default_root_is_the_protocol_root(store: LocalBlobStore) -> None:
    vector = sample_vector(size=NUM_PARAMS)
    stored = put_vector(store, vector, kind="model", scale_bits=SCALE_BITS, words_per_leaf=1, shapes=SHAPES)
    assert stored.header.root == protocol_root(vector, 1)
    expected = ExpectedBlob("model", NUM_PARAMS, SCALE_BITS, 1, stored.header.root, SHAPES)
    np.testing.assert_array_equal(get_vector(store, stored.ref, expected), vector)


def test_tampered_payload_fails_the_protocol_root(store: LocalBlobStore) -> None:
    vector = sample_vector()
    honest = put_vector(
        store, vector, kind="update", scale_bits=SCALE_BITS, words_per_leaf=WORDS_PER_LEAF, shapes=SHAPES
    )
    tampered = bytearray(store.get(honest.ref))
    tampered[-1] ^= 0x01
    ref = store.put(bytes(tampered))
    expected = ExpectedBlob("update", NUM_PARAMS, SCALE_BITS, WORDS_PER_LEAF, honest.header.root, SHAPES)
    with pytest.raises(BlobFormatError, match=f"blob {ref.hex()}: recomputed root"):
        get_blob(store, ref, expected)


def test_a_model_blobs_preprocessing_is_checked_with_its_shapes(store: LocalBlobStore, root_of: RootFunction) -> None:
    vector = sample_vector()
    data = DataSpec(features=(), normalization="standardize", mean=(0.5,), scale=(2.0,), missing="mean")
    stored = put_vector(store, vector, kind="model", scale_bits=SCALE_BITS, words_per_leaf=WORDS_PER_LEAF,
                        shapes=SHAPES, root_of=root_of, data=data)
    assert stored.header.data == data
    model = expectation(vector, kind="model", data=data)
    np.testing.assert_array_equal(get_vector(store, stored.ref, model, root_of=root_of), vector)
    np.testing.assert_array_equal(get_vector(store, stored.ref, expectation(vector, kind="model", shapes=None),
                                             root_of=root_of), vector)  # loose: neither shapes nor data checked
    for wanted in (None, dataclasses.replace(data, scale=(3.0,))):
        with pytest.raises(BlobMismatchError, match=r"data is DataSpec\(.*scale=\(2.0,\).*\), expected "):
            get_vector(store, stored.ref, expectation(vector, kind="model", data=wanted), root_of=root_of)
