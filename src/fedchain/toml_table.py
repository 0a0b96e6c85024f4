"""Typed, strict reading of TOML tables, shared by every configuration file fedchain reads (the simulator's
and the deployment's task file).

Every read names its dotted key in errors, raised as the ``error`` class the reader chose, and
:meth:`Table.finish` rejects keys nobody read: a typo is an error, never a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
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

    def choice(self, name: str, default: T | None, options: tuple[T, ...]) -> T:
        """One of ``options`` (a boolean never passes for the integer 0 or 1)."""
        value = self.get(name, default)
        if isinstance(value, bool) or value not in options:
            raise self.fail(name, f"must be one of {', '.join(map(repr, options))}, got {value!r}")
        return options[options.index(value)]


def kind_of(value: object) -> str:
    """A TOML-minded name of ``value``'s type."""
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            tuple: "a list", dict: "a table"}.get(type(value), type(value).__name__)
