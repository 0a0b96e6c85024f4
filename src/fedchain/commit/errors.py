"""Errors raised by the protocol core's commitment code (quantization, packing, Merkle trees)."""

from fedchain.errors import FedchainError


class CommitError(FedchainError, ValueError):
    """Input to the commitment code breaks a rule of docs/protocol.md."""


class QuantizationError(CommitError):
    """A quantization parameter or a value to quantize is invalid (§1)."""


class LayoutError(CommitError):
    """A leaf layout, a vector's length or values, or a leaf index does not fit the layout (§2)."""


class EncodingError(CommitError):
    """A byte string, hex string, address or integer has the wrong size or range for its ABI type."""
