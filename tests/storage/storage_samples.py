"""Sample vectors, headers and the injected root function shared by the storage tests."""

import hashlib

import numpy as np

from fedchain.storage import BlobHeader, BlobKind, Int32Vector, TensorShape

SHAPES = (TensorShape("layer.weight", (2, 3)), TensorShape("layer.bias", (2,)), TensorShape("scale", ()))
NUM_PARAMS = 9
SCALE_BITS = 16
WORDS_PER_LEAF = 2


def digest_root(vector: Int32Vector, words_per_leaf: int) -> bytes:
    """A stand-in for the protocol's Merkle root: storage only needs a deterministic function of both inputs.

    Storage takes the root function as a parameter, so its checks are tested independently of the tree
    implementation in ``fedchain.commit``.
    """
    return hashlib.sha256(bytes([words_per_leaf]) + vector.astype("<i4").tobytes()).digest()


def sample_vector(seed: int = 0, size: int = NUM_PARAMS) -> Int32Vector:
    """A reproducible int32 vector that includes both ends of the int32 range."""
    vector = np.random.default_rng(seed).integers(-(2**31), 2**31, size=size, dtype=np.int64)
    vector[0] = -(2**31)
    vector[-1] = 2**31 - 1
    return vector.astype(np.int32)


def sample_header(
    vector: Int32Vector, *, kind: BlobKind = "update", words_per_leaf: int = WORDS_PER_LEAF
) -> BlobHeader:
    """The header of ``vector`` laid out as :data:`SHAPES`, with its correct root."""
    return BlobHeader(
        kind=kind,
        num_params=vector.size,
        scale_bits=SCALE_BITS,
        words_per_leaf=words_per_leaf,
        root=digest_root(vector, words_per_leaf),
        shapes=SHAPES,
    )
