"""Content-addressed blob storage (docs/protocol.md §6).

- :mod:`fedchain.storage.blob`: the blob format (encode, decode, the reader's checks, references).
- :mod:`fedchain.storage.store`: the :class:`BlobStore` protocol (put/get/has of bytes by sha256
  reference, verified on every get) and :class:`LocalBlobStore`, a sharded directory with atomic writes.
- :mod:`fedchain.storage.vectors`: :func:`put_vector` / :func:`get_vector`, which tie the two together
  and refuse any blob that is not exactly the one the caller expects.
- :mod:`fedchain.storage.verified`: :class:`VerifiedBlobs`, one agent's blobs and Merkle trees, each fetched,
  checked and hashed once.
- :mod:`fedchain.storage.s3` and :mod:`fedchain.storage.ipfs`: the same protocol over S3-compatible object
  storage and over an IPFS node's RPC API; :func:`open_store` (:mod:`fedchain.storage.url`) picks a
  backend from a URL.

The Merkle root check is a parameter: functions that need a root take ``root_of(vector, words_per_leaf)
-> bytes`` (:data:`RootFunction`). In :mod:`~fedchain.storage.vectors` it defaults to
:func:`protocol_root` (``fedchain.commit.merkle``); :mod:`~fedchain.storage.blob` takes it explicitly.
"""

from fedchain.storage.blob import (
    Blob,
    BlobHeader,
    BlobKind,
    DataSpec,
    Int32Vector,
    RootFunction,
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
from fedchain.storage.errors import (
    BlobFormatError,
    BlobMismatchError,
    BlobNotFoundError,
    CorruptBlobError,
    InvalidBlobRefError,
    StorageError,
)
from fedchain.storage.ipfs import IpfsBlobStore, cid_of
from fedchain.storage.s3 import S3BlobStore
from fedchain.storage.store import BlobStore, LocalBlobStore, verify_content
from fedchain.storage.url import StoreUrlError, open_store
from fedchain.storage.vectors import (
    ExpectedBlob,
    StoredBlob,
    get_blob,
    get_vector,
    protocol_root,
    put_vector,
)
from fedchain.storage.verified import DEFAULT_VERIFIED_CACHE_BYTES, VerifiedBlobs

__all__ = [
    "DEFAULT_VERIFIED_CACHE_BYTES",
    "Blob",
    "BlobFormatError",
    "BlobHeader",
    "BlobKind",
    "BlobMismatchError",
    "BlobNotFoundError",
    "BlobStore",
    "CorruptBlobError",
    "DataSpec",
    "ExpectedBlob",
    "Int32Vector",
    "InvalidBlobRefError",
    "IpfsBlobStore",
    "LocalBlobStore",
    "RootFunction",
    "S3BlobStore",
    "StorageError",
    "StoreUrlError",
    "StoredBlob",
    "TensorShape",
    "VerifiedBlobs",
    "blob_ref",
    "cid_of",
    "decode_blob",
    "encode_blob",
    "get_blob",
    "get_vector",
    "header_json",
    "model_spec_hash",
    "model_spec_json",
    "open_store",
    "protocol_root",
    "put_vector",
    "ref_from_hex",
    "ref_hex",
    "verify_content",
    "verify_root",
]
