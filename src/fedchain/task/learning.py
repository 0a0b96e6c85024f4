"""A task's model and local training in the learning layer's types (loads torch: used only where a model is
built or trained)."""

from __future__ import annotations

from fedchain.learn import LearnError, ModelSpec, Preprocessing, TrainConfig
from fedchain.task.errors import TaskSpecError
from fedchain.task.schema import DataSettings, TaskSpec


def model_spec(spec: TaskSpec, *, in_features: int | None = None, source: str = "the data") -> ModelSpec:
    """The task's model for inputs of width ``in_features`` (the data's, where known): the task's own width
    (``model.in_features`` or the declared ``data.features``) must agree with it."""
    declared = spec.inputs
    if declared is not None and in_features is not None and declared != in_features:
        key = "model.in_features" if spec.model.in_features is not None else "data.features"
        raise TaskSpecError(f"{key}: the model takes {declared} inputs, but {source} has {in_features} feature "
                            "columns")
    width = declared if declared is not None else in_features
    if width is None:
        raise TaskSpecError("model.in_features: required, unless data.features lists the feature columns")
    return ModelSpec(spec.model.name, in_features=width, num_classes=spec.model.num_classes,
                     options=spec.model.builder_options())


def train_config(spec: TaskSpec, *, device: str = "cpu", num_threads: int | None = 1) -> TrainConfig:
    """The built-in trainer's settings: the task's training settings and seed, this machine's device."""
    training = spec.training
    try:
        return TrainConfig(local_epochs=training.local_epochs, batch_size=training.batch_size,
                           learning_rate=training.learning_rate, optimizer=training.optimizer,
                           momentum=training.momentum, seed=spec.seed, num_threads=num_threads, device=device)
    except LearnError as error:
        raise TaskSpecError(f"training: {error}") from None


def preprocessing_of(data: DataSettings) -> Preprocessing:
    """The task's ``[data]`` settings as the learning layer's :class:`Preprocessing`."""
    return Preprocessing(features=data.features, normalization=data.normalization, mean=data.mean, scale=data.scale,
                         missing=data.missing)
