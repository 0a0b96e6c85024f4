"""docs/protocol.md is checked, not trusted: its enum listings against the Solidity source; its TaskParams table
(section 8.1), its function, event and error listings (events and errors with their types), its struct listings,
the results it gives views and its rule for indexed event parameters against the shipped ABI artifacts; every
contract call, event, error, struct and qualified name it writes against those artifacts and the Solidity source,
so nothing fictitious can stand in it; and its model-spec example against the Python serializer. An auditor
reading it reads what the contracts do."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from functools import cache
from pathlib import Path
from typing import Any

from fedchain.chain.artifacts import artifact_names, load_artifact
from fedchain.commit.keccak import keccak256
from fedchain.deploy.deployment import SCHEMA, Deployment
from fedchain.storage.blob import BlobHeader, DataSpec, as_tensor_shapes, model_spec_hash, model_spec_json
from fedchain.task import DataSettings, data_spec

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
SOLIDITY_SOURCES = ROOT / "contracts" / "src"
ENUM_LISTING = re.compile(r"`([A-Z][A-Za-z]+)`: ((?:`[A-Za-z]+` \d+(?:, )?)+)")
ENUM_MEMBER = re.compile(r"`([A-Za-z]+)` (\d+)")
SOLIDITY_ENUM = re.compile(r"^enum (\w+) \{(.*?)\}", re.MULTILINE | re.DOTALL)
TABLE_ROW = re.compile(r"^\| ([A-Za-z, ]+) \| (u?int\d+|address|bool|bytes32) \|", re.MULTILINE)

AbiItem = dict[str, Any]
INTERFACES = ("IFedCoordinator", "ISecureCoordinator")
"""The ABIs clients call a coordinator through (section 8): every function, event and error of a coordinator."""
STRUCT_ARTIFACTS = (*INTERFACES, "SecureLeafVerifier")
"""Artifacts whose structs the document lists (SecureLeafContext is the secure verifier's, section 10.10)."""
LISTED_KINDS = ("function", "event", "error")
TYPED_KINDS = frozenset({"event", "error"})
"""Kinds listed with every argument's type (and `indexed`): a third party decodes logs and reverts with them."""
TABLE_STRUCTS = frozenset({"TaskParams"})
"""Structs the document gives as a table (8.1, checked by its own test) instead of a `Name {fields}` listing."""
NOTATION = frozenset({
    "ceil", "clamp", "datasetLeaf", "dequantize", "entry", "f", "floor", "int32", "keccak", "log2", "max", "min",
    "poseidon", "revealEnd", "rewardPerWeight", "round", "selfMaskKey", "sha256", "shareKey", "trajectoryLeaf",
    "uint256", "uint32",
})
"""Names the document calls as notation (math, hashes, casts, its own derivations), never contract functions."""
FILE_SUFFIXES = frozenset({"json", "md", "py", "sol", "t", "toml"})

CALL_START = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")
STRUCT_START = re.compile(r"(?<![\w.])(?:struct )?([A-Z]\w*) ?\{")
QUALIFIED = re.compile(r"(?<![\w.])([A-Z]\w*)\.([A-Za-z_]\w*)")
RETURNS = re.compile(r"(?<![\w.])(\w+)\([^()]*\) → (\w+)")
MODEL_SPEC_EXAMPLE = re.compile(r"^ {4}(\{\"(?:data|kind)\":.*\})\n {4}modelSpecHash = 0x([0-9a-f]{64})$", re.MULTILINE)
OPENING = {"(": ")", "[": "]", "{": "}"}
CLOSING = frozenset(OPENING.values())


@dataclass(frozen=True)
class Call:
    """A ``name(arguments)`` the document writes in code, arguments split at their top-level commas."""

    name: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


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


# -- reading the document's code ------------------------------------------------------------------------------


def code_spans(text: str) -> list[str]:
    """Every inline code span of the document (a span may wrap lines), whitespace collapsed; indented code blocks
    are left out."""
    prose = "\n".join(line for line in text.splitlines() if not line.startswith("    "))
    return [re.sub(r"\s+", " ", span).strip() for span in re.findall(r"`([^`]+)`", prose)]


def code_blocks(text: str) -> list[str]:
    """Every indented code block of the document, ``//`` comments removed and whitespace collapsed."""
    blocks = re.findall(r"(?:^ {4}[^\n]*\n?)+", text, re.MULTILINE)
    return [re.sub(r"\s+", " ", re.sub(r"//[^\n]*", "", block)).strip() for block in blocks]


def enclosed(text: str, start: int) -> str | None:
    """The text from ``start`` up to the bracket that closes the one just before it, or None if none does."""
    closing = [OPENING[text[start - 1]]]
    for position in range(start, len(text)):
        char = text[position]
        if char in OPENING:
            closing.append(OPENING[char])
        elif char == closing[-1]:
            closing.pop()
            if not closing:
                return text[start:position]
    return None


def split_top_level(inner: str, separators: str = ",") -> tuple[str, ...]:
    """``inner`` split at the separators outside brackets; stripped, empty parts dropped."""
    parts, depth, current = [], 0, []
    for char in inner:
        if char in OPENING:
            depth += 1
        elif char in CLOSING:
            depth = max(depth - 1, 0)
        if char in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return tuple(part.strip() for part in parts if part.strip())


def calls(spans: Iterable[str]) -> Iterator[Call]:
    """Every unqualified ``name(...)`` in the spans, nested ones included."""
    for span in spans:
        for match in CALL_START.finditer(span):
            inner = enclosed(span, match.end())
            if inner is not None:
                yield Call(match.group(1), split_top_level(inner))


def struct_listings(text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every ``Name {field, ...}`` of an inline span and every ``struct Name { type field; ... }`` of a code block:
    the name and its fields, parenthesized remarks removed."""
    for piece in (*code_spans(text), *code_blocks(text)):
        for match in STRUCT_START.finditer(piece):
            body = enclosed(piece, match.end())
            if body is not None:
                fields = (re.sub(r"\s*\([^()]*\)", "", field) for field in split_top_level(body, ",;"))
                yield match.group(1), tuple(field.split(":")[0].strip() for field in fields)


# -- reading the ABI artifacts --------------------------------------------------------------------------------


@cache
def interface_items() -> tuple[tuple[str, AbiItem], ...]:
    """Every function, event and error of the coordinator interfaces, with the interface that has it."""
    return tuple((name, item) for name in INTERFACES for item in load_artifact(name).abi
                 if item["type"] in LISTED_KINDS)


def short_type(param: AbiItem) -> str:
    """A parameter's Solidity type name: ``TaskParams`` for ``struct TaskParams``, ``DisputeOutcome`` for an enum."""
    internal = str(param.get("internalType", param["type"]))
    return internal.rsplit(" ", maxsplit=1)[-1].rsplit(".", maxsplit=1)[-1]


def struct_name(param: AbiItem) -> str | None:
    """The struct a parameter holds (or holds an array of, dynamic or fixed), or None."""
    internal = str(param.get("internalType", ""))
    return re.sub(r"(\[\d*\])+$", "", short_type(param)) if internal.startswith("struct ") else None


def walk_params(params: Iterable[AbiItem]) -> Iterator[AbiItem]:
    """Every parameter, and every component of a struct parameter, at any depth."""
    for param in params:
        yield param
        yield from walk_params(param.get("components", ()))


@cache
def abi_structs() -> dict[str, tuple[AbiItem, ...]]:
    """Every struct the listed artifacts take or return, by name: its components in order."""
    structs: dict[str, tuple[AbiItem, ...]] = {}
    for artifact in STRUCT_ARTIFACTS:
        for item in load_artifact(artifact).abi:
            for param in walk_params([*item.get("inputs", ()), *item.get("outputs", ())]):
                name = struct_name(param)
                if name is not None:
                    structs[name] = tuple(param["components"])
    return structs


def signature(item: AbiItem) -> str:
    """``Name(type [indexed] name, ...)``, as the document must list an event or error."""
    return f"{item['name']}({', '.join(typed_argument(param) for param in item['inputs'])})"


def typed_argument(param: AbiItem) -> str:
    """``type name``, or ``type indexed name`` for an indexed event parameter."""
    return " ".join([param["type"], *(["indexed"] if param.get("indexed") else []), param["name"]])


@cache
def solidity_text() -> str:
    """Every Solidity source of contracts/src, concatenated."""
    return "\n".join(source.read_text() for source in sorted(SOLIDITY_SOURCES.rglob("*.sol")))


# -- the checks -----------------------------------------------------------------------------------------------


def argument_matches(documented: str, param: AbiItem, *, typed: bool) -> bool:
    """Whether a documented argument names ``param``: ``name``, ``type`` or ``type name`` (typed: only ``type
    [indexed] name``, with ``indexed`` exactly where the ABI has it)."""
    words = documented.split()
    types = {param["type"], short_type(param)}
    if not typed and len(words) == 1:
        return words[0] == param["name"] or words[0] in types
    indexed = ["indexed"] if param.get("indexed") else []
    return len(words) >= 2 and words[0] in types and words[1:] == [*indexed, param["name"]]


def lists(call: Call, item: AbiItem) -> bool:
    """Whether ``call`` is a listing of ``item``: its name and, in order, every argument."""
    typed = item["type"] in TYPED_KINDS
    if call.name != item["name"] or len(call.args) != len(item["inputs"]):
        return False
    return all(argument_matches(arg, param, typed=typed) for arg, param in zip(call.args, item["inputs"], strict=True))


def missing_listings(text: str) -> list[str]:
    """Every function, event and error of the interfaces that the document does not list with its arguments."""
    by_name: dict[str, list[Call]] = defaultdict(list)
    for call in calls(code_spans(text)):
        by_name[call.name].append(call)
    missing = {f"{item['type']} {signature(item)} ({interface})" for interface, item in interface_items()
               if not any(lists(call, item) for call in by_name[item["name"]])}
    return sorted(missing)


def unknown_calls(text: str) -> list[str]:
    """Every call of the document that is no coordinator function, event or error, or has none of their arities,
    unless it names a function of another shipped artifact or of the Solidity source, or is notation."""
    arities: dict[str, set[int]] = defaultdict(set)
    for _, item in interface_items():
        arities[item["name"]].add(len(item["inputs"]))
    elsewhere = {item["name"] for artifact in artifact_names() for item in load_artifact(artifact).abi
                 if item["type"] == "function"}
    declared = set(re.findall(r"\bfunction (\w+)\(", solidity_text()))
    problems = []
    for call in calls(code_spans(text)):
        if call.name in arities:
            if len(call.args) not in arities[call.name]:
                problems.append(f"`{call}`: {call.name} takes {sorted(arities[call.name])} arguments")
        elif call.name[0].isupper():
            problems.append(f"`{call}`: no function, event or error of {', '.join(INTERFACES)}")
        elif call.name not in elsewhere | declared | NOTATION:
            problems.append(f"`{call}`: no contract function, and not notation")
    return problems


def struct_problems(text: str) -> list[str]:
    """Every struct listing that is no ABI struct or differs from it (names, and types where given, in order),
    and every ABI struct of the interfaces that the document does not list."""
    structs = abi_structs()
    problems, listed = [], set()
    for name, fields in struct_listings(text):
        if name not in structs:
            problems.append(f"{name} {{{', '.join(fields)}}}: no struct of {', '.join(STRUCT_ARTIFACTS)}")
            continue
        listed.add(name)
        components = structs[name]
        if len(fields) != len(components) or not all(
                argument_matches(field, param, typed=False) for field, param in zip(fields, components, strict=True)):
            expected = ", ".join(f"{short_type(param)} {param['name']}" for param in components)
            problems.append(f"{name} {{{', '.join(fields)}}} differs from the ABI's {{{expected}}}")
    interface_structs = {struct_name(param) for _, item in interface_items()
                         for param in walk_params([*item["inputs"], *item.get("outputs", ())])} - {None}
    problems.extend(f"struct {name} is not listed" for name in sorted(interface_structs - listed - TABLE_STRUCTS))
    return problems


def qualified_problems(text: str) -> list[str]:
    """Every ``Name.member`` of the document's code whose member does not exist: an enum member, a struct field,
    or a function or constant declared in ``Name.sol``. File names (``ICoordinator.sol``) are skipped."""
    enums, structs = solidity_enums(), abi_structs()
    problems = []
    for span in code_spans(text):
        for owner, member in QUALIFIED.findall(span):
            if member in FILE_SUFFIXES:
                continue
            if owner in enums:
                known = member in enums[owner]
            elif owner in structs:
                known = member in {param["name"] for param in structs[owner]}
            else:
                sources = list(SOLIDITY_SOURCES.rglob(f"{owner}.sol"))
                known = any(re.search(rf"\b(?:function|constant) {member}\b", source.read_text())
                            for source in sources)
            if not known:
                problems.append(f"`{owner}.{member}`")
    return problems


def documented_returns(text: str) -> list[tuple[str, str]]:
    """Every ``name(...) → Result`` the document writes: the function's name and the first word of its result."""
    return [(name, result) for span in code_spans(text) for name, result in RETURNS.findall(span)]


def return_problems(text: str) -> list[str]:
    """Every documented result of a coordinator function that is neither the type nor the name of its output."""
    outputs: dict[str, set[str]] = defaultdict(set)
    for _, item in interface_items():
        for param in item.get("outputs", ()):
            outputs[item["name"]] |= {short_type(param), param["name"]} - {""}
    return [f"`{name}(...) → {result}`: the ABI returns {sorted(outputs[name])}"
            for name, result in documented_returns(text) if name in outputs and result not in outputs[name]]


def indexed_as_stated(event: AbiItem) -> bool:
    """Section 8.7's rule: an event's indexed parameters are its leading ids and addresses, at most three."""
    leading = []
    for param in event["inputs"]:
        if param["name"] not in ("taskId", "round") and param["type"] != "address":
            break
        leading.append(param["name"])
    return [param["name"] for param in event["inputs"] if param["indexed"]] == leading[:3]

# -- tests ----------------------------------------------------------------------------------------------------


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


def test_every_function_event_and_error_of_the_interfaces_is_listed_with_its_arguments() -> None:
    """Functions by argument name (or type) in order; events and errors with every type, `indexed` included."""
    assert len(interface_items()) > 200
    assert missing_listings(PROTOCOL.read_text()) == []


def test_every_contract_call_the_document_names_exists_with_its_arity() -> None:
    assert unknown_calls(PROTOCOL.read_text()) == []


def test_every_struct_listing_is_the_abi_struct_in_order() -> None:
    assert {"Member", "Round", "RoundView", "SecureLeafContext"} <= abi_structs().keys()
    assert struct_problems(PROTOCOL.read_text()) == []


def test_every_qualified_solidity_name_exists() -> None:
    assert qualified_problems(PROTOCOL.read_text()) == []



def test_every_documented_result_is_the_abi_output() -> None:
    assert len(documented_returns(PROTOCOL.read_text())) >= 15
    assert return_problems(PROTOCOL.read_text()) == []


def test_events_index_what_section_8_7_says() -> None:
    events = [item for _, item in interface_items() if item["type"] == "event"]
    assert events and [item["name"] for item in events if not indexed_as_stated(item)] == []


def test_a_fictitious_renamed_or_missing_entry_would_be_caught() -> None:
    """Each check fails on a document with one entry broken: a view that does not exist, an event argument
    renamed or its `indexed` dropped, an error removed, a struct invented or reordered, a library function renamed."""
    text = PROTOCOL.read_text()
    revealed = "`Revealed(uint256 indexed taskId, uint256 indexed round, address indexed participant, "
    assert revealed in text
    assert unknown_calls(text + "\n`earningsOf(taskId, account)`\n")
    assert unknown_calls(text + "\n`claimRewards(taskId, round)`\n")
    assert any("Revealed" in entry for entry in missing_listings(text.replace(revealed, revealed.replace(
        "address indexed participant", "address indexed member"))))
    assert any("Revealed" in entry for entry in missing_listings(text.replace(revealed, revealed.replace(
        "address indexed participant", "address participant"))))
    assert any("NotSilent" in entry for entry in missing_listings(text.replace("`NotSilent(address member)`", "")))
    assert struct_problems(text + "\n`Earnings {amount, claimedAt}`\n")
    assert struct_problems(text.replace("`Dispute {deadline, index,", "`Dispute {index, deadline,"))
    assert qualified_problems(text.replace("`BN254.isOnCurve`", "`BN254.onCurve`"))
    assert return_problems(text.replace("`isApproved(taskId, account) → bool`", "`isApproved(taskId, account) → X`"))
    revealed_event = next(item for _, item in interface_items() if item["name"] == "Revealed")
    assert not indexed_as_stated({**revealed_event, "inputs": [{**param, "indexed": False}
                                                               for param in revealed_event["inputs"]]})



def test_the_model_spec_examples_are_what_the_serializer_writes() -> None:
    """Section 6's examples, without and with a declared preprocessing, are model_spec_json of the headers they
    describe, and each hash is keccak of that JSON."""
    (plain, plain_digest), (declared, declared_digest) = MODEL_SPEC_EXAMPLE.findall(PROTOCOL.read_text())
    header = BlobHeader(kind="model", num_params=10, scale_bits=16, words_per_leaf=2, root=b"\x11" * 32,
                        shapes=as_tensor_shapes([("fc.weight", (2, 4)), ("fc.bias", (2,))]))
    data = DataSpec(features=("age", "bmi", "bp", "dose"), normalization="standardize",
                    mean=(52.5, 27.25, 120.0, 0.00005), scale=(12.0, 4.5, 15.5, 0.00002), missing="refuse")
    for described, example, digest in ((header, plain, plain_digest),
                                       (replace(header, data=data), declared, declared_digest)):
        assert model_spec_json(described) == example.encode()
        assert keccak256(example.encode()).hex() == digest == model_spec_hash(described).hex()
    assert data_spec(DataSettings(features=data.features, mean=data.mean, scale=data.scale)) == data, \
        "a task file's [data] gives the example's data"


def test_the_deployment_file_paragraph_names_every_key_it_has() -> None:
    """Section 8's `deployment.json` paragraph names the schema and every key `fedchain deploy` writes."""
    text = PROTOCOL.read_text()
    start = text.index("**`deployment.json`**")
    paragraph = text[start:text.index("\n\n", start)]
    keys = ["schema", *(field.name for field in dataclass_fields(Deployment))]
    assert f'`"{SCHEMA}"`' in paragraph
    assert [key for key in keys if f"`{key}`" not in paragraph] == []
