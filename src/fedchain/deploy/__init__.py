"""Real deployments: one process per role against a JSON-RPC chain, the logic behind the CLI's commands.

- :mod:`fedchain.deploy.deployment`: deploy the coordinator (and a dev token), the deployment file, the
  connection to a running node and its fee limits;
- :mod:`fedchain.deploy.amounts`: token amounts as typed (whole tokens) and as sent (base units);
- :mod:`fedchain.deploy.data`: a hospital's training data (a CSV file, or part of a built-in dataset), checked
  against the task (:mod:`fedchain.task`: the task file) and prepared as it declares;
- :mod:`fedchain.deploy.tasks`: `task create`;
- :mod:`fedchain.deploy.runner`: building an agent from command-line settings (a participant's client: the
  built-in trainer, ``--client`` or ``--app``) and running it until it is finished or a signal stops it;
- :mod:`fedchain.deploy.status`: a task's state for `fedchain status`;
- :mod:`fedchain.deploy.claim`: collecting what a task owes an account;
- :mod:`fedchain.deploy.export`: saving the anchored model for `fedchain verify-model`.

docs/deployment.md walks through a multi-process run.
"""

from fedchain.deploy.errors import DeployError

__all__ = ["DeployError"]
