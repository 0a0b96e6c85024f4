"""Finding and running anvil."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.chain import AnvilNotFoundError, connect
from fedchain.chain import anvil as anvil_module


def test_missing_anvil_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(anvil_module.ANVIL_ENV, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(anvil_module, "_REPO_CONTRACTS", Path("/nonexistent"))
    with pytest.raises(AnvilNotFoundError, match="anvil not found"):
        connect("anvil")


def test_configured_anvil_path_must_be_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(anvil_module.ANVIL_ENV, str(tmp_path / "anvil"))
    with pytest.raises(AnvilNotFoundError, match="not an executable file"):
        anvil_module.find_anvil()
