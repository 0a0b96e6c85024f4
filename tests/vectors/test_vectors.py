"""The committed vectors equal a fresh generation, and every vector agrees with the reference code."""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fedchain_vectors_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_vectors = _load("make_vectors")
reference = _load("reference")


def hex_bytes(text: str) -> bytes:
    assert text.startswith("0x") and text == text.lower()
    return bytes.fromhex(text[2:])


@pytest.fixture(scope="module")
def cases() -> Any:
    return make_vectors.build_cases()


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return dict(json.loads((HERE / "protocol.json").read_text(encoding="utf-8")))


def test_committed_file_matches_a_fresh_generation(cases: Any) -> None:
    fresh = make_vectors.render(make_vectors.compute_vectors(cases))
    assert (HERE / "protocol.json").read_text(encoding="utf-8") == fresh, (
        "tests/vectors/protocol.json is stale: run .venv/bin/python tests/vectors/make_vectors.py"
    )


def test_generation_is_deterministic() -> None:
    first = make_vectors.render(make_vectors.compute_vectors(make_vectors.build_cases()))
    second = make_vectors.render(make_vectors.compute_vectors(make_vectors.build_cases()))
    assert first == second


def test_file_is_small_and_numbers_fit_uint64(committed: dict[str, Any]) -> None:
    assert (HERE / "protocol.json").stat().st_size < 200_000

    def numbers(node: Any) -> list[int]:
        if isinstance(node, dict):
            return [n for value in node.values() for n in numbers(value)]
        if isinstance(node, list):
            return [n for value in node for n in numbers(value)]
        return [node] if isinstance(node, int) else []

    assert all(-(2**63) <= n < 2**64 for n in numbers(committed))


def test_lanes_match_reference(committed: dict[str, Any], cases: Any) -> None:
    assert [entry["lanes"] for entry in committed["lanes"]] == [list(lanes) for lanes in cases.lanes]
    for entry in committed["lanes"]:
        word = hex_bytes(entry["word"])
        assert word == reference.lanes_to_word(entry["lanes"])
        assert reference.word_to_lanes(word) == entry["lanes"]


def test_lanes_cover_int32_extremes(committed: dict[str, Any]) -> None:
    all_lanes = {lane for entry in committed["lanes"] for lane in entry["lanes"]}
    assert {-(2**31), 2**31 - 1, -1, 0} <= all_lanes


def test_merkle_vectors_match_reference(committed: dict[str, Any], cases: Any) -> None:
    assert len(committed["merkle"]) == len(cases.merkle)
    for entry, case in zip(committed["merkle"], cases.merkle, strict=True):
        vector = list(case.vector)
        depth, width = reference.tree_shape(len(vector), case.words_per_leaf)
        levels = reference.merkle_levels(vector, case.words_per_leaf)
        assert (entry["wordsPerLeaf"], entry["numParams"], entry["depth"]) == (
            case.words_per_leaf,
            len(vector),
            depth,
        )
        assert hex_bytes(entry["root"]) == levels[-1][0]
        assert [leaf["index"] for leaf in entry["leaves"]] == list(case.leaf_indices)
        for leaf in entry["leaves"]:
            index = leaf["index"]
            words = [hex_bytes(word) for word in leaf["words"]]
            siblings = [hex_bytes(sibling) for sibling in leaf["siblings"]]
            assert index < width
            assert words == reference.leaf_words(vector, case.words_per_leaf, index)
            assert siblings == [levels[level][(index >> level) ^ 1] for level in range(depth)]
            assert reference.walk_proof(index, words, siblings) == levels[-1][0]


