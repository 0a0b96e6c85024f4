"""Shared fixtures: chains to run against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fedchain.chain import Chain, connect


@pytest.fixture
def embedded_chain() -> Iterator[Chain]:
    """A fresh in-process py-evm chain."""
    with connect("embedded") as chain:
        yield chain


@pytest.fixture
def anvil_chain() -> Iterator[Chain]:
    """A fresh anvil node on a free loopback port, stopped after the test."""
    with connect("anvil") as chain:
        yield chain


@pytest.fixture(params=["embedded", "anvil"])
def dev_chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """Each development chain in turn."""
    with connect(request.param) as chain:
        yield chain
