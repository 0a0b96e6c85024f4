"""Straightforward reference implementations of docs/protocol.md §2-5 for checking fedchain's.

Written from the spec with Python ints and per-coordinate loops, sharing no code with fedchain (even
the keccak comes from a different library), so agreement between the two is evidence, not circularity.
"""

from collections.abc import Sequence

from Crypto.Hash import keccak as pycryptodome_keccak

INT32_LOW, INT32_HIGH = -(2**31), 2**31 - 1


def keccak(data: bytes) -> bytes:
    """Ethereum's keccak-256 via pycryptodome."""
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


def lanes_to_word(lanes: Sequence[int]) -> bytes:
    """Two's complement big-endian int32 lanes, lane 0 first."""
    assert len(lanes) == 8
    return b"".join((lane % 2**32).to_bytes(4, "big") for lane in lanes)


def word_to_lanes(word: bytes) -> list[int]:
    """Inverse of :func:`lanes_to_word`."""
    lanes = []
    for j in range(8):
        unsigned = int.from_bytes(word[4 * j : 4 * j + 4], "big")
        lanes.append(unsigned - 2**32 if unsigned >= 2**31 else unsigned)
    return lanes


def tree_shape(num_params: int, words_per_leaf: int) -> tuple[int, int]:
    """(depth, number of leaves including padding)."""
    coords = 8 * words_per_leaf
    real_leaves = (num_params + coords - 1) // coords
    depth = 0
    while 2**depth < real_leaves:
        depth += 1
    return depth, 2**depth


def leaf_words(vector: Sequence[int], words_per_leaf: int, index: int) -> list[bytes]:
    """The words of leaf ``index``, coordinates past the vector's end being zero."""
    words = []
    for w in range(words_per_leaf):
        lanes = []
        for lane in range(8):
            position = index * 8 * words_per_leaf + 8 * w + lane
            lanes.append(vector[position] if position < len(vector) else 0)
        words.append(lanes_to_word(lanes))
    return words


def leaf_hash(index: int, words: Sequence[bytes]) -> bytes:
    """keccak(0x00 ‖ uint256(index) ‖ words)."""
    return keccak(bytes([0]) + index.to_bytes(32, "big") + b"".join(words))


def node_hash(left: bytes, right: bytes) -> bytes:
    """keccak(0x01 ‖ left ‖ right)."""
    return keccak(bytes([1]) + left + right)


def merkle_levels(vector: Sequence[int], words_per_leaf: int) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root last."""
    _, width = tree_shape(len(vector), words_per_leaf)
    level = [leaf_hash(i, leaf_words(vector, words_per_leaf, i)) for i in range(width)]
    levels = [level]
    while len(level) > 1:
        level = [node_hash(level[k], level[k + 1]) for k in range(0, len(level), 2)]
        levels.append(level)
    return levels


def walk_proof(index: int, words: Sequence[bytes], siblings: Sequence[bytes]) -> bytes:
    """The root a proof leads to."""
    node = leaf_hash(index, words)
    for level, sibling in enumerate(siblings):
        node = node_hash(sibling, node) if (index >> level) & 1 else node_hash(node, sibling)
    return node


def scores_hash(
    chain_id: int,
    coordinator: bytes,
    task_id: int,
    round_number: int,
    validator: bytes,
    participants: Sequence[bytes],
    scores: Sequence[int],
    salt: bytes,
) -> bytes:
    """keccak(abi.encode(...)) of section 12.4 by hand: eight head words (the two arrays as offsets from the
    start), then each array as its length and one word per item."""

    def word(value: int) -> bytes:
        return value.to_bytes(32, "big")

    participants_tail = word(len(participants)) + b"".join(bytes(12) + p for p in participants)
    scores_tail = word(len(scores)) + b"".join(word(s) for s in scores)
    head_size = 8 * 32
    head = (word(chain_id) + bytes(12) + coordinator + word(task_id) + word(round_number) + bytes(12) + validator
            + word(head_size) + word(head_size + len(participants_tail)) + salt)
    return keccak(head + participants_tail + scores_tail)


def score_word(lanes: Sequence[int], scores: Sequence[int]) -> int:
    """The packed score word: score + 1 in 16-bit lane i."""
    word = 0
    for lane, score in zip(lanes, scores, strict=True):
        word |= (score + 1) << (16 * lane)
    return word


def word_median(word: int) -> tuple[int, int]:
    """How many lanes hold a score, and the lower median of those scores (0 for none)."""
    present = sorted(((word >> (16 * lane)) & 0xFFFF) - 1 for lane in range(16) if (word >> (16 * lane)) & 0xFFFF)
    return len(present), present[(len(present) - 1) // 2] if present else 0


def commit_hash(
    chain_id: int,
    coordinator: bytes,
    task_id: int,
    round_number: int,
    participant: bytes,
    root: bytes,
    sample_count: int,
    salt: bytes,
) -> bytes:
    """keccak(abi.encode(...)): every field left-padded to 32 bytes."""
    encoded = (
        chain_id.to_bytes(32, "big")
        + bytes(12)
        + coordinator
        + task_id.to_bytes(32, "big")
        + round_number.to_bytes(32, "big")
        + bytes(12)
        + participant
        + root
        + sample_count.to_bytes(32, "big")
        + salt
    )
    return keccak(encoded)


def revealed_entry(round_number: int, root: bytes, weight: int) -> bytes:
    """Top 223 bits of keccak(round ‖ root ‖ weight, as 32-byte words); weight's low 32 bits shifted by one; bit 0."""
    digest = keccak(round_number.to_bytes(32, "big") + root + weight.to_bytes(32, "big"))
    value = int.from_bytes(digest, "big")
    value -= value % (1 << 33)
    value += (weight % (1 << 32)) * 2 + 1
    return value.to_bytes(32, "big")


