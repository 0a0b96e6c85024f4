"""A deployment on the embedded chain built with the same functions the CLI calls: the contracts deployed
by `fedchain.deploy.deployment.deploy`, a task created from a configuration file, agents built by
`fedchain.deploy.runner`, and the one federation driver moving the chain's clock. The task is plain unless a
test asks for a secure one (``@pytest.mark.parametrize("deployed_task", ["secure"], indirect=True)``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from fedchain.chain import Chain, connect
from fedchain.chain.coordinator import CoordinatorClient, Mode, Token
from fedchain.chain.modes import COORDINATORS, MODES
from fedchain.deploy import runner
from fedchain.deploy.data import load_hospital_data
from fedchain.deploy.deployment import Deployment, deploy
from fedchain.deploy.tasks import CreatedTask, create_task, initial_model
from fedchain.learn import load_breast_cancer, train_test_split
from fedchain.learn.preprocess import FeatureSummary, agreed_statistics
from fedchain.roles import Requester
from fedchain.sim import Federation
from fedchain.storage import LocalBlobStore
from fedchain.task import TaskSpec
from fedchain.task.read import parse_task

HOSPITALS = 3
TASK_RULES: dict[str, object] = {
    "commit_window": 100, "reveal_window": 100, "propose_window": 100, "challenge_window": 100,
    "availability_window": 100, "cohort_cap": 16,
    "unbonding_delay": 100, "min_participants": 2, "min_stake": 10, "aggregator_bond": 20, "reward_per_round": "2.5",
}


def breast_cancer_statistics() -> dict[str, object]:
    """The ``[data]`` of a task on the built-in breast-cancer parts: the statistics of their pooled training portion,
    as `fedchain data stats` computes them from every hospital's summary."""
    train, _ = train_test_split(load_breast_cancer(), seed=0)
    mean, scale = agreed_statistics([FeatureSummary.of(train)])
    return {"mean": list(mean), "scale": list(scale)}


RAW_CONFIG: dict[str, object] = {
    "rounds": 2, "seed": 0, "mode": "plain",
    "model": {"name": "logreg", "in_features": 30},
    "data": breast_cancer_statistics(),
    "training": {"local_epochs": 1, "batch_size": 32, "learning_rate": 0.1},
    "task": TASK_RULES,
}
SECURE_RAW_CONFIG: dict[str, object] = {**RAW_CONFIG, "mode": "secure", "task": {**TASK_RULES, "cohort_cap": HOSPITALS}}
"""The secure task: its neighbours and threshold derived from a cohort of the three hospitals (k = t = 2)."""


@dataclass
class DeployedTask:
    """A task on the embedded chain and the federation driving its agents."""

    chain: Chain
    deployment: Deployment
    config: TaskSpec
    created: CreatedTask
    federation: Federation
    tmp_path: Path

    @property
    def coordinator(self) -> CoordinatorClient:
        """The deployed coordinator."""
        return self.federation.coordinator

    def add_hospital(self, index: int) -> None:
        """Hospital ``index`` (dev account index + 1) built as `fedchain participant run` builds it."""
        account = self.chain.accounts[index + 1]
        client = runner.builtin_client(self.config, load_hospital_data(f"breast_cancer:{index}/{HOSPITALS}",
                                                                       self.config))
        self.federation.participants.append(runner.participant(
            self.coordinator, self.federation.store, self.created.task_id, account, task=self.config, client=client,
            journal=self.tmp_path / f"journal-{index}.json", stake=None))

    def add_aggregator(self, index: int = 6) -> None:
        """An aggregator on dev account ``index``, built as `fedchain aggregator run` builds it."""
        self.federation.aggregators.append(runner.aggregator(
            self.coordinator, self.federation.store, self.created.task_id, self.chain.accounts[index], bond=None,
            standby=False))

    def add_watcher(self, index: int = 7) -> None:
        """A watcher on dev account ``index``, built as `fedchain watcher run` builds it."""
        self.federation.watchers.append(runner.watcher(
            self.coordinator, self.federation.store, self.created.task_id, self.chain.accounts[index]))


@pytest.fixture
def deployed_task(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeployedTask]:
    """Contracts of the mode the test asks for (default plain) deployed, every dev account funded with 1000
    tokens, the task created; no agent yet."""
    mode = MODES[getattr(request, "param", "plain")]
    with connect("embedded") as chain:
        yield deploy_task(chain, tmp_path, parse_task(SECURE_RAW_CONFIG if mode == Mode.SECURE else RAW_CONFIG))


def deploy_task(chain: Chain, tmp_path: Path, config: TaskSpec) -> DeployedTask:
    """The coordinator of ``config``'s mode deployed on ``chain``, every dev account funded with 1000 tokens, the
    task created from ``config`` as `fedchain task create` creates it; no agent yet."""
    mode = MODES[config.mode]
    deployment = deploy(chain, mode=mode, fund=[account.address for account in chain.accounts],
                        fund_amount=Decimal(1000))
    coordinator = COORDINATORS[mode](chain, deployment.coordinator)
    store = LocalBlobStore(tmp_path / "blobs")
    token = Token(chain, deployment.token)
    created = create_task(coordinator, store, chain.accounts[0], config, token, initial_model(config))
    requester = Requester(coordinator, store, created.task_id, chain.accounts[0])
    federation = Federation(chain=chain, coordinator=coordinator, token=token, store=store, requester=requester,
                            journal_dir=tmp_path)
    return DeployedTask(chain, deployment, config, created, federation, tmp_path)
