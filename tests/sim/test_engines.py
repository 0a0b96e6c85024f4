"""Training engines: the Ray engine trains each hospital in a Ray worker, a round's hospitals at the same time, and
anchors the very models the local engine anchors; Ray is loaded only by its engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import get_args

import pytest

import fedchain
from fedchain.client import ROUND_KEY, Config, Metrics, NDArrays
from fedchain.learn import FederatedSplit, TorchTrainer
from fedchain.sim import ConfigError, SimulationConfig, parse_config
from fedchain.sim.config import Engine, SimulationSettings
from fedchain.sim.data import load_split
from fedchain.sim.engines import ENGINES, open_engine
from fedchain.sim.records import SimulationResult
from fedchain.task import TaskSpec
from fedchain.task.learning import model_spec, train_config

HOSPITALS = 4
ROUNDS = 2
RAY_CPUS = 2
"""The local Ray cluster's size: two of a round's four trainings run at once."""
RENDEZVOUS_SECONDS = 60.0
"""How long a fit on Ray waits for a second fit of its round to start before it gives up (and the test fails):
only a bound, so that a run whose fits go one after another fails instead of hanging."""


class RecordingClient:
    """A hospital's built-in trainer that writes, for each fit, which process ran it into ``folder`` (a side channel
    the test reads). With ``peers`` > 1 a fit starts training only once ``peers`` fits of its round have started: a
    rendezvous that fits running one after another never pass (the first would wait for a fit that cannot start
    before it ends), so passing it shows that fits of the round ran at the same time."""

    def __init__(self, trainer: TorchTrainer, folder: Path, hospital: int, peers: int) -> None:
        self.trainer, self.folder, self.hospital, self.peers = trainer, folder, hospital, peers

    def get_parameters(self, config: Config) -> NDArrays:
        """The trainer's."""
        return self.trainer.get_parameters(config)

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """Note the process, meet the round's other fits, then train."""
        round = config[ROUND_KEY]
        (self.folder / f"{round}-{self.hospital}.started").write_text(str(os.getpid()))
        met = self.peers <= 1 or self._rendezvous(round)
        (self.folder / f"{round}-{self.hospital}.json").write_text(json.dumps({"pid": os.getpid(), "met": met}))
        return self.trainer.fit(parameters, config)

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """The trainer's."""
        return self.trainer.evaluate(parameters, config)

    def _rendezvous(self, round: object) -> bool:
        deadline = time.monotonic() + RENDEZVOUS_SECONDS
        while time.monotonic() < deadline:
            if len(list(self.folder.glob(f"{round}-*.started"))) >= self.peers:
                return True
            time.sleep(0.01)
        return False


def fits(folder: Path) -> dict[tuple[int, int], dict[str, object]]:
    """(round, hospital) -> what the side channel says of that fit."""
    found = {}
    for path in folder.glob("*.json"):
        round, hospital = path.stem.split("-")
        found[int(round), int(hospital)] = json.loads(path.read_text())
    return found


@pytest.fixture(scope="module")
def config() -> SimulationConfig:
    """The built-in breast-cancer MLP at 4 hospitals."""
    return parse_config({"rounds": ROUNDS, "simulation": {"hospitals": HOSPITALS}, "adversaries": []})


@pytest.fixture(scope="module")
def split(config: SimulationConfig) -> FederatedSplit:
    """The simulator's own split of the data."""
    return load_split(config)


def run(config: SimulationConfig, split: FederatedSplit, mode: str, folder: Path, engine: str,
        ray_cpus: int | None = None) -> SimulationResult:
    """A small federation of the built-in model on ``engine``; the fits' processes go to ``folder``."""
    folder.mkdir()
    spec = model_spec(config.task, in_features=split.test.num_features, source="the test data")
    training = train_config(config.task)
    peers = RAY_CPUS if engine == "ray" else 1

    def client(hospital: int) -> RecordingClient:
        trainer = TorchTrainer.from_spec(spec, init_seed=config.task.seed, train_data=split.clients[hospital],
                                         config=training)
        return RecordingClient(trainer, folder, hospital, peers)

    task = TaskSpec(rounds=ROUNDS, mode=mode)  # type: ignore[arg-type]
    evaluator = TorchTrainer.from_spec(spec, init_seed=config.task.seed, train_data=split.test)
    return fedchain.simulate(client, hospitals=HOSPITALS, task=task, evaluator=evaluator, engine=engine,
                             ray_cpus=ray_cpus)


