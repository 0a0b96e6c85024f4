"""A simulation's deadlines follow the simulation, not the machine: the shortest windows the contract allows hold
on the embedded chain however slowly the hospitals train."""

from __future__ import annotations

import time

import numpy as np
import pytest

import fedchain
from fedchain.chain.limits import MIN_WINDOW_SECONDS
from fedchain.client import NDArrays
from fedchain.client.api import Config, Metrics
from fedchain.task.schema import OnChainRules

SLOW_FIT_SECONDS = 6 * MIN_WINDOW_SECONDS
"""How long each local training takes on the simulated slow machine: longer than any window."""


class WallClock:
    """The machine's clock as py-evm reads it, which a slow training moves forward."""

    def __init__(self) -> None:
        self.start = self.now = int(time.time())

    def read(self) -> int:
        """The time now, in whole seconds."""
        return self.now


class SlowClient:
    """A tiny NumPy client whose every ``fit`` takes :data:`SLOW_FIT_SECONDS` of the machine's time."""

    def __init__(self, clock: WallClock) -> None:
        self.clock = clock

    def get_parameters(self, config: Config) -> NDArrays:
        """A four-weight model at zero."""
        return [np.zeros(4, dtype=np.float32)]

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """One small step, taking longer than a window on the machine's clock."""
        self.clock.now += SLOW_FIT_SECONDS
        return [array + np.float32(0.01) for array in parameters], 10, {}

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """A fixed score."""
        return 0.5, 10, {"accuracy": 0.5}


@pytest.mark.parametrize("mode", ["plain", "secure"])
def test_short_windows_hold_on_a_slow_machine(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = WallClock()
    monkeypatch.setattr("eth._utils.headers.eth_now", clock.read)  # py-evm's clock for each new block
    window = MIN_WINDOW_SECONDS
    rules = OnChainRules(commit_window=window, reveal_window=window, propose_window=window, challenge_window=window,
                         availability_window=window)
    task = fedchain.TaskSpec(rounds=2, mode=mode, task=rules)  # type: ignore[arg-type]
    result = fedchain.simulate(lambda hospital: SlowClient(clock), hospitals=3, task=task)
    assert clock.now - clock.start >= 2 * 3 * SLOW_FIT_SECONDS, "every training took longer than a window"
    assert [record.status for record in result.rounds] == ["finalized", "finalized"]
    assert all(len(record.participants) == 3 for record in result.rounds)
