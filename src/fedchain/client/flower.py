"""Flower clients as fedchain :class:`~fedchain.client.api.Client` objects, unchanged.

:class:`NumPyClientAdapter` runs a Flower ``NumPyClient`` (or any object with its three methods): it relies
only on the method signatures, and checks the returned values the way Flower's own client wrapper does, so
a client that Flower would reject fails here too, with a message naming the method and the offending value.

:class:`ClientAppAdapter` runs a Flower ``ClientApp`` (the Message API): ``fit`` and ``evaluate`` send it the
train and evaluate messages a Flower strategy such as ``FedAvg`` sends, and read its replies the way the
strategy does. flwr is imported only when a ``ClientApp`` is adapted, so fedchain runs without it.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeGuard

import numpy as np

from fedchain.client.api import Client, Config, Metrics, NDArrays
from fedchain.client.errors import ClientError

if TYPE_CHECKING:
    from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

ARRAYS_KEY: Final = "arrays"
"""Where a strategy puts the model's ArrayRecord in a message's content (``FedAvg``'s ``arrayrecord_key``)."""

CONFIG_KEY: Final = "config"
"""Where a strategy puts the ConfigRecord in a message's content (``FedAvg``'s ``configrecord_key``)."""

NUM_EXAMPLES_KEY: Final = "num-examples"
"""The reply metric that weights a client in Flower's strategies (``FedAvg``'s default ``weighted_by_key``)."""

LOSS_KEYS: Final = ("eval_loss", "loss")
"""The evaluate-reply metrics read as the loss, first match wins (Flower's templates report ``eval_loss``)."""

PARTITION_ID_KEY: Final = "partition-id"
NUM_PARTITIONS_KEY: Final = "num-partitions"
"""The ``node_config`` keys of a Flower simulation node, which ClientApps read to load their partition."""

SUPERLINK_NODE_ID: Final = 1
FIRST_NODE_ID: Final = 2
"""Flower's SuperLink is node 1 (and a ServerApp's context node 0); hospital ``i`` is node ``FIRST_NODE_ID + i``."""


def _check_arrays(method: str, arrays: Any) -> NDArrays:
    if not isinstance(arrays, list):
        raise ClientError(f"{method} must return a list of NumPy arrays, got {type(arrays).__name__}")
    for position, array in enumerate(arrays):
        if not isinstance(array, np.ndarray):
            raise ClientError(f"{method} returned a {type(array).__name__} at position {position}, not an ndarray")
    return arrays


def _check_triple(method: str, result: Any) -> tuple[Any, Any, Any]:
    if not isinstance(result, tuple) or len(result) != 3:
        raise ClientError(f"{method} must return a 3-tuple, got {type(result).__name__}")
    first, count, metrics = result
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ClientError(f"{method} must return a non-negative int example count, got {count!r}")
    if not isinstance(metrics, dict):
        raise ClientError(f"{method} must return a metrics dict, got {type(metrics).__name__}")
    return first, count, metrics


class NumPyClientAdapter:
    """A :class:`Client` that delegates to a ``flwr.client.NumPyClient`` (or any object with its methods)."""

    def __init__(self, client: Client) -> None:
        for method in ("get_parameters", "fit", "evaluate"):
            if not callable(getattr(client, method, None)):
                raise ClientError(f"{type(client).__name__} has no {method}() method of a Flower NumPyClient")
        self.client = client

    def get_parameters(self, config: Config) -> NDArrays:
        """The client's current parameters."""
        return _check_arrays("get_parameters", self.client.get_parameters(config))

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """The client's ``fit``, with Flower's return-type checks."""
        arrays, count, metrics = _check_triple("fit", self.client.fit(parameters, config))
        return _check_arrays("fit", arrays), count, metrics

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """The client's ``evaluate``, with Flower's return-type checks."""
        loss, count, metrics = _check_triple("evaluate", self.client.evaluate(parameters, config))
        if not isinstance(loss, float):
            raise ClientError(f"evaluate must return a float loss, got {type(loss).__name__}")
        return loss, count, metrics


def is_client_app(obj: object) -> TypeGuard[ClientApp]:
    """Whether ``obj`` is a ``flwr.clientapp.ClientApp``; never imports flwr (a ClientApp means it is loaded)."""
    module = sys.modules.get("flwr.clientapp.client_app")
    return module is not None and isinstance(obj, module.ClientApp)


def _check_client_app(app: object) -> None:
    if not is_client_app(app):
        raise ClientError(f"ClientAppAdapter needs a flwr.clientapp.ClientApp, got {type(app).__name__}")
    # flwr 1.42 keeps the handler of a ClientApp built from a client_fn in `_call`; such an app expects
    # the legacy FitIns/EvaluateIns records, not the Message-API content a strategy sends.
    if getattr(app, "_call", None) is not None:
        raise ClientError(
            "this ClientApp is built from a client_fn (Flower's legacy API): pass the NumPyClient that client_fn "
            "returns instead, or register @app.train() and @app.evaluate() handlers"
        )


def _check_partition(hospital: int, hospitals: int) -> None:
    for name, value in (("hospital", hospital), ("hospitals", hospitals)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ClientError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= hospital < hospitals:
        raise ClientError(f"hospital must be in [0, {hospitals}) (the partition-id of {hospitals} partitions), "
                          f"got {hospital}")


def _check_run_config(run_config: Mapping[str, Any] | None) -> dict[str, bool | float | int | str]:
    """A copy of ``run_config`` if it is a Flower run config (str keys; bool, int, float or str values)."""
    checked: dict[str, bool | float | int | str] = {}
    for key, value in (run_config or {}).items():
        if not isinstance(key, str) or not isinstance(value, bool | float | int | str):
            raise ClientError(f"run_config[{key!r}] must be a bool, int, float or str (a Flower run config value), "
                              f"got {type(value).__name__}")
        checked[key] = value
    return checked


def _scalar(message_type: str, key: str, value: Any) -> float | int:
    if isinstance(value, list):
        raise ClientError(f"the ClientApp's {message_type} reply has a list under metric {key!r}; "
                          "fedchain metrics are single numbers")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClientError(f"the ClientApp's {message_type} reply has a non-numeric metric {key!r}: {value!r}")
    return int(value) if isinstance(value, int) else float(value)


def _one_record(message_type: str, kind: str, records: Mapping[str, Any]) -> Any:
    """The only record of a kind in a reply, as Flower's strategies require."""
    if len(records) != 1:
        found = f"{len(records)} ({', '.join(sorted(records))})" if records else "none"
        raise ClientError(f"the ClientApp's {message_type} reply must carry exactly one {kind}, found {found}")
    return next(iter(records.values()))


def _reply_metrics(message_type: str, content: RecordDict) -> dict[str, float | int]:
    record: MetricRecord = _one_record(message_type, "MetricRecord", content.metric_records)
    return {key: _scalar(message_type, key, value) for key, value in record.items()}


def _pop_count(message_type: str, metrics: dict[str, float | int], key: str) -> int:
    """Remove and return the example count, which must be a whole number of examples."""
    if key not in metrics:
        raise ClientError(f"the ClientApp's {message_type} reply has no {key!r} metric (Flower's strategies weight "
                          f"replies by it); its metrics are {sorted(metrics)}")
    value = metrics.pop(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise ClientError(f"the ClientApp's {message_type} reply has {key!r} = {value!r}, "
                          "not a non-negative whole number")
    return value


def _pop_loss(metrics: dict[str, float | int]) -> float:
    """Remove and return the evaluate reply's loss: ``eval_loss``, else ``loss``."""
    for key in LOSS_KEYS:
        if key in metrics:
            return float(metrics.pop(key))
    raise ClientError(f"the ClientApp's evaluate reply has no loss: it must report 'eval_loss' or 'loss' in its "
                      f"MetricRecord; its metrics are {sorted(metrics)}")


class ClientAppAdapter:
    """A :class:`Client` that runs a Flower ``ClientApp`` (Message API) unchanged, as a Flower simulation does.

    ``fit`` sends the app a ``"train"`` message and ``evaluate`` an ``"evaluate"`` message whose content is
    what ``FedAvg`` sends: ``RecordDict({"arrays": ArrayRecord, "config": ConfigRecord})``, the config being
    the participant's (training settings, the task's own keys and ``"server-round"``). The reply must carry
    one ArrayRecord (train only) and one MetricRecord with ``weighted_by_key`` (``"num-examples"``); the
    returned metrics are the reply's other metrics as Python numbers. ``evaluate``'s loss is the reply's
    ``"eval_loss"``, else ``"loss"``; a reply with neither is a :class:`ClientError`, as is a reply with an
    error, a missing or ambiguous record, a list metric, a reply of another type, or an exception in the app.

    One :attr:`context` serves every call, so ``context.state`` persists across rounds. Its ``node_config``
    is Flower's simulation one, ``{"partition-id": hospital, "num-partitions": hospitals}``, and its
    ``run_config`` is ``run_config`` (Flower's run config: the task's own keys).

    The arrays travel under ``array_names`` (settable later, e.g. to the task's tensor names) or else under
    ``"0", "1", ...`` (``ArrayRecord(list_of_arrays)``). An app that loads them with ``to_torch_state_dict()``
    needs its model's state-dict names. The reply's arrays are returned in the order of the names sent when
    the reply uses the same names; otherwise, if ``array_names`` is set, that is a :class:`ClientError`, and if
    not, they are returned in the reply's order (``to_numpy_ndarrays()``). They must match the arrays sent in
    number and shapes.
    """

    def __init__(
        self,
        app: ClientApp,
        *,
        hospital: int,
        hospitals: int,
        run_config: Mapping[str, bool | float | int | str] | None = None,
        array_names: Sequence[str] | None = None,
        run_id: int = 0,
        weighted_by_key: str = NUM_EXAMPLES_KEY,
    ) -> None:
        _check_client_app(app)
        _check_partition(hospital, hospitals)
        from flwr.app import Context, RecordDict  # noqa: PLC0415

        self.app = app
        self.array_names: list[str] | None = None if array_names is None else list(array_names)
        self.weighted_by_key = weighted_by_key
        self.context = Context(
            run_id=run_id,
            node_id=FIRST_NODE_ID + hospital,
            node_config={PARTITION_ID_KEY: hospital, NUM_PARTITIONS_KEY: hospitals},
            state=RecordDict(),
            run_config=_check_run_config(run_config),
        )

    def get_parameters(self, config: Config) -> NDArrays:
        """Always a :class:`ClientError`: a ClientApp has no such call; the task provides the initial model."""
        raise ClientError(
            "a Flower ClientApp has no get_parameters: the task must provide the initial model "
            "(as a Flower ServerApp does)"
        )

    def fit(self, parameters: NDArrays, config: Config) -> tuple[NDArrays, int, Metrics]:
        """Send a train message; return the reply's arrays, ``num-examples`` and other metrics."""
        names = self._names("fit", parameters)
        content = self._request("train", names, parameters, config)
        metrics = _reply_metrics("train", content)
        count = _pop_count("train", metrics, self.weighted_by_key)
        record: ArrayRecord = _one_record("train", "ArrayRecord", content.array_records)
        return self._reply_arrays(record, names, parameters), count, dict(metrics)

    def evaluate(self, parameters: NDArrays, config: Config) -> tuple[float, int, Metrics]:
        """Send an evaluate message; return the reply's loss, ``num-examples`` and other metrics."""
        content = self._request("evaluate", self._names("evaluate", parameters), parameters, config)
        metrics = _reply_metrics("evaluate", content)
        count = _pop_count("evaluate", metrics, self.weighted_by_key)
        return _pop_loss(metrics), count, dict(metrics)

    def _names(self, method: str, parameters: NDArrays) -> list[str]:
        if not isinstance(parameters, list) or not all(isinstance(array, np.ndarray) for array in parameters):
            raise ClientError(f"{method} needs a list of NumPy arrays, got {type(parameters).__name__}")
        names = self.array_names if self.array_names is not None else [str(i) for i in range(len(parameters))]
        if len(names) != len(parameters):
            raise ClientError(f"{method} got {len(parameters)} arrays but array_names has {len(names)}: {names}")
        if len(set(names)) != len(names):
            raise ClientError(f"array_names must be unique, got {names}")
        return names

    def _request(self, message_type: str, names: list[str], parameters: NDArrays, config: Config) -> RecordDict:
        """Send the app one message as a strategy would and return the content of its checked reply."""
        from flwr.app import Array, ArrayRecord, RecordDict  # noqa: PLC0415

        arrays = ArrayRecord({name: Array(array) for name, array in zip(names, parameters, strict=True)})
        content = RecordDict({ARRAYS_KEY: arrays, CONFIG_KEY: self._config_record(message_type, config)})
        message = self._message(message_type, content, config)
        try:
            reply = self.app(message, self.context)
        except Exception as exc:  # a Flower runtime turns this into an error reply; we raise it
            raise ClientError(f"the ClientApp failed on a {message_type} message: {self._explain(exc)}") from exc
        return self._check_reply(message, reply)

    def _explain(self, exc: Exception) -> str:
        """``exc`` on one line, with a hint when the app could not load arrays sent under ``"0", "1", ...``."""
        text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        if self.array_names is None and "state_dict" in text:
            text += (" (the arrays were sent under the names '0', '1', ...: give the adapter array_names, the "
                     "model's state-dict names)")
        return text

    @staticmethod
    def _config_record(message_type: str, config: Config) -> ConfigRecord:
        from flwr.app import ConfigRecord  # noqa: PLC0415

        try:
            return ConfigRecord(dict(config))
        except (TypeError, ValueError) as exc:
            raise ClientError(f"the {message_type} config does not fit a Flower ConfigRecord: {exc}") from exc

    def _message(self, message_type: str, content: RecordDict, config: Config) -> Message:
        """A message from the SuperLink to this node, with the metadata a Flower runtime gives it."""
        from flwr.app import DEFAULT_TTL, Metadata  # noqa: PLC0415
        from flwr.app.message import make_message  # noqa: PLC0415

        round_number = config.get("server-round")
        metadata = Metadata(
            run_id=self.context.run_id,
            message_id=uuid.uuid4().hex,
            src_node_id=SUPERLINK_NODE_ID,
            dst_node_id=self.context.node_id,
            reply_to_message_id="",
            group_id="" if round_number is None else str(round_number),
            created_at=time.time(),
            ttl=DEFAULT_TTL,
            message_type=message_type,
        )
        return make_message(metadata=metadata, content=content)

    @staticmethod
    def _check_reply(message: Message, reply: Any) -> RecordDict:
        from flwr.app import Message  # noqa: PLC0415

        message_type = message.metadata.message_type
        if not isinstance(reply, Message):
            raise ClientError(f"the ClientApp's {message_type} handler returned a {type(reply).__name__}, "
                              "not a flwr Message")
        if reply.has_error():
            raise ClientError(f"the ClientApp replied to the {message_type} message with error "
                              f"{reply.error.code}: {reply.error.reason}")
        if reply.metadata.message_type != message_type:
            raise ClientError(f"the ClientApp answered a {message_type} message with a "
                              f"{reply.metadata.message_type!r} message")
        if reply.metadata.reply_to_message_id != message.metadata.message_id:
            raise ClientError(f"the ClientApp's {message_type} handler did not return a reply to its message "
                              "(build one with Message(content, reply_to=msg))")
        return reply.content

    def _reply_arrays(self, record: ArrayRecord, names: list[str], sent: NDArrays) -> NDArrays:
        """The reply's arrays in the order of ``names``, checked against the arrays sent."""
        keys = list(record.keys())
        if set(keys) == set(names):
            keys = names
        elif self.array_names is not None:
            raise ClientError(f"the ClientApp's train reply names its arrays {keys}, "
                              f"but the model's arrays are {names}")
        try:
            arrays = [record[key].numpy() for key in keys]
        except TypeError as exc:
            raise ClientError(f"the ClientApp's train reply has an array that is not a NumPy array: {exc}") from exc
        if len(arrays) != len(sent):
            raise ClientError(f"the ClientApp's train reply has {len(arrays)} arrays, but {len(sent)} were sent")
        for key, array, before in zip(keys, arrays, sent, strict=True):
            if array.shape != before.shape:
                raise ClientError(f"the ClientApp's train reply has shape {array.shape} for array {key!r}, "
                                  f"sent with shape {before.shape}")
        return arrays
