"""Each mode's coordinator contract and client, and which kind of coordinator a deployed address is.

A task's mode is fixed at creation (``TaskParams.mode``) and each coordinator contract accepts tasks of its
own mode only (docs/protocol.md section 8.1): plain tasks live on a FedCoordinator, secure ones on a
SecureCoordinator. The contracts have no view of their mode, so :func:`coordinator_client` asks the one
view each kind alone has (its verifier's address, :meth:`CoordinatorClient.deployed_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fedchain.chain.connection import Chain
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, Mode
from fedchain.chain.secure_coordinator import SecureCoordinator

COORDINATORS: Final[Mapping[Mode, type[CoordinatorClient]]] = MappingProxyType(
    {Mode.PLAIN: Coordinator, Mode.SECURE: SecureCoordinator})
MODES: Final[Mapping[str, Mode]] = MappingProxyType({mode.label: mode for mode in Mode})
"""Each mode by the name configuration files and the command line give it ("plain", "secure")."""


def coordinator_client(chain: Chain, address: str) -> CoordinatorClient | None:
    """The client of the fedchain coordinator at ``address``, of the kind the chain says it is; None when the
    contract there is no fedchain coordinator."""
    for client in COORDINATORS.values():
        if client.deployed_at(chain, address):
            return client(chain, address)
    return None
