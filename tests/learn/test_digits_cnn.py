"""scikit-learn's digits as a built-in dataset, and the built-in convolutional model that reads its rows as images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sklearn_digits

from fedchain.learn import ImageCNN, ModelSpecError, build_model, initial_parameters, load_digits
from fedchain.learn.datasets import BUILTIN_DATASETS, DIGITS_SIDE


def test_digits_are_64_pixel_columns_and_ten_classes() -> None:
    digits = load_digits()
    assert digits.features.shape == (1797, 64) and digits.num_classes == 10
    assert np.bincount(digits.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert digits.feature_names[:2] == ("pixel_0_0", "pixel_0_1") and digits.feature_names[-1] == "pixel_7_7"
    assert digits.class_names == tuple("0123456789")
    assert BUILTIN_DATASETS["digits"] is load_digits


def test_a_row_is_the_image_row_by_row() -> None:
    images = sklearn_digits().images
    assert np.array_equal(load_digits().features[5].reshape(DIGITS_SIDE, DIGITS_SIDE), images[5])


def test_the_cnn_is_registered_and_sees_an_image() -> None:
    model = build_model("cnn", 64, 10)
    assert isinstance(model, ImageCNN)
    assert [tuple(p.shape) for p in model.parameters()] == [(8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,), (10, 64), (10,)]
    assert sum(p.numel() for p in model.parameters()) == 1898
    assert model(torch.zeros(5, 64)).shape == (5, 10)
    pixels = torch.randn(2, 64)
    assert torch.equal(model(pixels), model.head(model.features(pixels.reshape(2, 1, 8, 8))))


def test_the_cnn_takes_other_square_images_and_its_channels() -> None:
    model = build_model("cnn", 16 * 16, 3, channels=4)
    assert model(torch.zeros(1, 256)).shape == (1, 3)
    assert tuple(model.head.weight.shape) == (3, 8 * 4 * 4)


@pytest.mark.parametrize("in_features", [63, 9, 1])
def test_the_cnn_refuses_what_is_not_a_square_image(in_features: int) -> None:
    with pytest.raises(ModelSpecError, match=f"in_features = {in_features} is not the square"):
        build_model("cnn", in_features, 10)


def test_its_initial_weights_follow_the_seed() -> None:
    spec = {"name": "cnn", "kwargs": {"in_features": 64, "num_classes": 10}}
    first, again, other = (initial_parameters(spec, seed) for seed in (3, 3, 4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])
