"""The circuit's artifacts on disk: ONNX model, settings, compiled circuit, SRS, proving and verifying keys.

Setup is slow (seconds to minutes) and deterministic in its inputs, so :func:`circuit_artifacts` keeps each
circuit's artifacts in a folder named by the hash of what defines it (the ONNX bytes, the run arguments, EZKL's
version and the SRS used): a second call with the same circuit finds them and does nothing. A folder is written
under a temporary name and renamed when complete, so a crash never leaves half an artifact set behind.

The SRS. :func:`circuit_artifacts` generates a KZG structured reference string locally with ``ezkl.gen_srs``
unless given one. **A locally generated SRS is for testing only**: whoever generated it knows its secret (the
"toxic waste") and can forge proofs that verify. A consortium must instead use an SRS from a public multi-party
ceremony in which one honest participant suffices, for example the perpetual powers of tau (the ceremony's
BN254 file converted to EZKL's format for the circuit's ``logrows``), distributed as a file and passed here as
``srs`` or named by ``$FEDCHAIN_ZK_SRS`` (so that every command of a deployment, ``fedchain task create``, ``fedchain
participant run`` and ``fedchain simulate``, uses it without an option of its own); nothing is ever downloaded at
run time (``ezkl.get_srs`` is not used).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedchain.zk.circuit.graph import logreg_step_onnx
from fedchain.zk.circuit.settings import run_args
from fedchain.zk.errors import ProofSystemError
from fedchain.zk.fixed.logreg import LogRegStep
from fedchain.zk.proof.ezkl_api import EZKL_VERSION, ezkl

CACHE_ENV = "FEDCHAIN_ZK_CACHE"
"""The environment variable naming the artifacts' cache folder (default ``~/.cache/fedchain/zk``)."""
SRS_ENV = "FEDCHAIN_ZK_SRS"
"""The environment variable naming the SRS file every circuit is set up from (a public ceremony's, in EZKL's format
for the circuit's logrows); unset, a local SRS is generated (testing only)."""

DECOMP_BASE = 1024
DECOMP_LEGS = 3
"""Range checks decompose values in base 2**10 with 3 legs (``|v| < 2**29``): a 1024-entry table, so small circuits
need few rows."""

RESERVED_ROWS = 64
"""Rows kept free above the circuit's own for the proof system's blinding factors."""

COMPLETE = "complete"


@dataclass(frozen=True)
class CircuitArtifacts:
    """Paths of one circuit's artifacts (all inside ``folder``) and its size."""

    folder: Path
    logrows: int
    srs: Path

    @property
    def onnx(self) -> Path:
        return self.folder / "model.onnx"

    @property
    def settings(self) -> Path:
        return self.folder / "settings.json"

    @property
    def compiled(self) -> Path:
        return self.folder / "model.ezkl"

    @property
    def proving_key(self) -> Path:
        return self.folder / "pk.key"

    @property
    def verifying_key(self) -> Path:
        return self.folder / "vk.key"

    def settings_json(self) -> dict[str, Any]:
        """The circuit's settings as EZKL wrote them (rows, scales, lookups)."""
        data: dict[str, Any] = json.loads(self.settings.read_text())
        return data


def default_cache() -> Path:
    """The cache folder: ``$FEDCHAIN_ZK_CACHE`` or ``~/.cache/fedchain/zk``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "fedchain" / "zk"


def configured_srs() -> Path | None:
    """The SRS file ``$FEDCHAIN_ZK_SRS`` names, None when it is unset; :class:`ProofSystemError` when it names no
    file."""
    configured = os.environ.get(SRS_ENV)
    if not configured:
        return None
    path = Path(configured)
    if not path.is_file():
        raise ProofSystemError(f"{SRS_ENV}={configured}: no such SRS file (the consortium's ceremony SRS, in EZKL's "
                               "format for the circuit's logrows)")
    return path


def logrows_for(num_rows: int, table_entries: int) -> int:
    """The circuit's size, ``log2`` of its rows: enough for its own rows and its largest lookup table in one
    column (tables larger than that would be split over several columns, making proofs larger)."""
    return max(math.ceil(math.log2(num_rows + RESERVED_ROWS)), math.ceil(math.log2(table_entries + RESERVED_ROWS)))


def circuit_key(onnx_bytes: bytes, arguments: dict[str, Any], srs_digest: str) -> str:
    """The hash naming a circuit's folder: everything that changes its keys."""
    digest = hashlib.sha256()
    digest.update(onnx_bytes)
    digest.update(json.dumps(arguments, sort_keys=True).encode())
    digest.update(f"ezkl {EZKL_VERSION} base {DECOMP_BASE} legs {DECOMP_LEGS} srs {srs_digest} sorted range checks"
                  .encode())
    return digest.hexdigest()[:24]


