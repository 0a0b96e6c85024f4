"""Chain errors, and the decoding of contract reverts into them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector

from fedchain.errors import FedchainError


class ChainError(FedchainError):
    """Talking to a chain failed."""


class InvalidMetricsError(ChainError, ValueError):
    """Metrics that a ModelEvaluated event cannot carry (empty, not finite numbers, or too long)."""


class ChainConnectionError(ChainError):
    """The chain's RPC endpoint could not be reached or answered nonsense."""


class AnvilNotFoundError(ChainError):
    """No anvil binary could be found to start a local node."""


class KeyLoadError(ChainError):
    """A private key or keystore could not be loaded. The message never contains the secret."""


class DevChainOnlyError(ChainError):
    """An operation that only a development chain allows (moving its clock, say) was asked of another."""


class ArtifactError(ChainError):
    """A shipped contract artifact is missing or unreadable."""


class TransactionFailedError(ChainError):
    """A transaction was mined but failed without a decodable reason (out of gas, say)."""


class ContractRevertError(ChainError):
    """A contract call or transaction reverted; `error` names the Solidity error and its arguments."""

    def __init__(self, action: str, error: DecodedError) -> None:
        super().__init__(f"{action} reverted: {error}")
        self.action = action
        self.error = error


@dataclass(frozen=True)
class DecodedError:
    """A revert decoded against the known ABIs: `Error(string)`, `Panic(uint256)` or a custom error."""

    name: str
    args: tuple[Any, ...]
    arg_names: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.arg_names and len(self.arg_names) == len(self.args):
            inner = ", ".join(f"{n}={_show(v)}" for n, v in zip(self.arg_names, self.args, strict=True))
        else:
            inner = ", ".join(_show(v) for v in self.args)
        return f"{self.name}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)


_PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialized function",
}


class ErrorDecoder:
    """Decodes revert data using the custom errors declared in a set of ABIs."""

    def __init__(self, abis: list[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str], tuple[str, ...]]] = {}
        for abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = [_abi_type(item) for item in entry["inputs"]]
                names = tuple(item["name"] for item in entry["inputs"])
                selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
                self._errors[selector] = (entry["name"], types, names)

    def decode(self, data: bytes) -> DecodedError:
        """Decode raw revert data; unknown data is reported by its selector, never dropped."""
        if len(data) < 4:
            return DecodedError("EmptyRevert", ())
        selector, payload = data[:4], data[4:]
        if selector == function_signature_to_4byte_selector("Error(string)"):
            return DecodedError("Error", (abi_decode(["string"], payload)[0],))
        if selector == function_signature_to_4byte_selector("Panic(uint256)"):
            code = abi_decode(["uint256"], payload)[0]
            return DecodedError("Panic", (code, _PANIC_REASONS.get(code, "unknown panic")))
        known = self._errors.get(selector)
        if known is None:
            return DecodedError("UnknownError", ("0x" + data.hex(),))
        name, types, names = known
        return DecodedError(name, tuple(abi_decode(types, payload)), names)


def _abi_type(item: dict[str, Any]) -> str:
    """The canonical ABI type of one input, tuples expanded."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(component) for component in item["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind
