"""The blob format of docs/protocol.md §6: exact bytes, round trips and every malformed input."""

import hashlib
import json
import re
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain.commit.keccak import keccak256
from fedchain.storage import (
    Blob,
    BlobFormatError,
    BlobHeader,
    DataSpec,
    InvalidBlobRefError,
    TensorShape,
    blob_ref,
    decode_blob,
    encode_blob,
    header_json,
    model_spec_hash,
    model_spec_json,
    ref_from_hex,
    ref_hex,
    verify_root,
)
from fedchain.storage.blob import MAX_HEADER_BYTES, as_tensor_shapes, decimal_text
from tests.storage.storage_samples import NUM_PARAMS, SHAPES, digest_root, sample_header, sample_vector

SMALL_HEADER = BlobHeader(
    kind="update",
    num_params=3,
    scale_bits=16,
    words_per_leaf=1,
    root=bytes([0x11]) * 32,
    shapes=(TensorShape("w", (3,)),),
)
SMALL_HEADER_JSON = (
    b'{"kind":"update","numParams":3,"root":"0x' + b"11" * 32 + b'","scaleBits":16,'
    b'"shapes":[["w",[3]]],"version":1,"wordsPerLeaf":1}'
)


def assemble(header: bytes, payload: bytes, magic: bytes = b"FCB1") -> bytes:
    """Blob bytes from raw parts, for building malformed blobs."""
    return magic + struct.pack(">H", len(header)) + header + payload


def header_fields() -> dict[str, object]:
    """The parsed header of :data:`SMALL_HEADER`, to be altered by a test."""
    fields: dict[str, object] = json.loads(SMALL_HEADER_JSON)
    return fields


def canonical(fields: dict[str, object]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


SMALL_PAYLOAD = np.array([1, -1, 2**31 - 1], dtype="<i4").tobytes()


def decode_error(data: bytes) -> str:
    with pytest.raises(BlobFormatError) as caught:
        decode_blob(data)
    return str(caught.value)


def test_encoding_matches_the_documented_layout() -> None:
    data = encode_blob(SMALL_HEADER, np.array([1, -1, 2**31 - 1], dtype=np.int32))
    assert data[:4] == b"FCB1"
    assert int.from_bytes(data[4:6], "big") == len(SMALL_HEADER_JSON)
    assert data[6 : 6 + len(SMALL_HEADER_JSON)] == SMALL_HEADER_JSON
    assert data[6 + len(SMALL_HEADER_JSON) :] == bytes.fromhex("01000000ffffffffffffff7f")
    assert header_json(SMALL_HEADER) == SMALL_HEADER_JSON


def test_round_trip_keeps_header_and_vector() -> None:
    vector = sample_vector()
    header = sample_header(vector)
    blob = decode_blob(encode_blob(header, vector))
    assert blob.header == header
    assert blob.vector.dtype == np.int32
    np.testing.assert_array_equal(blob.vector, vector)


def test_decoded_vector_is_read_only() -> None:
    vector = sample_vector()
    blob = decode_blob(encode_blob(sample_header(vector), vector))
    with pytest.raises(ValueError, match="read-only"):
        blob.vector[0] = 0


def test_tensors_split_the_vector_in_header_order() -> None:
    vector = sample_vector()
    tensors = decode_blob(encode_blob(sample_header(vector), vector)).tensors()
    assert list(tensors) == [shape.name for shape in SHAPES]
    np.testing.assert_array_equal(tensors["layer.weight"], vector[:6].reshape(2, 3))
    np.testing.assert_array_equal(tensors["layer.bias"], vector[6:8])
    assert tensors["scale"].shape == ()
    assert int(tensors["scale"]) == vector[8]


def test_non_ascii_tensor_names_are_written_as_utf8() -> None:
    header = BlobHeader("model", 1, 0, 1, bytes(32), (TensorShape("gewicht_ä", (1,)),))
    assert "gewicht_ä".encode() in header_json(header)
    assert decode_blob(encode_blob(header, np.zeros(1, dtype=np.int32))).header == header


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=64),
    words_per_leaf=st.sampled_from([1, 2, 4, 8]),
    scale_bits=st.integers(0, 30),
    kind=st.sampled_from(["model", "update", "masked"]),
)
def test_round_trip_property(values: list[int], words_per_leaf: int, scale_bits: int, kind: str) -> None:
    vector = np.array(values, dtype=np.int32)
    header = BlobHeader(
        kind=kind,  # type: ignore[arg-type]
        num_params=len(values),
        scale_bits=scale_bits,
        words_per_leaf=words_per_leaf,
        root=digest_root(vector, words_per_leaf),
        shapes=(TensorShape("flat", (len(values),)),),
    )
    data = encode_blob(header, vector)
    blob = decode_blob(data)
    assert blob.header == header
    assert blob.vector.tolist() == values
    verify_root(blob, digest_root)