def _check(ok: object, step: str) -> None:
    if ok is False:
        raise ProofSystemError(f"EZKL failed to {step}")


def local_srs(cache: Path, logrows: int) -> Path:
    """A KZG SRS for ``2**logrows`` rows generated on this machine (``ezkl.gen_srs``), kept in the cache.

    FOR TESTING ONLY: its generator could forge proofs. Deployments pass a public ceremony's SRS instead
    (module docstring)."""
    path = cache / "srs" / f"local-kzg{logrows}.srs"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".partial{os.getpid()}")
        ezkl().gen_srs(str(partial), logrows)
        partial.replace(path)
    return path


def _settings(spec: LogRegStep, onnx_path: Path, settings_path: Path, logrows: int | None) -> int:
    module = ezkl()
    arguments = module.PyRunArgs()
    for name, value in run_args(spec).items():
        setattr(arguments, name, value)
    arguments.decomp_base = DECOMP_BASE
    arguments.decomp_legs = DECOMP_LEGS
    _check(module.gen_settings(str(onnx_path), str(settings_path), py_run_args=arguments), "generate settings")
    settings = json.loads(settings_path.read_text())
    low, high = spec.logit_range
    rows = logrows or logrows_for(int(settings["num_rows"]), max(high - low + 1, DECOMP_BASE))
    settings["run_args"]["logrows"] = rows
    # EZKL lists the range checks in a hash set's order, which changes from run to run and with it the circuit's
    # layout and keys: sorted, the same circuit and SRS give the same keys (and verifier) on every machine
    settings["required_range_checks"] = sorted(settings.get("required_range_checks", []))
    settings_path.write_text(json.dumps(settings))
    return rows


def circuit_artifacts(spec: LogRegStep, *, cache: Path | None = None, srs: Path | None = None,
                      logrows: int | None = None) -> CircuitArtifacts:
    """The artifacts of ``spec``'s circuit, built (settings, compilation, SRS, keys) unless the cache holds them.

    ``srs``: a ceremony's SRS file for the circuit's ``logrows`` (default: :func:`configured_srs`); without one, a
    local SRS is generated (testing only). ``logrows``: force the circuit's size (default :func:`logrows_for`)."""
    root = cache or default_cache()
    srs = srs if srs is not None else configured_srs()
    onnx_bytes = logreg_step_onnx(spec)
    arguments = {**run_args(spec), "logrows": logrows}
    srs_digest = hashlib.sha256(srs.read_bytes()).hexdigest() if srs is not None else "local"
    folder = root / "circuits" / circuit_key(onnx_bytes, arguments, srs_digest)
    if (folder / COMPLETE).exists():
        info = json.loads((folder / COMPLETE).read_text())
        return CircuitArtifacts(folder, int(info["logrows"]), Path(info["srs"]))
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        staged = CircuitArtifacts(work, 0, Path())
        staged.onnx.write_bytes(onnx_bytes)
        rows = _settings(spec, staged.onnx, staged.settings, logrows)
        module = ezkl()
        _check(module.compile_circuit(str(staged.onnx), str(staged.compiled), str(staged.settings)),
               "compile the circuit")
        srs_path = srs if srs is not None else local_srs(root, rows)
        _check(module.setup(str(staged.compiled), str(staged.verifying_key), str(staged.proving_key),
                            str(srs_path)), "generate the proving and verifying keys")
        (work / COMPLETE).write_text(json.dumps({"logrows": rows, "srs": str(srs_path)}))
        if folder.exists():  # another process finished the same circuit first: keep its artifacts
            shutil.rmtree(work)
        else:
            work.rename(folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return CircuitArtifacts(folder, rows, srs_path)
