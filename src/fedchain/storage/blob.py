"""The blob format of docs/protocol.md §6: encoding, decoding and the checks a reader makes.

A blob is ``magic "FCB1" | header length (uint16 big-endian) | header JSON | payload``, where the header is
canonical JSON (keys sorted, no whitespace, UTF-8) and the payload is the vector's int32 values,
little-endian. Its reference is the sha256 of the whole blob.

A model blob may also carry the preprocessing its task declares (``data``, :class:`DataSpec`): how raw features
become the model's inputs travels with every model of the task, and the model-spec hash covers it.

The Merkle root is not computed here: the protocol core owns the tree (docs/protocol.md §3), and storage
sits above it. Every function that needs a root takes a :data:`RootFunction` ``(vector, words_per_leaf)
-> root``, so this module never imports the tree code and the caller decides which implementation runs.
"""

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt

from fedchain.commit.constants import ALLOWED_WORDS_PER_LEAF, MAX_SCALE_BITS
from fedchain.commit.keccak import keccak256
from fedchain.storage.errors import BlobFormatError, InvalidBlobRefError

MAGIC: Final = b"FCB1"
FORMAT_VERSION: Final = 1
HEADER_LENGTH_BYTES: Final = 2
PREFIX_BYTES: Final = len(MAGIC) + HEADER_LENGTH_BYTES
MAX_HEADER_BYTES: Final = 2 ** (8 * HEADER_LENGTH_BYTES) - 1
PAYLOAD_DTYPE: Final = np.dtype("<i4")
REF_BYTES: Final = 32
ROOT_BYTES: Final = 32

BlobKind: TypeAlias = Literal["model", "update", "masked"]
BLOB_KINDS: Final[tuple[str, ...]] = get_args(BlobKind)

Int32Vector: TypeAlias = npt.NDArray[np.int32]
RootFunction: TypeAlias = Callable[[Int32Vector, int], bytes]
"""Computes the Merkle root (docs/protocol.md §3) of an int32 vector, ``words_per_leaf`` words a leaf."""

_HEADER_KEYS: Final = frozenset({"version", "kind", "numParams", "scaleBits", "wordsPerLeaf", "root", "shapes"})
DATA_KEY: Final = "data"
"""The optional header key of a model blob whose task declares its preprocessing (:class:`DataSpec`)."""
_DATA_KEYS: Final = frozenset({"features", "normalization", "mean", "scale", "missing"})
NORMALIZATIONS: Final = ("standardize", "none")
MISSING_RULES: Final = ("refuse", "mean")


@dataclass(frozen=True)
class TensorShape:
    """One tensor of the flat vector: its name and its dimensions (``()`` for a scalar)."""

    name: str
    dims: tuple[int, ...]

    @property
    def numel(self) -> int:
        """The number of coordinates the tensor takes in the flat vector."""
        return math.prod(self.dims)


@dataclass(frozen=True)
class DataSpec:
    """The preprocessing a task declares (its task file's ``[data]``: what changes the inputs the model sees), as
    a model blob's header carries it under ``data`` (docs/protocol.md section 6): the feature columns in order
    (empty: not named), the normalization (``standardize``: ``(x - mean) / scale``, or ``none``) with its
    statistics, and what a missing value becomes (``refuse``, or ``mean``: the feature's mean, 0 once
    standardized). Construction validates every field."""

    features: tuple[str, ...]
    normalization: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    missing: str

    def __post_init__(self) -> None:
        _validate_data(self)


@dataclass(frozen=True)
class BlobHeader:
    """The header of a blob (format version 1); construction validates every field. Only a model blob may carry
    its task's declared preprocessing (``data``)."""

    kind: BlobKind
    num_params: int
    scale_bits: int
    words_per_leaf: int
    root: bytes
    shapes: tuple[TensorShape, ...]
    data: DataSpec | None = None

    def __post_init__(self) -> None:
        _validate_header(self)


