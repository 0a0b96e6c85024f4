"""Zero-knowledge proofs of training: the cost of proving one SGD step of logistic regression, by model size.

    .venv/bin/python bench/bench_zk.py [--quick] [features ...]      (default 4 30 300 600; --quick: 4 at scale 8)

For each number of features F: one fixed-point SGD step of binary logistic regression on a batch of 8 (scale
2**-12, logits clipped to ±8, `fedchain.zk.fixed.logreg`) is compiled to an EZKL circuit whose keys are set up
with a locally generated SRS (testing only); then a fresh process proves one real step (its CPU-seconds, wall
time and peak resident memory are the prove's, EZKL loaded, keys read), the proof is verified natively, and
EZKL's Solidity verifier (the reusable one with the circuit's VKA when the circuit's own exceeds EIP-170) is
deployed on fedchain's embedded chain, where the verifying transaction's gas is read from its receipt.
Writes bench/results/zk.json (quick: zk.quick.json) and the Markdown table zk.md (quick: zk.quick.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from fedchain.chain import connect
from fedchain.zk.evm.onchain import deploy_verifier, verify_on_chain
from fedchain.zk.evm.solidity import compiled_verifier
from fedchain.zk.fixed.arith import Ints, quantize
from fedchain.zk.fixed.logreg import LogRegStep, new_salt, pack_batch, sgd_step
from fedchain.zk.proof.artifacts import circuit_artifacts
from fedchain.zk.proof.poseidon import poseidon
from fedchain.zk.proof.prover import StepProof, prove_step, verify_step
from fedchain.zk.proof.statement import Statement

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BATCH = 8
RATE = 0.3
FULL = {"scale": 12, "logit_bound": 8}
QUICK = {"scale": 8, "logit_bound": 4}


def spec_for(features: int, quick: bool) -> LogRegStep:
    return LogRegStep(features=features, batch=BATCH, learning_rate=RATE, **(QUICK if quick else FULL))


def inputs(spec: LogRegStep) -> tuple[Ints, Ints, Ints, Ints]:
    rng = np.random.default_rng(15)
    theta = quantize(rng.normal(0.0, 0.5, spec.parameters), spec.scale)
    features = quantize(rng.normal(0.0, 1.0, (spec.batch, spec.features)), spec.scale)
    labels = rng.integers(0, 2, spec.batch)
    return theta, features, labels, pack_batch(spec, features, labels, new_salt(rng))


def prove_child(features: int, quick: bool, cache: Path, out: Path) -> None:
    """In a fresh process: prove one step, write the proof and the prove's costs."""
    spec = spec_for(features, quick)
    artifacts = circuit_artifacts(spec, cache=cache)
    theta, _, _, packed = inputs(spec)
    wall, cpu = time.perf_counter(), time.process_time()
    proof = prove_step(artifacts, spec, theta, packed)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out.write_text(json.dumps({"proof": proof.proof.hex(), "document": proof.document, "prove_cpu_s": cpu,
                               "prove_wall_s": wall, "prove_peak_bytes": peak}))


def measure(features: int, quick: bool, cache: Path) -> dict[str, Any]:

    spec = spec_for(features, quick)
    wall, cpu = time.perf_counter(), time.process_time()
    artifacts = circuit_artifacts(spec, cache=cache)
    setup_wall, setup_cpu = time.perf_counter() - wall, time.process_time() - cpu
    settings = artifacts.settings_json()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "proof.json"
        subprocess.run([sys.executable, __file__, "--prove-child", str(features), str(cache), str(out)]
                       + (["--quick"] if quick else []), check=True)
        child = json.loads(out.read_text())
    proof = StepProof(bytes.fromhex(child["proof"]), (), child["document"])
    theta, x, y, packed = inputs(spec)
    statement = Statement.of(theta, poseidon(packed), sgd_step(spec, theta, x, y))
    wall = time.perf_counter()
    native = verify_step(artifacts, proof, statement)
    native_s = time.perf_counter() - wall
    compiled = compiled_verifier(artifacts)
    with connect("embedded") as chain:
        deployed = deploy_verifier(chain, compiled)
        verdict = verify_on_chain(deployed, proof.proof, statement)
    if not (native and verdict.accepted):
        raise SystemExit(f"F = {features}: the proof did not verify (native {native}, EVM {verdict.accepted})")
    return {
        "features": features, "parameters": spec.parameters, "batch": spec.batch, "scale": spec.scale,
        "logit_bound": spec.logit_bound, "logrows": artifacts.logrows, "rows": int(settings["num_rows"]),
        "setup_cpu_s": round(setup_cpu, 1), "setup_wall_s": round(setup_wall, 1),
        "prove_cpu_s": round(child["prove_cpu_s"], 1), "prove_wall_s": round(child["prove_wall_s"], 1),
        "prove_peak_mb": round(child["prove_peak_bytes"] / 2**20), "proof_bytes": len(proof.proof),
        "proving_key_mb": round(artifacts.proving_key.stat().st_size / 2**20, 1),
        "native_verify_s": round(native_s, 2), "verifier": compiled.name,
        "verifier_runtime_bytes": compiled.runtime_size, "deploy_gas": deployed.deploy_gas,
        "register_vka_gas": deployed.register_gas, "verify_gas": verdict.gas,
    }


def table(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        f"`{command}` on {os.cpu_count()} cores ({platform.machine()}), EZKL 23.0.5, a locally generated SRS "
        "(testing only); one SGD step of binary logistic regression, batch 8, learning rate 0.3. Prove CPU-s, "
        "wall and peak memory are the proving process's own (EZKL loaded, keys read); verify gas is the verifying "
        "transaction's on the embedded chain (21,000 base and calldata included).",
        "",
        "| features (parameters) | scale / logit bound | logrows (rows used) | setup CPU-s | prove CPU-s "
        "| prove wall s | prove peak memory | proof | proving key | verifier (runtime bytes) | verify gas "
        "| VKA registration gas |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['features']} ({row['parameters']}) | 2^-{row['scale']} / ±{row['logit_bound']} "
            f"| {row['logrows']} ({row['rows']:,}) | {row['setup_cpu_s']} | {row['prove_cpu_s']} "
            f"| {row['prove_wall_s']} | {row['prove_peak_mb']} MB | {row['proof_bytes']:,} B "
            f"| {row['proving_key_mb']} MB | {row['verifier']} ({row['verifier_runtime_bytes']:,}) "
            f"| {row['verify_gas']:,} | {row['register_vka_gas']:,} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", nargs="*", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--prove-child", nargs=3, metavar=("F", "CACHE", "OUT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.prove_child:
        features, cache, out = arguments.prove_child
        prove_child(int(features), arguments.quick, Path(cache), Path(out))
        return 0
    sizes = arguments.features or ([4] if arguments.quick else [4, 30, 300, 600])
    command = " ".join([".venv/bin/python", "bench/bench_zk.py", *(["--quick"] if arguments.quick else []),
                        *map(str, arguments.features)])
    with tempfile.TemporaryDirectory(prefix="fedchain-bench-zk-") as scratch:
        rows = []
        for features in sizes:
            row = measure(features, arguments.quick, Path(scratch))
            print(json.dumps(row), flush=True)
            rows.append(row)
    suffix = ".quick" if arguments.quick else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"zk{suffix}.json").write_text(json.dumps(
        {"command": command, "cpu_count": os.cpu_count(), "machine": platform.machine(), "rows": rows}, indent=2))
    markdown = table(rows, command)
    (RESULTS / f"zk{suffix}.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
