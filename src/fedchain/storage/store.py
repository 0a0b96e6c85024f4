"""Content-addressed blob stores: bytes in, their sha256 reference out, and the same bytes back, verified.

A backend is nothing more than :class:`BlobStore`: ``put``, ``get`` and ``has`` of opaque bytes keyed by
their 32-byte sha256 reference. It knows nothing of the blob format; the format and its checks live in
:mod:`fedchain.storage.blob` and :mod:`fedchain.storage.vectors`, and work with any backend. Every
backend's ``get`` verifies the content hash with :func:`verify_content` before returning bytes, so a
caller never sees bytes that are not the referenced blob, whatever the backend (a local directory here;
S3-compatible object storage keyed by :func:`~fedchain.storage.blob.ref_hex` in
:mod:`fedchain.storage.s3`; an IPFS node's RPC API, where the sha256 reference is the block's content
identifier, in :mod:`fedchain.storage.ipfs`).
"""

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from fedchain.storage.blob import blob_ref, ref_hex
from fedchain.storage.errors import BlobNotFoundError, CorruptBlobError, StorageError

SHARD_PREFIX_CHARS: Final = 2
TEMP_FILE_PREFIX: Final = ".tmp-"
BLOB_FILE_MODE: Final = 0o644
ABANDONED_TEMP_FILE_AGE_SECONDS: Final = 3600.0


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed storage of immutable byte strings, keyed by their sha256 digest."""

    def put(self, data: bytes) -> bytes:
        """Store ``data`` (idempotently) and return its reference, the 32-byte sha256 digest."""
        ...

    def get(self, ref: bytes) -> bytes:
        """Return the bytes stored under ``ref``, verified to hash to it.

        Raises :class:`BlobNotFoundError` when absent and :class:`CorruptBlobError` when the stored bytes
        do not hash to ``ref``.
        """
        ...

    def has(self, ref: bytes) -> bool:
        """Whether something is stored under ``ref`` (without reading or verifying it)."""
        ...


def verify_content(ref: bytes, data: bytes, location: str) -> None:
    """Raise :class:`CorruptBlobError` unless ``data`` (read from ``location``) hashes to ``ref``."""
    actual = blob_ref(data)
    if actual != ref:
        raise CorruptBlobError(
            f"blob {ref_hex(ref)} at {location} is corrupt: its {len(data)} bytes hash to {actual.hex()}"
        )


class LocalBlobStore:
    """A :class:`BlobStore` in a local (or shared network) directory.

    A blob lives at ``directory/ab/cdef...`` where ``abcdef...`` is its reference in lowercase hex. Writes
    are atomic: the bytes go to a hidden temporary file in the same shard directory, are fsynced, renamed
    over the final name with ``os.replace`` and the directory is fsynced. Readers therefore see a whole
    blob or none, and several processes may put the same blob at once: each renames a complete copy of
    the same bytes. A process killed mid-write leaves only a ``.tmp-*`` file, never a partial blob.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Use ``directory`` (created on first put if absent) as the store's root."""
        self._directory = Path(directory)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self._directory)!r})"

    @property
    def directory(self) -> Path:
        """The store's root directory."""
        return self._directory

    def path_for(self, ref: bytes) -> Path:
        """Where the blob with reference ``ref`` lives (whether or not it is stored)."""
        key = ref_hex(ref)
        return self._directory / key[:SHARD_PREFIX_CHARS] / key[SHARD_PREFIX_CHARS:]

    def put(self, data: bytes) -> bytes:
        """Store ``data`` and return its reference; an intact copy already stored is left as it is."""
        ref = blob_ref(data)
        path = self.path_for(ref)
        try:
            if not _holds(path, ref, len(data)):
                _make_directory(path.parent)
                _write_atomically(path, data)
        except OSError as error:
            raise StorageError(f"blob {ref_hex(ref)} cannot be written to {path}: {error}") from error
        return ref

    def get(self, ref: bytes) -> bytes:
        """Return the bytes stored under ``ref``, verified against it."""
        path = self.path_for(ref)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(f"blob {ref_hex(ref)} not found at {path}") from None
        except OSError as error:
            raise StorageError(f"blob {ref_hex(ref)} at {path} cannot be read: {error}") from error
        verify_content(ref, data, str(path))
        return data

    def has(self, ref: bytes) -> bool:
        """Whether a file is stored under ``ref`` (not verified: ``get`` verifies)."""
        return self.path_for(ref).is_file()

    def remove_abandoned_temp_files(self, min_age_seconds: float = ABANDONED_TEMP_FILE_AGE_SECONDS) -> int:
        """Delete temporary files left by killed writers, untouched for ``min_age_seconds``; return how many.

        A younger temporary file may belong to a put still in progress (in this or another process), so
        it is left alone.
        """
        if min_age_seconds < 0:
            raise ValueError(f"min_age_seconds must be >= 0, got {min_age_seconds}")
        cutoff = time.time() - min_age_seconds
        removed = 0
        for temp_file in self._directory.glob(f"*/{TEMP_FILE_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if temp_file.stat().st_mtime <= cutoff:
                    temp_file.unlink()
                    removed += 1
        return removed


def _holds(path: Path, ref: bytes, size: int) -> bool:
    """Whether ``path`` already holds an intact copy of the blob (a corrupt copy is to be replaced)."""
    try:
        if path.stat().st_size != size:
            return False
        return blob_ref(path.read_bytes()) == ref
    except FileNotFoundError:
        return False


def _make_directory(directory: Path) -> None:
    """Create ``directory`` (and its parents) and make the new entry durable in its parent."""
    if directory.is_dir():
        return
    directory.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        directory.mkdir()
    _fsync_directory(directory.parent)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and an atomic rename."""
    descriptor, temp_name = tempfile.mkstemp(prefix=TEMP_FILE_PREFIX, dir=path.parent)
    try:
        try:
            _write_fully(descriptor, data)
            os.fchmod(descriptor, BLOB_FILE_MODE)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _write_fully(descriptor: int, data: bytes) -> None:
    """Write all of ``data``; ``os.write`` may write less than asked."""
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` durable."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