@dataclass(frozen=True)
class Blob:
    """A decoded blob: its header and its vector (a read-only int32 array of ``num_params`` values)."""

    header: BlobHeader
    vector: Int32Vector

    def tensors(self) -> dict[str, Int32Vector]:
        """Split the flat vector into its named tensors, in header order (read-only views, no copy)."""
        tensors: dict[str, Int32Vector] = {}
        offset = 0
        for shape in self.header.shapes:
            tensors[shape.name] = self.vector[offset : offset + shape.numel].reshape(shape.dims)
            offset += shape.numel
        return tensors


def as_tensor_shapes(shapes: Iterable[TensorShape | tuple[str, Sequence[int]]]) -> tuple[TensorShape, ...]:
    """Normalise ``(name, dims)`` pairs (or :class:`TensorShape` values) into a tuple of TensorShape."""
    normalised: list[TensorShape] = []
    for shape in shapes:
        if isinstance(shape, TensorShape):
            normalised.append(shape)
        else:
            name, dims = shape
            normalised.append(TensorShape(name, tuple(dims)))
    return tuple(normalised)


def blob_ref(data: bytes) -> bytes:
    """The reference of a blob: the 32-byte sha256 digest of all its bytes."""
    return hashlib.sha256(data).digest()


def ref_hex(ref: bytes) -> str:
    """The storage key of a reference: 64 lowercase hex digits, no prefix."""
    return check_ref(ref).hex()


def ref_from_hex(text: str) -> bytes:
    """Parse a reference written as 64 hex digits, with or without a ``0x`` prefix."""
    digits = text.removeprefix("0x")
    if len(digits) != 2 * REF_BYTES:
        raise InvalidBlobRefError(f"blob reference {text!r} is not {2 * REF_BYTES} hex digits")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise InvalidBlobRefError(f"blob reference {text!r} is not hexadecimal") from None


def check_ref(ref: bytes) -> bytes:
    """Return ``ref`` unchanged if it is a 32-byte reference, else raise :class:`InvalidBlobRefError`."""
    if not isinstance(ref, bytes) or len(ref) != REF_BYTES:
        raise InvalidBlobRefError(f"blob reference {ref!r} is not {REF_BYTES} bytes")
    return ref


def header_json(header: BlobHeader) -> bytes:
    """The canonical header JSON of a blob: UTF-8, keys sorted, no whitespace."""
    return _canonical_json(_header_fields(header))


def model_spec_json(header: BlobHeader) -> bytes:
    """The header JSON with ``root`` removed: what a task's model-spec hash is taken over (so it covers the
    declared preprocessing, ``data``, where the header carries one)."""
    fields = _header_fields(header)
    del fields["root"]
    return _canonical_json(fields)


def model_spec_hash(header: BlobHeader) -> bytes:
    """A task's model-spec hash: keccak of :func:`model_spec_json` of its initial model blob's header."""
    return keccak256(model_spec_json(header))


def check_vector(vector: Int32Vector) -> None:
    """Raise :class:`BlobFormatError` unless ``vector`` is a 1-D numpy array of dtype int32."""
    if not isinstance(vector, np.ndarray):
        raise BlobFormatError(f"vector is a {type(vector).__name__}, expected a numpy int32 array")
    if vector.dtype != np.int32:
        raise BlobFormatError(f"vector dtype is {vector.dtype}, expected int32")
    if vector.ndim != 1:
        raise BlobFormatError(f"vector has shape {vector.shape}, expected one dimension")


def encode_blob(header: BlobHeader, vector: Int32Vector) -> bytes:
    """Encode ``vector`` under ``header``; the vector must be a 1-D int32 array of ``num_params`` values.

    The root in the header is taken as given; :func:`fedchain.storage.vectors.put_vector` computes it.
    """
    check_vector(vector)
    if vector.size != header.num_params:
        raise BlobFormatError(f"vector has {vector.size} values, header says numParams={header.num_params}")
    header_bytes = header_json(header)
    if len(header_bytes) > MAX_HEADER_BYTES:
        raise BlobFormatError(f"header JSON is {len(header_bytes)} bytes, at most {MAX_HEADER_BYTES} fit")
    length = len(header_bytes).to_bytes(HEADER_LENGTH_BYTES, "big")
    return MAGIC + length + header_bytes + vector.astype(PAYLOAD_DTYPE, copy=False).tobytes()


