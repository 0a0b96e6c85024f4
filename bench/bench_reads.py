"""What reading the chain costs a simulation, per participant and round, before and after issue #17's read cache
(`fedchain.chain.reads`): the JSON-RPC requests that reach the embedded chain while the federation steps, by
method, and the CPU seconds of those steps, at two federation sizes.

Usage: ``.venv/bin/python bench/bench_reads.py [TURNS] [MODE] [ROUNDS] [SIZE ...]`` (defaults: 1 turn, plain,
3 rounds, 4 and 12 hospitals). Every run is a fresh process; a turn runs each size before and after, so a CPU
ratio is taken within one turn. "Before" is the code path without the cache: `Chain` keeps no reads and
asks a node for both transaction counts.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from typing import Any

SETUPS = ("before", "after")
DEFAULTS = (1, "plain", 3, (4, 12))


def simulate(setup: str, mode: str, rounds: int, hospitals: int) -> dict[str, Any]:
    """Run one simulation of NumPy clients in this process; requests and CPU seconds of its steps."""
    import numpy as np  # noqa: PLC0415

    import fedchain  # noqa: PLC0415
    from fedchain.chain import Chain  # noqa: PLC0415
    from fedchain.chain.reads import counted_requests  # noqa: PLC0415
    from fedchain.sim.federation import Federation  # noqa: PLC0415

    class TinyClient:
        """A four-weight model that moves a little each fit."""

        def get_parameters(self, config: Any) -> Any:
            return [np.zeros(4, dtype=np.float32)]

        def fit(self, parameters: Any, config: Any) -> Any:
            return [array + np.float32(0.01) for array in parameters], 10, {}

        def evaluate(self, parameters: Any, config: Any) -> Any:
            return 0.5, 10, {"accuracy": 0.5}

    if setup == "before":
        def both_counts(self: Chain, address: str) -> tuple[int, int]:
            return (int(self.w3.eth.get_transaction_count(address, "latest")),  # type: ignore[arg-type]
                    int(self.w3.eth.get_transaction_count(address, "pending")))  # type: ignore[arg-type]

        Chain._read_scope = lambda self: None  # type: ignore[method-assign]
        Chain.transaction_counts = both_counts  # type: ignore[method-assign]
    counts: Counter[str] = Counter()
    spent = [0.0]
    advance = Federation.advance

    def measured_advance(self: Federation) -> bool:
        started = time.process_time()
        with counted_requests(self.chain.w3) as step:
            changed = advance(self)
        spent[0] += time.process_time() - started
        counts.update(step)
        return changed

    Federation.advance = measured_advance  # type: ignore[method-assign]
    task: Any = fedchain.TaskSpec(rounds=rounds, mode=mode)  # type: ignore[arg-type]
    result = fedchain.simulate(lambda hospital: TinyClient(), hospitals=hospitals, task=task)
    done = len(result.rounds)
    per = hospitals * done
    return {"requests": {method: count / per for method, count in counts.most_common()},
            "cpu_per_round": spent[0] / done, "rounds": done}


def main(turns: int, mode: str, rounds: int, sizes: tuple[int, ...]) -> None:
    """Each size before and after, in child processes, ``turns`` times; print requests and CPU."""
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {(size, setup): [] for size in sizes for setup in SETUPS}
    for _ in range(turns):
        for size in sizes:
            for setup in SETUPS:
                child = subprocess.run([sys.executable, __file__, "--child", setup, mode, str(rounds), str(size)],
                                       capture_output=True, text=True, check=True)
                runs[size, setup].append(json.loads(child.stdout.strip().splitlines()[-1]))
    for size in sizes:
        before = runs[size, "before"]
        for setup in SETUPS:
            measured = runs[size, setup]
            requests = measured[0]["requests"]
            ratios = [run["cpu_per_round"] / base["cpu_per_round"] for run, base in zip(measured, before, strict=True)]
            print(f"{mode}, {size} hospitals, {setup}: {sum(requests.values()):.1f} requests per participant and "
                  f"round ({', '.join(f'{method} {count:.1f}' for method, count in requests.items())}); steps "
                  f"{statistics.median(run['cpu_per_round'] for run in measured):.2f} CPU s per round, "
                  f"x{statistics.median(ratios):.2f} of before (turns: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(simulate(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    else:
        arguments = sys.argv[1:]
        main(int(arguments[0]) if arguments else DEFAULTS[0], arguments[1] if len(arguments) > 1 else DEFAULTS[1],
             int(arguments[2]) if len(arguments) > 2 else DEFAULTS[2],
             tuple(int(size) for size in arguments[3:]) or DEFAULTS[3])
