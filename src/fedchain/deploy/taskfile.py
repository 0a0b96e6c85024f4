"""A task file checked against the task on chain, before anything is staked or saved: its ``[data]`` must be the
preprocessing the task's model blob carries, which the model-spec hash pins (docs/protocol.md section 6). Loads no
torch, so an agent that needs no model (an aggregator, a watcher) never does."""

from __future__ import annotations

from fedchain.deploy.errors import DeployError
from fedchain.storage import DataSpec
from fedchain.task import TaskSpec, data_spec


def check_task_data(pinned: DataSpec | None, task: TaskSpec, task_id: int) -> None:
    """The task file's ``[data]`` must be the preprocessing task ``task_id``'s model blob carries (``pinned``, which
    the chain pins through the model-spec hash): else a :class:`DeployError` naming the settings that differ. A
    task whose blob carries none (created through the Python API, which leaves data to the clients) pins nothing
    to check."""
    if pinned is None:
        return
    declared = data_spec(task.data)
    if declared == pinned:
        return
    if declared is None:
        raise DeployError(f"the task file's [data] fixes no statistics (data.mean, data.scale), but task {task_id}'s "
                          "model pins the preprocessing it was created with on chain; use the task's own file")
    names = [f"data.{name}" for name in ("features", "normalization", "mean", "scale", "missing")
             if getattr(declared, name) != getattr(pinned, name)]
    raise DeployError(f"the task file's [data] is not task {task_id}'s: {', '.join(names)} "
                      f"{'differs' if len(names) == 1 else 'differ'} from the preprocessing its model pins on chain "
                      "(the task's [data] when it was created); use the task's own file")
