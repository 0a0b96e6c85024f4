"""EZKL's Solidity verifier for a circuit, compiled offline with the official solc (wasm, through Node.js).

``ezkl.create_evm_verifier`` writes the verifier's source and then tries to compile it with a solc it would
download; fedchain never lets it: the call runs with every proxy pointed at a closed local port, so the download
fails at once, and the source it wrote is compiled here with ``contracts/tools/solc`` (the wrapper of npm's
``solc`` that forge uses), or the solc that ``$FEDCHAIN_SOLC`` names. A verifier whose runtime code exceeds
EIP-170's 24,576 bytes cannot be deployed; EZKL's reusable verifier is then used: one generic contract, and the
circuit's verifying key as an artifact (VKA) registered with it once and passed with every proof.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedchain.zk.errors import VerifierError
from fedchain.zk.proof.artifacts import CircuitArtifacts
from fedchain.zk.proof.ezkl_api import ezkl

SOLC_ENV = "FEDCHAIN_SOLC"
"""Names a solc executable that speaks ``--standard-json`` (default: the repository's contracts/tools/solc)."""

_REPO_SOLC = Path(__file__).resolve().parents[4] / "contracts" / "tools" / "solc"

EIP170_LIMIT = 24_576
"""The largest runtime code a contract may have (EIP-170)."""

EVM_VERSION = "prague"
"""As contracts/foundry.toml compiles fedchain's own contracts."""

_NO_NETWORK = "http://127.0.0.1:9"
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@dataclass(frozen=True)
class CompiledVerifier:
    """A compiled verifier: its ABI and creation code, and whether it is EZKL's reusable verifier (then ``vka``,
    the circuit's verifying-key artifact as 32-byte words, goes with every proof)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime_size: int
    reusable: bool
    vka: tuple[bytes, ...] = ()


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*_PROXY_VARIABLES, "NO_PROXY", "no_proxy")}
    try:
        for name in _PROXY_VARIABLES:
            os.environ[name] = _NO_NETWORK
        os.environ.pop("NO_PROXY", None)
        os.environ.pop("no_proxy", None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def render_verifier(artifacts: CircuitArtifacts, source: Path, *, reusable: bool) -> None:
    """Write EZKL's Solidity verifier for the circuit to ``source``, without letting EZKL download anything."""
    module = ezkl()

    async def render() -> object:
        return await module.create_evm_verifier(str(artifacts.verifying_key), str(artifacts.settings), str(source),
                                                str(source.with_suffix(".abi")), str(artifacts.srs), reusable)

    # EZKL's own compilation after writing the source fails (it would need a downloaded solc): ignored.
    with _offline(), contextlib.suppress(RuntimeError):
        asyncio.run(render())
    if not source.exists() or not source.read_text().rstrip().endswith("}"):
        raise VerifierError(f"EZKL did not write the verifier's source {source}")


def render_vka(artifacts: CircuitArtifacts, path: Path) -> tuple[bytes, ...]:
    """The circuit's verifying-key artifact for the reusable verifier, as 32-byte words."""
    module = ezkl()

    async def render() -> object:
        return await module.create_evm_vka(str(artifacts.verifying_key), str(artifacts.settings), str(path),
                                           str(artifacts.srs))

    with _offline():
        asyncio.run(render())
    return vka_words(path.read_bytes())


def vka_words(data: bytes) -> tuple[bytes, ...]:
    """The words of EZKL's VKA file: a little-endian u64 count, then that many 32-byte words."""
    count = int.from_bytes(data[:8], "little")
    if len(data) != 8 + 32 * count:
        raise VerifierError(f"a VKA file of {len(data)} bytes does not hold {count} words")
    return tuple(data[8 + 32 * index: 40 + 32 * index] for index in range(count))


def find_solc() -> list[str]:
    """The command that runs solc: ``$FEDCHAIN_SOLC``, else Node.js with the repository's wrapper."""
    configured = os.environ.get(SOLC_ENV)
    if configured:
        return [configured]
    node = shutil.which("node")
    if node is None or not _REPO_SOLC.exists():
        raise VerifierError(f"no solc: set {SOLC_ENV}, or install Node.js and run `npm ci` in contracts/")
    return [node, str(_REPO_SOLC)]


def compile_solidity(source: str, name: str) -> tuple[list[dict[str, Any]], bytes, int]:
    """Compile one contract (optimizer on, no metadata hash): its ABI, creation code and runtime size."""
    request = {
        "language": "Solidity",
        "sources": {"Verifier.sol": {"content": source}},
        "settings": {
            "optimizer": {"enabled": True, "runs": 1},
            "evmVersion": EVM_VERSION,
            "metadata": {"bytecodeHash": "none", "appendCBOR": False},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }
    done = subprocess.run([*find_solc(), "--standard-json"], input=json.dumps(request), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise VerifierError(f"solc failed: {done.stderr.strip()[:500]}")
    output = json.loads(done.stdout)
    errors = [entry["formattedMessage"] for entry in output.get("errors", []) if entry["severity"] == "error"]
    if errors:
        raise VerifierError(f"solc rejected the verifier: {errors[0][:500]}")
    contract = output["contracts"]["Verifier.sol"][name]
    runtime = bytes.fromhex(contract["evm"]["deployedBytecode"]["object"])
    return contract["abi"], bytes.fromhex(contract["evm"]["bytecode"]["object"]), len(runtime)


def compiled_verifier(artifacts: CircuitArtifacts) -> CompiledVerifier:
    """The circuit's compiled verifier, kept beside its keys: the circuit's own verifier when it fits EIP-170,
    else EZKL's reusable verifier with the circuit's VKA."""
    cached = artifacts.folder / "verifier.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        return CompiledVerifier(data["name"], data["abi"], bytes.fromhex(data["bytecode"]), data["runtime_size"],
                                data["reusable"], tuple(bytes.fromhex(word) for word in data["vka"]))
    work = artifacts.folder / "verifier"
    work.mkdir(exist_ok=True)
    render_verifier(artifacts, work / "Halo2Verifier.sol", reusable=False)
    abi, bytecode, size = compile_solidity((work / "Halo2Verifier.sol").read_text(), "Halo2Verifier")
    verifier = CompiledVerifier("Halo2Verifier", abi, bytecode, size, reusable=False)
    if size > EIP170_LIMIT:
        render_verifier(artifacts, work / "Halo2VerifierReusable.sol", reusable=True)
        abi, bytecode, size = compile_solidity((work / "Halo2VerifierReusable.sol").read_text(),
                                               "Halo2VerifierReusable")
        if size > EIP170_LIMIT:
            raise VerifierError(f"even the reusable verifier's runtime code ({size} bytes) exceeds EIP-170")
        verifier = CompiledVerifier("Halo2VerifierReusable", abi, bytecode, size, reusable=True,
                                    vka=render_vka(artifacts, work / "vka.bytes"))
    partial = cached.with_suffix(".partial")
    partial.write_text(json.dumps({"name": verifier.name, "abi": verifier.abi, "bytecode": verifier.bytecode.hex(),
                                   "runtime_size": verifier.runtime_size, "reusable": verifier.reusable,
                                   "vka": [word.hex() for word in verifier.vka]}))
    partial.replace(cached)
    return verifier
