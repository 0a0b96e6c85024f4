"""Fixtures for the storage tests: a store in a temporary directory, the root function to inject, and the
servers the other backends run against (moto's S3 server, a fake kubo node), one each per session."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from fedchain.storage import LocalBlobStore, RootFunction
from tests.storage.backends import FAKE_AWS_ENV, Backend, ipfs_backend, local_backend, moto_s3_server, s3_backend
from tests.storage.fake_kubo import FakeKubo
from tests.storage.storage_samples import digest_root


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    """An empty local store under the test's temporary directory."""
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def root_of() -> RootFunction:
    """The root function the storage tests inject."""
    return digest_root


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server on loopback, with the test bucket."""
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def kubo_node() -> Iterator[FakeKubo]:
    """A fake node speaking kubo's RPC API on loopback."""
    with FakeKubo() as node:
        yield node


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials for the moto server, in the standard AWS variables (as a deployment would set them)."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    return FAKE_AWS_ENV


@pytest.fixture(params=["local", "s3", "ipfs"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend in turn, empty."""
    if request.param == "local":
        return local_backend(tmp_path / "blobs")
    if request.param == "s3":
        request.getfixturevalue("aws_env")
        return s3_backend(request.getfixturevalue("s3_endpoint"))
    return ipfs_backend(request.getfixturevalue("kubo_node"))
