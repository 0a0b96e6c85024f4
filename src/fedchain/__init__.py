"""fedchain: federated learning coordinated by an EVM smart contract."""

__version__ = "0.1.0"
