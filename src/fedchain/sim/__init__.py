"""Single-machine simulation: a federation of agents on a development chain, driven round by round.

- :mod:`fedchain.sim.config`: the validated configuration (TOML), whose defaults are `fedchain demo`;
- :mod:`fedchain.sim.federation`: :class:`Federation`, the one way to deploy, fund and step a federation;
- :mod:`fedchain.sim.run`: :func:`run_simulation`, which runs a configured federation and collects what
  the chain says happened in every round into a :class:`SimulationResult`.
"""

from fedchain.sim.config import SimulationConfig, demo_config, load_config, parse_config
from fedchain.sim.errors import ConfigError, SimulationError
from fedchain.sim.federation import Federation

__all__ = [
    "ConfigError",
    "Federation",
    "SimulationConfig",
    "SimulationError",
    "demo_config",
    "load_config",
    "parse_config",
]
