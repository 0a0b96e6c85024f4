"""One contract every blob-store backend keeps (local directory, S3 on moto's server, IPFS on a fake kubo
node), then what is particular to each remote backend."""

from __future__ import annotations

import hashlib
import os

import boto3
import numpy as np
import pytest
import requests

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import merkle_root
from fedchain.storage import (
    BlobNotFoundError,
    BlobStore,
    CorruptBlobError,
    ExpectedBlob,
    InvalidBlobRefError,
    IpfsBlobStore,
    S3BlobStore,
    StorageError,
    TensorShape,
    blob_ref,
    cid_of,
    get_blob,
    put_vector,
)
from tests.storage.backends import BUCKET, Backend, free_port
from tests.storage.fake_kubo import MAX_BLOCK_BYTES, FakeKubo, raw_cid

BIG_BLOB_BYTES = MAX_BLOCK_BYTES + 4096


def unique_bytes(size: int = 1000) -> bytes:
    """Bytes no earlier test stored (the remote servers live for the whole session)."""
    return os.urandom(size)


# -- the contract ------------------------------------------------------------------------------------


def test_every_backend_is_a_blob_store(backend: Backend) -> None:
    assert isinstance(backend.store, BlobStore)


def test_put_returns_the_sha256_and_get_returns_the_same_bytes(backend: Backend) -> None:
    data = unique_bytes()
    ref = backend.store.put(data)
    assert ref == hashlib.sha256(data).digest()
    assert backend.store.has(ref)
    assert backend.store.get(ref) == data


def test_put_is_idempotent(backend: Backend) -> None:
    data = unique_bytes()
    assert backend.store.put(data) == backend.store.put(data) == blob_ref(data)
    assert backend.store.get(blob_ref(data)) == data


def test_a_missing_blob_is_reported_by_its_reference(backend: Backend) -> None:
    ref = blob_ref(unique_bytes())
    assert not backend.store.has(ref)
    with pytest.raises(BlobNotFoundError, match=ref.hex()):
        backend.store.get(ref)


def test_corrupted_bytes_are_detected_on_read(backend: Backend) -> None:
    data = unique_bytes()
    ref = backend.store.put(data)
    backend.tamper(ref, data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(CorruptBlobError, match=f"blob {ref.hex()} at .* is corrupt"):
        backend.store.get(ref)


def test_a_malformed_reference_is_refused(backend: Backend) -> None:
    with pytest.raises(InvalidBlobRefError):
        backend.store.get(b"\x01" * 31)


def test_an_empty_and_a_large_blob_round_trip(backend: Backend) -> None:
    large = unique_bytes(BIG_BLOB_BYTES)
    for data in (b"", large):
        assert backend.store.get(backend.store.put(data)) == data


def test_model_blobs_round_trip_through_the_vector_layer(backend: Backend) -> None:
    vector = np.arange(-50, 50, dtype=np.int32) * 1013
    shapes = (TensorShape("w", (10, 10)),)
    stored = put_vector(backend.store, vector, kind="model", scale_bits=16, words_per_leaf=2, shapes=shapes)
    assert stored.header.root == merkle_root(vector, LeafLayout(num_params=100, words_per_leaf=2))
    expected = ExpectedBlob(kind="model", num_params=100, scale_bits=16, words_per_leaf=2, root=stored.header.root,
                            shapes=shapes)
    assert np.array_equal(get_blob(backend.store, stored.ref, expected).vector, vector)


# -- S3 ----------------------------------------------------------------------------------------------


def test_s3_objects_are_keyed_by_prefix_and_reference(s3_endpoint: str, aws_env: dict[str, str]) -> None:
    store = S3BlobStore(BUCKET, prefix="run-7/", endpoint_url=s3_endpoint)
    data = unique_bytes()
    ref = store.put(data)
    listed = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix="run-7/")
    assert [item["Key"] for item in listed["Contents"]] == [f"run-7/{ref.hex()}"]


def test_s3_failures_name_the_place_and_never_the_credentials(s3_endpoint: str, aws_env: dict[str, str]) -> None:
    missing_bucket = S3BlobStore("no-such-bucket", endpoint_url=s3_endpoint)
    with pytest.raises(StorageError, match="NoSuchBucket") as caught:
        missing_bucket.put(b"x")
    unreachable = S3BlobStore(BUCKET, endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match="cannot be looked up") as refused:
        unreachable.has(blob_ref(b"x"))
    for error in (caught.value, refused.value):
        assert aws_env["AWS_SECRET_ACCESS_KEY"] not in str(error)
        assert aws_env["AWS_ACCESS_KEY_ID"] not in str(error)


# -- IPFS --------------------------------------------------------------------------------------------


def test_ipfs_blocks_are_raw_sha256_cids_derived_from_the_reference_and_pinned(kubo_node: FakeKubo) -> None:
    data = unique_bytes()
    ref = IpfsBlobStore(kubo_node.api_url).put(data)
    assert cid_of(ref) == raw_cid(data)  # the fake computes the CID on its own, from the bytes
    assert kubo_node.blocks[cid_of(ref)] == data
    assert cid_of(ref) in kubo_node.pinned


def test_ipfs_cid_of_a_known_block() -> None:
    # The CIDv1 of the raw block b"hello" that `ipfs block put --cid-codec raw` prints.
    assert cid_of(blob_ref(b"hello")) == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_ipfs_big_blocks_need_and_get_the_override(kubo_node: FakeKubo) -> None:
    big = unique_bytes(BIG_BLOB_BYTES)
    response = requests.post(f"{kubo_node.api_url}/api/v0/block/put",
                             params={"cid-codec": "raw", "mhtype": "sha2-256"}, files={"data": big}, timeout=10)
    assert response.status_code == 500 and "over 1MiB" in response.json()["Message"]
    assert IpfsBlobStore(kubo_node.api_url).put(big) == blob_ref(big)


def test_ipfs_failures_are_storage_errors() -> None:
    with pytest.raises(StorageError, match="no IPFS RPC API answers"):
        IpfsBlobStore(f"http://127.0.0.1:{free_port()}").put(b"x")


def test_an_ipfs_node_that_stores_another_cid_is_refused() -> None:
    class WrongCodecNode(FakeKubo):
        def json(self, request, body):  # type: ignore[no-untyped-def]
            super().json(request, {**body, "Key": "bafkqaaa"})

    with WrongCodecNode() as node, pytest.raises(StorageError, match="stored it as bafkqaaa"):
        IpfsBlobStore(node.api_url).put(b"x")
