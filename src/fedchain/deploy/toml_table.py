"""Typed, strict reading of one TOML table: every read names its dotted key in errors, and `finish()`
rejects keys nobody read (a typo is an error, never a silently ignored setting)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fedchain.deploy.errors import TaskConfigError


class Table:
    """One TOML table at dotted ``path``."""

    def __init__(self, raw: object, path: str) -> None:
        if not isinstance(raw, Mapping):
            raise TaskConfigError(f"{path or 'configuration'}: must be a table, got {kind_of(raw)}")
        self.raw: Mapping[str, Any] = raw
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted name of ``name`` in this table."""
        return f"{self.path}.{name}" if self.path else name

    def finish(self) -> None:
        """Raise on the first key that was not read."""
        unknown = sorted(set(self.raw) - self.seen)
        if unknown:
            raise TaskConfigError(f"{self.key(unknown[0])}: unknown setting (known here: "
                                  f"{', '.join(sorted(self.seen))})")

    def table(self, name: str) -> Table:
        """The sub-table ``name`` (empty if absent)."""
        self.seen.add(name)
        return Table(self.raw.get(name, {}), self.key(name))

    def get(self, name: str, default: Any) -> Any:
        """The raw value (``default`` if absent; a ``None`` default makes the key required)."""
        self.seen.add(name)
        if name in self.raw:
            return self.raw[name]
        if default is None:
            raise TaskConfigError(f"{self.key(name)}: required")
        return default

    def integer(self, name: str, default: int | None, *, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TaskConfigError(f"{self.key(name)}: must be an integer, got {kind_of(value)} {value!r}")
        if not low <= value <= high:
            raise TaskConfigError(f"{self.key(name)}: must lie in [{low}, {high}], got {value}")
        return value

    def optional_integer(self, name: str, *, low: int, high: int) -> int | None:
        """An integer in ``[low, high]``, or None if absent."""
        if name not in self.raw:
            self.seen.add(name)
            return None
        return self.integer(name, None, low=low, high=high)

    def number(self, name: str, default: float | None, *, low: float, high: float, low_open: bool = False) -> float:
        """A number in ``[low, high]`` (``(low, high]`` if ``low_open``)."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TaskConfigError(f"{self.key(name)}: must be a number, got {kind_of(value)} {value!r}")
        if value < low or value > high or (low_open and value == low):
            bracket = "(" if low_open else "["
            raise TaskConfigError(f"{self.key(name)}: must lie in {bracket}{low}, {high}], got {value}")
        return float(value)

    def tokens(self, name: str, default: Decimal | None) -> Decimal:
        """A positive amount of whole tokens (decimals allowed; a string keeps them exact)."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise TaskConfigError(f"{self.key(name)}: must be an amount of tokens, got {kind_of(value)} {value!r}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise TaskConfigError(f"{self.key(name)}: {value!r} is not an amount of tokens") from None
        if not amount.is_finite() or amount < 0:
            raise TaskConfigError(f"{self.key(name)}: must be a non-negative amount of tokens, got {value!r}")
        return amount

    def boolean(self, name: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise TaskConfigError(f"{self.key(name)}: must be true or false, got {kind_of(value)} {value!r}")
        return value

    def choice(self, name: str, default: str | None, options: tuple[str, ...]) -> str:
        """One of ``options``."""
        value = self.get(name, default)
        if value not in options:
            raise TaskConfigError(f"{self.key(name)}: must be one of {', '.join(map(repr, options))}, got {value!r}")
        return str(value)

    def integers(self, name: str, default: tuple[int, ...], *, low: int, high: int) -> tuple[int, ...]:
        """A non-empty list of integers in ``[low, high]``."""
        value = self.get(name, list(default))
        if not isinstance(value, list) or not value or not all(
                isinstance(item, int) and not isinstance(item, bool) and low <= item <= high for item in value):
            raise TaskConfigError(f"{self.key(name)}: must be a non-empty list of integers in [{low}, {high}], "
                                  f"got {value!r}")
        return tuple(value)

    def strings(self, name: str) -> tuple[str, ...]:
        """A list of strings (empty if absent)."""
        value = self.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise TaskConfigError(f"{self.key(name)}: must be a list of strings, got {value!r}")
        return tuple(value)


def kind_of(value: object) -> str:
    """A TOML-minded name of ``value``'s type."""
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
