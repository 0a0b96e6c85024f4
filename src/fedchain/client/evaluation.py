"""Federated evaluation: a model judged by every hospital's own client on its own data, as Flower's strategies
do by default when no server-side evaluation is given."""

from __future__ import annotations

from collections.abc import Sequence

from fedchain.client.api import Client, Config, Metrics, NDArrays, numeric_metrics
from fedchain.client.errors import ClientError


class FederatedEvaluation:
    """A :class:`Client` whose ``evaluate`` asks each of ``clients`` and averages their losses and numeric
    metrics, weighted by their example counts (a metric some client lacks is left out)."""

    def __init__(self, clients: Sequence[Client]) -> None:
        if not clients:
            raise ClientError("federated evaluation needs at least one client")
        self.clients = list(clients)

    def get_parameters(self, config: Config) -> NDArrays:
        """Not available: federated evaluation only evaluates."""
        raise ClientError("federated evaluation has no parameters of its own")

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """Not available: federated evaluation only evaluates."""
        raise ClientError("federated evaluation does not train")

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """The example-weighted mean loss and metrics of ``parameters`` over every client's evaluation data."""
        results = [client.evaluate(parameters, config) for client in self.clients]
        total = sum(int(count) for _, count, _ in results)
        if total == 0:
            raise ClientError("no client has evaluation examples")
        loss = sum(float(loss) * count for loss, count, _ in results) / total
        numbers = [(count, numeric_metrics(metrics)) for _, count, metrics in results]
        names = set.intersection(*(set(values) for _, values in numbers))
        metrics: Metrics = {name: sum(values[name] * count for count, values in numbers) / total
                            for name in sorted(names)}
        return loss, total, metrics
