"""Write tests/vectors/protocol.json, the test vectors shared by pytest and forge (docs/protocol.md §2-5).

Run from the repository root: ``.venv/bin/python tests/vectors/make_vectors.py``. The inputs come from a
fixed seed, so every run writes the same bytes; tests/vectors/test_vectors.py fails if the committed
file drifts from what this script produces.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fedchain.aggregate.constants import MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS, MAX_UPDATES
from fedchain.aggregate.norm_bounded import NormBounded
from fedchain.aggregate.registry import rule_for
from fedchain.aggregate.rules import aggregate_leaf
from fedchain.commit.commitment import commit_hash, revealed_entry
from fedchain.commit.constants import INT32_MAX, INT32_MIN, LANES_PER_WORD
from fedchain.commit.encoding import to_hex
from fedchain.commit.leaves import LeafLayout, coordinates_to_words, lanes_to_word
from fedchain.commit.merkle import MerkleTree
from fedchain.commit.norms import NormTree, norm_declaration
from fedchain.score.commitment import scores_hash
from fedchain.score.constants import MAX_SEATS, NO_SCORE, SCORE_ONE
from fedchain.score.words import pack_scores, word_median

SEED = 20_240_611
OUTPUT_PATH = Path(__file__).with_name("protocol.json")
# forge parses JSON numbers above uint64 unreliably (foundry-rs/foundry#3207, #5038), so no JSON number in
# the vectors exceeds it; bytes32 and address fields still reach all-ones.
JSON_UINT_MAX = 2**64 - 1

# (wordsPerLeaf, numParams, leaf indices to list; None lists every leaf of the tree)
MERKLE_SHAPES: tuple[tuple[int, int, tuple[int, ...] | None], ...] = (
    (1, 1, None),  # depth 0, one real coordinate, seven padding lanes
    (1, 8, None),  # depth 0, a full leaf
    (2, 1, None),  # depth 0, W = 2, almost all padding
    (8, 64, None),  # depth 0, W = 8, a full leaf
    (1, 9, None),  # N = 2, depth 1, second leaf mostly padding
    (1, 24, None),  # N = 3 (not a power of two), depth 2, one all-padding leaf
    (2, 40, None),  # N = 3, W = 2
    (4, 100, None),  # N = 4, W = 4, last leaf partly padding
    (1, 37, None),  # N = 5, depth 3, three all-padding leaves
    (8, 200, None),  # N = 4, W = 8, last leaf holds 8 real coordinates
    (8, 1000, None),  # N = 16, depth 4, W = 8
    (2, 2049, (0, 1, 127, 128, 129, 200, 255)),  # N = 129, depth 8: one real coordinate in leaf 128
)


@dataclass(frozen=True)
class MerkleCase:
    """A vector, its layout and the leaves whose proofs go into the vectors."""

    words_per_leaf: int
    vector: tuple[int, ...]
    leaf_indices: tuple[int, ...]


@dataclass(frozen=True)
class EntryCase:
    """The inputs of one revealed entry word."""

    round: int
    root: bytes
    weight: int


@dataclass(frozen=True)
class CommitmentCase:
    """The inputs of one commitment hash."""

    chain_id: int
    coordinator: str
    task_id: int
    round: int
    participant: str
    root: bytes
    sample_count: int
    salt: bytes


@dataclass(frozen=True)
class ScoresCase:
    """The inputs of one scores commitment (docs/protocol.md section 12.4)."""

    chain_id: int
    coordinator: str
    task_id: int
    round: int
    validator: str
    participants: tuple[str, ...]
    scores: tuple[int, ...]
    salt: bytes


@dataclass(frozen=True)
class RuleCase:
    """One leaf of a rule's inputs, as coordinates (FedAvg unless ``rule`` says otherwise)."""

    sample_cap: int
    server_lr_bps: int
    words_per_leaf: int
    previous: tuple[int, ...]
    updates: tuple[tuple[int, ...], ...]
    sample_counts: tuple[int, ...]
    rule: int = 0
    rule_param: int = 0