def test_merkle_vectors_cover_the_edge_cases(committed: dict[str, Any]) -> None:
    entries = committed["merkle"]
    assert {entry["wordsPerLeaf"] for entry in entries} == {1, 2, 4, 8}
    assert any(entry["depth"] == 0 for entry in entries)
    leaf_counts = [-(-entry["numParams"] // (8 * entry["wordsPerLeaf"])) for entry in entries]
    assert any(count & (count - 1) for count in leaf_counts), "a non-power-of-two leaf count"
    assert any(count < 2 ** entry["depth"] for count, entry in zip(leaf_counts, entries, strict=True))


def test_revealed_entries_match_reference(committed: dict[str, Any], cases: Any) -> None:
    assert len(committed["entries"]) == len(cases.entries) > 0
    for entry in committed["entries"]:
        expected = reference.revealed_entry(entry["round"], hex_bytes(entry["root"]), entry["weight"])
        assert hex_bytes(entry["entry"]) == expected
        assert int.from_bytes(expected, "big") >> 1 & 0xFFFFFFFF == entry["weight"], "the weight reads back"


def test_commitments_match_reference(committed: dict[str, Any], cases: Any) -> None:
    assert len(committed["commitments"]) == len(cases.commitments)
    for entry, case in zip(committed["commitments"], cases.commitments, strict=True):
        assert entry["coordinator"] == entry["coordinator"].lower()
        expected = reference.commit_hash(
            entry["chainId"],
            hex_bytes(entry["coordinator"]),
            entry["taskId"],
            entry["round"],
            hex_bytes(entry["participant"]),
            hex_bytes(entry["root"]),
            entry["sampleCount"],
            hex_bytes(entry["salt"]),
        )
        assert hex_bytes(entry["hash"]) == expected
        assert (entry["chainId"], entry["round"], hex_bytes(entry["salt"])) == (
            case.chain_id,
            case.round,
            case.salt,
        )


def _lanes_of(words: list[str]) -> list[int]:
    return [lane for word in words for lane in reference.word_to_lanes(hex_bytes(word))]


def test_rule_vectors_match_reference(committed: dict[str, Any], cases: Any) -> None:
    assert len(committed["rules"]) == len(cases.rules)
    assert {entry["rule"] for entry in committed["rules"]} == {0, 1, 2}
    for entry, case in zip(committed["rules"], cases.rules, strict=True):
        previous = _lanes_of(entry["previous"])
        updates = [_lanes_of(words) for words in entry["updates"]]
        assert previous == list(case.previous)
        assert updates == [list(update) for update in case.updates]
        assert len(entry["previous"]) == entry["wordsPerLeaf"]
        assert all(len(words) == entry["wordsPerLeaf"] for words in entry["updates"])
        assert (entry["rule"], entry["ruleParam"]) == (case.rule, case.rule_param)
        expected = reference.aggregate(entry["rule"], entry["ruleParam"], previous, updates, entry["sampleCounts"],
                                       entry["sampleCap"], entry["serverLrBps"])
        assert _lanes_of(entry["expected"]) == expected


def test_fedavg_vectors_exercise_truncation_clamping_caps_and_rates(committed: dict[str, Any]) -> None:
    truncated_toward_zero = clamped = cap_binding = False
    fedavg = [entry for entry in committed["rules"] if entry["rule"] == 0]
    for entry in fedavg:
        counts, cap = entry["sampleCounts"], entry["sampleCap"]
        weights = [min(count, cap) for count in counts]
        cap_binding |= any(count > cap for count in counts)
        previous, updates = _lanes_of(entry["previous"]), [_lanes_of(w) for w in entry["updates"]]
        for i, old in enumerate(previous):
            weighted = sum(w * update[i] for w, update in zip(weights, updates, strict=True))
            truncated_toward_zero |= weighted < 0 and weighted % sum(weights) != 0
            step = reference.solidity_div(reference.solidity_div(weighted, sum(weights)) * entry["serverLrBps"], 10_000)
            clamped |= not -(2**31) <= old + step < 2**31
    assert truncated_toward_zero and clamped and cap_binding
    assert {entry["serverLrBps"] for entry in fedavg} - {10_000}
    assert {entry["wordsPerLeaf"] for entry in fedavg} >= {1, 2, 8}
    assert max(len(entry["updates"]) for entry in fedavg) == 256


def test_order_statistic_vectors_exercise_both_parities_ties_trims_and_the_largest_cohort(
        committed: dict[str, Any]) -> None:
    median = [entry for entry in committed["rules"] if entry["rule"] == 1]
    trimmed = [entry for entry in committed["rules"] if entry["rule"] == 2]
    assert {len(entry["updates"]) % 2 for entry in median} == {0, 1}
    assert max(len(entry["updates"]) for entry in median + trimmed) == 256
    assert {entry["ruleParam"] for entry in trimmed} >= {1, 4_999}
    negative_half = False
    for entry in median:
        updates = [_lanes_of(words) for words in entry["updates"]]
        if len(updates) % 2 == 0:
            for i in range(len(updates[0])):
                column = sorted(update[i] for update in updates)
                middle = column[len(column) // 2 - 1] + column[len(column) // 2]
                negative_half |= middle < 0 and middle % 2 != 0
    assert negative_half, "an even median whose halving truncates toward zero"


def test_score_commitments_match_reference(committed: dict[str, Any], cases: Any) -> None:
    assert len(committed["scoreCommitments"]) == len(cases.score_commitments) >= 4
    for entry in committed["scoreCommitments"]:
        expected = reference.scores_hash(
            entry["chainId"],
            hex_bytes(entry["coordinator"]),
            entry["taskId"],
            entry["round"],
            hex_bytes(entry["validator"]),
            [hex_bytes(p) for p in entry["participants"]],
            entry["scores"],
            hex_bytes(entry["salt"]),
        )
        assert hex_bytes(entry["hash"]) == expected
    sizes = {len(entry["participants"]) for entry in committed["scoreCommitments"]}
    assert {0, 1, 64} <= sizes, "empty, single and a full cohort's lists"


def test_score_words_match_reference(committed: dict[str, Any]) -> None:
    words = committed["scoreWords"]
    for entry in words:
        word = reference.score_word(entry["lanes"], entry["scores"])
        assert int(entry["word"], 16) == word
        assert (entry["count"], entry["median"]) == reference.word_median(word)
    counts = {entry["count"] for entry in words}
    assert {0, 1, 2, 3, 16} <= counts, "no score, one, both parities and a full committee"
