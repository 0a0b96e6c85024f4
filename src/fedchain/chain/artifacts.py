"""The compiled contracts shipped inside the package (ABI and bytecode), so users need no Node.js."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fedchain.chain.errors import ArtifactError, ErrorDecoder

_PACKAGE = "fedchain.contracts"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: its name, ABI and creation bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


@cache
def load_artifact(name: str) -> Artifact:
    """The shipped artifact of contract `name`, e.g. ``load_artifact("DevToken")``."""
    path = resources.files(_PACKAGE).joinpath("artifacts", f"{name}.json")
    if not path.is_file():
        known = ", ".join(artifact_names()) or "none"
        raise ArtifactError(f"no shipped artifact for contract {name!r} (known: {known})")
    try:
        raw = json.loads(path.read_text())
        return Artifact(name=raw["contractName"], abi=raw["abi"], bytecode=raw["bytecode"])
    except (ValueError, KeyError) as error:
        raise ArtifactError(f"artifact {name}.json is unreadable: {error}") from error


def artifact_names() -> list[str]:
    """Names of every shipped contract artifact."""
    directory = resources.files(_PACKAGE).joinpath("artifacts")
    return sorted(item.name.removesuffix(".json") for item in directory.iterdir() if item.name.endswith(".json"))


@cache
def error_decoder() -> ErrorDecoder:
    """A decoder that knows every custom error of every shipped contract."""
    return ErrorDecoder([load_artifact(name).abi for name in artifact_names()])
