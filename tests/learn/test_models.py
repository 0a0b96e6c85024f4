import numpy as np
import pytest
import torch

from fedchain.client import ParameterError
from fedchain.learn import (
    LogisticRegression,
    ModelSpec,
    ModelSpecError,
    TabularMLP,
    build_model,
    get_model_parameters,
    initial_parameters,
    model_parameter_names,
    set_model_parameters,
)


def test_mlp_output_shape_and_layers() -> None:
    model = TabularMLP(5, hidden=[7, 3], num_classes=4)
    assert model(torch.zeros(2, 5)).shape == (2, 4)
    assert [tuple(p.shape) for p in model.parameters()] == [(7, 5), (7,), (3, 7), (3,), (4, 3), (4,)]


def test_logistic_regression_is_one_linear_layer() -> None:
    model = LogisticRegression(6, num_classes=3)
    assert model_parameter_names(model) == ["linear.weight", "linear.bias"]
    assert model(torch.zeros(1, 6)).shape == (1, 3)


def test_registry_builds_by_name_and_rejects_unknown() -> None:
    assert isinstance(build_model("mlp", 4, 2, hidden=3), TabularMLP)
    assert isinstance(build_model("logreg", 4, 2), LogisticRegression)
    with pytest.raises(ModelSpecError, match="unknown model 'resnet'"):
        build_model("resnet", 4, 2)
    with pytest.raises(ModelSpecError, match="cannot be built with options"):
        build_model("logreg", 4, 2, hidden=3)
    with pytest.raises(ModelSpecError, match="num_classes"):
        build_model("mlp", 4, 1)


def test_initial_parameters_are_a_function_of_the_seed() -> None:
    spec = {"name": "mlp", "kwargs": {"in_features": 4, "num_classes": 2, "hidden": [5]}}
    first = initial_parameters(spec, seed=3)
    again = initial_parameters(spec, seed=3)
    other = initial_parameters(spec, seed=4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_initial_parameters_leave_global_rng_alone() -> None:
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    initial_parameters(ModelSpec("logreg", 3, 2), seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_spec_dict_round_trip_and_errors() -> None:
    spec = ModelSpec("mlp", 10, 3, {"hidden": [4, 4]})
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ModelSpecError, match="'name'"):
        ModelSpec.from_dict({"kwargs": {}})
    with pytest.raises(ModelSpecError, match="in_features"):
        ModelSpec.from_dict({"name": "mlp", "kwargs": {"num_classes": 2}})
    with pytest.raises(ModelSpecError, match="unknown keys"):
        ModelSpec.from_dict({"name": "mlp", "kwargs": {}, "extra": 1})


def test_set_parameters_round_trip_and_shape_check() -> None:
    model = LogisticRegression(3, 2)
    new = [np.ones((2, 3)), np.full(2, -1.0)]
    set_model_parameters(model, new)
    got = get_model_parameters(model)
    assert got[0].dtype == np.float32
    np.testing.assert_array_equal(got[0], np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ParameterError, match=r"'linear\.weight' has shape"):
        set_model_parameters(model, [np.ones((3, 2)), np.zeros(2)])
    with pytest.raises(ParameterError, match="2 tensors but 1 arrays"):
        set_model_parameters(model, [np.ones((2, 3))])