def test_blob_ref_is_the_sha256_of_the_whole_blob() -> None:
    data = encode_blob(SMALL_HEADER, np.zeros(3, dtype=np.int32))
    assert blob_ref(data) == hashlib.sha256(data).digest()
    assert ref_hex(blob_ref(data)) == hashlib.sha256(data).hexdigest()


def test_ref_hex_round_trip_with_and_without_prefix() -> None:
    ref = bytes(range(32))
    assert ref_from_hex(ref_hex(ref)) == ref
    assert ref_from_hex("0x" + ref_hex(ref)) == ref


@pytest.mark.parametrize("text", ["ab" * 31, "zz" * 32, "0x" + "ab" * 33])
def test_ref_from_hex_rejects_malformed_text(text: str) -> None:
    with pytest.raises(InvalidBlobRefError, match="blob reference"):
        ref_from_hex(text)


@pytest.mark.parametrize("ref", [b"", bytes(31), bytes(33), "00" * 32])
def test_ref_hex_rejects_refs_that_are_not_32_bytes(ref: bytes) -> None:
    with pytest.raises(InvalidBlobRefError, match="not 32 bytes"):
        ref_hex(ref)


def test_model_spec_ignores_the_root_only() -> None:
    other_root = BlobHeader("update", 3, 16, 1, bytes([0x22]) * 32, SMALL_HEADER.shapes)
    other_shapes = BlobHeader("update", 3, 16, 1, SMALL_HEADER.root, (TensorShape("w", (1, 3)),))
    assert model_spec_json(SMALL_HEADER) == (
        b'{"kind":"update","numParams":3,"scaleBits":16,"shapes":[["w",[3]]],"version":1,"wordsPerLeaf":1}'
    )
    assert model_spec_hash(SMALL_HEADER) == keccak256(model_spec_json(SMALL_HEADER))
    assert model_spec_hash(other_root) == model_spec_hash(SMALL_HEADER)
    assert model_spec_hash(other_shapes) != model_spec_hash(SMALL_HEADER)


def test_as_tensor_shapes_accepts_pairs_and_shapes() -> None:
    assert as_tensor_shapes([("a", [2, 3]), TensorShape("b", ())]) == (
        TensorShape("a", (2, 3)),
        TensorShape("b", ()),
    )


# --- the reader's checks, in the documented order ---------------------------------------------------


def test_well_formed_small_blob_decodes() -> None:
    blob = decode_blob(assemble(SMALL_HEADER_JSON, SMALL_PAYLOAD))
    assert blob == Blob(SMALL_HEADER, blob.vector)
    assert blob.vector.tolist() == [1, -1, 2**31 - 1]


def test_errors_name_the_blob_by_its_ref() -> None:
    data = assemble(SMALL_HEADER_JSON, SMALL_PAYLOAD, magic=b"FCB2")
    assert decode_error(data).startswith(f"blob {hashlib.sha256(data).hexdigest()}: ")
    ref = bytes([0xAB]) * 32
    with pytest.raises(BlobFormatError, match=f"^blob {'ab' * 32}: magic"):
        decode_blob(data, ref=ref)


@pytest.mark.parametrize("magic", [b"FCB2", b"fcb1", b"\x00\x00\x00\x00"])
def test_wrong_magic(magic: bytes) -> None:
    assert "magic is" in decode_error(assemble(SMALL_HEADER_JSON, SMALL_PAYLOAD, magic=magic))


@pytest.mark.parametrize("length", [0, 3, 5])
def test_shorter_than_the_prefix(length: int) -> None:
    data = assemble(SMALL_HEADER_JSON, SMALL_PAYLOAD)[:length]
    assert "shorter than the 6-byte prefix" in decode_error(data)


def test_header_length_past_the_end() -> None:
    data = assemble(SMALL_HEADER_JSON, SMALL_PAYLOAD)[: 6 + len(SMALL_HEADER_JSON) - 1]
    assert "runs past the end" in decode_error(data)


