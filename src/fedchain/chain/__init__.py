"""Chain access: connect, deploy the shipped contracts, send transactions, move dev-chain time."""

from fedchain.chain.connection import ANVIL, EMBEDDED, RPC, Chain, FeeCaps, GasRecord, connect, dev_keys, shown_url
from fedchain.chain.errors import (
    AnvilNotFoundError,
    ArtifactError,
    ChainConnectionError,
    ChainError,
    ContractRevertError,
    DecodedError,
    DevChainOnlyError,
    InvalidMetricsError,
    KeyLoadError,
    TransactionFailedError,
)

__all__ = [
    "ANVIL",
    "EMBEDDED",
    "RPC",
    "AnvilNotFoundError",
    "ArtifactError",
    "Chain",
    "ChainConnectionError",
    "ChainError",
    "ContractRevertError",
    "DecodedError",
    "DevChainOnlyError",
    "FeeCaps",
    "GasRecord",
    "InvalidMetricsError",
    "KeyLoadError",
    "TransactionFailedError",
    "connect",
    "dev_keys",
    "shown_url",
]
