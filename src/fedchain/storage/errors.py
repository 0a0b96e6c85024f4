"""Errors raised by blob storage.

Every message names the blob (its lowercase hex reference, where known) and the check that failed, so a
log line alone tells which blob is bad and why.
"""

from fedchain.errors import FedchainError


class StorageError(FedchainError):
    """Base class of every storage failure."""


class InvalidBlobRefError(StorageError, ValueError):
    """A blob reference is not 32 bytes (or not 64 lowercase hex digits)."""


class BlobNotFoundError(StorageError, LookupError):
    """No blob is stored under the reference."""


class CorruptBlobError(StorageError):
    """The stored bytes do not hash to their reference."""


class BlobFormatError(StorageError, ValueError):
    """The bytes are not a well-formed blob (docs/protocol.md §6), or a blob cannot be built from input."""


class BlobMismatchError(StorageError):
    """A well-formed blob is not the one the caller expected (another layout, kind or root)."""
