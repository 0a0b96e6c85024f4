"""What the request-counting simulation tests share: a tiny NumPy client and a patch of `Federation.advance` that
counts the JSON-RPC requests reaching the chain while the federation steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from fedchain.chain.reads import counted_requests
from fedchain.client import NDArrays
from fedchain.client.api import Config, Metrics
from fedchain.sim.federation import Federation


class TinyClient:
    """A four-weight NumPy model that moves a little each fit."""

    def get_parameters(self, config: Config) -> NDArrays:
        """Zeros."""
        return [np.zeros(4, dtype=np.float32)]

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """One small step."""
        return [array + np.float32(0.01) for array in parameters], 10, {}

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """A fixed score."""
        return 0.5, 10, {"accuracy": 0.5}


@contextmanager
def counted_steps(patch: pytest.MonkeyPatch,
                  measured: Callable[[Federation], bool] = lambda federation: True) -> Iterator[Counter[str]]:
    """While inside, each `Federation.advance` for which ``measured(federation)`` holds before it adds the requests
    that reached the chain during it, by method, to the counter yielded."""
    counts: Counter[str] = Counter()
    advance = Federation.advance

    def counted_advance(self: Federation) -> bool:
        counting = measured(self)
        with counted_requests(self.chain.w3) as step:
            changed = advance(self)
        if counting:
            counts.update(step)
        return changed

    patch.setattr(Federation, "advance", counted_advance)
    yield counts
