"""The layers of docs/architecture.md hold: `lint-imports` keeps every contract of pyproject.toml, and breaks
the layers contract when any layer imports the one above it (each shown on a copy of the package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "fedchain"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LAYERS: list[list[str]] = [[name.strip() for name in layer.replace(":", "|").split("|")]
                           for layer in CONFIG["contracts"][0]["layers"]]


def lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    """Run `lint-imports` with the project's contracts on the ``fedchain`` package found in ``source_root``."""
    environment = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, env=environment, cwd=ROOT, check=False)


def module_file(package_root: Path, module: str) -> Path:
    """The file that holds ``module`` (a package's ``__init__.py``, or the module's own file)."""
    path = package_root.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_the_package_keeps_every_import_contract() -> None:
    result = lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("lower", range(1, len(LAYERS)), ids=lambda index: LAYERS[index][0])
def test_a_layer_that_imports_the_layer_above_breaks_the_contract(lower: int, tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "fedchain", ignore=shutil.ignore_patterns("__pycache__", "artifacts"))
    offender, above = LAYERS[lower][0], LAYERS[lower - 1][0]
    target = module_file(tmp_path, offender)
    target.write_text(target.read_text() + f"\nimport {above}  # an upward import\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Imports point down the layers BROKEN" in result.stdout
    assert f"{offender} is not allowed to import {above}" in result.stdout


def test_roles_that_load_torch_break_their_contract(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "fedchain", ignore=shutil.ignore_patterns("__pycache__", "artifacts"))
    target = tmp_path / "fedchain" / "roles" / "agent.py"
    target.write_text(target.read_text() + "\nimport torch  # a role that trains by itself\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Roles take a Client and never load torch BROKEN" in result.stdout
