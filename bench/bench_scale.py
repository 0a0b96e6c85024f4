"""Scale: a federation of 10, 100 and 1000 registered participants with a cohort of at most 64, on one machine.

Usage: ``.venv/bin/python bench/bench_scale.py [--quick] [--sizes 10,100,1000] [--cohort 64] [--rounds 3] [--mode
plain] [--chain embedded] [--engine local]``. Each size runs in a fresh process: ``fedchain.simulate`` with NumPy
logistic regression clients on synthetic data (scikit-learn's ``make_classification``, 64 examples a hospital), all
of them members of the task, ``task.cohort_cap`` seats a round, commit and reveal windows of 3 s of chain time a
member (the embedded chain mines a block a transaction, a second after its parent). Once more members are
registered than the cohort takes, the chain samples each round's cohort (docs/protocol.md section 8.2). It reports
the setup (deploying, funding), round 0 (in which every member joins: round 0 opens at the join that reaches the
task's minimum), then the median over the later rounds of the wall and CPU seconds of the stepping process, the
updates each round included, the accuracy, and the process's resident memory at the last round's close and at its
peak.

Writes bench/results/scale.json (quick: scale.quick.json) and the Markdown fragment scale.md (scale.quick.md).
``--quick`` runs 10 and 40 members with a cohort of 8 for 2 rounds (well under a minute).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
EXAMPLES_PER_HOSPITAL = 64
FEATURES = 30
LOCAL_STEPS = 5
LEARNING_RATE = 0.1
SECONDS_PER_MEMBER = 3
"""Commit and reveal windows of at least this many seconds a member (chain time: a block a transaction)."""


def rss_mib() -> float:
    """The process's resident memory now, MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """The process's peak resident memory so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class LogisticClient:
    """Binary logistic regression in NumPy: a few full-batch gradient steps a round on its own rows ``x``, ``y``
    (each holds only its own rows, so a Ray engine ships little), evaluated on the same rows."""

    def __init__(self, x: Any, y: Any) -> None:
        self.x, self.y = x, y

    def get_parameters(self, config: Any) -> Any:
        return [np.zeros(FEATURES, dtype=np.float32), np.zeros(1, dtype=np.float32)]

    @staticmethod
    def _probabilities(parameters: Any, x: Any) -> Any:
        return 1.0 / (1.0 + np.exp(-(x @ parameters[0] + parameters[1][0])))

    def fit(self, parameters: Any, config: Any) -> Any:
        weights, bias = parameters[0].copy(), parameters[1].copy()
        for _ in range(LOCAL_STEPS):
            error = self._probabilities([weights, bias], self.x) - self.y
            weights -= np.float32(LEARNING_RATE) * (self.x.T @ error).astype(np.float32) / len(self.y)
            bias -= np.float32(LEARNING_RATE) * np.float32(error.mean())
        return [weights, bias], len(self.y), {}

    def evaluate(self, parameters: Any, config: Any) -> Any:
        predicted = self._probabilities(parameters, self.x)
        loss = float(-np.mean(self.y * np.log(predicted + 1e-7) + (1 - self.y) * np.log(1 - predicted + 1e-7)))
        return loss, len(self.y), {"accuracy": float(np.mean((predicted > 0.5) == self.y))}


def run_size(members: int, cohort: int, rounds: int, mode: str, chain: str, engine: str) -> dict[str, Any]:
    """One federation in this process; its setup, rounds and memory."""
    from sklearn.datasets import make_classification  # noqa: PLC0415

    import fedchain  # noqa: PLC0415
    from fedchain.chain.coordinator import RoundPhase  # noqa: PLC0415
    from fedchain.sim.records import RoundRecord  # noqa: PLC0415

    features, labels = make_classification(n_samples=members * EXAMPLES_PER_HOSPITAL + 1000, n_features=FEATURES,
                                           n_informative=10, random_state=7)
    features = features.astype(np.float32)
    parts = [slice(h * EXAMPLES_PER_HOSPITAL, (h + 1) * EXAMPLES_PER_HOSPITAL) for h in range(members)]
    hospitals = [LogisticClient(features[rows], labels[rows]) for rows in parts]
    judge = LogisticClient(features[-1000:], labels[-1000:])  # one held-out set judges each anchored model

    closes: list[dict[str, float]] = []
    opened: dict[str, float] = {}

    class Clock:
        """Marks when round 0 first shows a phase (setup done) and each round's close."""

        def phase(self, round: int, phase: RoundPhase) -> None:
            if not opened:
                opened.update(wall=time.perf_counter(), cpu=time.process_time())

        def round_closed(self, record: RoundRecord) -> None:
            closes.append({"wall": time.perf_counter(), "cpu": time.process_time(), "rss_mib": rss_mib(),
                           "peak_rss_mib": peak_rss_mib()})

    # every transaction mines a block one second after its parent, so a window must cover its round's transactions:
    # round 0's commit window sees every member's approve and join
    window = max(fedchain.OnChainRules().commit_window, SECONDS_PER_MEMBER * members)
    task = fedchain.TaskSpec(rounds=rounds, mode=mode,  # type: ignore[arg-type]
                             task=fedchain.OnChainRules(cohort_cap=cohort, min_participants=2, commit_window=window,
                                                        reveal_window=window))
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    result = fedchain.simulate(hospitals.__getitem__, hospitals=members, task=task, chain=chain, observer=Clock(),
                               evaluator=judge, engine=engine)
    finished_wall = time.perf_counter()
    # round 0's clock starts when it first shows a phase: the members' joins before it are setup
    marks = [opened, *closes]
    per_round = [{"round": record.index, "status": record.status, "included": len(record.participants),
                  "committed": len(record.committed),
                  "wall_s": marks[index + 1]["wall"] - marks[index]["wall"],
                  "cpu_s": marks[index + 1]["cpu"] - marks[index]["cpu"],
                  "rss_mib": marks[index + 1]["rss_mib"], "peak_rss_mib": marks[index + 1]["peak_rss_mib"],
                  "accuracy": None if record.scores is None else record.scores.metrics.get("accuracy")}
                 for index, record in enumerate(result.rounds)]
    return {"members": members, "cohort": cohort, "mode": mode, "chain": chain, "engine": engine, "rounds": per_round,
            "setup_wall_s": opened["wall"] - started_wall, "setup_cpu_s": opened["cpu"] - started_cpu,
            "closing_wall_s": finished_wall - closes[-1]["wall"], "total_wall_s": finished_wall - started_wall,
            "peak_rss_mib": peak_rss_mib(),
            "finalized": sum(1 for record in result.rounds if record.status == "finalized")}


