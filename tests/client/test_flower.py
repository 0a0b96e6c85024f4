from typing import Any

import numpy as np
import pytest
import torch
from torch.nn import functional

from fedchain.client import Client, ClientError, Config
from fedchain.client.flower import NumPyClientAdapter
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    get_model_parameters,
    initial_parameters,
    seeded_model,
    set_model_parameters,
)


def _flower_tutorial_client(split: FederatedSplit, spec: ModelSpec) -> Any:
    """A client written the way Flower's PyTorch tutorial writes one, knowing nothing of fedchain."""
    flwr_client = pytest.importorskip("flwr.client", reason="flwr is not installed (pip install flwr)")
    data = split.clients[0]
    features = torch.as_tensor(data.features, dtype=torch.float32)
    labels = torch.as_tensor(data.labels)
    test_features = torch.as_tensor(split.test.features, dtype=torch.float32)
    test_labels = torch.as_tensor(split.test.labels)

    class HospitalClient(flwr_client.NumPyClient):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            self.net = seeded_model(spec, seed=0)

        def get_parameters(self, config: dict[str, Any]) -> list[np.ndarray]:
            return get_model_parameters(self.net)

        def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[Any, int, dict[str, Any]]:
            set_model_parameters(self.net, parameters)
            torch.manual_seed(int(config["seed"]))
            optimizer = torch.optim.SGD(self.net.parameters(), lr=0.1)
            for batch in torch.split(torch.randperm(len(labels)), 32):
                optimizer.zero_grad()
                loss = functional.cross_entropy(self.net(features[batch]), labels[batch])
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
            return self.get_parameters(config), len(labels), {"client": "tutorial"}

        def evaluate(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
            set_model_parameters(self.net, parameters)
            with torch.no_grad():
                logits = self.net(test_features)
            loss = float(functional.cross_entropy(logits, test_labels))
            accuracy = float((logits.argmax(dim=1) == test_labels).float().mean())
            return loss, len(test_labels), {"accuracy": accuracy}

    return HospitalClient()


def test_adapter_gives_identical_results_to_the_flower_client(
    breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec
) -> None:
    direct = _flower_tutorial_client(breast_cancer_split, mlp_spec)
    adapted = NumPyClientAdapter(_flower_tutorial_client(breast_cancer_split, mlp_spec))
    assert isinstance(adapted, Client)
    start = initial_parameters(mlp_spec, seed=0)
    config: Config = {"seed": 3}

    expected_params, expected_count, expected_metrics = direct.fit(start, config)
    params, count, metrics = adapted.fit(start, config)
    assert (count, metrics) == (expected_count, expected_metrics)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(params, expected_params, strict=True))
    assert not np.array_equal(params[0], start[0])
    assert adapted.evaluate(params, config) == direct.evaluate(expected_params, config)
    assert all(np.array_equal(a, b) for a, b in zip(adapted.get_parameters({}), direct.get_parameters({}), strict=True))


class _BadClient:
    def __init__(self, fit_result: Any = None, evaluate_result: Any = None) -> None:
        self.fit_result = fit_result
        self.evaluate_result = evaluate_result

    def get_parameters(self, config: dict[str, Any]) -> Any:
        return (np.zeros(1),)

    def fit(self, parameters: Any, config: dict[str, Any]) -> Any:
        return self.fit_result

    def evaluate(self, parameters: Any, config: dict[str, Any]) -> Any:
        return self.evaluate_result


@pytest.mark.parametrize(
    ("fit_result", "message"),
    [
        ([np.zeros(1)], "fit must return a 3-tuple"),
        (([np.zeros(1)], 1.0, {}), "non-negative int example count"),
        (([np.zeros(1)], 1, []), "metrics dict"),
        (([[0.0]], 1, {}), "fit returned a list at position 0"),
    ],
)
def test_adapter_rejects_malformed_fit_results(fit_result: Any, message: str) -> None:
    with pytest.raises(ClientError, match=message):
        NumPyClientAdapter(_BadClient(fit_result=fit_result)).fit([], {})


def test_adapter_rejects_malformed_evaluate_and_get_parameters() -> None:
    with pytest.raises(ClientError, match="float loss"):
        NumPyClientAdapter(_BadClient(evaluate_result=(1, 1, {}))).evaluate([], {})
    with pytest.raises(ClientError, match="must return a list"):
        NumPyClientAdapter(_BadClient()).get_parameters({})
    with pytest.raises(ClientError, match=r"no get_parameters\(\) method"):
        NumPyClientAdapter(object())  # type: ignore[arg-type]
