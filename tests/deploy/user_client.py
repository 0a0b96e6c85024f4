"""A hospital's own client for `fedchain participant run --client tests.deploy.user_client:client_fn`: a Flower
NumPyClient subclass on its part of the built-in breast-cancer data, written knowing nothing of fedchain but the
data loader, which records the config it was sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from flwr.client import NumPyClient
from torch import nn

from fedchain.deploy.data import load_hospital_data
from fedchain.task import load_task

TASK_FILE = "examples/deploy/task.toml"
CONFIGS: list[dict[str, Any]] = []
"""Every fit config any client of this module was sent, in order."""


class BreastCancerClient(NumPyClient):  # type: ignore[misc]
    """Logistic regression in plain torch, trained with the learning rate the task sends."""

    def __init__(self, hospital: int) -> None:
        data = load_hospital_data(f"breast_cancer:{hospital}/3", load_task(Path(TASK_FILE)))
        self.x = torch.tensor(data.features, dtype=torch.float32)
        self.y = torch.tensor(data.labels)
        self.net = nn.Linear(30, 2)

    def get_parameters(self, config: dict[str, Any]) -> list[np.ndarray]:
        return [value.detach().numpy().copy() for value in self.net.state_dict().values()]

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[list[np.ndarray], int, dict[str, Any]]:
        CONFIGS.append(dict(config))
        self.net.load_state_dict({k: torch.tensor(v) for k, v in zip(self.net.state_dict(), parameters, strict=True)})
        optimizer = torch.optim.SGD(self.net.parameters(), lr=float(config["learning_rate"]))
        for _ in range(int(config["local_epochs"])):
            optimizer.zero_grad()
            nn.functional.cross_entropy(self.net(self.x), self.y).backward()
            optimizer.step()
        return self.get_parameters(config), len(self.y), {}

    def evaluate(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
        self.net.load_state_dict({k: torch.tensor(v) for k, v in zip(self.net.state_dict(), parameters, strict=True)})
        with torch.no_grad():
            loss = nn.functional.cross_entropy(self.net(self.x), self.y)
        return float(loss), len(self.y), {}


def client_fn(hospital: int) -> BreastCancerClient:
    """Hospital ``hospital``'s client."""
    return BreastCancerClient(hospital)