@pytest.mark.parametrize("payload", [SMALL_PAYLOAD[:-1], SMALL_PAYLOAD[:-4], b"", SMALL_PAYLOAD + bytes(4)])
def test_payload_length_mismatch(payload: bytes) -> None:
    message = decode_error(assemble(SMALL_HEADER_JSON, payload))
    assert f"payload is {len(payload)} bytes, expected 4 * numParams = 12" in message


def test_truncated_blob_is_rejected() -> None:
    data = encode_blob(sample_header(sample_vector()), sample_vector())
    assert "payload is" in decode_error(data[:-1])


def test_header_not_utf8() -> None:
    assert "not UTF-8" in decode_error(assemble(SMALL_HEADER_JSON[:-1] + b"\xff", SMALL_PAYLOAD))


@pytest.mark.parametrize("header", [b"", b"{", b'{"version":1,}', b"NaN", b'{"version":Infinity}'])
def test_header_not_json(header: bytes) -> None:
    assert "not JSON" in decode_error(assemble(header, SMALL_PAYLOAD))


def test_header_not_an_object() -> None:
    assert "is a list, expected an object" in decode_error(assemble(b"[1]", SMALL_PAYLOAD))


def test_header_with_duplicate_key() -> None:
    header = SMALL_HEADER_JSON.replace(b'"version":1', b'"version":1,"version":1')
    assert "duplicate key 'version'" in decode_error(assemble(header, SMALL_PAYLOAD))


@pytest.mark.parametrize("version", [0, 2, "1", 1.0, True, None])
def test_wrong_version(version: object) -> None:
    fields = header_fields()
    fields["version"] = version
    assert f"header version is {version!r}" in decode_error(assemble(canonical(fields), SMALL_PAYLOAD))


def test_missing_version() -> None:
    fields = header_fields()
    del fields["version"]
    assert "header version is None" in decode_error(assemble(canonical(fields), SMALL_PAYLOAD))


def test_missing_and_unknown_keys() -> None:
    fields = header_fields()
    del fields["scaleBits"]
    fields["clip"] = 5
    message = decode_error(assemble(canonical(fields), SMALL_PAYLOAD))
    assert "missing ['scaleBits'], unknown ['clip']" in message


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("kind", "gradient", "kind is 'gradient'"),
        ("numParams", 0, "numParams is 0"),
        ("numParams", True, "numParams is True"),
        ("scaleBits", 31, "scaleBits is 31"),
        ("scaleBits", -1, "scaleBits is -1"),
        ("wordsPerLeaf", 3, "wordsPerLeaf is 3"),
        ("root", "0x" + "11" * 31, "is not 0x followed by 64 hex digits"),
        ("root", "11" * 33, "is not 0x followed by 64 hex digits"),
        ("root", "0x" + "zz" * 32, "is not hexadecimal"),
        ("shapes", {"w": [3]}, "expected a list of [name, [dims...]]"),
        ("shapes", [["w", 3]], "is not [name, [dims...]]"),
        ("shapes", [["w", [1, -3]]], "has dims [1, -3]"),
        ("shapes", [["w", [1.5]]], "has dims [1.5]"),
        ("shapes", [["", [3]]], "tensor name '' is not"),
        ("shapes", [[7, [3]]], "tensor name 7 is not"),
        ("shapes", [["w", [1]], ["w", [2]]], "tensor name 'w' appears twice"),
        ("shapes", [["w", [2, 2]]], "shapes hold 4 values in all, but numParams is 3"),
    ],
)
def test_invalid_header_fields(key: str, value: object, complaint: str) -> None:
    fields = header_fields()
    fields[key] = value
    message = decode_error(assemble(canonical(fields), SMALL_PAYLOAD))
    assert "header: " in message
    assert complaint in message


@pytest.mark.parametrize(
    "header",
    [
        SMALL_HEADER_JSON.replace(b",", b", "),
        json.dumps(header_fields(), sort_keys=True, indent=1).encode(),
        json.dumps(header_fields(), separators=(",", ":")).encode().replace(b"{", b"{ ", 1),
        json.dumps(dict(reversed(list(header_fields().items()))), separators=(",", ":")).encode(),
        SMALL_HEADER_JSON.replace(b"11" * 32, b"11" * 31 + b"1A"),
        SMALL_HEADER_JSON.replace(b'"w"', b'"\\u0077"'),
    ],
)
def test_non_canonical_header_json(header: bytes) -> None:
    assert header != SMALL_HEADER_JSON
    assert "not in canonical form" in decode_error(assemble(header, SMALL_PAYLOAD))