def decode_blob(data: bytes, *, ref: bytes | None = None) -> Blob:
    """Decode a blob, checking in order: magic, header JSON (canonical form, version, fields), payload length.

    The Merkle root is not recomputed here: call :func:`verify_root` (or use
    :func:`fedchain.storage.vectors.get_blob`, which does every check). ``ref`` names the blob in error
    messages (computed from ``data`` when not given); checking the bytes against it is the store's job
    (``BlobStore.get``).
    """
    try:
        return _decode(data)
    except BlobFormatError as error:
        raise BlobFormatError(f"{_describe_blob(data, ref)}: {error}") from None


def verify_root(blob: Blob, root_of: RootFunction, *, ref: bytes | None = None) -> None:
    """Recompute the blob's Merkle root with ``root_of`` and raise :class:`BlobFormatError` if it differs."""
    computed = root_of(blob.vector, blob.header.words_per_leaf)
    if not isinstance(computed, bytes) or len(computed) != ROOT_BYTES:
        raise TypeError(f"root function returned {computed!r}, expected {ROOT_BYTES} bytes")
    if computed != blob.header.root:
        raise BlobFormatError(
            f"{_describe_blob(None, ref)}: recomputed root 0x{computed.hex()} "
            f"differs from the header's root 0x{blob.header.root.hex()}"
        )


def _describe_blob(data: bytes | None, ref: bytes | None) -> str:
    """How error messages name a blob: by its reference, given or computed from ``data``."""
    if ref is None and data is not None:
        ref = blob_ref(data)
    return "blob" if ref is None else f"blob {ref.hex()}"


def _decode(data: bytes) -> Blob:
    if len(data) < PREFIX_BYTES:
        raise BlobFormatError(f"{len(data)} bytes, shorter than the {PREFIX_BYTES}-byte prefix")
    if data[: len(MAGIC)] != MAGIC:
        raise BlobFormatError(f"magic is {bytes(data[: len(MAGIC)])!r}, expected {MAGIC!r}")
    header_length = int.from_bytes(data[len(MAGIC) : PREFIX_BYTES], "big")
    payload_start = PREFIX_BYTES + header_length
    if payload_start > len(data):
        raise BlobFormatError(f"header length {header_length} runs past the end of the blob")
    header = _parse_header(bytes(data[PREFIX_BYTES:payload_start]))
    payload_length = len(data) - payload_start
    expected_length = header.num_params * PAYLOAD_DTYPE.itemsize
    if payload_length != expected_length:
        raise BlobFormatError(f"payload is {payload_length} bytes, expected 4 * numParams = {expected_length}")
    payload = np.frombuffer(data, dtype=PAYLOAD_DTYPE, count=header.num_params, offset=payload_start)
    vector: Int32Vector = payload.astype(np.int32, copy=False)
    vector.flags.writeable = False
    return Blob(header=header, vector=vector)


def _header_fields(header: BlobHeader) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "kind": header.kind,
        "numParams": header.num_params,
        "scaleBits": header.scale_bits,
        "wordsPerLeaf": header.words_per_leaf,
        "root": "0x" + header.root.hex(),
        "shapes": [[shape.name, list(shape.dims)] for shape in header.shapes],
    }
    if header.data is not None:
        fields[DATA_KEY] = _data_fields(header.data)
    return fields


def _data_fields(data: DataSpec) -> dict[str, Any]:
    """``data`` as the header writes it: each statistic a string, :func:`decimal_text` of its double."""
    return {"features": list(data.features), "normalization": data.normalization,
            "mean": [decimal_text(value) for value in data.mean],
            "scale": [decimal_text(value) for value in data.scale], "missing": data.missing}


