"""The Flower adapters with the real flwr: a NumPyClient and a ClientApp written as Flower's docs write them."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pytest
import torch
from examples.flower_app import client_app as digits_client_app
from examples.flower_app import server_app as digits_server_app
from examples.flower_app.task import Net as DigitsNet
from flwr.app import ArrayRecord, ConfigRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.client import NumPyClient
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg
from flwr.supercore.task_identity import TaskIdentity
from torch.nn import functional

from fedchain.client import ROUND_KEY, Client, ClientError, Config
from fedchain.client.flower import ClientAppAdapter, NumPyClientAdapter
from fedchain.learn import (
    FederatedSplit,
    ModelSpec,
    get_model_parameters,
    initial_parameters,
    model_parameter_names,
    seeded_model,
    set_model_parameters,
)


def _flower_tutorial_client(split: FederatedSplit, spec: ModelSpec) -> Any:
    """A client written the way Flower's PyTorch tutorial writes one, knowing nothing of fedchain."""
    data = split.clients[0]
    features = torch.as_tensor(data.features, dtype=torch.float32)
    labels = torch.as_tensor(data.labels)
    test_features = torch.as_tensor(split.test.features, dtype=torch.float32)
    test_labels = torch.as_tensor(split.test.labels)

    class HospitalClient(NumPyClient):  # type: ignore[misc]
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


# --- A Flower ClientApp (Message API), run through ClientAppAdapter -------------------------------------------


def _breast_cancer_app(split: FederatedSplit, spec: ModelSpec, seen: list[tuple[str, dict[str, Any], Context]]) -> Any:
    """A ClientApp written as Flower's PyTorch quickstart writes one; ``seen`` records each call's config, context."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        config = msg.content["config"]
        seen.append(("train", dict(config), context))
        model = seeded_model(spec, seed=0)
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        data = split.clients[context.node_config["partition-id"]]
        features = torch.as_tensor(data.features, dtype=torch.float32)
        labels = torch.as_tensor(data.labels)
        torch.manual_seed(int(config["server-round"]))
        optimizer = torch.optim.SGD(model.parameters(), lr=config["learning_rate"])
        for _ in range(config["local_epochs"]):
            for batch in torch.split(torch.randperm(len(labels)), config["batch_size"]):
                optimizer.zero_grad()
                loss = functional.cross_entropy(model(features[batch]), labels[batch])
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
        fits = int(context.state["progress"]["fits"]) + 1 if "progress" in context.state else 1
        context.state["progress"] = MetricRecord({"fits": fits})
        metrics = {"train_loss": loss.item(), "fits": fits, "num-examples": len(labels)}
        content = RecordDict({"arrays": ArrayRecord(model.state_dict()), "metrics": MetricRecord(metrics)})
        return Message(content=content, reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        seen.append(("evaluate", dict(msg.content["config"]), context))
        model = seeded_model(spec, seed=0)
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        features = torch.as_tensor(split.test.features, dtype=torch.float32)
        labels = torch.as_tensor(split.test.labels)
        with torch.no_grad():
            logits = model(features)
        metrics = {
            "eval_loss": float(functional.cross_entropy(logits, labels)),
            "eval_acc": float((logits.argmax(dim=1) == labels).float().mean()),
            "num-examples": len(labels),
        }
        return Message(content=RecordDict({"metrics": MetricRecord(metrics)}), reply_to=msg)

    return app


@pytest.fixture
def seen() -> list[tuple[str, dict[str, Any], Context]]:
    """What the test ClientApp's handlers received: (message type, config, context) per call."""
    return []


@pytest.fixture
def adapter(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec,
            seen: list[tuple[str, dict[str, Any], Context]]) -> ClientAppAdapter:
    """The breast cancer ClientApp as hospital 1 of 3, its arrays named as its model's state dict."""
    return ClientAppAdapter(
        _breast_cancer_app(breast_cancer_split, mlp_spec, seen),
        hospital=1,
        hospitals=3,
        run_config={"cohort": "icu"},
        array_names=model_parameter_names(seeded_model(mlp_spec, seed=0)),
    )


FIT_CONFIG: Config = {"learning_rate": 0.1, "local_epochs": 2, "batch_size": 16, ROUND_KEY: 1, "cohort-size": 7}


