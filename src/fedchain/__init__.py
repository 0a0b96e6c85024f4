"""fedchain: federated learning coordinated by an EVM smart contract.

The public API, for a Flower user in a minute::

    import fedchain

    def client_fn(hospital: int):          # a Flower NumPyClient, a Flower ClientApp, or any object with
        return MyClient(partition=hospital)  # get_parameters / fit / evaluate

    task = fedchain.TaskSpec(rounds=5, mode="plain")
    result = fedchain.simulate(client_fn, hospitals=4, task=task)     # on a development chain
    print([(r.index, r.scores) for r in result.rounds])

and against a real chain, one process per hospital: ``fedchain.participate(client, task=..., task_id=...,
store=..., rpc=...)`` or ``fedchain participant run --client package.module:client_fn`` / ``--app
package.module:app``. Names are loaded on first use, so ``import fedchain`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedchain.lazy import lazy_attributes

__version__ = "0.1.0"

if TYPE_CHECKING:
    from fedchain.client import Client, ClientError, Config, Metrics, NDArrays
    from fedchain.client.evaluation import FederatedEvaluation
    from fedchain.deploy.runner import participate
    from fedchain.errors import FedchainError
    from fedchain.learn.models import register_model
    from fedchain.report import write_report
    from fedchain.sim.attacks import AttackSettings
    from fedchain.sim.config import Adversary
    from fedchain.sim.records import SimulationResult
    from fedchain.sim.run import simulate
    from fedchain.task import (
        DataSettings,
        ModelSettings,
        OnChainRules,
        RuleSettings,
        ScoringSettings,
        TaskSpec,
        TaskSpecError,
        TrainingSettings,
        load_task,
    )

_HOME: dict[str, str] = {
    "Adversary": "fedchain.sim.config",
    "AttackSettings": "fedchain.sim.attacks",
    "Client": "fedchain.client",
    "ClientError": "fedchain.client",
    "Config": "fedchain.client",
    "DataSettings": "fedchain.task",
    "FedchainError": "fedchain.errors",
    "FederatedEvaluation": "fedchain.client.evaluation",
    "Metrics": "fedchain.client",
    "ModelSettings": "fedchain.task",
    "NDArrays": "fedchain.client",
    "OnChainRules": "fedchain.task",
    "RuleSettings": "fedchain.task",
    "ScoringSettings": "fedchain.task",
    "SimulationResult": "fedchain.sim.records",
    "TaskSpec": "fedchain.task",
    "TaskSpecError": "fedchain.task",
    "TrainingSettings": "fedchain.task",
    "load_task": "fedchain.task",
    "participate": "fedchain.deploy.runner",
    "register_model": "fedchain.learn.models",
    "simulate": "fedchain.sim.run",
    "write_report": "fedchain.report",
}

__all__ = [
    "Adversary",
    "AttackSettings",
    "Client",
    "ClientError",
    "Config",
    "DataSettings",
    "FedchainError",
    "FederatedEvaluation",
    "Metrics",
    "ModelSettings",
    "NDArrays",
    "OnChainRules",
    "RuleSettings",
    "ScoringSettings",
    "SimulationResult",
    "TaskSpec",
    "TaskSpecError",
    "TrainingSettings",
    "load_task",
    "participate",
    "register_model",
    "simulate",
    "write_report",
]


__getattr__ = lazy_attributes(__name__, globals(), _HOME)
