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
from fedchain.deploy.task_config import TaskConfig, parse_task_config
from fedchain.deploy.tasks import CreatedTask, create_task
from fedchain.roles import Requester
from fedchain.sim import Federation
from fedchain.storage import LocalBlobStore

HOSPITALS = 3
TASK_RULES: dict[str, object] = {
    "commit_window": 100, "reveal_window": 100, "propose_window": 100, "challenge_window": 100,
    "availability_window": 100,
    "unbonding_delay": 100, "min_participants": 2, "min_stake": 10, "aggregator_bond": 20, "reward_per_round": "2.5",
}
RAW_CONFIG: dict[str, object] = {
    "rounds": 2, "seed": 0,
    "model": {"name": "logreg", "in_features": 30},
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
    config: TaskConfig
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
        self.federation.participants.append(runner.participant(
            self.coordinator, self.federation.store, self.created.task_id, account, config=self.config,
            data=load_hospital_data(f"breast_cancer:{index}/{HOSPITALS}"),
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
        deployment = deploy(chain, mode=mode, fund=[account.address for account in chain.accounts],
                            fund_amount=Decimal(1000))
        config = parse_task_config(SECURE_RAW_CONFIG if mode == Mode.SECURE else RAW_CONFIG)
        coordinator = COORDINATORS[mode](chain, deployment.coordinator)
        store = LocalBlobStore(tmp_path / "blobs")
        token = Token(chain, deployment.token)
        created = create_task(coordinator, store, chain.accounts[0], config, token)
        requester = Requester(coordinator, store, created.task_id, chain.accounts[0])
        federation = Federation(chain=chain, coordinator=coordinator, token=token, store=store, requester=requester,
                                journal_dir=tmp_path)
        yield DeployedTask(chain, deployment, config, created, federation, tmp_path)