def test_client_app_trains_through_the_adapter(
    adapter: ClientAppAdapter, breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec
) -> None:
    assert isinstance(adapter, Client)
    start = initial_parameters(mlp_spec, seed=0)
    params, count, metrics = adapter.fit(start, FIT_CONFIG)
    assert count == len(breast_cancer_split.clients[1].labels)
    assert [a.shape for a in params] == [a.shape for a in start]
    assert all(a.dtype == b.dtype for a, b in zip(params, start, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(params, start, strict=True))
    assert set(metrics) == {"train_loss", "fits"}
    assert isinstance(metrics["train_loss"], float) and metrics["train_loss"] > 0

    loss, eval_count, eval_metrics = adapter.evaluate(params, {ROUND_KEY: 1})
    assert eval_count == len(breast_cancer_split.test.labels)
    assert type(loss) is float and loss > 0
    assert set(eval_metrics) == {"eval_acc"} and 0.5 < float(eval_metrics["eval_acc"]) <= 1.0
    assert adapter.evaluate(start, {ROUND_KEY: 1})[0] != loss


def test_strategy_config_reaches_the_handler_unchanged(
    adapter: ClientAppAdapter, mlp_spec: ModelSpec, seen: list[tuple[str, dict[str, Any], Context]]
) -> None:
    adapter.fit(initial_parameters(mlp_spec, seed=0), FIT_CONFIG)
    kind, config, _ = seen[-1]
    assert kind == "train"
    assert config == FIT_CONFIG
    assert [type(value) for value in config.values()] == [type(value) for value in FIT_CONFIG.values()]


def test_context_state_persists_across_fits(
    adapter: ClientAppAdapter, mlp_spec: ModelSpec, seen: list[tuple[str, dict[str, Any], Context]]
) -> None:
    first, _, first_metrics = adapter.fit(initial_parameters(mlp_spec, seed=0), FIT_CONFIG)
    _, _, second_metrics = adapter.fit(first, {**FIT_CONFIG, ROUND_KEY: 2})
    assert (first_metrics["fits"], second_metrics["fits"]) == (1, 2)
    assert seen[0][2] is seen[1][2] is adapter.context
    assert adapter.context.state["progress"]["fits"] == 2


def test_node_config_carries_the_partition_and_run_config_the_task_keys(
    adapter: ClientAppAdapter, mlp_spec: ModelSpec, seen: list[tuple[str, dict[str, Any], Context]]
) -> None:
    adapter.fit(initial_parameters(mlp_spec, seed=0), FIT_CONFIG)
    context = seen[-1][2]
    assert context.node_config == {"partition-id": 1, "num-partitions": 3}
    assert context.run_config == {"cohort": "icu"}
    other = ClientAppAdapter(ClientApp(), hospital=2, hospitals=3)
    assert other.context.node_config == {"partition-id": 2, "num-partitions": 3}
    assert other.context.node_id != adapter.context.node_id


def test_adapter_sends_what_fedavg_sends(
    adapter: ClientAppAdapter, mlp_spec: ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The train message a real FedAvg builds and the adapter's have the same content, type and round."""
    _flower_task_identity(monkeypatch)
    model = seeded_model(mlp_spec, seed=0)
    config = {key: value for key, value in FIT_CONFIG.items() if key != ROUND_KEY}
    strategy = FedAvg(min_train_nodes=1, min_available_nodes=1)
    grid = _InProcessGrid(ClientApp(), num_nodes=1, run_config={})
    (fedavg_message,) = strategy.configure_train(1, ArrayRecord(model.state_dict()), ConfigRecord(config), grid)
    received: list[Message] = []
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        received.append(msg)
        metrics = MetricRecord({"num-examples": 1})
        return Message(RecordDict({"arrays": msg.content["arrays"], "metrics": metrics}), reply_to=msg)

    names = model_parameter_names(model)
    ClientAppAdapter(app, hospital=0, hospitals=1, array_names=names).fit(get_model_parameters(model), FIT_CONFIG)
    (ours,) = received
    assert ours.metadata.message_type == fedavg_message.metadata.message_type == "train"
    assert list(ours.content.keys()) == list(fedavg_message.content.keys()) == ["arrays", "config"]
    assert dict(ours.content["config"]) == dict(fedavg_message.content["config"]) == FIT_CONFIG
    ours_arrays, fedavg_arrays = ours.content["arrays"], fedavg_message.content["arrays"]
    assert list(ours_arrays.keys()) == list(fedavg_arrays.keys()) == names
    assert all(ours_arrays[name].data == fedavg_arrays[name].data for name in names)


# --- Each failure of a ClientApp is a ClientError ----------------------------------------------------------------


def _replying(make_reply: Callable[[Message], Any], *, kind: str = "train", **kwargs: Any) -> ClientAppAdapter:
    """An adapter over a ClientApp whose ``kind`` handler returns ``make_reply(msg)``."""
    app = ClientApp()
    register = app.train() if kind == "train" else app.evaluate()

    @register
    def handler(msg: Message, context: Context) -> Any:
        return make_reply(msg)

    return ClientAppAdapter(app, hospital=0, hospitals=2, **kwargs)


def _reply(msg: Message, **records: Any) -> Message:
    return Message(RecordDict(records), reply_to=msg)


def _echo(msg: Message, **metrics: Any) -> Message:
    """A train reply with the arrays it was sent and ``metrics``."""
    return _reply(msg, arrays=msg.content["arrays"], metrics=MetricRecord(metrics))


def _wrong_type(msg: Message) -> Message:
    reply = _echo(msg, **{"num-examples": 1})
    reply.metadata.message_type = "evaluate"
    return reply


def _raise(msg: Message) -> Message:
    raise ValueError("disk full")


ARRAYS = [np.zeros((2, 3), dtype=np.float32), np.ones(3, dtype=np.float32)]


@pytest.mark.parametrize(
    ("make_reply", "message"),
    [
        (lambda msg: Message(Error(code=7, reason="out of memory"), reply_to=msg),
         "replied to the train message with error 7: out of memory"),
        (lambda msg: _reply(msg, metrics=MetricRecord({"num-examples": 1})),
         "must carry exactly one ArrayRecord, found none"),
        (lambda msg: _reply(msg, a=msg.content["arrays"], b=msg.content["arrays"],
                            metrics=MetricRecord({"num-examples": 1})),
         r"exactly one ArrayRecord, found 2 \(a, b\)"),
        (lambda msg: _reply(msg, arrays=msg.content["arrays"]), "exactly one MetricRecord, found none"),
        (lambda msg: _reply(msg, arrays=msg.content["arrays"], metrics=ConfigRecord({"num-examples": 1})),
         "exactly one MetricRecord, found none"),
        (lambda msg: _echo(msg, train_loss=0.5), r"no 'num-examples' metric .* metrics are \['train_loss'\]"),
        (lambda msg: _echo(msg, **{"num-examples": 2.5}), "'num-examples' = 2.5, not a non-negative whole number"),
        (lambda msg: _echo(msg, **{"num-examples": -1}), "'num-examples' = -1"),
        (lambda msg: _echo(msg, **{"num-examples": 1, "losses": [0.5, 0.4]}), "list under metric 'losses'"),
        (lambda msg: _echo(msg, **{"num-examples": 1, "note": "fine"}),
         "failed on a train message: TypeError: Not all values are of valid type"),
        (lambda msg: {"num-examples": 1}, "train handler returned a dict, not a flwr Message"),
        (lambda msg: msg, "did not return a reply to its message"),
        (_wrong_type, "answered a train message with a 'evaluate' message"),
        (_raise, "failed on a train message: ValueError: disk full"),
        (lambda msg: _reply(msg, arrays=ArrayRecord([np.zeros(1)]), metrics=MetricRecord({"num-examples": 1})),
         r"reply has 1 arrays, but 2 were sent"),
        (lambda msg: _reply(msg, arrays=ArrayRecord([np.zeros(6), np.ones(3)]),
                            metrics=MetricRecord({"num-examples": 1})),
         r"shape \(6,\) for array '0', sent with shape \(2, 3\)"),
    ],
)
def test_malformed_train_replies_are_client_errors(make_reply: Callable[[Message], Any], message: str) -> None:
    with pytest.raises(ClientError, match=message):
        _replying(make_reply).fit(list(ARRAYS), {ROUND_KEY: 1})


def test_train_reply_arrays_follow_the_names_sent() -> None:
    def reversed_record(msg: Message) -> Message:
        sent = msg.content["arrays"]
        arrays = ArrayRecord({name: sent[name] for name in reversed(list(sent.keys()))})
        return _reply(msg, arrays=arrays, metrics=MetricRecord({"num-examples": 4}))

    params, count, metrics = _replying(reversed_record, array_names=["w", "b"]).fit(list(ARRAYS), {})
    assert (count, metrics) == (4, {})
    assert [a.tolist() for a in params] == [a.tolist() for a in ARRAYS]

    def renamed(msg: Message) -> Message:
        arrays = ArrayRecord({"x": msg.content["arrays"]["w"], "y": msg.content["arrays"]["b"]})
        return _reply(msg, arrays=arrays, metrics=MetricRecord({"num-examples": 4}))

    with pytest.raises(ClientError, match=r"names its arrays \['x', 'y'\], but the model's arrays are \['w', 'b'\]"):
        _replying(renamed, array_names=["w", "b"]).fit(list(ARRAYS), {})
    with pytest.raises(ClientError, match="fit got 2 arrays but array_names has 3"):
        _replying(renamed, array_names=["w", "b", "c"]).fit(list(ARRAYS), {})
    with pytest.raises(ClientError, match=r"array_names must be unique, got \['w', 'w'\]"):
        _replying(renamed, array_names=["w", "w"]).fit(list(ARRAYS), {})


def test_evaluate_reads_eval_loss_then_loss_and_needs_one() -> None:
    def metrics_reply(**metrics: Any) -> Callable[[Message], Message]:
        return lambda msg: _reply(msg, metrics=MetricRecord(metrics))

    both = _replying(metrics_reply(eval_loss=0.25, loss=9, acc=1, **{"num-examples": 5}), kind="evaluate")
    assert both.evaluate(list(ARRAYS), {}) == (0.25, 5, {"loss": 9, "acc": 1})
    only_loss = _replying(metrics_reply(loss=2, **{"num-examples": 5}), kind="evaluate")
    loss, _, _ = only_loss.evaluate(list(ARRAYS), {})
    assert type(loss) is float and loss == 2.0
    with pytest.raises(ClientError, match=r"evaluate reply has no loss: .* metrics are \['eval_acc'\]"):
        _replying(metrics_reply(eval_acc=0.9, **{"num-examples": 5}), kind="evaluate").evaluate(list(ARRAYS), {})
    with pytest.raises(ClientError, match="failed on a train message: ValueError: No train function registered"):
        _replying(metrics_reply(loss=2), kind="evaluate").fit(list(ARRAYS), {})


def test_a_state_dict_app_without_array_names_gets_a_hint(
    breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec
) -> None:
    adapter = ClientAppAdapter(_breast_cancer_app(breast_cancer_split, mlp_spec, []), hospital=0, hospitals=3)
    with pytest.raises(ClientError, match=r"Missing key\(s\) in state_dict.*give the adapter array_names") as info:
        adapter.fit(initial_parameters(mlp_spec, seed=0), FIT_CONFIG)
    assert "\n" not in str(info.value)


def test_client_app_adapter_rejects_what_it_cannot_run() -> None:
    with pytest.raises(ClientError, match="task must provide the initial model"):
        ClientAppAdapter(ClientApp(), hospital=0, hospitals=1).get_parameters({})
    with pytest.raises(ClientError, match=r"needs a flwr\.clientapp\.ClientApp, got NumPyClientAdapter"):
        ClientAppAdapter(NumPyClientAdapter(_BadClient()), hospital=0, hospitals=1)  # type: ignore[arg-type]
    with pytest.raises(ClientError, match=r"built from a client_fn .* pass the NumPyClient"):
        ClientAppAdapter(ClientApp(client_fn=lambda context: _BadClient()), hospital=0, hospitals=1)
    with pytest.raises(ClientError, match=r"hospital must be in \[0, 3\) .* got 3"):
        ClientAppAdapter(ClientApp(), hospital=3, hospitals=3)
    with pytest.raises(ClientError, match=r"run_config\['epochs'\] must be a bool, int, float or str"):
        ClientAppAdapter(ClientApp(), hospital=0, hospitals=1, run_config={"epochs": None})  # type: ignore[dict-item]
    with pytest.raises(ClientError, match="train config does not fit a Flower ConfigRecord"):
        _replying(_echo).fit(list(ARRAYS), {"when": None})  # type: ignore[dict-item]
    with pytest.raises(ClientError, match="fit needs a list of NumPy arrays, got tuple"):
        _replying(_echo).fit(tuple(ARRAYS), {})  # type: ignore[arg-type]


# --- The example Flower app (examples/flower_app), unmodified ---------------------------------------------------


DIGITS_RUN_CONFIG = {"local-epochs": 1, "batch-size": 16}


def test_example_flower_app_trains_through_the_adapter() -> None:
    net = DigitsNet()
    start = [tensor.numpy().copy() for tensor in net.state_dict().values()]
    adapter = ClientAppAdapter(digits_client_app.app, hospital=3, hospitals=30, run_config=DIGITS_RUN_CONFIG,
                               array_names=list(net.state_dict()))
    first, count, metrics = adapter.fit(start, {"lr": 0.1, ROUND_KEY: 1})
    second, second_count, _ = adapter.fit(first, {"lr": 0.1, ROUND_KEY: 2})
    assert count == second_count == 48  # 80% of partition 3: 60 of the 1797 digits in 30 slices
    assert set(metrics) == {"train_loss"}
    for before, after, later in zip(start, first, second, strict=True):
        assert after.shape == before.shape
        assert not np.array_equal(after, before) and not np.array_equal(later, after)
    loss, eval_count, eval_metrics = adapter.evaluate(second, {ROUND_KEY: 2})
    assert eval_count == 12 and loss > 0 and 0.0 <= float(eval_metrics["eval_acc"]) <= 1.0


class _InProcessGrid(Grid):
    """A Flower Grid in one process: node ``10 + i`` runs ``app`` as partition ``i`` with its own Context."""

    def __init__(self, app: Any, num_nodes: int, run_config: dict[str, Any]) -> None:
        self.app = app
        self.contexts = {
            10 + i: Context(run_id=1, node_id=10 + i, state=RecordDict(), run_config=run_config,
                            node_config={"partition-id": i, "num-partitions": num_nodes})
            for i in range(num_nodes)
        }
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.models: list[ArrayRecord] = []

    def set_run(self, run: Any) -> None:
        raise NotImplementedError

    @property
    def run(self) -> Any:
        raise NotImplementedError

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        raise NotImplementedError

    def get_node_ids(self) -> Iterable[int]:
        return list(self.contexts)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        raise NotImplementedError

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        raise NotImplementedError

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        replies = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = message.object_id  # as the SuperLink does
            self.sent.append((message.metadata.message_type, dict(message.content["config"])))
            self.models.append(message.content["arrays"])
            replies.append(self.app(message, self.contexts[message.metadata.dst_node_id]))
        return replies


def _flower_task_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Flower runtime sets before a ServerApp builds messages: its task, run and node."""
    monkeypatch.setattr(TaskIdentity, "_task_id", 1)
    monkeypatch.setattr(TaskIdentity, "_run_id", 1)
    monkeypatch.setattr(TaskIdentity, "_node_id", 1)


@pytest.fixture
def quiet_flower_log() -> Iterator[None]:
    """FedAvg logs every round at INFO; keep the test output short."""
    import logging  # noqa: PLC0415

    logger = logging.getLogger("flwr")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.mark.usefixtures("quiet_flower_log")
def test_example_flower_app_runs_under_flowers_own_serverapp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flower's ServerApp and FedAvg drive the example's ClientApp, as `flwr run` would (minus the transport)."""
    _flower_task_identity(monkeypatch)
    grid = _InProcessGrid(digits_client_app.app, num_nodes=4, run_config=DIGITS_RUN_CONFIG)
    context = Context(run_id=1, node_id=0, node_config={}, state=RecordDict(),
                      run_config={"fraction-train": 1.0, "num-server-rounds": 2, "lr": 0.1})
    digits_server_app.app(grid, context)
    assert grid.sent == [("train", {"lr": 0.1, "server-round": 1})] * 4 + [("evaluate", {"server-round": 1})] * 4 + [
        ("train", {"lr": 0.1, "server-round": 2})] * 4 + [("evaluate", {"server-round": 2})] * 4
    final = context.state["final-model"]
    assert list(final.keys()) == list(DigitsNet().state_dict())
    first_global, second_global = grid.models[0], grid.models[8]
    for name in final:
        assert not np.array_equal(first_global[name].numpy(), second_global[name].numpy())
        assert not np.array_equal(second_global[name].numpy(), final[name].numpy())
