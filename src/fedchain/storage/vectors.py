"""Storing and fetching quantized vectors as blobs, with every check docs/protocol.md §6 asks of a reader.

:func:`put_vector` computes the vector's Merkle root, builds the header and stores the blob.
:func:`get_blob` fetches a blob by reference and accepts it only if it is well formed, is exactly the blob
the caller expects (kind, numParams, scaleBits, wordsPerLeaf, root and, when given, the tensor shapes)
and its payload really has that root. A blob of another task's layout is an error, never a silently
wrong model.

The Merkle root comes from a :data:`~fedchain.storage.blob.RootFunction`. It defaults to
:func:`protocol_root`, the protocol core's tree (``fedchain.commit.merkle``); the parameter lets a caller
that already holds the tree, or a test, supply its own.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import merkle_root
from fedchain.storage.blob import (
    Blob,
    BlobHeader,
    BlobKind,
    DataSpec,
    Int32Vector,
    RootFunction,
    TensorShape,
    as_tensor_shapes,
    check_vector,
    decode_blob,
    encode_blob,
    ref_hex,
    verify_root,
)
from fedchain.storage.errors import BlobMismatchError
from fedchain.storage.store import BlobStore


@dataclass(frozen=True)
class StoredBlob:
    """Where :func:`put_vector` stored a vector (``ref``, its bytes32 blob reference) and its header."""

    ref: bytes
    header: BlobHeader


@dataclass(frozen=True)
class ExpectedBlob:
    """What a reader knows a blob must be, from the task's rules and the chain.

    ``shapes`` and ``data`` (a model blob's declared preprocessing; None: the blob carries none) are checked only
    when ``shapes`` is given: the model-spec hash on chain pins both for a task.
    """

    kind: BlobKind
    num_params: int
    scale_bits: int
    words_per_leaf: int
    root: bytes
    shapes: tuple[TensorShape, ...] | None = None
    data: DataSpec | None = None


def protocol_root(vector: Int32Vector, words_per_leaf: int) -> bytes:
    """The Merkle root of docs/protocol.md §3 of ``vector``, packed ``words_per_leaf`` words a leaf."""
    return merkle_root(vector, LeafLayout(num_params=vector.size, words_per_leaf=words_per_leaf))


def put_vector(
    store: BlobStore,
    vector: Int32Vector,
    *,
    kind: BlobKind,
    scale_bits: int,
    words_per_leaf: int,
    shapes: Iterable[TensorShape | tuple[str, Sequence[int]]],
    root_of: RootFunction = protocol_root,
    data: DataSpec | None = None,
) -> StoredBlob:
    """Encode ``vector`` (1-D int32) as a blob, its root computed by ``root_of``, and store it; a model blob may
    carry its task's declared preprocessing ``data``."""
    check_vector(vector)
    header = BlobHeader(
        kind=kind,
        num_params=vector.size,
        scale_bits=scale_bits,
        words_per_leaf=words_per_leaf,
        root=root_of(vector, words_per_leaf),
        shapes=as_tensor_shapes(shapes),
        data=data,
    )
    ref = store.put(encode_blob(header, vector))
    return StoredBlob(ref=ref, header=header)


def get_blob(store: BlobStore, ref: bytes, expected: ExpectedBlob, *, root_of: RootFunction = protocol_root) -> Blob:
    """Fetch blob ``ref`` and check, in order: its sha256, its format, that it is ``expected``, its root."""
    blob = decode_blob(store.get(ref), ref=ref)
    check_expected(blob.header, expected, ref=ref)
    verify_root(blob, root_of, ref=ref)
    return blob


def get_vector(
    store: BlobStore, ref: bytes, expected: ExpectedBlob, *, root_of: RootFunction = protocol_root
) -> Int32Vector:
    """The vector of blob ``ref`` (read-only int32), after every check :func:`get_blob` makes."""
    return get_blob(store, ref, expected, root_of=root_of).vector


def check_expected(header: BlobHeader, expected: ExpectedBlob, *, ref: bytes) -> None:
    """Raise :class:`BlobMismatchError` listing every header field that differs from ``expected``."""
    differences = [
        f"{field} is {actual!r}, expected {wanted!r}"
        for field, actual, wanted in (
            ("kind", header.kind, expected.kind),
            ("numParams", header.num_params, expected.num_params),
            ("scaleBits", header.scale_bits, expected.scale_bits),
            ("wordsPerLeaf", header.words_per_leaf, expected.words_per_leaf),
            ("root", "0x" + header.root.hex(), "0x" + expected.root.hex()),
        )
        if actual != wanted
    ]
    if expected.shapes is not None and header.shapes != expected.shapes:
        differences.append(f"shapes are {_describe(header.shapes)}, expected {_describe(expected.shapes)}")
    if expected.shapes is not None and header.data != expected.data:
        differences.append(f"data is {header.data}, expected {expected.data}")
    if differences:
        raise BlobMismatchError(f"blob {ref_hex(ref)} is not the expected blob: {'; '.join(differences)}")


def _describe(shapes: tuple[TensorShape, ...]) -> str:
    return "[" + ", ".join(f"{shape.name}{list(shape.dims)}" for shape in shapes) + "]"
