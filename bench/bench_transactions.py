"""What sending transactions costs: signing per ECC backend, and a small simulation's CPU per round as sent before
and after issue #17 (gas estimated per transaction and pure-Python ECC, against fedchain's chain-wide gas limit
and coincurve), each run in a fresh process, in turns, in one invocation.

Usage: ``.venv/bin/python bench/bench_transactions.py [TURNS] [CONFIG.toml]`` (default 2 turns of a reduced
plain demo: 3 hospitals, 3 rounds, both incidents). Each turn runs every setup once; a setup's ratio to the first
is taken within each turn, so a machine that slows down between turns moves all of a turn's runs alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIGNATURES = 300
REDUCED_DEMO = """
mode = "plain"
rounds = 3
[simulation]
hospitals = 3
[[adversaries]]
kind = "cheating_aggregator"
round = 1
[[adversaries]]
kind = "out_of_range_hospital"
hospital = 1
round = 2
"""
NATIVE = "eth_keys.backends.NativeECCBackend"
COINCURVE = "eth_keys.backends.CoinCurveECCBackend"
SETUPS = {"before (gas estimated, native ECC)": (True, NATIVE), "gas limit, native ECC": (False, NATIVE),
          "after (gas limit, coincurve)": (False, COINCURVE)}


def signing() -> dict[str, tuple[float, float]]:
    """Microseconds per transaction signature and per sender recovery (what py-evm does for every transaction),
    for each ECC backend that is installed."""
    from eth_account import Account  # noqa: PLC0415
    from eth_keys.backends import CoinCurveECCBackend, NativeECCBackend, is_coincurve_available  # noqa: PLC0415
    from eth_keys.datatypes import PrivateKey  # noqa: PLC0415

    account = Account.from_key("0x" + "11" * 32)
    tx = {"to": "0x" + "22" * 20, "value": 0, "gas": 100_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1,
          "nonce": 0, "chainId": 131277322940537, "data": b"\x01" * 68}
    digest = bytes(32)
    backends: list[type[Any]] = [NativeECCBackend] + ([CoinCurveECCBackend] if is_coincurve_available() else [])
    timings = {}
    for backend_class in backends:
        backend = backend_class()
        key = PrivateKey(account.key, backend=backend)
        signature = backend.ecdsa_sign(digest, key)
        started = time.perf_counter()
        for _ in range(SIGNATURES):
            backend.ecdsa_sign(digest, key)
        sign = (time.perf_counter() - started) / SIGNATURES
        started = time.perf_counter()
        for _ in range(SIGNATURES):
            backend.ecdsa_recover(digest, signature)
        recover = (time.perf_counter() - started) / SIGNATURES
        timings[backend_class.__name__] = (sign * 1e6, recover * 1e6)
    started = time.perf_counter()
    for _ in range(SIGNATURES):
        account.sign_transaction(tx)
    timings["Account.sign_transaction (default backend)"] = ((time.perf_counter() - started) / SIGNATURES * 1e6, 0.0)
    return timings


def simulate(config: Path, estimate: bool) -> dict[str, float]:
    """Run the simulation in this process; CPU seconds spent driving the federation, per round."""
    from fedchain.sim import load_config  # noqa: PLC0415
    from fedchain.sim import run as sim_run  # noqa: PLC0415
    from fedchain.sim.federation import Federation  # noqa: PLC0415

    connect = sim_run.connect
    spent = [0.0]

    def connect_estimating(*args: Any, **kwargs: Any) -> Any:
        chain = connect(*args, **kwargs)
        if estimate:
            chain.gas_limit = None  # every transaction estimated, as before
        return chain

    advance = Federation.advance

    def timed_advance(self: Federation) -> bool:
        started = time.process_time()
        try:
            return advance(self)
        finally:
            spent[0] += time.process_time() - started

    sim_run.connect = connect_estimating  # type: ignore[assignment]
    Federation.advance = timed_advance  # type: ignore[method-assign]
    settings = load_config(config)
    result = sim_run.run_simulation(settings)
    rounds = len(result.rounds)
    return {"steps_cpu_per_round": spent[0] / rounds, "process_cpu": time.process_time(), "rounds": rounds}


def main() -> None:
    """Signing timings here, then each setup's simulation in a child process, in turns."""
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    for name, (sign, recover) in signing().items():
        print(f"{name}: sign {sign:.0f} us" + (f", recover {recover:.0f} us" if recover else ""))
    with tempfile.TemporaryDirectory() as work:
        if len(sys.argv) > 2:
            config = Path(sys.argv[2]).resolve()
        else:
            config = Path(work) / "config.toml"
            config.write_text(REDUCED_DEMO)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in SETUPS}
        for _ in range(turns):
            for name, (estimate, backend) in SETUPS.items():
                child = subprocess.run([sys.executable, __file__, "--child", str(config), str(int(estimate))],
                                       capture_output=True, text=True, check=True,
                                       env={**os.environ, "ECC_BACKEND_CLASS": backend}, cwd=work)
                results[name].append(json.loads(child.stdout.strip().splitlines()[-1]))
    before = [run["steps_cpu_per_round"] for run in results[next(iter(SETUPS))]]
    for name, runs in results.items():
        steps = [run["steps_cpu_per_round"] for run in runs]
        ratios = sorted(step / base for step, base in zip(steps, before, strict=True))
        print(f"{name}: federation steps {statistics.median(steps):.2f} CPU s per round (median of {len(runs)}), "
              f"x{statistics.median(ratios):.2f} of before in the same turn (turns: "
              f"{', '.join(f'{ratio:.2f}' for ratio in ratios)}); whole process "
              f"{statistics.median(run['process_cpu'] for run in runs):.1f} CPU s")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(simulate(Path(sys.argv[2]), estimate=sys.argv[3] == "1")))
    else:
        main()