def table(results: list[dict[str, Any]], command: str) -> str:
    """The Markdown fragment."""
    lines = [f"`{command}` ({os.cpu_count()} cores, {platform.machine()}; one fresh process per size; CPU is the "
             "stepping process's, which runs the chain too on the embedded chain)", "",
             "| members | cohort | mode, chain, training | setup (deploy, fund): wall s | round 0 (every member "
             "joins): wall s | rounds finalized | included a round | wall s a later round (median) | CPU s a later"
             " round (median) | CPU s a round per member | accuracy after the last round | RSS at the last "
             "round's close, MiB | peak RSS, MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        setup = f"{result['mode']}, {result['chain']}, {result.get('engine', 'local')}"
        if "error" in result:
            lines.append(f"| {result['members']} | {result['cohort']} | {setup} | "
                         f"not finished: {result['error']} | | | | | | | | | |")
            continue
        rounds = result["rounds"]
        later = rounds[1:] or rounds
        wall = statistics.median(r["wall_s"] for r in later)
        cpu = statistics.median(r["cpu_s"] for r in later)
        included = sorted({r["included"] for r in rounds})
        accuracy = rounds[-1]["accuracy"]
        lines.append(f"| {result['members']} | {result['cohort']} | {setup} | "
                     f"{result['setup_wall_s']:.1f} | {rounds[0]['wall_s']:.1f} | {result['finalized']} of "
                     f"{len(rounds)} | {', '.join(map(str, included))} | {wall:.1f} | {cpu:.1f} | "
                     f"{cpu / result['members']:.3f} | {'' if accuracy is None else f'{accuracy:.3f}'} | "
                     f"{rounds[-1]['rss_mib']:.0f} | {result['peak_rss_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 40 members, a cohort of 8, 2 rounds")
    parser.add_argument("--sizes", default=None, help="comma-separated numbers of members (default 10,100,1000)")
    parser.add_argument("--cohort", type=int, default=None, help="the most members a round takes (default 64)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each task (default 3)")
    parser.add_argument("--mode", default="plain", choices=("plain", "secure"))
    parser.add_argument("--chain", default="embedded", choices=("embedded", "anvil"))
    parser.add_argument("--engine", default="local", choices=("local", "ray"),
                        help="where the hospitals train: in the stepping process, or as Ray tasks on a local cluster")
    parser.add_argument("--out", type=Path, default=None,
                        help="the JSON file (default bench/results/scale.json, quick: scale.quick.json); the "
                             "Markdown fragment goes beside it")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # a child process: one size
    args = parser.parse_args()
    cohort = args.cohort or (8 if args.quick else 64)
    rounds = args.rounds or (2 if args.quick else 3)
    if args.one is not None:
        print(json.dumps(run_size(args.one, min(cohort, args.one), rounds, args.mode, args.chain, args.engine)))
        return
    sizes = [int(size) for size in (args.sizes or ("10,40" if args.quick else "10,100,1000")).split(",")]
    command = "bench/bench_scale.py " + " ".join(sys.argv[1:])
    results = []
    for members in sizes:
        child = subprocess.run([sys.executable, __file__, "--one", str(members), "--cohort", str(cohort),
                                "--rounds", str(rounds), "--mode", args.mode, "--chain", args.chain,
                                "--engine", args.engine],
                               capture_output=True, text=True, check=False, cwd=ROOT)
        if child.returncode != 0:
            error = (child.stderr.strip().splitlines() or ["no output"])[-1]
            results.append({"members": members, "cohort": min(cohort, members), "mode": args.mode,
                            "chain": args.chain, "engine": args.engine, "error": error})
        else:
            results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1])[:400], file=sys.stderr)
    fragment = table(results, command.strip())
    out = args.out or RESULTS / ("scale.quick.json" if args.quick else "scale.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": command.strip(), "cores": os.cpu_count(), "machine": platform.platform(),
        "date": datetime.date.today().isoformat(), "results": results}, indent=1) + "\n")
    out.with_suffix(".md").write_text(fragment)
    print(fragment)


if __name__ == "__main__":
    main()
