"""The task's model for fedchain: the app's own ``Net``, built by the requester for the initial weights.

A task file names it by import path (``[model] name = "examples.flower_app.fedchain_model:build"``); a builder
takes the task's ``in_features`` and ``num_classes`` (``Net`` has them fixed: 8x8 = 64 inputs, 10 digits).
"""

from .task import Net


def build(in_features: int, num_classes: int) -> Net:
    """The app's CNN; the task's sizes must be the ones it is built for."""
    if (in_features, num_classes) != (64, 10):
        raise ValueError(f"Net takes 64 inputs and predicts 10 classes, not {in_features} and {num_classes}")
    return Net()
