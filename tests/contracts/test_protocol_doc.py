"""docs/protocol.md is checked, not trusted: its enum listings against the Solidity source, and its TaskParams
table (section 8.1) against the shipped ABI, so an auditor reading it reads what the contracts do."""

from __future__ import annotations

import re
from pathlib import Path

from fedchain.chain.artifacts import load_artifact

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
SOLIDITY_SOURCES = ROOT / "contracts" / "src"
ENUM_LISTING = re.compile(r"`([A-Z][A-Za-z]+)`: ((?:`[A-Za-z]+` \d+(?:, )?)+)")
ENUM_MEMBER = re.compile(r"`([A-Za-z]+)` (\d+)")
SOLIDITY_ENUM = re.compile(r"^enum (\w+) \{(.*?)\}", re.MULTILINE | re.DOTALL)
TABLE_ROW = re.compile(r"^\| ([A-Za-z, ]+) \| (u?int\d+|address|bool|bytes32) \|", re.MULTILINE)


def solidity_enums() -> dict[str, list[str]]:
    """Every enum declared in contracts/src, by name: its members in declaration order."""
    enums: dict[str, list[str]] = {}
    for source in sorted(SOLIDITY_SOURCES.rglob("*.sol")):
        for name, body in SOLIDITY_ENUM.findall(source.read_text()):
            without_comments = re.sub(r"//[^\n]*", "", body)
            enums[name] = [member.strip() for member in without_comments.split(",") if member.strip()]
    return enums


def documented_enums(text: str) -> list[tuple[str, list[tuple[str, int]]]]:
    """Every "`Enum`: `Member` value, ..." listing of the document, in order."""
    flat = re.sub(r"\s+", " ", text)
    return [(name, [(member, int(value)) for member, value in ENUM_MEMBER.findall(listing)])
            for name, listing in ENUM_LISTING.findall(flat)]


def section(text: str, heading: str) -> str:
    """The text of the section that starts at ``heading``, up to the next heading."""
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start:] if end < 0 else text[start:end]


def test_every_enum_is_listed_with_the_values_of_its_solidity_declaration() -> None:
    declared = solidity_enums()
    listings = documented_enums(PROTOCOL.read_text())
    assert declared and listings
    for name, members in listings:
        assert name in declared, f"protocol.md lists an enum {name} that no contract declares"
        assert members == [(member, value) for value, member in enumerate(declared[name])], (
            f"protocol.md's listing of {name} differs from its declaration {declared[name]}")
    listed = {name for name, _ in listings}
    fed_types = {name for name, _ in SOLIDITY_ENUM.findall((SOLIDITY_SOURCES / "FedTypes.sol").read_text())}
    assert fed_types <= listed, f"enums of FedTypes.sol without their values in protocol.md: {fed_types - listed}"


def test_the_task_params_table_is_the_abi_struct_in_order() -> None:
    table = section(PROTOCOL.read_text(), "### 8.1 Task parameters")
    documented = [(name.strip(), kind) for names, kind in TABLE_ROW.findall(table) for name in names.split(",")]
    (create_task,) = [item for item in load_artifact("IFedCoordinator").abi
                      if item["type"] == "function" and item["name"] == "createTask"]
    params = create_task["inputs"][0]
    assert params["internalType"] == "struct TaskParams"
    assert documented == [(field["name"], field["type"]) for field in params["components"]]


def test_a_changed_declaration_or_table_would_be_caught() -> None:
    """The checks read what they claim to: a listing with one value off, or a table row out of order, fails."""
    text = PROTOCOL.read_text()
    wrong = text.replace("`Availability` 13", "`Availability` 14", 1)
    declared = solidity_enums()
    assert any(members != [(member, value) for value, member in enumerate(declared[name])]
               for name, members in documented_enums(wrong))
    table = section(text, "### 8.1 Task parameters")
    rows = TABLE_ROW.findall(table)
    assert rows[0][0] == "commitWindow, revealWindow" and rows[-1] == ("modelSpecHash", "bytes32")
