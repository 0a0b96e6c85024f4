"""Fixtures for the storage tests: a store in a temporary directory and the root function to inject."""

from pathlib import Path

import pytest

from fedchain.storage import LocalBlobStore, RootFunction
from tests.storage.storage_samples import digest_root


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    """An empty local store under the test's temporary directory."""
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def root_of() -> RootFunction:
    """The root function the storage tests inject."""
    return digest_root
