"""docs/tasks.md's reference is what the schema renders: every setting documented with its default."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from fedchain.task.reference import reference
from fedchain.task.schema import SECTIONS, TaskSpec

TASKS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "tasks.md"


def test_the_page_holds_the_reference_the_schema_renders() -> None:
    text = TASKS_PAGE.read_text()
    documented = text.split("<!-- reference:start -->\n", 1)[1].split("<!-- reference:end -->", 1)[0]
    assert documented == reference(), "docs/tasks.md is stale: paste in fedchain.task.reference.reference()"


def test_every_setting_has_a_row() -> None:
    rendered = reference()
    for section in SECTIONS:
        for spec in fields(section):  # type: ignore[arg-type]
            assert f"| `{section.TABLE}.{spec.name}` |" in rendered
    for name in ("rounds", "seed", "mode", "config"):
        assert f"| `{name}` |" in rendered
    assert {spec.name for spec in fields(TaskSpec)} == {"rounds", "seed", "mode", "config",
                                                          *(section.TABLE for section in SECTIONS)}
