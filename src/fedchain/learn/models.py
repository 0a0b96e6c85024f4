"""Model zoo for tabular data and small images, a name registry and deterministic initial parameters from a spec.

A model is named by a registered name (``mlp``, ``logreg`` and ``cnn`` are built in; :func:`register_model` adds one)
or by the import path ``package.module:function`` of a builder ``(in_features, num_classes, **options) ->
torch.nn.Module``, so a newcomer brings a model without editing fedchain.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from fedchain.client.errors import ClientError, ParameterError
from fedchain.client.load import load_object
from fedchain.learn.defaults import DEFAULT_CNN_CHANNELS, DEFAULT_MLP_HIDDEN
from fedchain.learn.errors import ModelSpecError


class TabularMLP(nn.Module):
    """Multi-layer perceptron with ReLU activations, producing ``num_classes`` logits."""

    def __init__(
        self, in_features: int, hidden: int | Sequence[int] = DEFAULT_MLP_HIDDEN, num_classes: int = 2
    ) -> None:
        super().__init__()
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        _check_positive("in_features", in_features)
        _check_num_classes(num_classes)
        for width in widths:
            _check_positive("hidden width", width)
        layers: list[nn.Module] = []
        previous = in_features
        for width in widths:
            layers.extend([nn.Linear(previous, width), nn.ReLU()])
            previous = width
        layers.append(nn.Linear(previous, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, num_classes)``."""
        logits: torch.Tensor = self.layers(features)
        return logits


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one linear layer producing ``num_classes`` logits.

    With ``binary`` (two classes only) it is binary logistic regression, one logit ``z = w . x + b`` and
    ``in_features + 1`` parameters (weights, then bias: the step an audited task proves, `fedchain.zk.fixed.logreg`);
    it returns the logits ``(0, z)``, whose softmax is ``(1 - sigmoid(z), sigmoid(z))``, so it is evaluated and
    trained like the two-class model."""

    def __init__(self, in_features: int, num_classes: int = 2, binary: bool = False) -> None:
        super().__init__()
        _check_positive("in_features", in_features)
        _check_num_classes(num_classes)
        if binary and num_classes != 2:
            raise ModelSpecError(f"binary logistic regression predicts 2 classes, not {num_classes}")
        self.binary = bool(binary)
        self.linear = nn.Linear(in_features, 1 if binary else num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, num_classes)``."""
        logits: torch.Tensor = self.linear(features)
        if self.binary:
            logits = torch.cat([torch.zeros_like(logits), logits], dim=1)
        return logits