def solidity_div(numerator: int, denominator: int) -> int:
    """Signed division truncating toward zero."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def fedavg(
    previous: Sequence[int],
    updates: Sequence[Sequence[int]],
    sample_counts: Sequence[int],
    sample_cap: int,
    server_lr_bps: int,
) -> list[int]:
    """Rule 0, one coordinate at a time."""
    weights = [min(count, sample_cap) for count in sample_counts]
    total = sum(weights)
    result = []
    for i, old in enumerate(previous):
        weighted = sum(weight * update[i] for weight, update in zip(weights, updates, strict=True))
        step = solidity_div(solidity_div(weighted, total) * server_lr_bps, 10_000)
        result.append(max(INT32_LOW, min(INT32_HIGH, old + step)))
    return result


def median(previous: Sequence[int], updates: Sequence[Sequence[int]], server_lr_bps: int) -> list[int]:
    """Rule 1, one coordinate at a time."""
    result = []
    for i, old in enumerate(previous):
        column = sorted(update[i] for update in updates)
        middle = len(column) // 2
        center = column[middle] if len(column) % 2 else solidity_div(column[middle - 1] + column[middle], 2)
        result.append(_stepped(old, center, server_lr_bps))
    return result


def trimmed_mean(previous: Sequence[int], updates: Sequence[Sequence[int]], trim_bps: int,
                 server_lr_bps: int) -> list[int]:
    """Rule 2, one coordinate at a time."""
    n = len(updates)
    k = n * trim_bps // 10_000
    result = []
    for i, old in enumerate(previous):
        kept = sorted(update[i] for update in updates)[k:n - k]
        result.append(_stepped(old, solidity_div(sum(kept), len(kept)), server_lr_bps))
    return result


def aggregate(rule: int, rule_param: int, previous: Sequence[int], updates: Sequence[Sequence[int]],
              sample_counts: Sequence[int], sample_cap: int, server_lr_bps: int) -> list[int]:
    """The rule with id ``rule``."""
    if rule == 0:
        return fedavg(previous, updates, sample_counts, sample_cap, server_lr_bps)
    if rule == 1:
        return median(previous, updates, server_lr_bps)
    assert rule == 2
    return trimmed_mean(previous, updates, rule_param, server_lr_bps)


def _stepped(old: int, center: int, server_lr_bps: int) -> int:
    return max(INT32_LOW, min(INT32_HIGH, old + solidity_div(center * server_lr_bps, 10_000)))
