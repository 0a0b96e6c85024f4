#!/usr/bin/env python3
"""Build the contracts with forge and export their ABI + bytecode as package data of fedchain.

    python contracts/tools/export_artifacts.py           # rebuild and write the artifacts
    python contracts/tools/export_artifacts.py --check   # rebuild and fail if the shipped ones differ

The exported files are byte-for-byte reproducible: the compiler version and settings are pinned in
contracts/foundry.toml and contracts/package-lock.json, and metadata hashes are off.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent.parent
DEFAULT_TARGET = CONTRACTS_DIR.parent / "src" / "fedchain" / "contracts" / "artifacts"
FORGE = CONTRACTS_DIR / "node_modules" / ".bin" / "forge"
INTERFACES = ("IFedCoordinator", "ISecureCoordinator")
"""Interfaces whose ABI is shipped too (bytecode "0x"): a coordinator's whole interface, its modules'
functions included, which clients call it through."""
SHARED_STORAGE = ("FedCoordinator", "SecureCoordinator", "Registry", "Availability", "Scoring", "Audits")
"""Contracts that run in one storage (a coordinator and the modules it delegatecalls): their layouts must be
identical, slot for slot."""


class ExportError(Exception):
    """The contracts could not be built, or the shipped artifacts differ from a fresh build."""


def forge_build(out_dir: Path) -> None:
    """Compile contracts/src (tests and scripts skipped) into `out_dir`."""
    if not FORGE.exists():
        raise ExportError(f"forge not found at {FORGE}: run `npm ci` in {CONTRACTS_DIR}")
    command = [str(FORGE), "build", "--skip", "test", "--skip", "script", "--out", str(out_dir),
               "--extra-output", "storageLayout"]
    result = subprocess.run(command, cwd=CONTRACTS_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExportError(f"forge build failed:\n{result.stdout}\n{result.stderr}")


def exported_artifacts(out_dir: Path) -> dict[str, str]:
    """Map file name -> canonical JSON text for every deployable contract under contracts/src."""
    exported: dict[str, str] = {}
    layouts: dict[str, list[tuple[str, str, int, str]]] = {}
    for path in sorted(out_dir.glob("*.sol/*.json")):
        if "." in path.stem:
            continue  # a second build of the same contract under another compiler profile (Name.ir.json)
        raw = json.loads(path.read_text())
        targets = raw.get("metadata", {}).get("settings", {}).get("compilationTarget", {})
        sources = [source for source in targets if source.startswith("src/")]
        bytecode = raw["bytecode"]["object"]
        if not sources or not raw["abi"]:
            continue
        name = targets[sources[0]]
        if bytecode in ("", "0x") and name not in INTERFACES:
            continue
        if name in SHARED_STORAGE:
            layouts[name] = [(entry["label"], entry["slot"], entry["offset"], entry["type"])
                             for entry in raw.get("storageLayout", {}).get("storage", [])]
        artifact = {
            "contractName": name,
            "sourcePath": f"contracts/{sources[0]}",
            "compiler": raw["metadata"]["compiler"]["version"],
            "evmVersion": raw["metadata"]["settings"]["evmVersion"],
            "abi": raw["abi"],
            "bytecode": bytecode,
            "deployedBytecode": raw["deployedBytecode"]["object"],
        }
        exported[f"{name}.json"] = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
    check_shared_storage(layouts)
    return exported


def check_shared_storage(layouts: dict[str, list[tuple[str, str, int, str]]]) -> None:
    """Fail unless every contract of SHARED_STORAGE was built and all have one storage layout."""
    missing = [name for name in SHARED_STORAGE if not layouts.get(name)]
    if missing:
        raise ExportError(f"no storage layout for {', '.join(missing)} (is --extra-output storageLayout passed?)")
    reference = layouts[SHARED_STORAGE[0]]
    for name in SHARED_STORAGE[1:]:
        if layouts[name] != reference:
            raise ExportError(f"{name} does not share {SHARED_STORAGE[0]}'s storage layout: every contract that runs "
                              "in a coordinator's storage must declare its state in CoordinatorStorage only")


def build_artifacts() -> dict[str, str]:
    """A fresh build's artifacts, built in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        forge_build(Path(tmp))
        fresh = exported_artifacts(Path(tmp))
    if not fresh:
        # forge can exit 0 after a failed compile of the sources; writing nothing would delete every artifact
        raise ExportError("the build produced no deployable contract (did contracts/src compile?)")
    return fresh


def drift(fresh: dict[str, str], target: Path) -> list[str]:
    """Differences between a fresh build and the artifacts shipped in `target`, one line each."""
    shipped = {path.name: path.read_text() for path in target.glob("*.json")}
    problems = [f"missing: {name}" for name in sorted(fresh.keys() - shipped.keys())]
    problems += [f"stale (no such contract any more): {name}" for name in sorted(shipped.keys() - fresh.keys())]
    problems += [f"differs from a fresh build: {name}" for name in sorted(fresh.keys() & shipped.keys())
                 if fresh[name] != shipped[name]]
    return problems


def write(fresh: dict[str, str], target: Path) -> None:
    """Replace the artifacts in `target` with `fresh`."""
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.json"):
        if stale.name not in fresh:
            stale.unlink()
    for name, text in fresh.items():
        (target / name).write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the shipped artifacts differ")
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="artifact directory")
    args = parser.parse_args(argv)
    try:
        fresh = build_artifacts()
        if args.check:
            problems = drift(fresh, args.target)
            for problem in problems:
                print(f"artifact drift: {problem}", file=sys.stderr)
            if problems:
                print("run `make artifacts` and commit the result", file=sys.stderr)
                return 1
            print(f"artifacts match a fresh build ({len(fresh)} contracts)")
            return 0
        write(fresh, args.target)
        print(f"wrote {len(fresh)} artifacts to {args.target}")
        return 0
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
