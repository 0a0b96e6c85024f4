"""Shared fixtures for the learning-layer tests: small, standardized breast cancer data."""

from collections.abc import Iterator

import pytest
import torch

from fedchain.learn import FederatedSplit, ModelSpec, federate, load_breast_cancer


@pytest.fixture(scope="session", autouse=True)
def single_torch_thread() -> Iterator[None]:
    """Tiny models train fastest on one thread; restore the process setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def breast_cancer_split() -> FederatedSplit:
    """Breast cancer, 20% held out, the rest split IID over 3 clients."""
    return federate(load_breast_cancer(), "iid", num_clients=3, seed=7)


@pytest.fixture
def mlp_spec() -> ModelSpec:
    """A small MLP for the 30 breast cancer features."""
    return ModelSpec("mlp", in_features=30, num_classes=2, options={"hidden": [8]})