def decimal_text(value: float) -> str:
    """The header's spelling of a statistic: the shortest decimal that reads back as the same IEEE-754 double, as
    Python's ``repr`` writes it (``0.5``, ``14.127``, ``2.0``, ``1e-07``, ``1.5e+16``)."""
    return repr(float(value))


def _canonical_json(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _parse_header(raw: bytes) -> BlobHeader:
    try:
        fields = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as error:
        raise BlobFormatError(f"header is not UTF-8 ({error.reason})") from None
    except ValueError as error:
        raise BlobFormatError(f"header is not JSON ({error})") from None
    if not isinstance(fields, dict):
        raise BlobFormatError(f"header JSON is a {type(fields).__name__}, expected an object")
    version = fields.get("version")
    if not _is_int(version) or version != FORMAT_VERSION:
        raise BlobFormatError(f"header version is {version!r}, this reader supports {FORMAT_VERSION}")
    missing = sorted(_HEADER_KEYS - fields.keys())
    unknown = sorted(fields.keys() - _HEADER_KEYS - {DATA_KEY})
    if missing or unknown:
        raise BlobFormatError(f"header keys missing {missing}, unknown {unknown}")
    try:
        header = BlobHeader(
            kind=fields["kind"],
            num_params=fields["numParams"],
            scale_bits=fields["scaleBits"],
            words_per_leaf=fields["wordsPerLeaf"],
            root=_parse_root(fields["root"]),
            shapes=_parse_shapes(fields["shapes"]),
            data=_parse_data(fields[DATA_KEY]) if DATA_KEY in fields else None,
        )
    except BlobFormatError as error:
        raise BlobFormatError(f"header: {error}") from None
    if header_json(header) != raw:
        raise BlobFormatError("header JSON is not in canonical form (keys sorted, no whitespace)")
    return header


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key in fields:
            raise ValueError(f"duplicate key {key!r}")
        fields[key] = value
    return fields


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse_root(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 2 + 2 * ROOT_BYTES:
        raise BlobFormatError(f"root {value!r} is not 0x followed by {2 * ROOT_BYTES} hex digits")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise BlobFormatError(f"root {value!r} is not hexadecimal") from None


def _parse_shapes(value: object) -> tuple[TensorShape, ...]:
    if not isinstance(value, list):
        raise BlobFormatError(f"shapes is {value!r}, expected a list of [name, [dims...]]")
    shapes: list[TensorShape] = []
    for entry in value:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
            raise BlobFormatError(f"shape {entry!r} is not [name, [dims...]]")
        shapes.append(TensorShape(entry[0], tuple(entry[1])))
    return tuple(shapes)


def _parse_data(value: object) -> DataSpec:
    if not isinstance(value, dict) or set(value) != _DATA_KEYS:
        keys = sorted(value) if isinstance(value, dict) else value
        raise BlobFormatError(f"data is {keys!r}, expected an object with keys {sorted(_DATA_KEYS)}")
    lists = {key: value[key] for key in ("features", "mean", "scale")}
    for key, items in lists.items():
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise BlobFormatError(f"data.{key} is {items!r}, expected a list of strings")
    return DataSpec(features=tuple(lists["features"]), normalization=value["normalization"],
                    mean=_statistics("mean", lists["mean"]), scale=_statistics("scale", lists["scale"]),
                    missing=value["missing"])


def _statistics(key: str, texts: list[str]) -> tuple[float, ...]:
    """The statistics written as ``texts``, each the canonical :func:`decimal_text` of a finite double."""
    values: list[float] = []
    for text in texts:
        try:
            value = float(text)
        except ValueError:
            raise BlobFormatError(f"data.{key}: {text!r} is not a decimal number") from None
        if not math.isfinite(value) or decimal_text(value) != text:
            raise BlobFormatError(f"data.{key}: {text!r} is not a finite number in canonical form "
                                  f"({decimal_text(value)!r} is)")
        values.append(value)
    return tuple(values)


def _validate_data(data: DataSpec) -> None:
    if not isinstance(data.features, tuple) or not all(isinstance(name, str) and name and name.isprintable()
                                                       for name in data.features):
        raise BlobFormatError(f"data.features is {data.features!r}, expected non-empty printable names")
    if len(set(data.features)) != len(data.features):
        raise BlobFormatError(f"data.features names a column twice: {list(data.features)}")
    if data.normalization not in NORMALIZATIONS:
        raise BlobFormatError(f"data.normalization is {data.normalization!r}, expected one of {list(NORMALIZATIONS)}")
    if data.missing not in MISSING_RULES:
        raise BlobFormatError(f"data.missing is {data.missing!r}, expected one of {list(MISSING_RULES)}")
    for key in ("mean", "scale"):
        values = getattr(data, key)
        if not isinstance(values, tuple) or not all(isinstance(v, float) and math.isfinite(v) for v in values):
            raise BlobFormatError(f"data.{key} is {values!r}, expected finite floats")
    if data.normalization == "none":
        if data.mean or data.scale or data.missing != "refuse":
            raise BlobFormatError("data: normalization \"none\" has no statistics, and missing values are refused")
        return
    if not data.mean or len(data.scale) != len(data.mean):
        raise BlobFormatError(f"data: standardize needs as many scales as means, at least one: got "
                              f"{len(data.mean)} means, {len(data.scale)} scales")
    if data.features and len(data.features) != len(data.mean):
        raise BlobFormatError(f"data: {len(data.mean)} means for {len(data.features)} features")
    if not all(value > 0 for value in data.scale):
        raise BlobFormatError(f"data.scale: every scale must be > 0, got {list(data.scale)}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_header(header: BlobHeader) -> None:
    if header.kind not in BLOB_KINDS:
        raise BlobFormatError(f"kind is {header.kind!r}, expected one of {list(BLOB_KINDS)}")
    if not _is_int(header.num_params) or header.num_params < 1:
        raise BlobFormatError(f"numParams is {header.num_params!r}, expected an integer >= 1")
    if not _is_int(header.scale_bits) or not 0 <= header.scale_bits <= MAX_SCALE_BITS:
        raise BlobFormatError(f"scaleBits is {header.scale_bits!r}, expected an integer in 0..{MAX_SCALE_BITS}")
    if not _is_int(header.words_per_leaf) or header.words_per_leaf not in ALLOWED_WORDS_PER_LEAF:
        raise BlobFormatError(
            f"wordsPerLeaf is {header.words_per_leaf!r}, expected one of {list(ALLOWED_WORDS_PER_LEAF)}"
        )
    if not isinstance(header.root, bytes) or len(header.root) != ROOT_BYTES:
        raise BlobFormatError(f"root is {header.root!r}, expected {ROOT_BYTES} bytes")
    _validate_shapes(header.shapes, header.num_params)
    if header.data is not None:
        if not isinstance(header.data, DataSpec):
            raise BlobFormatError(f"data is {header.data!r}, expected a DataSpec")
        if header.kind != "model":
            raise BlobFormatError(f"a {header.kind!r} blob carries no data (only a model blob does)")


def _validate_shapes(shapes: tuple[TensorShape, ...], num_params: int) -> None:
    if not isinstance(shapes, tuple) or not all(isinstance(shape, TensorShape) for shape in shapes):
        raise BlobFormatError(f"shapes is {shapes!r}, expected a tuple of TensorShape")
    names: set[str] = set()
    for shape in shapes:
        if not isinstance(shape.name, str) or not shape.name or not shape.name.isprintable():
            raise BlobFormatError(f"tensor name {shape.name!r} is not a non-empty printable string")
        if shape.name in names:
            raise BlobFormatError(f"tensor name {shape.name!r} appears twice")
        names.add(shape.name)
        if not all(_is_int(dim) and dim >= 0 for dim in shape.dims):
            raise BlobFormatError(f"tensor {shape.name!r} has dims {list(shape.dims)}, expected integers >= 0")
    total = sum(shape.numel for shape in shapes)
    if total != num_params:
        raise BlobFormatError(f"shapes hold {total} values in all, but numParams is {num_params}")
