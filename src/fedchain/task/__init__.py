"""The task: one schema for every setting (:mod:`fedchain.task.schema`), read from TOML
(:mod:`fedchain.task.read`) and turned into the chain's ``TaskParams`` (and ``ScoringParams``) and every client's
fit config (:mod:`fedchain.task.params`)."""

from fedchain.task.errors import TaskSpecError
from fedchain.task.params import audit_params, audit_step, data_spec, fit_config, scoring_params, task_params
from fedchain.task.read import load_task, read_task
from fedchain.task.schema import (
    AuditSettings,
    DataSettings,
    ModelSettings,
    OnChainRules,
    RuleSettings,
    ScoringSettings,
    TaskSpec,
    TrainingSettings,
)

__all__ = [
    "AuditSettings",
    "DataSettings",
    "ModelSettings",
    "OnChainRules",
    "RuleSettings",
    "ScoringSettings",
    "TaskSpec",
    "TaskSpecError",
    "TrainingSettings",
    "audit_params",
    "audit_step",
    "data_spec",
    "fit_config",
    "load_task",
    "read_task",
    "scoring_params",
    "task_params",
]
