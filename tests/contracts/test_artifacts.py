"""The shipped contract artifacts: loadable, and guarded against drift from the Solidity sources."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fedchain.chain import ArtifactError
from fedchain.chain.artifacts import artifact_names, load_artifact

REPO = Path(__file__).resolve().parents[2]
EXPORTER = REPO / "contracts" / "tools" / "export_artifacts.py"
SHIPPED = REPO / "src" / "fedchain" / "contracts" / "artifacts"


def run_check(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXPORTER), "--check", "--target", str(target)],
                          capture_output=True, text=True, check=False, timeout=600)


INTERFACES = {"IFedCoordinator", "ISecureCoordinator"}


def test_every_artifact_loads_with_abi_and_bytecode_except_the_interfaces() -> None:
    names = artifact_names()
    assert {"DevToken", "FedCoordinator", "SecureCoordinator", "Registry", "Availability"} | INTERFACES <= set(names)
    for name in names:
        artifact = load_artifact(name)
        assert artifact.name == name
        assert artifact.abi and artifact.bytecode.startswith("0x")
        assert (len(artifact.bytecode) == 2) == (name in INTERFACES)


def test_a_coordinators_interface_holds_every_function_of_it_and_its_modules() -> None:
    for coordinator, interface in (("FedCoordinator", "IFedCoordinator"), ("SecureCoordinator", "ISecureCoordinator")):
        declared = {item["name"] for item in load_artifact(interface).abi if item["type"] == "function"}
        for name in (coordinator, "Registry", "Availability"):
            implemented = {item["name"] for item in load_artifact(name).abi if item["type"] == "function"}
            # the modules implement both modes' functions; each interface lists its mode's
            # (the Registry's norm declarations serve plain mode's norm-bounded rule, docs/protocol.md section 4.4)
            plain_only = {"challengeUpdate", "declareNorm", "dropUndeclared", "proveNormViolation", "normDeclarationOf",
                          "UNDECLARED_NORM"}
            other_mode = {"challengeMaskedVector"} if interface == "IFedCoordinator" else plain_only
            assert implemented - other_mode <= declared, f"{name} functions missing from {interface}"


def test_unknown_artifact_is_a_clear_error() -> None:
    with pytest.raises(ArtifactError, match="no shipped artifact for contract 'Nope'"):
        load_artifact("Nope")


def test_drift_check_fails_on_a_changed_artifact_and_passes_on_the_shipped_ones(tmp_path: Path) -> None:
    copy = tmp_path / "artifacts"
    shutil.copytree(SHIPPED, copy)
    assert run_check(copy).returncode == 0

    victim = copy / "DevToken.json"
    document = json.loads(victim.read_text())
    document["bytecode"] = document["bytecode"][:-2] + ("00" if document["bytecode"][-2:] != "00" else "01")
    victim.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    (copy / "Removed.json").write_text("{}\n")
    result = run_check(copy)
    assert result.returncode == 1
    assert "differs from a fresh build: DevToken.json" in result.stderr
    assert "stale (no such contract any more): Removed.json" in result.stderr


def test_a_build_that_yields_no_contract_fails_and_deletes_nothing(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("export_artifacts", EXPORTER)
    assert spec is not None and spec.loader is not None
    exporter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exporter)
    monkeypatch.setattr(exporter, "forge_build", lambda out_dir: None)  # "succeeds" and writes nothing
    copy = tmp_path / "artifacts"
    shutil.copytree(SHIPPED, copy)

    assert exporter.main(["--target", str(copy)]) == 2
    assert sorted(path.name for path in copy.iterdir()) == sorted(path.name for path in SHIPPED.iterdir())
