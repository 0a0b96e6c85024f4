"""The three blob-store backends, each against a real server on loopback where it needs one.

- local: a directory;
- s3: moto's standalone S3 server (``ThreadedMotoServer``, the same server as the ``moto_server``
  executable) on a free loopback port, reached through boto3 over HTTP like any S3-compatible service;
- ipfs: :class:`tests.storage.fake_kubo.FakeKubo`, a fake speaking kubo's RPC API (no real kubo can be
  installed here).

Each :class:`Backend` also knows how to tamper with a stored blob behind the store's back, so one suite
can check that every backend detects corruption.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from fedchain.storage import BlobStore, IpfsBlobStore, LocalBlobStore, S3BlobStore, cid_of
from tests.storage.fake_kubo import FakeKubo

BUCKET = "fedchain-test"
FAKE_AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
                "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class Backend:
    """A store, and a way to overwrite what it holds under a reference."""

    name: str
    store: BlobStore
    tamper: Callable[[bytes, bytes], None]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port, with the test bucket; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def local_backend(directory: Path) -> Backend:
    store = LocalBlobStore(directory)
    return Backend("local", store, lambda ref, data: store.path_for(ref).write_bytes(data))


def s3_backend(endpoint: str) -> Backend:
    """An S3 store under a fresh prefix of the test bucket (the AWS variables must be set)."""
    store = S3BlobStore(BUCKET, prefix=f"{uuid.uuid4().hex}/", endpoint_url=endpoint)
    client = boto3.client("s3", endpoint_url=endpoint)
    return Backend("s3", store, lambda ref, data: client.put_object(Bucket=BUCKET, Key=store.key_for(ref), Body=data))


def ipfs_backend(node: FakeKubo) -> Backend:
    def tamper(ref: bytes, data: bytes) -> None:
        node.blocks[cid_of(ref)] = data
    return Backend("ipfs", IpfsBlobStore(node.api_url), tamper)
