"""The reference of every task setting, rendered from the schema (docs/tasks.md holds it; a test checks that
the page is what this renders, so the documentation cannot drift from the code)."""

from __future__ import annotations

import typing
from dataclasses import MISSING, Field, fields
from decimal import Decimal
from typing import Any, Literal

from fedchain.task.schema import SECTIONS, Section, Setting, TaskSpec


def _default(spec: Field[Any]) -> str:
    if spec.default is not MISSING:
        value = spec.default
    elif spec.default_factory is not MISSING:
        value = spec.default_factory()
    else:
        return "required"
    if value is None:
        return "derived"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{}"
    return str(value)


def _range(described: Setting) -> str:
    parts = []
    if described.low is not None:
        parts.append(f"{'>' if described.low_open else '≥'} {_number(described.low)}")
    if described.high is not None:
        parts.append(f"{'<' if described.high_open else '≤'} {_number(described.high)}")
    unit = f" {described.unit}" if described.unit else ""
    return (", ".join(parts) + unit).strip()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _choices(hint: Any) -> str:
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(f'"{arg}"' for arg in args)
    return ""


def _rows(section: type[Section], prefix: str) -> list[str]:
    hints = typing.get_type_hints(section)
    rows = []
    for spec in fields(section):  # type: ignore[arg-type]
        described = spec.metadata.get("setting")
        if described is None:
            continue
        allowed = _choices(hints[spec.name]) or _range(described)
        rows.append(f"| `{prefix}{spec.name}` | {_default(spec)} | {allowed} | {described.doc} |")
    return rows


def _summary(section: type[Section]) -> str:
    paragraph = (section.__doc__ or "").split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).replace("``", "`")


def reference() -> str:
    """Markdown tables of every setting: its key, default, range and meaning, one table per TOML table."""
    lines = ["| key | default | range | meaning |", "|---|---|---|---|", *_rows(TaskSpec, "")]
    for section in SECTIONS:
        lines += ["", f"`[{section.TABLE}]`: {_summary(section)}", "",
                  "| key | default | range | meaning |", "|---|---|---|---|", *_rows(section, f"{section.TABLE}.")]
    return "\n".join(lines) + "\n"
