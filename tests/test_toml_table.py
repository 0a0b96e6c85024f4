"""The strict TOML table reader both configuration files use: each bad value is an error of the reader's
class that names the dotted key, and nothing unread passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedchain.toml_table import Table, read_toml


class SettingError(ValueError):
    """The error class a reader chose."""


def table(raw: Any) -> Table:
    return Table(raw, "", SettingError).table("section")


def test_values_are_read_typed_and_every_key_must_be_read() -> None:
    section = table({"section": {"n": 3, "pick": "b", "raw": [1, "x"], "rows": [{"a": 1}]}})
    assert section.integer("n", None, low=0, high=3) == 3
    assert section.choice("pick", None, ("a", "b")) == "b"
    assert section.get("raw", None) == [1, "x"]
    assert section.get("absent", 7) == 7
    (row,) = section.table_list("rows")
    assert row.integer("a", None, low=0, high=1) == 1 and row.key("a") == "section.rows[0].a"
    section.finish()


@pytest.mark.parametrize(("raw", "read", "message"), [
    ({"n": 4}, lambda t: t.integer("n", None, low=0, high=3), "section.n: must lie in [0, 3], got 4"),
    ({"n": True}, lambda t: t.integer("n", None, low=0, high=3), "section.n: must be an integer, got a boolean"),
    ({}, lambda t: t.integer("n", None, low=0, high=3), "section.n: required"),
    ({"w": True}, lambda t: t.choice("w", None, (0, 1)), "section.w: must be one of 0, 1, got True"),
    ({"t": 3}, lambda t: t.table_list("t"), "section.t: must be a list of tables ([[section.t]])"),
    ({"t": [1]}, lambda t: t.table_list("t"), "section.t[0]: must be a table, got an integer"),
])
def test_a_bad_value_names_its_key(raw: dict[str, Any], read: Any, message: str) -> None:
    with pytest.raises(SettingError) as error:
        read(table({"section": raw}))
    assert str(error.value).startswith(message)


def test_an_unread_key_is_an_error_listing_the_known_ones() -> None:
    section = table({"section": {"rounds": 1, "rouns": 2}})
    section.integer("rounds", None, low=0, high=9)
    with pytest.raises(SettingError, match=r"^section\.rouns: unknown setting \(known here: rounds\)$"):
        section.finish()


def test_a_top_level_that_is_no_table_is_an_error() -> None:
    with pytest.raises(SettingError, match=r"^configuration: must be a table, got a list$"):
        Table([], "", SettingError)


def test_a_file_is_read_or_its_problem_named(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text('rounds = 3\n[data]\nalpha = 0.5\n')
    assert read_toml(tmp_path / "good.toml", SettingError, "settings file") == {"rounds": 3, "data": {"alpha": 0.5}}
    with pytest.raises(SettingError, match=r"missing\.toml: no such settings file$"):
        read_toml(tmp_path / "missing.toml", SettingError, "settings file")
    (tmp_path / "broken.toml").write_text("rounds = \n")
    with pytest.raises(SettingError, match=r"broken\.toml: not valid TOML: "):
        read_toml(tmp_path / "broken.toml", SettingError, "settings file")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(SettingError, match=r"binary\.toml: cannot read it: "):
        read_toml(tmp_path / "binary.toml", SettingError, "settings file")