@pytest.mark.parametrize("mode", ["plain", "secure"])
def test_ray_trains_in_parallel_in_its_workers_and_anchors_the_local_models(
        mode: str, config: SimulationConfig, split: FederatedSplit, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")  # the extra fedchain[ray] (make setup installs it)
    local = run(config, split, mode, tmp_path / "local", "local")
    if mode == "plain":
        on_ray = run(config, split, mode, tmp_path / "ray", "ray", ray_cpus=RAY_CPUS)
        assert not ray.is_initialized(), "the local cluster the run started is shut down after it"
    else:
        with open_engine(SimulationSettings(engine="ray", ray_cpus=RAY_CPUS)):  # a Ray this process started
            on_ray = run(config, split, mode, tmp_path / "ray", "ray")
            assert ray.is_initialized(), "a Ray the caller started is used as it is and left running"

    roots = [record.model_root for record in local.rounds]
    assert all(root is not None for root in roots) and len(roots) == ROUNDS
    assert [record.model_root for record in on_ray.rounds] == roots, "the same updates, bit for bit"
    assert on_ray.final.model_root == local.final.model_root

    every_fit = {(round, hospital) for round in range(ROUNDS) for hospital in range(HOSPITALS)}
    local_fits, ray_fits = fits(tmp_path / "local"), fits(tmp_path / "ray")
    assert set(local_fits) == set(ray_fits) == every_fit
    assert {fit["pid"] for fit in local_fits.values()} == {os.getpid()}
    workers = {fit["pid"] for fit in ray_fits.values()}
    assert os.getpid() not in workers and len(workers) >= RAY_CPUS, "Ray's worker processes trained"
    assert all(fit["met"] for fit in ray_fits.values()), "in every round, two fits ran at the same time"


def test_every_engine_is_a_setting() -> None:
    assert set(get_args(Engine)) == set(ENGINES)
    assert SimulationSettings().engine == "local"


def test_the_ray_settings_are_checked() -> None:
    assert parse_config({"simulation": {"engine": "ray", "ray_cpus": 3}}).simulation.ray_cpus == 3
    with pytest.raises(ConfigError, match=r"^simulation\.engine: must be one of"):
        parse_config({"simulation": {"engine": "dask"}})
    with pytest.raises(ConfigError, match=r'^simulation\.ray_address: only used with engine = "ray"'):
        parse_config({"simulation": {"ray_address": "auto"}})
    with pytest.raises(ConfigError, match=r"^simulation\.ray_cpus: sets up a local cluster"):
        parse_config({"simulation": {"engine": "ray", "ray_address": "auto", "ray_cpus": 2}})
    with pytest.raises(ConfigError, match=r"^simulation\.ray_cpus: must be >= 1"):
        parse_config({"simulation": {"engine": "ray", "ray_cpus": 0}})


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where Ray is not installed
    with pytest.raises(ConfigError, match=r"pip install 'fedchain\[ray\]'"), \
            open_engine(SimulationSettings(engine="ray")):
        pass


def test_only_the_ray_engine_loads_ray() -> None:
    script = ("import sys, fedchain\n"
              "from fedchain.sim.engines import open_engine\n"
              "from fedchain.sim.config import SimulationSettings\n"
              "fedchain.simulate\n"
              "with open_engine(SimulationSettings()) as engine:\n"
              "    assert engine.name == 'local'\n"
              "assert 'ray' not in sys.modules, 'the local engine loaded Ray'\n")
    subprocess.run([sys.executable, "-c", script], check=True)
