"""Single-machine simulation: a federation of agents on a development chain, driven round by round.

- :mod:`fedchain.sim.config`: the validated configuration (TOML), whose defaults are `fedchain demo`;
- :mod:`fedchain.sim.federation`: :class:`Federation`, the one way to deploy, fund and step a federation;
- :mod:`fedchain.sim.engines`: where the hospitals' training runs (in this process, or as Ray tasks);
- :mod:`fedchain.sim.run`: :func:`run_simulation`, which runs a configured federation and collects what
  the chain says happened in every round into a :class:`SimulationResult`.

Names are loaded on first use, so that a Ray worker that runs a hospital's training
(:func:`fedchain.sim.engines.fit_in_worker`) loads neither web3 nor the chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedchain.lazy import lazy_attributes

if TYPE_CHECKING:
    from fedchain.sim.config import SimulationConfig, demo_config, load_config, parse_config
    from fedchain.sim.errors import ConfigError, SimulationError
    from fedchain.sim.federation import Federation

_HOME: dict[str, str] = {
    "ConfigError": "fedchain.sim.errors",
    "Federation": "fedchain.sim.federation",
    "SimulationConfig": "fedchain.sim.config",
    "SimulationError": "fedchain.sim.errors",
    "demo_config": "fedchain.sim.config",
    "load_config": "fedchain.sim.config",
    "parse_config": "fedchain.sim.config",
}

__all__ = [
    "ConfigError",
    "Federation",
    "SimulationConfig",
    "SimulationError",
    "demo_config",
    "load_config",
    "parse_config",
]

__getattr__ = lazy_attributes(__name__, globals(), _HOME)