class ImageCNN(nn.Module):
    """A small convolutional network for square grey images given as rows of pixels (``in_features`` = side x side,
    row by row, as :func:`fedchain.learn.datasets.load_digits` gives them): two 3x3 convolutions (``channels`` feature
    maps, then twice as many), each followed by ReLU and 2x2 max pooling, and a linear layer to ``num_classes``
    logits. An 8x8 digit ends as 16 maps of 2x2 before the linear layer (1,898 parameters with 10 classes)."""

    def __init__(self, in_features: int, num_classes: int = 2, channels: int = DEFAULT_CNN_CHANNELS) -> None:
        super().__init__()
        _check_positive("in_features", in_features)
        _check_num_classes(num_classes)
        _check_positive("channels", channels)
        side = math.isqrt(in_features)
        if side * side != in_features or side < 4:
            raise ModelSpecError(f"the cnn takes square images of at least 4x4 pixels; in_features = {in_features} "
                                 "is not the square of such a side")
        self.side = side
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * channels * (side // 4) ** 2, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, num_classes)`` for pixels of shape ``(batch, side * side)``."""
        logits: torch.Tensor = self.head(self.features(features.reshape(-1, 1, self.side, self.side)))
        return logits


def _check_positive(what: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ModelSpecError(f"{what} must be a positive integer, got {value!r}")


def _check_num_classes(num_classes: int) -> None:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ModelSpecError(f"num_classes must be an integer >= 2, got {num_classes!r}")


def _build_mlp(in_features: int, num_classes: int, **options: Any) -> nn.Module:
    return TabularMLP(in_features, num_classes=num_classes, **options)


def _build_logreg(in_features: int, num_classes: int, **options: Any) -> nn.Module:
    return LogisticRegression(in_features, num_classes=num_classes, **options)


def _build_cnn(in_features: int, num_classes: int, **options: Any) -> nn.Module:
    return ImageCNN(in_features, num_classes=num_classes, **options)


ModelBuilder = Callable[..., nn.Module]
"""A builder ``(in_features, num_classes, **options) -> nn.Module``."""

MODEL_BUILDERS: dict[str, ModelBuilder] = {
    "mlp": _build_mlp,
    "logreg": _build_logreg,
    "cnn": _build_cnn,
}
"""Registered model names and their builders."""


def register_model(name: str, builder: ModelBuilder) -> None:
    """Make ``name`` build models with ``builder`` (a name that is taken, or holds a colon, is refused)."""
    if name in MODEL_BUILDERS or ":" in name or not name:
        raise ModelSpecError(f"cannot register model {name!r}: the name is taken or not a plain name")
    MODEL_BUILDERS[name] = builder


def model_builder(name: str) -> ModelBuilder:
    """The builder of a registered ``name``, or of the import path ``package.module:function``."""
    if ":" in name:
        try:
            builder = load_object(name, "model builder")
        except ClientError as error:
            raise ModelSpecError(str(error)) from None
        if not callable(builder):
            raise ModelSpecError(f"model builder {name}: is a {type(builder).__name__}, not a function")
        return cast(ModelBuilder, builder)
    found = MODEL_BUILDERS.get(name)
    if found is None:
        raise ModelSpecError(f"unknown model {name!r}; known models: {sorted(MODEL_BUILDERS)}, or give an import "
                             "path package.module:function")
    return found


def build_model(name: str, in_features: int, num_classes: int, **options: Any) -> nn.Module:
    """Build the model ``name`` (registered, or an import path) with the given options.

    The weights are torch's default initialization from the global RNG; use :func:`initial_parameters`
    for weights that are a deterministic function of a seed.
    """
    builder = model_builder(name)
    try:
        model = builder(in_features, num_classes, **options)
    except ModelSpecError:
        raise
    except (TypeError, ValueError) as error:
        raise ModelSpecError(f"model {name!r} cannot be built with options {dict(options)}: "
                             f"{type(error).__name__}: {error}") from error
    if not isinstance(model, nn.Module):
        raise ModelSpecError(f"model {name!r}: the builder returned a {type(model).__name__}, not a torch.nn.Module")
    return model


@dataclass(frozen=True)
class ModelSpec:
    """A JSON-friendly description of a model: registry name, input width, classes and options."""

    name: str
    in_features: int
    num_classes: int
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain dict ``{"name", "kwargs"}`` (``kwargs`` includes the sizes)."""
        kwargs = {"in_features": self.in_features, "num_classes": self.num_classes, **self.options}
        return {"name": self.name, "kwargs": kwargs}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "ModelSpec":
        """Parse ``{"name": str, "kwargs": {"in_features": int, "num_classes": int, ...}}``."""
        name = spec.get("name")
        if not isinstance(name, str):
            raise ModelSpecError(f"model spec needs a string 'name', got {name!r}")
        kwargs = spec.get("kwargs", {})
        if not isinstance(kwargs, Mapping):
            raise ModelSpecError(f"model spec 'kwargs' must be a mapping, got {type(kwargs).__name__}")
        unknown_keys = set(spec) - {"name", "kwargs"}
        if unknown_keys:
            raise ModelSpecError(f"model spec has unknown keys {sorted(unknown_keys)}")
        options = dict(kwargs)
        for required in ("in_features", "num_classes"):
            if required not in options:
                raise ModelSpecError(f"model spec kwargs lack {required!r}")
        in_features = options.pop("in_features")
        num_classes = options.pop("num_classes")
        return cls(name=name, in_features=in_features, num_classes=num_classes, options=options)

    def build(self) -> nn.Module:
        """Build the model (default torch initialization)."""
        return build_model(self.name, self.in_features, self.num_classes, **self.options)


def _as_spec(spec: ModelSpec | Mapping[str, Any]) -> ModelSpec:
    return spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)


def seeded_model(spec: ModelSpec | Mapping[str, Any], seed: int) -> nn.Module:
    """Build the model of ``spec`` with weights drawn from a torch RNG seeded with ``seed``.

    The global torch RNG state of the caller is left untouched.
    """
    model_spec = _as_spec(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_spec.build()


def initial_parameters(spec: ModelSpec | Mapping[str, Any], seed: int) -> list[npt.NDArray[Any]]:
    """Deterministic initial parameters of ``spec`` for ``seed``, in state-dict order."""
    return get_model_parameters(seeded_model(spec, seed))


def model_parameter_names(model: nn.Module) -> list[str]:
    """State-dict names of the model's tensors, in the order of :func:`get_model_parameters`."""
    return list(model.state_dict().keys())


def get_model_parameters(model: nn.Module) -> list[npt.NDArray[Any]]:
    """The model's state-dict tensors as NumPy copies (Flower's ``get_parameters`` convention)."""
    return [tensor.detach().cpu().numpy().copy() for tensor in model.state_dict().values()]


def set_model_parameters(model: nn.Module, parameters: Sequence[npt.ArrayLike]) -> None:
    """Load ``parameters`` (state-dict order) into ``model``, casting each to its tensor's dtype."""
    state = model.state_dict()
    if len(parameters) != len(state):
        raise ParameterError(f"model has {len(state)} tensors but {len(parameters)} arrays were given")
    new_state: dict[str, torch.Tensor] = {}
    for (name, current), array in zip(state.items(), parameters, strict=True):
        values = np.asarray(array)
        if tuple(values.shape) != tuple(current.shape):
            raise ParameterError(
                f"tensor {name!r} has shape {tuple(current.shape)} but the array has shape {values.shape}"
            )
        new_state[name] = torch.as_tensor(values).to(dtype=current.dtype).clone()
    model.load_state_dict(new_state)