@dataclass(frozen=True)
class Cases:
    """Every input the vectors are computed from."""

    lanes: tuple[tuple[int, ...], ...]
    merkle: tuple[MerkleCase, ...]
    commitments: tuple[CommitmentCase, ...]
    entries: tuple[EntryCase, ...]
    rules: tuple[RuleCase, ...]
    score_commitments: tuple[ScoresCase, ...]
    score_words: tuple[tuple[tuple[int, int], ...], ...]
    norm_bounded: tuple["NormBoundedCase", ...] = ()
    norm_trees: tuple[tuple[int, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class NormBoundedCase:
    """One leaf of rule 3 (docs/protocol.md §4.4): the task's clip, numParams and bound, and each update's
    declared squared norm (None: undeclared, effective weight 0)."""

    clip: int
    num_params: int
    rule_param: int
    sample_cap: int
    server_lr_bps: int
    previous: tuple[int, ...]
    updates: tuple[tuple[int, ...], ...]
    sample_counts: tuple[int, ...]
    norm_sqs: tuple[int | None, ...]


def build_cases(seed: int = SEED) -> Cases:
    """Return the vector inputs, drawn deterministically from ``seed``."""
    rng = np.random.default_rng(seed)
    return Cases(
        lanes=_lane_cases(rng),
        merkle=_merkle_cases(rng),
        commitments=_commitment_cases(rng),
        entries=_entry_cases(rng),
        rules=_fedavg_cases(rng) + _order_statistic_cases(rng),
        score_commitments=_score_commitment_cases(rng),
        score_words=_score_word_cases(rng),
        norm_bounded=_norm_bounded_cases(rng),
        norm_trees=_norm_tree_cases(rng),
    )


def compute_vectors(cases: Cases) -> dict[str, Any]:
    """Compute the expected outputs of ``cases`` with fedchain's implementation, in the JSON schema."""
    return {
        "lanes": [{"word": to_hex(lanes_to_word(lanes)), "lanes": list(lanes)} for lanes in cases.lanes],
        "merkle": [_merkle_vector(case) for case in cases.merkle],
        "commitments": [_commitment_vector(case) for case in cases.commitments],
        "entries": [
            {"round": case.round, "root": to_hex(case.root), "weight": case.weight,
             "entry": to_hex(revealed_entry(case.round, case.root, case.weight))}
            for case in cases.entries
        ],
        "rules": [_rule_vector(case) for case in cases.rules],
        "scoreCommitments": [_score_commitment_vector(case) for case in cases.score_commitments],
        "scoreWords": [_score_word_vector(lanes) for lanes in cases.score_words],
        "normBounded": [_norm_bounded_vector(case) for case in cases.norm_bounded],
        "normTrees": [_norm_tree_vector(depth, values) for depth, values in cases.norm_trees],
    }


def render(vectors: dict[str, Any]) -> str:
    """Serialize vectors the way the committed file is written."""
    return json.dumps(vectors, indent=1) + "\n"


def _int32s(rng: np.random.Generator, count: int, low: int = INT32_MIN, high: int = INT32_MAX) -> tuple[int, ...]:
    return tuple(int(value) for value in rng.integers(low, high, size=count, endpoint=True))


def _lane_cases(rng: np.random.Generator) -> tuple[tuple[int, ...], ...]:
    fixed = (
        (0,) * LANES_PER_WORD,
        (-1,) * LANES_PER_WORD,
        (INT32_MIN,) * LANES_PER_WORD,
        (INT32_MAX,) * LANES_PER_WORD,
        (INT32_MIN, INT32_MAX, 0, 1, -1, INT32_MAX - 1, INT32_MIN + 1, 256),
        (1, 2, 3, 4, 5, 6, 7, 8),
        (-(2**24), 2**24, -(2**16), 2**16, -(2**8), 2**8, -128, 127),
    )
    return fixed + tuple(_int32s(rng, LANES_PER_WORD) for _ in range(5))


def _merkle_cases(rng: np.random.Generator) -> tuple[MerkleCase, ...]:
    cases = []
    for words_per_leaf, num_params, listed in MERKLE_SHAPES:
        values = list(_int32s(rng, num_params))
        values[0] = INT32_MIN
        values[-1] = INT32_MAX if num_params > 1 else values[-1]
        layout = LeafLayout(num_params, words_per_leaf)
        indices = tuple(range(layout.width)) if listed is None else listed
        cases.append(MerkleCase(words_per_leaf, tuple(values), indices))
    return tuple(cases)


def _address(rng: np.random.Generator) -> str:
    return to_hex(rng.bytes(20))


def _commitment_cases(rng: np.random.Generator) -> tuple[CommitmentCase, ...]:
    zero_address, max_address = "0x" + "00" * 20, "0x" + "ff" * 20
    return (
        CommitmentCase(0, zero_address, 0, 0, zero_address, bytes(32), 0, bytes(32)),
        CommitmentCase(
            JSON_UINT_MAX,
            max_address,
            JSON_UINT_MAX,
            JSON_UINT_MAX,
            max_address,
            b"\xff" * 32,
            JSON_UINT_MAX,
            b"\xff" * 32,
        ),
        CommitmentCase(31_337, _address(rng), 0, 0, _address(rng), rng.bytes(32), 1, rng.bytes(32)),
        CommitmentCase(1, _address(rng), 7, 12, _address(rng), rng.bytes(32), 60_000, rng.bytes(32)),
        CommitmentCase(11_155_111, _address(rng), 2**63, 2**32, _address(rng), rng.bytes(32), 2**20, rng.bytes(32)),
    )


def _fedavg_cases(rng: np.random.Generator) -> tuple[RuleCase, ...]:
    eight = LANES_PER_WORD
    truncation = RuleCase(
        sample_cap=10,
        server_lr_bps=10_000,
        words_per_leaf=1,
        previous=(0, 0, 0, 0, 100, -100, 0, 0),
        updates=((-1, -2, -5, 1, 2, 5, -7, 7), (0, -1, 2, 0, 1, -2, -3, 3)),
        sample_counts=(1, 2),
    )
    learning_rate_truncation = RuleCase(
        sample_cap=10,
        server_lr_bps=3_333,
        words_per_leaf=1,
        previous=(5, -5, 0, 0, 1, -1, INT32_MAX, INT32_MIN),
        updates=((-7, 7, -3, 3, -10_001, 10_001, 4, -4),),
        sample_counts=(3,),
    )
    clamping = RuleCase(
        sample_cap=1_000,
        server_lr_bps=MAX_SERVER_LR_BPS,
        words_per_leaf=1,
        previous=(INT32_MAX - 5, INT32_MIN + 5, INT32_MAX, INT32_MIN, 0, 0, 2**30, -(2**30)),
        updates=(
            (INT32_MAX, -INT32_MAX, 1, -1, INT32_MAX, -INT32_MAX, 2**28, -(2**28)),
            (INT32_MAX, -INT32_MAX, 0, 0, INT32_MAX, -INT32_MAX, 2**27, -(2**27)),
        ),
        sample_counts=(999, 5_000),
    )
    caps_binding = RuleCase(
        sample_cap=MAX_SAMPLE_CAP,
        server_lr_bps=1,
        words_per_leaf=2,
        previous=_int32s(rng, 2 * eight),
        updates=tuple(_int32s(rng, 2 * eight, -INT32_MAX) for _ in range(5)),
        sample_counts=(1, MAX_SAMPLE_CAP, 2**25, 7, JSON_UINT_MAX),
    )
    full_range = RuleCase(
        sample_cap=1_000,
        server_lr_bps=15_000,
        words_per_leaf=8,
        previous=_int32s(rng, 8 * eight),
        updates=tuple(_int32s(rng, 8 * eight, -INT32_MAX) for _ in range(4)),
        sample_counts=(1_000, 250, 1_001, 3),
    )
    small_updates = RuleCase(
        sample_cap=64,
        server_lr_bps=5_000,
        words_per_leaf=2,
        previous=_int32s(rng, 2 * eight, -(2**20), 2**20),
        updates=tuple(_int32s(rng, 2 * eight, -1_000, 1_000) for _ in range(3)),
        sample_counts=(17, 64, 65),
    )
    single_update = RuleCase(
        sample_cap=1,
        server_lr_bps=10_000,
        words_per_leaf=4,
        previous=_int32s(rng, 4 * eight),
        updates=(_int32s(rng, 4 * eight, -INT32_MAX),),
        sample_counts=(12_345,),
    )
    half_max = INT32_MAX // 2
    largest_cohort = RuleCase(
        sample_cap=MAX_SAMPLE_CAP,
        server_lr_bps=MAX_SERVER_LR_BPS,
        words_per_leaf=1,
        previous=(0, 0, INT32_MAX, INT32_MIN, 0, 0, 0, 0),
        updates=tuple(
            (INT32_MAX, -INT32_MAX, INT32_MAX, -INT32_MAX, *_int32s(rng, 2, -INT32_MAX), half_max, -half_max)
            for _ in range(MAX_UPDATES)
        ),
        sample_counts=tuple(MAX_SAMPLE_CAP + k for k in range(MAX_UPDATES)),
    )
    return (
        truncation,
        learning_rate_truncation,
        clamping,
        caps_binding,
        full_range,
        small_updates,
        single_update,
        largest_cohort,
    )


def _order_statistic_cases(rng: np.random.Generator) -> tuple[RuleCase, ...]:
    """Median (rule 1) and trimmed mean (rule 2): odd and even counts, ties, extremes, truncation of a negative
    middle, trims that drop nothing and almost half, the largest cohort."""
    eight = LANES_PER_WORD
    median_odd = RuleCase(
        sample_cap=10, server_lr_bps=10_000, words_per_leaf=1, rule=1,
        previous=(0, 0, 0, 0, 100, -100, INT32_MAX, INT32_MIN),
        updates=((5, -1, 7, 0, 3, 3, 9, -9), (1, -7, 7, 0, 2, 3, 1, -1), (3, -3, -7, 0, 1, 4, 5, -5)),
        sample_counts=(1, 1000, 7),
    )
    median_even = RuleCase(
        sample_cap=10, server_lr_bps=10_000, words_per_leaf=1, rule=1,
        previous=(0, 0, 0, 0, 0, 0, 0, 0),
        updates=((1, -1, -INT32_MAX, INT32_MAX, 2, -3, 4, 0), (2, -2, -INT32_MAX, INT32_MAX, 3, -4, 4, 0),
                 (9, -9, -INT32_MAX, INT32_MAX, 100, 50, 4, 0), (-9, 9, 0, 0, -100, -50, 4, 1)),
        sample_counts=(3, 3, 3, 3),
    )
    median_random = RuleCase(
        sample_cap=1_000, server_lr_bps=7_777, words_per_leaf=4, rule=1,
        previous=_int32s(rng, 4 * eight),
        updates=tuple(_int32s(rng, 4 * eight, -INT32_MAX) for _ in range(7)),
        sample_counts=(1, 2, 3, 4, 5, 6, 7),
    )
    median_largest = RuleCase(
        sample_cap=MAX_SAMPLE_CAP, server_lr_bps=MAX_SERVER_LR_BPS, words_per_leaf=1, rule=1,
        previous=_int32s(rng, eight),
        updates=tuple(_int32s(rng, eight, -INT32_MAX) for _ in range(MAX_UPDATES)),
        sample_counts=(1,) * MAX_UPDATES,
    )
    trimmed_nothing = RuleCase(
        sample_cap=10, server_lr_bps=10_000, words_per_leaf=1, rule=2, rule_param=1,
        previous=(0, 0, 0, 0, 0, 0, 0, 0),
        updates=((1, -1, 5, -5, 7, 0, 0, 1), (2, -2, 5, -5, 0, 0, 0, 1), (4, -4, 5, -6, 0, 0, 0, 1)),
        sample_counts=(1, 1, 1),
    )
    trimmed_ten_percent = RuleCase(
        sample_cap=100, server_lr_bps=12_000, words_per_leaf=2, rule=2, rule_param=1_000,
        previous=_int32s(rng, 2 * eight, -(2**20), 2**20),
        updates=(*(_int32s(rng, 2 * eight, -1_000, 1_000) for _ in range(10)), (INT32_MAX,) * (2 * eight),
                 (-INT32_MAX,) * (2 * eight)),
        sample_counts=tuple(range(1, 13)),
    )
    trimmed_almost_half = RuleCase(
        sample_cap=100, server_lr_bps=10_000, words_per_leaf=8, rule=2, rule_param=4_999,
        previous=_int32s(rng, 8 * eight),
        updates=tuple(_int32s(rng, 8 * eight, -INT32_MAX) for _ in range(6)),
        sample_counts=(1,) * 6,
    )
    trimmed_largest = RuleCase(
        sample_cap=MAX_SAMPLE_CAP, server_lr_bps=MAX_SERVER_LR_BPS, words_per_leaf=1, rule=2, rule_param=2_500,
        previous=(INT32_MAX, INT32_MIN, 0, 0, 0, 0, 0, 0),
        updates=tuple((INT32_MAX, -INT32_MAX, *_int32s(rng, 6, -INT32_MAX)) for _ in range(MAX_UPDATES)),
        sample_counts=(1,) * MAX_UPDATES,
    )
    return (median_odd, median_even, median_random, median_largest, trimmed_nothing, trimmed_ten_percent,
            trimmed_almost_half, trimmed_largest)


def _hex_words(words: tuple[bytes, ...]) -> list[str]:
    return [to_hex(word) for word in words]


def _merkle_vector(case: MerkleCase) -> dict[str, Any]:
    layout = LeafLayout(len(case.vector), case.words_per_leaf)
    tree = MerkleTree(np.asarray(case.vector, dtype=np.int64), layout)
    return {
        "wordsPerLeaf": layout.words_per_leaf,
        "numParams": layout.num_params,
        "depth": layout.depth,
        "root": to_hex(tree.root),
        "leaves": [
            {
                "index": index,
                "words": _hex_words(tree.leaf_words(index)),
                "siblings": _hex_words(tree.proof(index)),
            }
            for index in case.leaf_indices
        ],
    }


def _entry_cases(rng: np.random.Generator) -> tuple[EntryCase, ...]:
    return (
        EntryCase(0, bytes(32), 1),
        EntryCase(JSON_UINT_MAX, b"\xff" * 32, 2**20),
        EntryCase(1, rng.bytes(32), 1),
        EntryCase(7, rng.bytes(32), 1000),
        EntryCase(2**32 - 1, rng.bytes(32), 2**32 - 1),
    )


def _commitment_vector(case: CommitmentCase) -> dict[str, Any]:
    digest = commit_hash(
        chain_id=case.chain_id,
        coordinator=case.coordinator,
        task_id=case.task_id,
        round=case.round,
        participant=case.participant,
        root=case.root,
        sample_count=case.sample_count,
        salt=case.salt,
    )
    return {
        "chainId": case.chain_id,
        "coordinator": case.coordinator,
        "taskId": case.task_id,
        "round": case.round,
        "participant": case.participant,
        "root": to_hex(case.root),
        "sampleCount": case.sample_count,
        "salt": to_hex(case.salt),
        "hash": to_hex(digest),
    }


def _rule_vector(case: RuleCase) -> dict[str, Any]:
    previous = coordinates_to_words(np.asarray(case.previous, dtype=np.int64))
    updates = [coordinates_to_words(np.asarray(update, dtype=np.int64)) for update in case.updates]
    rule = rule_for(case.rule, sample_cap=case.sample_cap, server_lr_bps=case.server_lr_bps, param=case.rule_param)
    expected = aggregate_leaf(rule, previous, updates, case.sample_counts)
    return {
        "rule": case.rule,
        "ruleParam": case.rule_param,
        "sampleCap": case.sample_cap,
        "serverLrBps": case.server_lr_bps,
        "previous": _hex_words(previous),
        "updates": [_hex_words(words) for words in updates],
        "sampleCounts": list(case.sample_counts),
        "expected": _hex_words(expected),
        "wordsPerLeaf": case.words_per_leaf,
    }


def _score_commitment_cases(rng: np.random.Generator) -> tuple[ScoresCase, ...]:
    zero_address = "0x" + "00" * 20
    many = tuple(sorted(_address(rng) for _ in range(64)))
    return (
        ScoresCase(0, zero_address, 0, 0, zero_address, (), (), bytes(32)),
        ScoresCase(31_337, _address(rng), 1, 0, _address(rng), (_address(rng),), (SCORE_ONE,), rng.bytes(32)),
        ScoresCase(1, _address(rng), 7, 12, _address(rng), tuple(sorted(_address(rng) for _ in range(3))),
                   (0, NO_SCORE, 4321), rng.bytes(32)),
        ScoresCase(11_155_111, _address(rng), 2**63, 2**23, _address(rng), many,
                   tuple(int(s) for s in rng.integers(0, SCORE_ONE + 1, size=len(many))), rng.bytes(32)),
    )


def _score_word_cases(rng: np.random.Generator) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Lanes and scores: none, one, both parities, ties, extremes, every lane full, random."""
    full = tuple((lane, int(rng.integers(0, SCORE_ONE + 1))) for lane in range(MAX_SEATS))
    sparse = tuple((int(lane), int(rng.integers(0, SCORE_ONE + 1)))
                   for lane in sorted(rng.choice(MAX_SEATS, size=7, replace=False)))
    return (
        (),
        ((15, 0),),
        ((0, SCORE_ONE), (1, 0)),
        ((2, 5000), (3, 5000), (9, 1)),
        ((0, 9000), (1, 9000), (2, 8000), (3, 10), (4, SCORE_ONE), (5, SCORE_ONE)),
        tuple((lane, SCORE_ONE) for lane in range(MAX_SEATS)),
        full,
        sparse,
    )


def _score_commitment_vector(case: ScoresCase) -> dict[str, Any]:
    digest = scores_hash(chain_id=case.chain_id, coordinator=case.coordinator, task_id=case.task_id,
                         round=case.round, validator=case.validator, participants=case.participants,
                         scores=case.scores, salt=case.salt)
    return {
        "chainId": case.chain_id,
        "coordinator": case.coordinator,
        "taskId": case.task_id,
        "round": case.round,
        "validator": case.validator,
        "participants": list(case.participants),
        "scores": list(case.scores),
        "salt": to_hex(case.salt),
        "hash": to_hex(digest),
    }


def _score_word_vector(lanes: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    word = pack_scores(dict(lanes))
    count, median = word_median(word)
    return {
        "lanes": [lane for lane, _ in lanes],
        "scores": [score for _, score in lanes],
        "word": to_hex(word.to_bytes(32, "big")),
        "count": count,
        "median": median,
    }


def _norm_bounded_cases(rng: np.random.Generator) -> tuple[NormBoundedCase, ...]:
    """Rule 3: updates within the bound (scale 1), scaled ones, an undeclared one, the largest clip, weights and
    learning rate, the smallest bound, a lie (a declared norm that is not the update's: the rule uses the
    declaration)."""
    cases = []
    for n, clip, num_params, rule_param, cap, lr, width in (
        (3, 1_000, 12, 500, 1_000, 5_000, 8),
        (5, 2**31 - 1, 2**40, 10_000, MAX_SAMPLE_CAP, MAX_SERVER_LR_BPS, 8),
        (4, 50, 16, 1, 10, 10_000, 16),
        (6, 100_000, 1_000, 2_500, 300, 12_345, 8),
    ):
        updates = tuple(_int32s(rng, width, -clip, clip) for _ in range(n))
        counts = tuple(int(c) for c in rng.integers(1, 2 * cap, size=n))
        norm_sqs: list[int | None] = [sum(v * v for v in update) * int(rng.integers(1, 50)) for update in updates]
        norm_sqs[0] = 0  # within any bound
        norm_sqs[-1] = None  # undeclared
        cases.append(NormBoundedCase(clip=clip, num_params=num_params, rule_param=rule_param, sample_cap=cap,
                                     server_lr_bps=lr, previous=_int32s(rng, width), updates=updates,
                                     sample_counts=counts, norm_sqs=tuple(norm_sqs)))
    return tuple(cases)


def _norm_tree_cases(rng: np.random.Generator) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Norm sum trees: one leaf, a full tree, a list shorter than the tree, values near 2^128."""
    return (
        (0, (int(rng.integers(0, 2**62)),)),
        (2, tuple(int(v) for v in rng.integers(0, 2**62, size=4))),
        (3, tuple(int(v) for v in rng.integers(0, 2**40, size=5))),
        (1, (2**128 - 1, 2**127)),
    )


def _hex_uint(value: int) -> str:
    return to_hex(value.to_bytes(32, "big"))


def _norm_bounded_vector(case: NormBoundedCase) -> dict[str, Any]:
    rule = NormBounded(sample_cap=case.sample_cap, server_lr_bps=case.server_lr_bps, param=case.rule_param,
                       clip=case.clip, num_params=case.num_params)
    previous = coordinates_to_words(np.asarray(case.previous, dtype=np.int64))
    updates = [coordinates_to_words(np.asarray(update, dtype=np.int64)) for update in case.updates]
    expected = rule.aggregate_leaf_declared(previous, updates, case.sample_counts, case.norm_sqs)
    return {
        "clip": case.clip,
        "numParams": case.num_params,
        "ruleParam": case.rule_param,
        "sampleCap": case.sample_cap,
        "serverLrBps": case.server_lr_bps,
        "previous": _hex_words(previous),
        "updates": [_hex_words(words) for words in updates],
        "sampleCounts": list(case.sample_counts),
        "declared": [int(norm_sq is not None) for norm_sq in case.norm_sqs],
        "normSqs": [_hex_uint(norm_sq or 0) for norm_sq in case.norm_sqs],
        "effectiveWeights": [rule.effective_weight(rule.weight(count), norm_sq)
                             for count, norm_sq in zip(case.sample_counts, case.norm_sqs, strict=True)],
        "expected": _hex_words(expected),
    }


def _norm_tree_vector(depth: int, values: tuple[int, ...]) -> dict[str, Any]:
    tree = NormTree(values, depth)
    paths = [tree.path(i) for i in range(1 << depth)]
    round_ = len(values) * 7
    return {
        "depth": depth,
        "values": [_hex_uint(v) for v in values],
        "root": to_hex(tree.root),
        "total": _hex_uint(tree.total),
        "pathHashes": [[to_hex(h) for h in path.hashes] for path in paths],
        "pathSums": [[_hex_uint(v) for v in path.sums] for path in paths],
        "round": round_,
        "declaration": to_hex(norm_declaration(round_, tree.root, tree.total)),
    }


def main() -> None:
    """Regenerate the committed vectors file."""
    OUTPUT_PATH.write_text(render(compute_vectors(build_cases())), encoding="utf-8")
    print(f"wrote {OUTPUT_PATH} ({OUTPUT_PATH.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
