"""Loading a participant's local learning by reference, and adapting it to a fedchain Client."""

import os
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.client import NumPyClient
from flwr.clientapp import ClientApp

from fedchain.client import Client, ClientError
from fedchain.client.flower import ClientAppAdapter, NumPyClientAdapter
from fedchain.client.load import as_client, load_object
from fedchain.learn import FederatedSplit, ModelSpec, TorchTrainer, initial_parameters


@pytest.fixture
def make_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write a module with a fresh name under ``tmp_path`` (on ``sys.path``); return its name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(source: str) -> str:
        name = f"fedchain_test_{uuid.uuid4().hex}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return make


def test_load_object_finds_a_module_attribute_and_a_dotted_one(make_module: Any) -> None:
    name = make_module("""
        class Holder:
            class Inner:
                value = 42
        app = "the app"
    """)
    assert load_object(f"{name}:app", "client app") == "the app"
    assert load_object(f"{name}:Holder.Inner.value", "client app") == 42


def test_load_object_loads_the_example_flower_app() -> None:
    app = load_object("examples.flower_app.client_app:app", "client app")
    assert isinstance(app, ClientApp)


@pytest.mark.parametrize("path", ["no_colon", "pkg.mod:", ":app", "pkg mod:app", "pkg.mod:a-b", "pkg..mod:app",
                                  "pkg.mod:app:more"])
def test_load_object_rejects_malformed_references(path: str) -> None:
    with pytest.raises(ClientError, match=f"the client app '{path}' must have the form 'package.module:attribute'"):
        load_object(path, "client app")


def test_load_object_says_when_the_module_does_not_exist() -> None:
    with pytest.raises(ClientError, match="'fedchain_nowhere:app': there is no module 'fedchain_nowhere'"):
        load_object("fedchain_nowhere:app", "client app")
    with pytest.raises(ClientError, match=r"'fedchain\.nowhere\.deeper:app': there is no module 'fedchain\.nowhere'"):
        load_object("fedchain.nowhere.deeper:app", "client app")


def test_load_object_shows_the_real_cause_of_a_failing_import(make_module: Any) -> None:
    missing_dependency = make_module("import fedchain_not_installed_anywhere\napp = 1\n")
    with pytest.raises(ClientError, match=f"importing '{missing_dependency}' failed: ModuleNotFoundError: "
                                          "No module named 'fedchain_not_installed_anywhere'"):
        load_object(f"{missing_dependency}:app", "client app")
    crashing = make_module("raise RuntimeError('no GPU here')\n")
    with pytest.raises(ClientError, match=f"importing '{crashing}' failed: RuntimeError: no GPU here") as info:
        load_object(f"{crashing}:app", "client app")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_load_object_names_the_missing_attribute(make_module: Any) -> None:
    name = make_module("class Holder:\n    pass\n")
    with pytest.raises(ClientError, match=f"'{name}:app': module '{name}' has no attribute 'app'"):
        load_object(f"{name}:app", "client app")
    with pytest.raises(ClientError, match=f"'{name}:Holder' has no attribute 'app'"):
        load_object(f"{name}:Holder.app", "client app")


def test_load_object_looks_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Flower's loader does, so `fedchain ... --app pkg.mod:app` run from a project folder finds it."""
    name = f"fedchain_test_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("app = 'here'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path))])
    assert load_object(f"{name}:app", "client app") == "here"
    assert sys.path[0] == os.getcwd()


class _DuckClient:
    def get_parameters(self, config: dict[str, Any]) -> list[np.ndarray]:
        return [np.arange(3.0)]

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[list[np.ndarray], int, dict[str, Any]]:
        return [parameters[0] + 1], 5, {}

    def evaluate(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
        return 0.5, 5, {}


class _FlowerNumPyClient(NumPyClient):  # type: ignore[misc]
    def get_parameters(self, config: dict[str, Any]) -> list[np.ndarray]:
        return [np.zeros(2)]

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[list[np.ndarray], int, dict[str, Any]]:
        return [parameters[0] - 1], 3, {"seen_round": config["server-round"]}

    def evaluate(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
        return 1.5, 3, {}


def test_as_client_adapts_a_client_app_with_its_partition_and_run_config() -> None:
    app = ClientApp()
    client = as_client(app, hospital=2, hospitals=4, run_config={"lr": 0.1}, array_names=["w"])
    assert isinstance(client, ClientAppAdapter) and client.app is app
    assert client.context.node_config == {"partition-id": 2, "num-partitions": 4}
    assert client.context.run_config == {"lr": 0.1}
    assert client.array_names == ["w"]
    assert as_client(client, hospital=0, hospitals=1) is client


def test_as_client_adapts_numpy_clients_of_every_kind(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    flower = as_client(_FlowerNumPyClient(), hospital=0, hospitals=1)
    assert isinstance(flower, NumPyClientAdapter)
    arrays, count, metrics = flower.fit([np.ones(2)], {"server-round": 4})
    assert (arrays[0].tolist(), count, metrics) == ([0.0, 0.0], 3, {"seen_round": 4})

    duck = as_client(_DuckClient(), hospital=0, hospitals=1)
    assert isinstance(duck, NumPyClientAdapter) and duck.fit([np.zeros(3)], {})[0][0].tolist() == [1.0, 1.0, 1.0]

    trainer = TorchTrainer.from_spec(mlp_spec, 0, breast_cancer_split.clients[0])
    adapted = as_client(trainer, hospital=0, hospitals=1)
    assert isinstance(adapted, NumPyClientAdapter) and adapted.client is trainer
    start = initial_parameters(mlp_spec, seed=0)
    trained, count, _ = adapted.fit(start, {"server-round": 1})
    assert count == len(breast_cancer_split.clients[0].labels)
    assert not np.array_equal(trained[0], start[0])
    assert isinstance(adapted, Client)


def test_as_client_rejects_what_it_cannot_run() -> None:
    with pytest.raises(ClientError, match=r"is a Flower Client \(as NumPyClient\.to_client\(\) returns\): pass the "
                                          "NumPyClient itself"):
        as_client(_FlowerNumPyClient().to_client(), hospital=0, hospitals=1)
    with pytest.raises(ClientError, match="_DuckClient is a class: pass an instance"):
        as_client(_DuckClient, hospital=0, hospitals=1)
    with pytest.raises(ClientError, match="cannot use a function as a client: expected a Flower ClientApp"):
        as_client(lambda context: None, hospital=0, hospitals=1)
    with pytest.raises(ClientError, match="cannot use a str as a client"):
        as_client("examples.flower_app.client_app:app", hospital=0, hospitals=1)
    with pytest.raises(ClientError, match=r"hospital must be in \[0, 2\)"):
        as_client(ClientApp(), hospital=-1, hospitals=2)
