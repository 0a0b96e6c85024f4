"""LocalBlobStore: layout, verification on read, atomic and concurrent writes, crashes mid-write."""

import hashlib
import multiprocessing
import os
import stat
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from fedchain.storage import (
    BlobNotFoundError,
    BlobStore,
    CorruptBlobError,
    InvalidBlobRefError,
    LocalBlobStore,
    StorageError,
    ref_hex,
)
from fedchain.storage.store import TEMP_FILE_PREFIX, verify_content

DATA = b"some blob bytes" * 100
CONCURRENT_WRITERS = 4
PUTS_PER_WRITER = 5
LARGE_BLOB_BYTES = 4 * 1024 * 1024
REAL_WRITE = os.write


def all_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def temp_files(directory: Path) -> list[Path]:
    return [path for path in all_files(directory) if path.name.startswith(TEMP_FILE_PREFIX)]


def test_local_store_is_a_blob_store(store: LocalBlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_put_returns_the_sha256_and_get_returns_the_bytes(store: LocalBlobStore) -> None:
    ref = store.put(DATA)
    assert ref == hashlib.sha256(DATA).digest()
    assert store.has(ref)
    assert store.get(ref) == DATA


def test_blobs_are_sharded_by_the_first_two_hex_digits(store: LocalBlobStore) -> None:
    ref = store.put(DATA)
    key = ref_hex(ref)
    path = store.directory / key[:2] / key[2:]
    assert store.path_for(ref) == path
    assert all_files(store.directory) == [path]
    assert path.read_bytes() == DATA
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_put_is_idempotent(store: LocalBlobStore) -> None:
    ref = store.put(DATA)
    first = store.path_for(ref).stat()
    assert store.put(DATA) == ref
    second = store.path_for(ref).stat()
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert all_files(store.directory) == [store.path_for(ref)]


def test_empty_blob_round_trips(store: LocalBlobStore) -> None:
    assert store.get(store.put(b"")) == b""


def test_missing_blob(store: LocalBlobStore) -> None:
    ref = hashlib.sha256(b"never stored").digest()
    assert not store.has(ref)
    with pytest.raises(BlobNotFoundError) as caught:
        store.get(ref)
    assert ref.hex() in str(caught.value)
    assert str(store.path_for(ref)) in str(caught.value)


@pytest.mark.parametrize("position", [0, len(DATA) // 2, len(DATA) - 1])
def test_flipped_byte_on_disk_is_corrupt(store: LocalBlobStore, position: int) -> None:
    ref = store.put(DATA)
    path = store.path_for(ref)
    damaged = bytearray(DATA)
    damaged[position] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptBlobError) as caught:
        store.get(ref)
    message = str(caught.value)
    assert ref.hex() in message
    assert str(path) in message
    assert hashlib.sha256(damaged).hexdigest() in message


def test_truncated_file_is_corrupt(store: LocalBlobStore) -> None:
    ref = store.put(DATA)
    with store.path_for(ref).open("r+b") as file:
        file.truncate(len(DATA) - 1)
    with pytest.raises(CorruptBlobError, match=f"blob {ref.hex()} at .* is corrupt: its {len(DATA) - 1} bytes"):
        store.get(ref)


@pytest.mark.parametrize("damage", [b"", b"x" * len(DATA), DATA + b"x"])
def test_put_repairs_a_corrupt_copy(store: LocalBlobStore, damage: bytes) -> None:
    ref = store.put(DATA)
    store.path_for(ref).write_bytes(damage)
    assert store.put(DATA) == ref
    assert store.get(ref) == DATA
    assert temp_files(store.directory) == []


@pytest.mark.parametrize("ref", [b"", bytes(31), bytes(33), "ab" * 32])
def test_invalid_refs_are_rejected(store: LocalBlobStore, ref: bytes) -> None:
    for operation in (store.get, store.has, store.path_for):
        with pytest.raises(InvalidBlobRefError, match="not 32 bytes"):
            operation(ref)


def test_verify_content_accepts_matching_bytes() -> None:
    verify_content(hashlib.sha256(DATA).digest(), DATA, "memory")


def test_unreadable_blob_is_a_storage_error(store: LocalBlobStore) -> None:
    ref = hashlib.sha256(DATA).digest()
    store.path_for(ref).mkdir(parents=True)
    with pytest.raises(StorageError, match=f"blob {ref.hex()} at .* cannot be read"):
        store.get(ref)


def test_unwritable_location_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    store = LocalBlobStore(blocker)
    with pytest.raises(StorageError, match=f"blob {hashlib.sha256(DATA).hexdigest()} cannot be written"):
        store.put(DATA)


# --- concurrency and crashes -------------------------------------------------------------------------


def put_repeatedly(directory: str, data: bytes, start: Barrier) -> None:
    """One writer process: wait for the others, then put the same blob several times.

    Removing the blob before each put sends every put down the write path, so the writers' temporary
    files and renames overlap instead of all but the first finding the blob already there.
    """
    store = LocalBlobStore(directory)
    start.wait()
    for _ in range(PUTS_PER_WRITER):
        store.path_for(hashlib.sha256(data).digest()).unlink(missing_ok=True)
        store.put(data)


def test_concurrent_writers_of_one_blob_leave_one_valid_file(store: LocalBlobStore) -> None:
    data = os.urandom(LARGE_BLOB_BYTES)
    context = multiprocessing.get_context("fork")
    start = context.Barrier(CONCURRENT_WRITERS)
    writers = [
        context.Process(target=put_repeatedly, args=(str(store.directory), data, start))
        for _ in range(CONCURRENT_WRITERS)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert [writer.exitcode for writer in writers] == [0] * CONCURRENT_WRITERS
    ref = hashlib.sha256(data).digest()
    assert all_files(store.directory) == [store.path_for(ref)]
    assert store.get(ref) == data


def write_half_then_fail(descriptor: int, data: memoryview) -> int:
    """Stands in for os.write on a disk that fills up: writes part of the data, then fails."""
    REAL_WRITE(descriptor, data[: len(data) // 2])
    raise OSError(28, "No space left on device")


def test_failed_write_leaves_no_blob_and_no_partial_file(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(StorageError, match="No space left on device"):
        store.put(DATA)
    monkeypatch.undo()
    ref = hashlib.sha256(DATA).digest()
    assert not store.has(ref)
    assert all_files(store.directory) == []
    with pytest.raises(BlobNotFoundError):
        store.get(ref)
    assert store.get(store.put(DATA)) == DATA


def test_interrupted_write_cleans_up_and_propagates(store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(descriptor: int, data: memoryview) -> int:
        REAL_WRITE(descriptor, data[:1])
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.put(DATA)
    assert all_files(store.directory) == []


def put_then_die_mid_write(directory: str, data: bytes) -> None:
    """A writer process killed (no cleanup at all) after writing part of the blob."""

    def die(descriptor: int, chunk: memoryview) -> int:
        REAL_WRITE(descriptor, chunk[: len(chunk) // 2])
        os._exit(1)

    os.write = die  # type: ignore[assignment]  # in this forked child only
    LocalBlobStore(directory).put(data)


def test_killed_writer_leaves_only_a_hidden_temp_file(store: LocalBlobStore) -> None:
    writer = multiprocessing.get_context("fork").Process(
        target=put_then_die_mid_write, args=(str(store.directory), DATA)
    )
    writer.start()
    writer.join()
    assert writer.exitcode == 1
    ref = hashlib.sha256(DATA).digest()
    assert not store.has(ref)
    leftovers = all_files(store.directory)
    assert [path.name.startswith(TEMP_FILE_PREFIX) for path in leftovers] == [True]
    assert leftovers[0].parent == store.path_for(ref).parent
    assert store.get(store.put(DATA)) == DATA


def test_abandoned_temp_files_are_removed_once_old(store: LocalBlobStore) -> None:
    ref = store.put(DATA)
    shard = store.path_for(ref).parent
    abandoned = shard / f"{TEMP_FILE_PREFIX}abandoned"
    in_progress = shard / f"{TEMP_FILE_PREFIX}in-progress"
    abandoned.write_bytes(b"partial")
    in_progress.write_bytes(b"partial")
    now = time.time()
    os.utime(abandoned, (now - 7200, now - 7200))
    os.utime(in_progress, (now - 60, now - 60))
    assert store.remove_abandoned_temp_files(min_age_seconds=3600) == 1
    assert sorted(all_files(store.directory)) == sorted([store.path_for(ref), in_progress])
    assert store.remove_abandoned_temp_files(min_age_seconds=0) == 1
    assert all_files(store.directory) == [store.path_for(ref)]
    assert store.get(ref) == DATA


def test_abandoned_temp_file_age_must_not_be_negative(store: LocalBlobStore) -> None:
    with pytest.raises(ValueError, match="min_age_seconds must be >= 0"):
        store.remove_abandoned_temp_files(min_age_seconds=-1)


def test_removing_temp_files_from_an_absent_store_removes_nothing(store: LocalBlobStore) -> None:
    assert store.remove_abandoned_temp_files() == 0
