"""A task from TOML: the task file of a deployment and the task part of a simulation file.

The keys and their defaults are those of :mod:`fedchain.task.schema`; a key nobody reads is an error, and every
problem is raised as the error class of the caller's :class:`~fedchain.toml_table.Table`, naming the dotted key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from fedchain.task.errors import TaskSpecError
from fedchain.task.schema import SECTIONS, ModelSettings, Section, TaskSpec
from fedchain.toml_table import Table, read_toml

S = TypeVar("S", bound=Section)
TOP_LEVEL = ("rounds", "seed", "mode")


def read_task(top: Table) -> TaskSpec:
    """The task a TOML document describes: ``rounds``, ``seed``, ``mode``, ``[config]`` and the task's tables.

    The caller reads its own top-level keys, if any, and then calls ``top.finish()``.
    """
    sections: dict[str, Any] = {section.TABLE: read_section(section, top.table(section.TABLE))
                                for section in SECTIONS if not section.OPTIONAL or section.TABLE in top.raw}
    values = {name: top.raw[name] for name in TOP_LEVEL if name in top.raw}
    top.seen.update(TOP_LEVEL)
    config = top.get("config", {})  # its values are checked with the rest of the task
    try:
        return TaskSpec(**values, config=config, **sections)
    except TaskSpecError as error:
        raise top.error(str(error)) from None


def read_section(section: type[S], table: Table) -> S:
    """One table of the task, every key of it read (an unknown key is an error)."""
    values = {spec.name: table.raw[spec.name] for spec in fields(section) if spec.name in table.raw}  # type: ignore[arg-type]
    table.seen.update(spec.name for spec in fields(section))  # type: ignore[arg-type]
    table.finish()
    if section is ModelSettings and "hidden" in values and values.get("name", "mlp") != "mlp":
        raise table.fail("hidden", "only the mlp has hidden layers")
    try:
        return section(**values)
    except TaskSpecError as error:
        raise table.error(str(error)) from None
    except TypeError as error:  # a table given where a value belongs, or the reverse
        raise table.error(f"{table.where}: {error}") from None


def load_task(path: Path) -> TaskSpec:
    """The task file at ``path``; a problem is a :class:`TaskSpecError` naming the file and the key."""
    raw = read_toml(path, TaskSpecError, "task file")
    try:
        return parse_task(raw)
    except TaskSpecError as error:
        raise TaskSpecError(f"{path}: {error}") from None


def parse_task(raw: Mapping[str, Any]) -> TaskSpec:
    """The task parsed TOML (or an equal dict) describes; a problem is a :class:`TaskSpecError` naming the key."""
    top = Table(raw, "", TaskSpecError)
    spec = read_task(top)
    top.finish()
    return spec
