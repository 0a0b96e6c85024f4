"""Per-round CPU and wall time of fedchain against a minimal in-process FedAvg loop and Flower's simulation, with
the accuracy of every round on each side (issue #17's round table and accuracy parity).

    .venv/bin/python bench/bench_rounds.py            # 530, ~1M and ~10M parameters, 10 hospitals, every setup
    .venv/bin/python bench/bench_rounds.py --quick    # 530 parameters, 3 hospitals, 2 rounds: loop, Flower, plain
    .venv/bin/python bench/bench_rounds.py --sizes 1M --setups plain-anvil --profile   # a cProfile of that run

The task is the demo's breast cancer task with its split (scikit-learn's data, Dirichlet alpha 0.5 over the
hospitals, a stratified 20% held out), seed, training settings (SGD, one local epoch) and FedAvg. The model is the
demo's MLP (hidden 16: 530 parameters) or a wider one (hidden 1000 x 1000: 1,034,002; 3150 x 3150: 10,029,602).
Every side trains the same clients: fedchain's :class:`TorchTrainer` on one torch thread, wrapped in one Flower
``NumPyClient`` (:class:`BenchClient`) that times its ``fit``, and every side judges each round's model with the
same evaluator on the held-out set. The setups:

    inprocess         the clients' fit one after another and a plain numpy weighted average, in one process
    flower            flwr.simulation.run_simulation: a ServerApp with FedAvg (server-side evaluation only) and a
                      ClientApp wrapping the same NumPyClient, Ray backend with os.cpu_count() CPUs, one per client
    plain-embedded    fedchain.simulate(..., task=TaskSpec(mode="plain"), chain="embedded")
    plain-anvil       the same on a local anvil node (chain="anvil")
    secure-embedded   mode="secure" (SecAgg+ masking), embedded chain
    secure-anvil      mode="secure" on anvil

Each setup runs in a fresh process. Time is sampled at round boundaries (fedchain: its observer's first phase of
round 0 and each closed round; Flower: its strategy's evaluate_fn, called after each round's aggregation; the
loop: its own). **CPU** is this process's CPU time plus that of every descendant process read from /proc
(utime + stime, and the CPU of their reaped children): anvil for fedchain on anvil, Ray's raylet, GCS,
dashboard, runtime-env agent and ClientApp actors for Flower. **Fit CPU** is the thread CPU time inside each
client's ``fit`` (torch on one thread), summed per round (for Flower, sent back in the fit metrics).
Protocol CPU beyond training per participant per round = (CPU - fit CPU) / participants.

Per-round figures are medians over the rounds after the first. The first round pays one-off costs (Flower starts
Ray and its actors then, fedchain's members stake and join, torch warms up); it is kept in the JSON as
``first_round``, and ``run`` has each whole process (setup included). Ratios are against the in-process loop
(and Flower, for wall time) of the same size in the same invocation. Accuracy parity: every round's test accuracy
against the loop's (fedchain starts from the quantized initial model and aggregates in integers).

Writes bench/results/rounds.json and rounds.md (``--quick``: rounds.quick.json and .md; ``--out`` elsewhere) and
prints the Markdown table. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import itertools
import json
import os
import platform
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from flwr.client import NumPyClient

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
NAME = "rounds"

SIZES: dict[str, tuple[int, ...]] = {"530": (16,), "1M": (1000, 1000), "10M": (3150, 3150)}
"""Hidden widths of the MLP per size (breast cancer: 30 features, 2 classes)."""
SETUPS = ("inprocess", "flower", "plain-embedded", "plain-anvil", "secure-embedded", "secure-anvil")
LABELS = {"inprocess": "in-process FedAvg loop", "flower": "Flower simulation (Ray)",
          "plain-embedded": "fedchain plain, embedded", "plain-anvil": "fedchain plain, anvil",
          "secure-embedded": "fedchain secure, embedded", "secure-anvil": "fedchain secure, anvil"}
HOSPITALS = 10
ROUNDS = {"530": 4, "1M": 4, "10M": 3}
QUICK = {"sizes": ("530",), "setups": ("inprocess", "flower", "plain-embedded"), "hospitals": 3, "rounds": 2}
WINDOW_SECONDS = 3_600
"""Every window of the fedchain task: anvil's clock follows the machine's, and a 10M-parameter round on two
shared cores must not miss one (the embedded chain's clock follows the simulation; windows cost nothing there)."""
TIMEOUT_SECONDS = 3_600
PROFILE_ENTRIES = 45
GOAL_SIZE = "1M"
GOALS = {"plain-anvil": 1.0, "secure-anvil": 2.0}
"""Issue #17: CPU seconds beyond training per participant per round at 1M parameters, on anvil."""
ACCURACY = "accuracy"

# ---------------------------------------------------------------------------------------------------------------
# measuring


TICK = os.sysconf("SC_CLK_TCK")
FIT_CPU: defaultdict[int, float] = defaultdict(float)
"""Fit CPU seconds by round (0-based) of the clients that run in this process."""


def descendants_cpu() -> float:
    """CPU seconds of this process's descendants: live ones from /proc (with their reaped children's), and the
    children this process reaped."""
    parents: dict[int, list[int]] = defaultdict(list)
    cpu: dict[int, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            text = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        parents[int(fields[1])].append(int(name))
        cpu[int(name)] = sum(int(value) for value in fields[11:15]) / TICK  # utime stime cutime cstime
    total, todo = 0.0, list(parents.get(os.getpid(), ()))
    while todo:
        pid = todo.pop()
        total += cpu[pid]
        todo.extend(parents.get(pid, ()))
    reaped = os.times()
    return total + reaped.children_user + reaped.children_system


class Meter:
    """Samples wall time, this process's CPU and its descendants' CPU at round boundaries."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []

    def mark(self) -> None:
        """A round boundary."""
        self.samples.append((time.perf_counter(), time.process_time(), descendants_cpu()))

    def rounds(self) -> list[dict[str, float]]:
        """Wall, CPU (own + descendants), own CPU and descendants' CPU between consecutive marks."""
        spans = []
        for (wall0, own0, kids0), (wall1, own1, kids1) in zip(self.samples, self.samples[1:], strict=False):
            spans.append({"wall": wall1 - wall0, "cpu": own1 - own0 + kids1 - kids0, "cpu_own": own1 - own0,
                          "cpu_children": kids1 - kids0})
        return spans


# ---------------------------------------------------------------------------------------------------------------
# the task, the data and the clients (the same on every side)


def task_spec(size: str, rounds: int, mode: str = "plain") -> Any:
    """The demo's task with the MLP of ``size``."""
    from fedchain import ModelSettings, OnChainRules, TaskSpec  # noqa: PLC0415

    windows = dict.fromkeys(("commit_window", "reveal_window", "propose_window", "challenge_window",
                             "availability_window"), WINDOW_SECONDS)
    return TaskSpec(rounds=rounds, mode=mode, model=ModelSettings(hidden=SIZES[size]),  # type: ignore[arg-type]
                    task=OnChainRules(**windows))


SPLIT = {"scheme": "dirichlet", "alpha": 0.5, "test_fraction": 0.2, "min_size": 10}
"""The demo's split: a simulation's defaults (fedchain.sim.config.SimulationSettings)."""


@functools.cache
def split(hospitals: int, seed: int) -> Any:
    """The demo's data split for ``hospitals`` hospitals."""
    from fedchain.learn import federate, load_breast_cancer  # noqa: PLC0415
    from fedchain.task import TaskSpec  # noqa: PLC0415
    from fedchain.task.learning import preprocessing_of  # noqa: PLC0415

    return federate(load_breast_cancer(), SPLIT["scheme"], num_clients=hospitals,  # type: ignore[arg-type]
                    alpha=SPLIT["alpha"], seed=seed, test_fraction=SPLIT["test_fraction"],
                    min_size=SPLIT["min_size"], preprocessing=preprocessing_of(TaskSpec().data))


def model_spec(size: str, hospitals: int) -> Any:
    """The task's model spec for the split's features."""
    from fedchain.task.learning import model_spec as spec_of  # noqa: PLC0415

    task = task_spec(size, 1)
    return spec_of(task, in_features=split(hospitals, task.seed).test.num_features)


class BenchClient(NumPyClient):  # type: ignore[misc]
    """A Flower NumPyClient over fedchain's TorchTrainer that times its fit (thread CPU, torch on one thread)."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer

    def get_parameters(self, config: Any) -> Any:
        """The trainer's parameters."""
        return self.trainer.get_parameters(config)

    def fit(self, parameters: Any, config: Any) -> Any:
        """Train; the fit's CPU goes to FIT_CPU under the config's round and into the metrics."""
        from fedchain.client import ROUND_KEY  # noqa: PLC0415

        started = time.thread_time()
        trained, examples, metrics = self.trainer.fit(parameters, config)
        spent = time.thread_time() - started
        FIT_CPU[int(config[ROUND_KEY])] += spent
        return trained, examples, {**metrics, "fit_cpu": spent}

    def evaluate(self, parameters: Any, config: Any) -> Any:
        """The trainer's evaluation."""
        return self.trainer.evaluate(parameters, config)


@functools.cache
def client(size: str, hospitals: int, hospital: int) -> BenchClient:
    """Hospital ``hospital``'s client (one per process and hospital: the trainer's model is overwritten by every
    fit)."""
    from fedchain.learn import TorchTrainer  # noqa: PLC0415
    from fedchain.task.learning import train_config  # noqa: PLC0415

    task = task_spec(size, 1)
    data = split(hospitals, task.seed).clients[hospital]
    return BenchClient(TorchTrainer.from_spec(model_spec(size, hospitals), init_seed=task.seed, train_data=data,
                                              config=train_config(task)))


@functools.cache
def evaluator(size: str, hospitals: int) -> Any:
    """The held-out test set's evaluator."""
    from fedchain.learn import TorchTrainer  # noqa: PLC0415

    task = task_spec(size, 1)
    return TorchTrainer.from_spec(model_spec(size, hospitals), init_seed=task.seed,
                                  train_data=split(hospitals, task.seed).test)


def initial_parameters(size: str, hospitals: int) -> list[Any]:
    """The task's initial model (the seeded MLP)."""
    from fedchain.learn import initial_parameters as initial  # noqa: PLC0415

    return initial(model_spec(size, hospitals), task_spec(size, 1).seed)  # type: ignore[no-any-return]


def flower_client_fn(context: Any) -> Any:
    """Flower's client_fn: this node's partition's client (size and hospitals from the environment)."""
    size, hospitals = os.environ["BENCH_ROUNDS_SIZE"], int(os.environ["BENCH_ROUNDS_HOSPITALS"])
    return client(size, hospitals, int(context.node_config["partition-id"])).to_client()


# ---------------------------------------------------------------------------------------------------------------
# one setup, in a child process


def run_inprocess(size: str, hospitals: int, rounds: int, meter: Meter) -> list[float]:
    """The clients' fit in turn, a numpy weighted average, an evaluation; the accuracy of each round."""
    import numpy as np  # noqa: PLC0415

    from fedchain.client import ROUND_KEY  # noqa: PLC0415
    from fedchain.task import fit_config  # noqa: PLC0415

    clients = [client(size, hospitals, hospital) for hospital in range(hospitals)]
    judge = evaluator(size, hospitals)
    config = fit_config(task_spec(size, rounds))
    parameters = initial_parameters(size, hospitals)
    accuracies = []
    meter.mark()
    for round in range(rounds):
        results = [member.fit(parameters, {**config, ROUND_KEY: round}) for member in clients]
        total = sum(examples for _, examples, _ in results)
        parameters = [sum(trained[layer].astype(np.float64) * examples for trained, examples, _ in results) / total
                      for layer in range(len(parameters))]
        parameters = [layer.astype(np.float32) for layer in parameters]
        accuracies.append(float(judge.evaluate(parameters, {})[2][ACCURACY]))
        meter.mark()
    return accuracies


def run_flower(size: str, hospitals: int, rounds: int, meter: Meter) -> tuple[list[float], list[float]]:
    """flwr.simulation.run_simulation of FedAvg over the same clients; accuracies and fit CPU of each round."""
    os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
    os.environ["RAY_DEDUP_LOGS"] = "0"
    os.environ["BENCH_ROUNDS_SIZE"], os.environ["BENCH_ROUNDS_HOSPITALS"] = size, str(hospitals)
    # Ray's workers import this module by name (the ClientApp pickles its client_fn by reference), so each worker
    # builds each hospital's client once.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")]))
    from flwr.client import ClientApp  # noqa: PLC0415
    from flwr.common import ndarrays_to_parameters  # noqa: PLC0415
    from flwr.server import ServerApp, ServerAppComponents, ServerConfig  # noqa: PLC0415
    from flwr.server.strategy import FedAvg  # noqa: PLC0415
    from flwr.simulation import run_simulation  # noqa: PLC0415

    from fedchain.client import ROUND_KEY  # noqa: PLC0415
    from fedchain.task import fit_config  # noqa: PLC0415

    judge = evaluator(size, hospitals)
    config = fit_config(task_spec(size, rounds))
    accuracies: list[float] = []
    fit_cpu: list[float] = []

    def evaluate(server_round: int, parameters: Any, _: Any) -> tuple[float, dict[str, float]]:
        loss, _, metrics = judge.evaluate(parameters, {})
        if server_round > 0:
            accuracies.append(float(metrics[ACCURACY]))
        meter.mark()
        return float(loss), {ACCURACY: float(metrics[ACCURACY])}

    def fit_metrics(results: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
        fit_cpu.append(sum(float(metrics["fit_cpu"]) for _, metrics in results))
        return {}

    def server_fn(context: Any) -> Any:
        strategy = FedAvg(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=hospitals,
                          min_available_clients=hospitals, min_evaluate_clients=0, evaluate_fn=evaluate,
                          on_fit_config_fn=lambda server_round: {**config, ROUND_KEY: server_round - 1},
                          initial_parameters=ndarrays_to_parameters(initial_parameters(size, hospitals)),
                          fit_metrics_aggregation_fn=fit_metrics)
        return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=rounds))

    run_simulation(server_app=ServerApp(server_fn=server_fn), client_app=ClientApp(client_fn=flower_client_fn),
                   num_supernodes=hospitals,
                   backend_config={"init_args": {"num_cpus": os.cpu_count(), "include_dashboard": False},
                                   "client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    if len(accuracies) != rounds:
        raise RuntimeError(f"Flower evaluated {len(accuracies)} of {rounds} rounds")
    return accuracies, fit_cpu


class RoundObserver:
    """fedchain's observer: a mark at round 0's first phase and at every closed round."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.accuracies: list[float] = []

    def phase(self, round: int, phase: Any) -> None:
        """The first phase of the first round starts the clock."""
        if not self.meter.samples:
            self.meter.mark()

    def round_closed(self, record: Any) -> None:
        """A closed round: its accuracy, and a mark."""
        scores = record.scores
        self.accuracies.append(float("nan") if scores is None else float(scores.metrics[ACCURACY]))
        self.meter.mark()


def run_fedchain(size: str, hospitals: int, rounds: int, meter: Meter, mode: str, chain: str) -> list[float]:
    """fedchain.simulate over the same clients and evaluator; the accuracy of each round."""
    import fedchain  # noqa: PLC0415

    observer = RoundObserver(meter)
    clients = [client(size, hospitals, hospital) for hospital in range(hospitals)]
    result = fedchain.simulate(lambda hospital: clients[hospital], hospitals=hospitals,
                               task=task_spec(size, rounds, mode), initial=initial_parameters(size, hospitals),
                               evaluator=evaluator(size, hospitals), chain=chain, observer=observer)
    statuses = {record.status for record in result.rounds}
    if statuses != {"finalized"}:
        raise RuntimeError(f"round statuses {sorted(statuses)}")
    return observer.accuracies


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one setup and measure it."""
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    setup, size, hospitals, rounds = spec["setup"], spec["size"], spec["hospitals"], spec["rounds"]
    meter = Meter()
    fit_cpu: list[float] | None = None
    if setup == "inprocess":
        accuracies = run_inprocess(size, hospitals, rounds, meter)
    elif setup == "flower":
        accuracies, fit_cpu = run_flower(size, hospitals, rounds, meter)
    else:
        mode, chain = setup.split("-")
        accuracies = run_fedchain(size, hospitals, rounds, meter, mode, chain)
    spans = meter.rounds()
    if fit_cpu is None:
        fit_cpu = [FIT_CPU[round] for round in range(rounds)]
    if len(spans) != rounds or len(fit_cpu) != rounds or len(accuracies) != rounds:
        raise RuntimeError(f"measured {len(spans)} rounds, {len(fit_cpu)} fit totals, {len(accuracies)} "
                           f"accuracies for {rounds} rounds")
    per_round = [{**span, "fit_cpu": fit, ACCURACY: accuracy}
                 for span, fit, accuracy in zip(spans, fit_cpu, accuracies, strict=True)]
    return {"per_round": per_round,
            "run": {"wall": time.perf_counter() - started_wall,
                    "cpu": time.process_time() - started_cpu + descendants_cpu(),
                    "setup_wall": meter.samples[0][0] - started_wall,
                    "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}


def child_main(spec_path: str, out_path: str) -> None:
    """The child's entry: read the spec, run (under cProfile if asked), write the measurement."""
    spec = json.loads(Path(spec_path).read_text())
    sys.path.insert(0, str(BENCH_DIR))
    import bench_rounds  # noqa: PLC0415  (one module for this process and Ray's workers, not __main__)

    if spec.get("profile"):
        import cProfile  # noqa: PLC0415
        import pstats  # noqa: PLC0415

        profiler = cProfile.Profile()
        measured = profiler.runcall(bench_rounds.child, spec)
        profiler.dump_stats(Path(spec["profile"]).with_suffix(".prof"))  # for pstats or snakeviz; not kept in git
        with open(spec["profile"], "w") as stream:
            stats = pstats.Stats(profiler, stream=stream)
            stream.write(f"cProfile of bench_rounds {spec['setup']} at {spec['size']} parameters, "
                         f"{spec['hospitals']} hospitals, {spec['rounds']} rounds (this process only)\n")
            stats.sort_stats("cumulative").print_stats(PROFILE_ENTRIES)
            stats.sort_stats("tottime").print_stats(PROFILE_ENTRIES)
    else:
        measured = bench_rounds.child(spec)
    Path(out_path).write_text(json.dumps(measured))


# ---------------------------------------------------------------------------------------------------------------
# the parent: every setup in a fresh process, then ratios, parity, the table


def run_setup(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One setup in a child process (its own process group, killed whole on timeout)."""
    with tempfile.TemporaryDirectory(prefix="bench-rounds-") as work:
        spec_path, out_path, log_path = Path(work) / "spec.json", Path(work) / "out.json", Path(work) / "log"
        spec_path.write_text(json.dumps(spec))
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path),
                                        str(out_path)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                       start_new_session=True)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return {"finished": False, "reason": f"not finished within {timeout:.0f} s (killed)"}
            finally:
                _kill_group(process.pid)
        if code != 0 or not out_path.exists():
            tail = log_path.read_text().strip().splitlines()[-12:]
            return {"finished": False, "reason": f"exit code {code}: " + " / ".join(tail)[-1500:]}
        return {"finished": True, **json.loads(out_path.read_text())}


def _kill_group(pgid: int) -> None:
    """Whatever the child left behind in its own process group (Ray's helpers, say)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def summarize(run: dict[str, Any]) -> None:
    """Median per-round figures over the rounds after the first (the first kept apart)."""
    per_round = run["per_round"]
    steady = per_round[1:] or per_round
    median = {key: statistics.median(entry[key] for entry in steady)
              for key in ("wall", "cpu", "cpu_own", "cpu_children", "fit_cpu")}
    median["protocol_cpu_per_participant"] = (median["cpu"] - median["fit_cpu"]) / run["hospitals"]
    run["median"] = median
    run["first_round"] = per_round[0]
    run["accuracies"] = [entry[ACCURACY] for entry in per_round]


def compare(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Ratios against the loop (and Flower's wall time), accuracy differences from the loop, per size; goals."""
    by = {(run["size"], run["setup"]): run for run in runs if run["finished"]}
    parity: dict[str, dict[str, float]] = {}
    for run in runs:
        if not run["finished"]:
            continue
        loop, flower = by.get((run["size"], "inprocess")), by.get((run["size"], "flower"))
        ratios = {}
        if loop is not None:
            ratios["cpu"] = run["median"]["cpu"] / loop["median"]["cpu"]
            ratios["wall"] = run["median"]["wall"] / loop["median"]["wall"]
            difference = max(abs(a - b) for a, b in zip(run["accuracies"], loop["accuracies"], strict=True))
            run["accuracy_max_diff"] = difference
            parity.setdefault(run["size"], {})[run["setup"]] = difference
        if flower is not None:
            ratios["wall_vs_flower"] = run["median"]["wall"] / flower["median"]["wall"]
        run["ratios"] = ratios
    goals = {}
    flower = by.get((GOAL_SIZE, "flower"))
    for setup, limit in GOALS.items():
        run = by.get((GOAL_SIZE, setup))
        if run is None:
            continue
        protocol = run["median"]["protocol_cpu_per_participant"]
        goals[setup] = {"protocol_cpu_per_participant": protocol, "goal": limit, "cpu_met": protocol <= limit,
                        "wall": run["median"]["wall"],
                        "flower_wall": None if flower is None else flower["median"]["wall"],
                        "wall_met": None if flower is None else run["median"]["wall"] < flower["median"]["wall"]}
    return {"accuracy_max_diff": parity, "goals": goals}


def machine() -> str:
    """The processor's model name, Python's version and the libraries compared."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for package in ("torch", "flwr", "ray"):
        try:
            from importlib.metadata import version  # noqa: PLC0415

            versions.append(f"{package} {version(package)}")
        except Exception:  # a missing package is just not listed
            continue
    return f"{model}, {platform.system()} {platform.release()}, Python {platform.python_version()}, " + \
        ", ".join(versions)


def source() -> str:
    """Where the fedchain measured comes from: its package folder, and the git commit with any local changes."""
    probe = subprocess.run([sys.executable, "-c", "import fedchain, pathlib; print(pathlib.Path(fedchain.__file__)"
                            ".parent)"], capture_output=True, text=True, check=True, cwd=ROOT)
    package = Path(probe.stdout.strip())
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    if package.parent == ROOT / "src":
        changed = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True,
                                 check=False).stdout
        return f"{package} at {commit}" + (" with uncommitted changes under src/" if changed.strip() else "")
    export = package.parent.parent / "COMMIT"  # git archive's export of a commit's src/, if it says which
    exported = f", exported from {export.read_text().strip()}" if export.exists() else ""
    return f"{package}{exported} (not this checkout's src/, which is at {commit})"


def _params(size: str) -> int:
    widths = (30, *SIZES[size], 2)
    return sum(a * b + b for a, b in itertools.pairwise(widths))


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"


def markdown(report: dict[str, Any]) -> str:
    """The table (and the goal lines) as Markdown."""
    lines = [f"`{report['command']}` — {report['cores']} cores ({report['machine']}), {report['date']}, "
             f"{report['hospitals']} hospitals; per round: median of the rounds after the first. CPU: this "
             "process and its child processes (anvil; Ray's raylet, GCS and actors); x loop: ratio to the in-process "
             "loop of the same size in this run.", "",
             "| params | setup | rounds | CPU s / round | x loop | wall s / round | x loop | wall x Flower "
             "| fit CPU s / round | protocol CPU s / participant / round | first round wall s | whole run wall s "
             "| max accuracy diff vs loop |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in report["runs"]:
        head = f"| {run['params']:,} | {LABELS[run['setup']]} | {run['rounds']} "
        if not run["finished"]:
            lines.append(head + f"| not finished: {run['reason'][:200].replace('|', '/')} |" + " |" * 9)
            continue
        median, ratios = run["median"], run.get("ratios", {})
        difference = run.get("accuracy_max_diff")
        lines.append(
            head + f"| {_seconds(median['cpu'])} | {_ratio(ratios.get('cpu'))} | {_seconds(median['wall'])} "
            f"| {_ratio(ratios.get('wall'))} | {_ratio(ratios.get('wall_vs_flower'))} "
            f"| {_seconds(median['fit_cpu'])} | **{_seconds(median['protocol_cpu_per_participant'])}** "
            f"| {_seconds(run['first_round']['wall'])} | {_seconds(run['run']['wall'])} "
            f"| {'' if difference is None else f'{difference:.4f}'} |")
    goals = report["comparison"]["goals"]
    if goals:
        lines.append("")
        for setup, goal in goals.items():
            cpu = "met" if goal["cpu_met"] else f"missed by {goal['protocol_cpu_per_participant'] - goal['goal']:.2f} s"
            wall = ("no Flower run" if goal["wall_met"] is None else
                    f"{goal['wall']:.2f} s against Flower's {goal['flower_wall']:.2f} s: "
                    + ("met" if goal["wall_met"] else f"missed ({goal['wall'] / goal['flower_wall']:.2f}x)"))
            lines.append(f"- {LABELS[setup]} at {GOAL_SIZE} parameters: {goal['protocol_cpu_per_participant']:.2f} "
                         f"CPU s per participant per round beyond training (goal at most {goal['goal']:.0f}): {cpu}; "
                         f"wall per round {wall}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the chosen setups and sizes, each in a child process; write the JSON and the Markdown fragment."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="530 parameters, 3 hospitals, 2 rounds: the loop, Flower and fedchain plain (embedded)")
    parser.add_argument("--sizes", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--setups", help=f"comma-separated, of {', '.join(SETUPS)}")
    parser.add_argument("--hospitals", type=int, help=f"participants (default {HOSPITALS})")
    parser.add_argument("--rounds", type=int, help="rounds of every run (default: " +
                        ", ".join(f"{size}: {count}" for size, count in ROUNDS.items()) + ")")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per setup (default 3600)")
    parser.add_argument("--out", type=Path, help="the JSON's path (the Markdown beside it, .md)")
    parser.add_argument("--profile", action="store_true",
                        help="run the first size and setup once under cProfile and write its top entries to "
                             "bench/results/rounds-profile-<size>-<setup>.txt, the raw stats beside it (.prof)")
    arguments = parser.parse_args(argv)
    sizes = tuple(arguments.sizes.split(",")) if arguments.sizes else QUICK["sizes"] if arguments.quick else \
        tuple(SIZES)
    setups = tuple(arguments.setups.split(",")) if arguments.setups else QUICK["setups"] if arguments.quick else \
        SETUPS
    for value, known in [*((size, SIZES) for size in sizes), *((setup, SETUPS) for setup in setups)]:
        if value not in known:
            parser.error(f"unknown {value!r}: choose from {', '.join(known)}")
    hospitals = arguments.hospitals or (QUICK["hospitals"] if arguments.quick else HOSPITALS)
    out = arguments.out or RESULTS / (f"{NAME}.quick.json" if arguments.quick else f"{NAME}.json")
    if arguments.profile:
        size, setup = sizes[0], setups[0]
        profile = RESULTS / f"{NAME}-profile-{size}-{setup}.txt"
        RESULTS.mkdir(parents=True, exist_ok=True)
        spec = {"setup": setup, "size": size, "hospitals": hospitals, "rounds": arguments.rounds or ROUNDS[size],
                "profile": str(profile)}
        outcome = run_setup(spec, arguments.timeout)
        print(f"{profile}: {'written' if outcome['finished'] else outcome['reason']}")
        return
    command = " ".join([".venv/bin/python bench/bench_rounds.py", *map(shlex.quote, argv or sys.argv[1:])])
    date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    report: dict[str, Any] = {"bench": NAME, "command": command.strip(), "cores": os.cpu_count(),
                              "machine": machine(), "fedchain": source(), "date": date, "hospitals": hospitals,
                              "cpu_counted": "this process (time.process_time) + its descendants from /proc "
                                             "(utime, stime and their reaped children's) + children it reaped",
                              "runs": []}
    for size in sizes:
        rounds = arguments.rounds or (QUICK["rounds"] if arguments.quick else ROUNDS[size])
        for setup in sorted(setups, key=SETUPS.index):
            spec = {"setup": setup, "size": size, "hospitals": hospitals, "rounds": rounds}
            started = time.perf_counter()
            print(f"{size} {setup}: {rounds} rounds, {hospitals} hospitals ...", end=" ", file=sys.stderr,
                  flush=True)
            outcome = run_setup(spec, arguments.timeout)
            run = {**spec, "params": _params(size), **outcome}
            if run["finished"]:
                summarize(run)
                print(f"CPU {run['median']['cpu']:.3f} s, wall {run['median']['wall']:.3f} s per round "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
            else:
                print(run["reason"], file=sys.stderr, flush=True)
            report["runs"].append(run)
    report["comparison"] = compare(report["runs"])
    table = markdown(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    out.with_suffix(".md").write_text(table)
    print(table)


def _entry() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
    else:
        main()


if __name__ == "__main__":
    _entry()
