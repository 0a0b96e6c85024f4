"""open_store: every supported URL form opens its backend; anything else is one clear error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fedchain.storage import IpfsBlobStore, LocalBlobStore, S3BlobStore, StoreUrlError, blob_ref, open_store


def test_paths_and_file_urls_open_a_local_directory(tmp_path: Path) -> None:
    for url in (str(tmp_path / "a"), "relative/dir", f"file://{tmp_path}/b", f"file://localhost{tmp_path}/c"):
        assert isinstance(open_store(url), LocalBlobStore)
    store = open_store(f"file://{tmp_path}/b")
    assert isinstance(store, LocalBlobStore) and store.directory == tmp_path / "b"


def test_s3_urls_carry_bucket_prefix_endpoint_and_region(aws_env: dict[str, str]) -> None:
    store = open_store("s3://models/consortium/run1?endpoint=http://127.0.0.1:9000&region=eu-west-1")
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix, store.endpoint_url) == ("models", "consortium/run1/", "http://127.0.0.1:9000")
    assert store.key_for(blob_ref(b"x")) == "consortium/run1/" + blob_ref(b"x").hex()
    bare = open_store("s3://models")
    assert isinstance(bare, S3BlobStore) and bare.prefix == "" and bare.endpoint_url is None


def test_ipfs_urls_name_the_rpc_api() -> None:
    store = open_store("ipfs+http://127.0.0.1:5001")
    assert isinstance(store, IpfsBlobStore) and store.api_url == "http://127.0.0.1:5001"
    secure = open_store("ipfs+https://ipfs.example.org")
    assert isinstance(secure, IpfsBlobStore) and secure.api_url == "https://ipfs.example.org"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "empty store URL"),
        ("ftp://host/dir", "scheme 'ftp' is not supported"),
        ("ipfs://bafkrei", "scheme 'ipfs' is not supported"),
        ("file://otherhost/dir", "file:///absolute/path"),
        ("s3://", "s3://bucket/prefix"),
        ("s3://bucket?endpoint=ftp://x", "endpoint must be an http"),
        ("s3://bucket?acl=public", "unknown S3 option 'acl'"),
        ("s3://bucket?endpoint=", "needs exactly one value"),
        ("ipfs+http://127.0.0.1:5001/api/v0", "ipfs+http://host:port"),
    ],
)
def test_bad_urls_are_one_clear_error(url: str, expected: str) -> None:
    with pytest.raises(StoreUrlError, match=re.escape(expected)):
        open_store(url)


def test_credentials_in_a_url_are_refused_without_being_echoed() -> None:
    with pytest.raises(StoreUrlError, match="credentials do not belong in a URL") as caught:
        open_store("s3://AKIDEXAMPLE:s3cr3t-value@bucket/prefix")
    assert "s3cr3t-value" not in str(caught.value) and "AKIDEXAMPLE" not in str(caught.value)
    with pytest.raises(StoreUrlError, match="credentials do not belong in the endpoint") as caught:
        open_store("s3://bucket/prefix?endpoint=http://minio:s3cr3t-value@127.0.0.1:9000")
    assert "s3cr3t-value" not in str(caught.value)