def test_flipped_payload_byte_fails_the_root_check() -> None:
    vector = sample_vector()
    data = bytearray(encode_blob(sample_header(vector), vector))
    data[-5] ^= 0x80
    blob = decode_blob(bytes(data))
    with pytest.raises(BlobFormatError, match=r"recomputed root 0x[0-9a-f]{64} differs from the header's root"):
        verify_root(blob, digest_root)


def test_verify_root_accepts_the_right_root() -> None:
    vector = sample_vector()
    verify_root(decode_blob(encode_blob(sample_header(vector), vector)), digest_root)


def test_wrong_root_error_names_the_ref_and_both_roots() -> None:
    vector = sample_vector()
    header = sample_header(vector)
    forged = BlobHeader(
        header.kind, header.num_params, header.scale_bits, header.words_per_leaf, bytes(32), header.shapes
    )
    blob = decode_blob(encode_blob(forged, vector))
    ref = bytes([0xCD]) * 32
    with pytest.raises(BlobFormatError) as caught:
        verify_root(blob, digest_root, ref=ref)
    message = str(caught.value)
    assert message.startswith(f"blob {'cd' * 32}: ")
    assert header.root.hex() in message
    assert "0x" + "00" * 32 in message


def test_root_function_returning_the_wrong_type_is_a_programming_error() -> None:
    vector = sample_vector()
    blob = decode_blob(encode_blob(sample_header(vector), vector))
    with pytest.raises(TypeError, match="expected 32 bytes"):
        verify_root(blob, lambda vector, words_per_leaf: "0x00")  # type: ignore[arg-type,return-value]


# --- building blobs from bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "complaint"),
    [
        (np.zeros(NUM_PARAMS, dtype=np.int64), "dtype is int64, expected int32"),
        (np.zeros(NUM_PARAMS, dtype=np.float32), "dtype is float32, expected int32"),
        (np.zeros((3, 3), dtype=np.int32), "shape (3, 3), expected one dimension"),
        (np.zeros(NUM_PARAMS + 1, dtype=np.int32), "vector has 10 values, header says numParams=9"),
        ([0] * NUM_PARAMS, "vector is a list, expected a numpy int32 array"),
    ],
)
def test_encode_rejects_bad_vectors(vector: object, complaint: str) -> None:
    with pytest.raises(BlobFormatError, match=re.escape(complaint)):
        encode_blob(sample_header(sample_vector()), vector)  # type: ignore[arg-type]


def test_encode_rejects_a_header_too_long_for_uint16() -> None:
    count = MAX_HEADER_BYTES // 10
    shapes = tuple(TensorShape(f"t{index:08d}", (1,)) for index in range(count))
    header = BlobHeader("model", count, 0, 1, bytes(32), shapes)
    with pytest.raises(BlobFormatError, match="at most 65535 fit"):
        encode_blob(header, np.zeros(count, dtype=np.int32))


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"kind": "delta"}, "kind is 'delta'"),
        ({"num_params": 0}, "numParams is 0"),
        ({"scale_bits": 31}, "scaleBits is 31"),
        ({"words_per_leaf": 16}, "wordsPerLeaf is 16"),
        ({"root": bytes(31)}, "expected 32 bytes"),
        ({"root": "00" * 32}, "expected 32 bytes"),
        ({"shapes": [TensorShape("w", (3,))]}, "expected a tuple of TensorShape"),
        ({"shapes": (TensorShape("w\n", (3,)),)}, "is not a non-empty printable string"),
        ({"shapes": (TensorShape("w", (True, 3)),)}, "has dims [True, 3]"),
    ],
)
def test_header_construction_validates_fields(changes: dict[str, object], complaint: str) -> None:
    fields: dict[str, object] = {
        "kind": "update",
        "num_params": 3,
        "scale_bits": 16,
        "words_per_leaf": 1,
        "root": bytes(32),
        "shapes": (TensorShape("w", (3,)),),
    }
    fields.update(changes)
    with pytest.raises(BlobFormatError, match=re.escape(complaint)):
        BlobHeader(**fields)  # type: ignore[arg-type]


DATA = DataSpec(features=("radius", "area"), normalization="standardize", mean=(14.127, 654.889),
                scale=(3.52, 1e-07), missing="refuse")
