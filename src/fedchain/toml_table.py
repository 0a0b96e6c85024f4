"""Typed, strict reading of TOML tables, shared by every configuration file fedchain reads (the simulator's
and the deployment's task file).

Every read names its dotted key in errors, raised as the ``error`` class the reader chose, and
:meth:`Table.finish` rejects keys nobody read: a typo is an error, never a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def read_toml(path: Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The parsed TOML file at ``path``, which the messages of ``error`` call ``what`` ("configuration file")."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot read it: {problem}") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML: {problem}") from None


class Table:
    """One TOML table at dotted ``where`` (empty at the top); errors are raised as ``error``."""

    def __init__(self, raw: object, where: str, error: type[Exception]) -> None:
        if not isinstance(raw, Mapping):
            raise error(f"{where or 'configuration'}: must be a table, got {kind_of(raw)}")
        self.raw: Mapping[str, Any] = raw
        self.where = where
        self.error = error
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted name of ``name`` in this table."""
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, problem: str) -> Exception:
        """The error saying that setting ``name`` has ``problem`` (for the caller to raise)."""
        return self.error(f"{self.key(name)}: {problem}")

    def finish(self) -> None:
        """Raise on the first key that was not read."""
        unknown = sorted(set(self.raw) - self.seen)
        if unknown:
            raise self.fail(unknown[0], f"unknown setting (known here: {', '.join(sorted(self.seen))})")

    def get(self, name: str, default: Any) -> Any:
        """The raw value (``default`` if absent; a ``None`` default makes the key required)."""
        self.seen.add(name)
        if name in self.raw:
            return self.raw[name]
        if default is None:
            raise self.fail(name, "required")
        return default

    def table(self, name: str) -> Table:
        """The sub-table ``name`` (empty if absent)."""
        self.seen.add(name)
        return Table(self.raw.get(name, {}), self.key(name), self.error)

    def table_list(self, name: str) -> list[Table]:
        """The array of tables ``[[name]]`` (empty if absent)."""
        value = self.get(name, [])
        if not isinstance(value, list):
            raise self.fail(name, f"must be a list of tables ([[{self.key(name)}]]), got {kind_of(value)}")
        return [Table(item, f"{self.key(name)}[{position}]", self.error) for position, item in enumerate(value)]

    def integer(self, name: str, default: int | None, *, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be an integer, got {kind_of(value)} {value!r}")
        if not low <= value <= high:
            raise self.fail(name, f"must lie in [{low}, {high}], got {value}")
        return value

    def optional_integer(self, name: str, *, low: int, high: int) -> int | None:
        """An integer in ``[low, high]``, or None if absent (the caller derives it)."""
        if name not in self.raw:
            self.seen.add(name)
            return None
        return self.integer(name, None, low=low, high=high)

    def integers(self, name: str, default: tuple[int, ...], *, low: int, high: int) -> tuple[int, ...]:
        """A non-empty list of integers in ``[low, high]``."""
        value = self.get(name, list(default))
        if not isinstance(value, list) or not value:
            raise self.fail(name, f"must be a non-empty list of integers, got {kind_of(value)} {value!r}")
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
                raise self.fail(name, f"every entry must be an integer in [{low}, {high}], got {item!r}")
        return tuple(value)

    def number(self, name: str, default: float | None, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
        """A number (integer or float) within the bounds given, each closed unless said open."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"must be a number, got {kind_of(value)} {value!r}")
        if low is not None and (value < low or (low_open and value == low)):
            raise self.fail(name, f"must be {'>' if low_open else '>='} {low}, got {value}")
        if high is not None and (value > high or (high_open and value == high)):
            raise self.fail(name, f"must be {'<' if high_open else '<='} {high}, got {value}")
        return float(value)

    def tokens(self, name: str, default: Decimal | None, *, positive: bool = False, decimals: int | None = None,
               most: Decimal | None = None) -> Decimal:
        """An amount of whole tokens, exact (a string such as "0.5" keeps every decimal): at least zero, or
        above it if ``positive``; with at most ``decimals`` decimals and at most ``most`` tokens where given."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise self.fail(name, f"must be an amount of tokens, got {kind_of(value)} {value!r}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(name, f"{value!r} is not an amount of tokens") from None
        if not amount.is_finite() or amount < 0 or (positive and amount == 0):
            raise self.fail(name, f"must be a {'positive' if positive else 'non-negative'} amount of tokens, "
                                  f"got {value!r}")
        if decimals is not None and amount != amount.quantize(Decimal(1).scaleb(-decimals)):
            raise self.fail(name, f"at most {decimals} decimals, got {value!r}")
        if most is not None and amount > most:
            raise self.fail(name, f"at most {most} tokens, got {value!r}")
        return amount

    def boolean(self, name: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, got {kind_of(value)} {value!r}")
        return value

    def choice(self, name: str, default: T | None, options: tuple[T, ...]) -> T:
        """One of ``options`` (a boolean never passes for the integer 0 or 1)."""
        value = self.get(name, default)
        if isinstance(value, bool) or value not in options:
            raise self.fail(name, f"must be one of {', '.join(map(repr, options))}, got {value!r}")
        return options[options.index(value)]

    def string(self, name: str, default: str) -> str:
        """A non-empty string."""
        value = self.get(name, default)
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"must be a non-empty string, got {kind_of(value)} {value!r}")
        return value

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings (``default`` if absent)."""
        value = self.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(name, f"must be a list of strings, got {value!r}")
        return tuple(value)

    def numbers(self, name: str, default: tuple[float, ...] = ()) -> tuple[float, ...]:
        """A list of numbers (``default`` if absent)."""
        value = self.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, int | float) and not isinstance(item, bool)
                                                  for item in value):
            raise self.fail(name, f"must be a list of numbers, got {kind_of(value)} {value!r}")
        return tuple(float(item) for item in value)

    def scalars(self, name: str) -> dict[str, bool | int | float | str]:
        """A table of scalar values (booleans, integers, numbers, strings), empty if absent."""
        value = self.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(name, f"must be a table, got {kind_of(value)} {value!r}")
        for key, item in value.items():
            if not isinstance(item, bool | int | float | str):
                raise self.error(f"{self.key(name)}.{key}: must be a boolean, number or string, got {kind_of(item)}")
        return dict(value)

    def path(self, name: str, default: Path, base: Path) -> Path:
        """A file-system path; one given in the file is relative to ``base`` (the file's folder)."""
        value = self.get(name, str(default))
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"must be a path string, got {kind_of(value)} {value!r}")
        return base / value if name in self.raw else Path(value)

    def paths(self, name: str, base: Path) -> tuple[Path, ...]:
        """A list of paths relative to ``base`` (empty if absent)."""
        value = self.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.fail(name, f"must be a list of path strings, got {value!r}")
        return tuple(base / item for item in value)


def kind_of(value: object) -> str:
    """A TOML-minded name of ``value``'s type."""
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