MODEL_WITH_DATA = BlobHeader("model", 3, 16, 1, bytes([0x11]) * 32, (TensorShape("w", (3,)),), data=DATA)
DATA_JSON = (b'"data":{"features":["radius","area"],"mean":["14.127","654.889"],"missing":"refuse",'
             b'"normalization":"standardize","scale":["3.52","1e-07"]}')


def test_a_model_blob_carries_its_tasks_preprocessing_and_the_spec_hash_covers_it() -> None:
    assert header_json(MODEL_WITH_DATA) == (b"{" + DATA_JSON + b',"kind":"model","numParams":3,"root":"0x' + b"11" * 32
                                            + b'","scaleBits":16,"shapes":[["w",[3]]],"version":1,"wordsPerLeaf":1}')
    blob = encode_blob(MODEL_WITH_DATA, np.arange(3, dtype=np.int32))
    assert decode_blob(blob).header == MODEL_WITH_DATA
    assert model_spec_json(MODEL_WITH_DATA).startswith(b"{" + DATA_JSON + b',"kind":"model"')
    without = BlobHeader("model", 3, 16, 1, bytes([0x11]) * 32, (TensorShape("w", (3,)),))
    other = BlobHeader("model", 3, 16, 1, bytes([0x22]) * 32, (TensorShape("w", (3,)),),
                       data=DataSpec(DATA.features, "standardize", DATA.mean, (3.52, 2e-07), "refuse"))
    hashes = {model_spec_hash(header) for header in (MODEL_WITH_DATA, without, other)}
    assert len(hashes) == 3, "the declared preprocessing changes the model-spec hash"
    assert decimal_text(2.0) == "2.0" and decimal_text(1.5e16) == "1.5e+16" and decimal_text(0.0001) == "0.0001"


@pytest.mark.parametrize(("data", "complaint"), [
    ({"features": [], "normalization": "standardize", "mean": [0.5], "scale": ["1.0"], "missing": "refuse"},
     r"data.mean is \[0.5\], expected a list of strings"),
    ({"features": [], "normalization": "standardize", "mean": ["0.50"], "scale": ["1.0"], "missing": "refuse"},
     r"data.mean: '0.50' is not a finite number in canonical form \('0.5' is\)"),
    ({"features": [], "normalization": "standardize", "mean": ["inf"], "scale": ["1.0"], "missing": "refuse"},
     r"data.mean: 'inf' is not a finite number"),
    ({"features": [], "normalization": "standardize", "mean": ["x"], "scale": ["1.0"], "missing": "refuse"},
     r"data.mean: 'x' is not a decimal number"),
    ({"features": [], "normalization": "minmax", "mean": [], "scale": [], "missing": "refuse"},
     r"data.normalization is 'minmax'"),
    ({"features": [], "normalization": "none", "mean": [], "scale": [], "missing": "mean"},
     r"normalization \"none\" has no statistics, and missing values are refused"),
    ({"features": [], "normalization": "standardize", "mean": [], "scale": [], "missing": "refuse"},
     r"standardize needs as many scales as means, at least one"),
    ({"features": ["a"], "normalization": "standardize", "mean": ["1.0", "2.0"], "scale": ["1.0", "1.0"],
      "missing": "refuse"}, r"2 means for 1 features"),
    ({"features": [], "normalization": "standardize", "mean": ["1.0"], "scale": ["0.0"], "missing": "refuse"},
     r"every scale must be > 0"),
    ({"features": ["a", "a"], "normalization": "none", "mean": [], "scale": [], "missing": "refuse"},
     r"names a column twice"),
    ({"features": [], "normalization": "none", "mean": [], "scale": []}, r"data is \['features', 'mean', "),
])
def test_a_malformed_data_table_is_refused(data: dict[str, object], complaint: str) -> None:
    fields = {**header_fields(), "kind": "model", "data": data}
    with pytest.raises(BlobFormatError, match=complaint):
        decode_blob(assemble(canonical(fields), bytes(12)))


def test_only_a_model_blob_carries_data() -> None:
    fields = {**header_fields(), "data": json.loads(b"{" + DATA_JSON + b"}")["data"]}
    fields["shapes"] = [["w", [3]]]
    fields["data"]["features"] = ["a", "b"]
    with pytest.raises(BlobFormatError, match="a 'update' blob carries no data"):
        decode_blob(assemble(canonical(fields), bytes(12)))
    with pytest.raises(BlobFormatError, match="a 'update' blob carries no data"):
        BlobHeader("update", 3, 16, 1, bytes(32), (TensorShape("w", (3,)),), data=DATA)
