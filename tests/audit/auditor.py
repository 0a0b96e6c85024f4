"""An independent auditor of fedchain tasks, written from docs/protocol.md alone.

It imports nothing of fedchain. Given a JSON-RPC connection, the coordinator's address, a task id and the folder
of a directory blob store (section 6), it rebuilds every round of a plain or a secure task from the chain (events,
views, and transaction calldata where the document says that is the only source) and the blobs, recomputes the
aggregate with the document's integer arithmetic and compares the recomputed model root with the one the chain
anchored. Section numbers in the docstrings are those of docs/protocol.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from py_ecc import bn128
from py_ecc.bn128 import FQ, G1, curve_order, is_on_curve, multiply
from web3 import Web3

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
BPS = 10_000
MAGIC = b"FCB1"
HEADER_KEYS = frozenset({"version", "kind", "numParams", "scaleBits", "wordsPerLeaf", "root", "shapes"})
DATA_KEYS = frozenset({"features", "normalization", "mean", "scale", "missing"})  # a model blob's optional "data"
KINDS = ("model", "update", "masked")

# ---------------------------------------------------------------------------------------------------------------
# Events and calls, exactly as sections 8.7 and 10.12 write them.

EVENTS = """
TaskCreated(uint256 indexed taskId, address indexed requester, address indexed token, bytes32 modelRoot, bytes32 modelBlobRef, bytes32 modelSpecHash, uint256 escrow)
RoundOpened(uint256 indexed taskId, uint256 indexed round, uint256 start)
CohortSampled(uint256 indexed taskId, uint256 indexed round, uint256 members, uint160 seed)
Committed(uint256 indexed taskId, uint256 indexed round, address indexed participant)
Revealed(uint256 indexed taskId, uint256 indexed round, address indexed participant, bytes32 root, uint256 sampleCount, uint256 weight, bytes32 blobRef)
Proposed(uint256 indexed taskId, uint256 indexed round, address indexed aggregator, bytes32 root, bytes32 blobRef)
UpdateDropped(uint256 indexed taskId, uint256 indexed round, address indexed participant, address challenger, uint256 coordinate, uint256 slashed, uint256 bounty)
RoundFinalized(uint256 indexed taskId, uint256 indexed round, bytes32 modelRoot, bytes32 modelBlobRef, uint256 rewardPerWeight, uint256 aggregatorFee, uint256 remainderToPool)
RoundFailed(uint256 indexed taskId, uint256 indexed round, uint256 included)
InputUnavailable(uint256 indexed taskId, uint256 indexed round, address indexed owner, address challenger, uint256 slashed, uint256 bounty)
ScoresRevealed(uint256 indexed taskId, uint256 indexed round, address indexed validator, address[] participants, uint16[] scores)
ValidatorSlashed(uint256 indexed taskId, uint256 indexed round, address indexed validator, address challenger, uint8 fault, uint256 slashed, uint256 bounty)
UpdateScoredOut(uint256 indexed taskId, uint256 indexed round, address indexed participant, address challenger, uint256 medianScore, uint256 slashed, uint256 bounty)
UnscoredUpdateDropped(uint256 indexed taskId, uint256 indexed round, address indexed participant, address caller)
Advertised(uint256 indexed taskId, uint256 indexed round, address indexed participant, uint256 index, uint256 pkX, uint256 pkY, bytes32 encryptionKey)
RoundSeedFixed(uint256 indexed taskId, uint256 indexed round, bytes32 seed, uint256 randomness)
SharesCommitted(uint256 indexed taskId, uint256 indexed round, address indexed participant, bytes32 selfSeedHash, bytes32 shareBundleRef, uint256 sampleCount, uint256 weight, bytes shareBundle)
Uploaded(uint256 indexed taskId, uint256 indexed round, address indexed participant, bytes32 maskedRoot, bytes32 blobRef)
TranscriptProposed(uint256 indexed taskId, uint256 indexed round, bytes32[] transcript)
"""  # noqa: E501

TASK_PARAMS_FIELDS = """
commitWindow uint32, revealWindow uint32, cohortCap uint16, sampleCap uint32, minStake uint128, token address,
mode uint8, rule uint8, scaleBits uint8, wordsPerLeaf uint8, clip uint32, minParticipants uint16,
maxSilentRounds uint16, numParams uint64, serverLrBps uint32, unbondingDelay uint40, allowlist bool,
missedRevealSlashBps uint16, silenceSlashBps uint16, violationSlashBps uint16, aggregatorSlashBps uint16,
bountyBps uint16, aggregatorFeeBps uint16, ruleParam uint16, proposeWindow uint32, challengeWindow uint32,
numRounds uint32,
aggregatorBond uint128, availabilityWindow uint32, rewardPerRound uint128, availabilityBond uint96,
neighbours uint8, threshold uint8, modelSpecHash bytes32
"""
"""`TaskParams` in struct (ABI) order, section 8.1."""

TASK_STATE_FIELDS = """
pool uint128, owedRewards uint128, currentRound uint24, spareRounds uint24, depth uint8, status uint8,
lastRewardPerWeight uint96, members uint32, createdAt uint40, sampled bool, scored bool, modelRoot bytes32,
modelBlobRef bytes32, requester address
"""
"""`TaskState`, section 8.4."""

SCORING_PARAMS_FIELDS = """
committee uint8, scoreWindow uint32, minScoreBps uint16, toleranceBps uint16, validatorSlashBps uint16,
validatorFeeBps uint16, validatorStake uint128
"""
"""`ScoringParams`, section 12.1."""
SCORE_ONE, NO_SCORE = 10_000, 65_535
"""Section 12.4."""

SECURE_ROUND_FIELDS = "digest bytes32, seed bytes32, randomness uint256, uploaded uint256, transcriptHash bytes32"
"""`SecureRound`, section 10.12."""


@dataclass(frozen=True)
class EventSpec:
    """One event signature: its name, and (type, indexed, name) of each parameter."""

    name: str
    params: tuple[tuple[str, bool, str], ...]

    @property
    def topic(self) -> bytes:
        """Topic 0: the keccak of the canonical signature."""
        return keccak(text=f"{self.name}({','.join(kind for kind, _, _ in self.params)})")


def parse_event(line: str) -> EventSpec:
    """Parse ``Name(type [indexed] name, ...)``."""
    match = re.fullmatch(r"(\w+)\((.*)\)", line.strip())
    if match is None:
        raise ValueError(f"not an event signature: {line}")
    params = []
    for part in match.group(2).split(","):
        words = part.split()
        params.append((words[0], len(words) == 3 and words[1] == "indexed", words[-1]))
    return EventSpec(match.group(1), tuple(params))


EVENT_SPECS = {spec.name: spec for spec in map(parse_event, filter(None, EVENTS.strip().splitlines()))}


def parse_fields(text: str) -> list[tuple[str, str]]:
    """``name type, ...`` as (name, type) pairs."""
    return [tuple(part.split()) for part in " ".join(text.split()).split(",")]  # type: ignore[misc]


def selector(signature: str) -> bytes:
    """The 4-byte function selector of a canonical signature."""
    return keccak(text=signature)[:4]


def word(value: int) -> bytes:
    """A uint256 as a 32-byte big-endian word."""
    return value.to_bytes(32, "big")


def address_key(address: str) -> int:
    """Addresses compare as integers (sections 9.1, 10.3)."""
    return int(address, 16)


# ---------------------------------------------------------------------------------------------------------------
# Sections 2 and 3: packing and the Merkle tree.


@dataclass(frozen=True)
class Layout:
    """A vector of P int32 coordinates packed into leaves of W words (section 2)."""

    num_params: int
    words_per_leaf: int

    @property
    def per_leaf(self) -> int:
        """C = 8W coordinates per leaf."""
        return 8 * self.words_per_leaf

    @property
    def real_leaves(self) -> int:
        """N = ceil(P / C)."""
        return -(-self.num_params // self.per_leaf)

    @property
    def depth(self) -> int:
        """D = ceil(log2(N)), 0 when N = 1."""
        return (self.real_leaves - 1).bit_length()


def leaf_hash(index: int, leaf: bytes) -> bytes:
    """``keccak(uint8(0) ‖ uint256(i) ‖ words)``."""
    return keccak(b"\x00" + word(index) + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    """``keccak(uint8(1) ‖ left ‖ right)``."""
    return keccak(b"\x01" + left + right)


def merkle_root(vector: np.ndarray, layout: Layout) -> bytes:
    """Root of section 3's tree over the vector, zero-extended to 2^D * C coordinates; lanes big-endian int32."""
    if len(vector) != layout.num_params:
        raise ValueError(f"vector of {len(vector)} coordinates, expected {layout.num_params}")
    size = layout.per_leaf << layout.depth
    padded = np.zeros(size, dtype=">i4")
    padded[: layout.num_params] = vector
    raw = padded.tobytes()
    leaf_bytes = 4 * layout.per_leaf
    level = [leaf_hash(i, raw[i * leaf_bytes:(i + 1) * leaf_bytes]) for i in range(size // layout.per_leaf)]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


# ---------------------------------------------------------------------------------------------------------------
# Section 6: blobs and the model-spec hash.


class BlobError(Exception):
    """A blob failed one of section 6's checks; the message names the blob and the check."""


@dataclass(frozen=True)
class Blob:
    """A checked blob: its reference, parsed header and int32 payload."""

    ref: bytes
    header: dict[str, Any]
    values: np.ndarray

    @property
    def root(self) -> bytes:
        """The header's root."""
        return bytes.fromhex(self.header["root"].removeprefix("0x"))


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON, keys sorted, no whitespace, non-ASCII characters written as themselves (section 6)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def blob_path(store: Path, ref: bytes) -> Path:
    """The directory store's ``<first 2 hex digits>/<other 62 hex digits>``."""
    digits = ref.hex()
    return store / digits[:2] / digits[2:]


def parse_blob(ref: bytes, data: bytes) -> Blob:
    """Section 6's checks, in order: sha256, magic, header JSON, payload length, root."""
    name = f"blob 0x{ref.hex()}"
    if hashlib.sha256(data).digest() != ref:
        raise BlobError(f"{name}: sha256 does not match the reference")
    if data[:4] != MAGIC:
        raise BlobError(f"{name}: bad magic")
    length = int.from_bytes(data[4:6], "big")
    raw_header = data[6:6 + length]
    try:
        header = json.loads(raw_header.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError) as error:
        raise BlobError(f"{name}: header is not UTF-8 JSON ({error})") from error
    problem = header_problem(header)
    if problem:
        raise BlobError(f"{name}: header JSON: {problem}")
    if canonical_json(header) != raw_header:
        raise BlobError(f"{name}: header JSON is not in canonical form")
    payload = data[6 + length:]
    num_params = int(header["numParams"])
    if len(payload) != 4 * num_params:
        raise BlobError(f"{name}: payload of {len(payload)} bytes, expected {4 * num_params}")
    values = np.frombuffer(payload, dtype="<i4").astype(np.int64)
    blob = Blob(ref, header, values)
    if merkle_root(values, Layout(num_params, int(header["wordsPerLeaf"]))) != blob.root:
        raise BlobError(f"{name}: recomputed root differs from the header's")
    return blob


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object with no key twice."""
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("duplicate key")
    return dict(pairs)


def header_problem(header: Any) -> str:
    """What makes a parsed header invalid (section 6: seven keys, and ``data`` in a model blob that carries its task's
    preprocessing; version 1, a known kind, valid shapes and data), or ''."""
    keys = set(header) if isinstance(header, dict) else set()
    if not isinstance(header, dict) or keys - {"data"} != HEADER_KEYS:
        return f"keys are {sorted(header) if isinstance(header, dict) else header!r}"
    if header["version"] != 1 or header["kind"] not in KINDS:
        return f"version {header['version']!r}, kind {header['kind']!r}"
    if "data" in header and (header["kind"] != "model" or data_problem(header["data"])):
        return f"data {header['data']!r} ({data_problem(header['data']) or 'only a model blob carries data'})"
    if not re.fullmatch(r"0x[0-9a-f]{64}", str(header["root"])):
        return f"root {header['root']!r}"
    shapes = header["shapes"]
    if not isinstance(shapes, list) or not all(isinstance(s, list) and len(s) == 2 for s in shapes):
        return f"shapes {shapes!r}"
    names = [name for name, _ in shapes]
    if not all(isinstance(n, str) and n and n.isprintable() for n in names) or len(set(names)) != len(names):
        return f"tensor names {names!r}"
    dims = [d for _, ds in shapes for d in (ds if isinstance(ds, list) else [None])]
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
        return f"dims {dims!r}"
    if sum(int(np.prod(ds, dtype=object)) for _, ds in shapes) != header["numParams"]:
        return "shapes do not sum to numParams"
    return ""


def data_problem(data: Any) -> str:
    """What makes a model blob's ``data`` (the task's declared preprocessing, section 6) invalid, or ''."""
    if not isinstance(data, dict) or set(data) != DATA_KEYS:
        return "not an object of features, normalization, mean, scale, missing"
    lists = [data["features"], data["mean"], data["scale"]]
    if not all(isinstance(items, list) and all(isinstance(item, str) for item in items) for items in lists):
        return "features, mean and scale must be lists of strings"
    features, mean, scale = lists
    if not all(name and name.isprintable() for name in features) or len(set(features)) != len(features):
        return "feature names must be distinct, non-empty and printable"
    for text in mean + scale:  # a number: the shortest decimal that reads back as the same double, as repr spells it
        if not re.fullmatch(r"-?\d+\.\d+|-?\d(\.\d+)?e[+-]\d{2,3}", text) or repr(float(text)) != text:
            return f"{text!r} is not a number in canonical form"
    if data["missing"] not in ("refuse", "mean"):
        return f"missing {data['missing']!r}"
    if data["normalization"] == "none":
        return "" if not mean and not scale and data["missing"] == "refuse" else "none takes no statistics"
    if data["normalization"] != "standardize":
        return f"normalization {data['normalization']!r}"
    if not mean or len(scale) != len(mean) or (features and len(features) != len(mean)):
        return "standardize needs one mean and one scale per feature"
    return "" if all(float(text) > 0 for text in scale) else "every scale must be > 0"


def read_blob(store: Path, ref: bytes) -> Blob:
    """Fetch a blob from the directory store and check it."""
    path = blob_path(store, ref)
    if not path.is_file():
        raise BlobError(f"blob 0x{ref.hex()}: not in the store ({path})")
    return parse_blob(ref, path.read_bytes())


def encode_blob(header: dict[str, Any], values: np.ndarray) -> bytes:
    """``"FCB1" ‖ uint16 H ‖ header ‖ payload`` (section 6)."""
    raw = canonical_json(header)
    return MAGIC + len(raw).to_bytes(2, "big") + raw + np.asarray(values, dtype="<i4").tobytes()


def model_spec_hash(header: dict[str, Any]) -> bytes:
    """keccak of the header JSON with ``root`` removed, serialized like a header (section 6)."""
    return keccak(canonical_json({key: value for key, value in header.items() if key != "root"}))


# ---------------------------------------------------------------------------------------------------------------
# Section 4 (and 10.9): the aggregation rules in integers.


def tdiv(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Division truncating toward zero (Solidity's signed ``/``), for a positive denominator."""
    quotient = np.abs(numerator) // denominator
    return np.where(numerator < 0, -quotient, quotient)


def apply_step(previous: np.ndarray, centers: np.ndarray, server_lr_bps: int) -> np.ndarray:
    """Every rule's tail: ``g' = clamp(g + tdiv(C * lr, 10000), int32)``."""
    return np.clip(previous + tdiv(centers * server_lr_bps, BPS), INT32_MIN, INT32_MAX)


def apply_average(previous: np.ndarray, sums: np.ndarray, total_weight: int, server_lr_bps: int) -> np.ndarray:
    """Rule 0 from the weighted sums: ``C = tdiv(S, Wt)``, then the tail."""
    return apply_step(previous, tdiv(sums, total_weight), server_lr_bps)


def aggregate(rule: int, rule_param: int, previous: np.ndarray, updates: Sequence[np.ndarray],
              weights: Sequence[int], server_lr_bps: int) -> np.ndarray:
    """Rule ``rule`` of section 4 over the included updates (weights already capped)."""
    if rule == 0:
        sums = np.zeros(len(previous), dtype=np.int64)
        for update, weight in zip(updates, weights, strict=True):
            sums += np.int64(weight) * update
        return apply_average(previous, sums, sum(weights), server_lr_bps)
    values = np.sort(np.stack([np.asarray(update, dtype=np.int64) for update in updates]), axis=0)
    n = len(updates)
    if rule == 1:
        middle = values[n // 2] if n % 2 else tdiv(values[n // 2 - 1] + values[n // 2], 2)
        return apply_step(previous, middle, server_lr_bps)
    if rule == 2:
        k = n * rule_param // BPS
        return apply_step(previous, tdiv(values[k:n - k].sum(axis=0), n - 2 * k), server_lr_bps)
    raise ValueError(f"no rule {rule} in section 4")


# ---------------------------------------------------------------------------------------------------------------
# Section 10: secure-mode derivations.

TAGS = {name: keccak(text=f"fedchain.secagg.v1.{name}")
        for name in ("round-seed", "ring", "self-seed", "pair-mask", "share-key")}


def in_cohort(seed: int, members: int, cohort_cap: int, member: str) -> bool:
    """``Cohort.includes`` of 8.2: ``uint256(keccak(abi.encode(uint160 seed, address a))) % members < cohortCap``."""
    return int.from_bytes(keccak(encode(["uint160", "address"], [seed, member])), "big") % members < cohort_cap


def advertise_digest(adverts: Iterable[dict[str, Any]]) -> bytes:
    """The running digest of 10.2 over the advertisements in index order, from 32 zero bytes."""
    digest = bytes(32)
    for advert in adverts:
        digest = keccak(encode(["bytes32", "address", "uint256", "uint256", "bytes32"],
                               [digest, advert["participant"], advert["pkX"], advert["pkY"],
                                advert["encryptionKey"]]))
    return digest


def round_seed(chain_id: int, coordinator: str, task_id: int, round: int, digest: bytes, randomness: int) -> bytes:
    """``roundSeed`` of 10.4."""
    return keccak(encode(["bytes32", "uint256", "address", "uint256", "uint256", "bytes32", "uint256"],
                         [TAGS["round-seed"], chain_id, coordinator, task_id, round, digest, randomness]))


def self_seed_hash(seed: int) -> bytes:
    """``selfSeedHash`` of 10.4."""
    return keccak(encode(["bytes32", "uint256"], [TAGS["self-seed"], seed]))


def ring_order(seed: bytes, n: int) -> list[int]:
    """Fisher-Yates over advertise indices keyed by the round seed (10.5)."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int.from_bytes(keccak(encode(["bytes32", "bytes32", "uint256"], [TAGS["ring"], seed, i])), "big") % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def neighbours(seed: bytes, n: int, k: int) -> dict[int, set[int]]:
    """Each advertise index's neighbours in the round's graph (10.5)."""
    positions = {member: position for position, member in enumerate(ring_order(seed, n))}
    graph: dict[int, set[int]] = {a: set() for a in range(n)}
    for a in range(n):
        for b in range(n):
            distance = abs(positions[a] - positions[b])
            if a != b and (n - 1 <= k or min(distance, n - distance) <= k // 2):
                graph[a].add(b)
    return graph


def mask_stream(key: bytes, length: int) -> np.ndarray:
    """``m(K)``: ChaCha20 with a zero nonce and a counter from 0, as little-endian uint64 per coordinate (10.3)."""
    encryptor = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    return np.frombuffer(encryptor.update(bytes(8 * length)), dtype="<u8").astype(np.uint64)


def self_mask_key(seed: int) -> bytes:
    """``selfMaskKey(b)``: b as 32 big-endian bytes."""
    return word(seed)


def pair_mask_key(seed: bytes, point: tuple[int, int], a: str, b: str) -> bytes:
    """``pairMaskKey(u, v)`` from the pair's Diffie-Hellman point (10.3)."""
    lo, hi = sorted((a, b), key=address_key)
    return keccak(encode(["bytes32", "bytes32", "uint256", "uint256", "address", "address"],
                         [TAGS["pair-mask"], seed, point[0], point[1], lo, hi]))


def public_key(secret: int) -> tuple[int, int]:
    """``secret * G`` on BN254 G1."""
    point = multiply(G1, secret)
    return int(point[0]), int(point[1])


def diffie_hellman(secret: int, public: tuple[int, int]) -> tuple[int, int]:
    """``secret * public`` on BN254 G1."""
    point = (FQ(public[0]), FQ(public[1]))
    if not is_on_curve(point, bn128.b):
        raise ValueError("public key not on the curve")
    shared = multiply(point, secret)
    return int(shared[0]), int(shared[1])


def decode_masked(values: np.ndarray, num_params: int) -> np.ndarray:
    """A masked blob's 2P int32 halves (high half first) as P uint64 residues (sections 6, 10.3)."""
    halves = values.astype(np.int64).reshape(num_params, 2) & 0xFFFFFFFF
    return ((halves[:, 0].astype(np.uint64) << np.uint64(32)) | halves[:, 1].astype(np.uint64))


# ---------------------------------------------------------------------------------------------------------------
# Reading the chain.


@dataclass(frozen=True)
class Log:
    """A decoded event: its arguments and where it was logged."""

    name: str
    args: dict[str, Any]
    block: int
    index: int
    tx: bytes


class Chain:
    """Logs, views and calldata of one coordinator, over JSON-RPC."""

    def __init__(self, w3: Web3 | str, coordinator: str) -> None:
        self.w3 = Web3(Web3.HTTPProvider(w3)) if isinstance(w3, str) else w3
        self.coordinator = to_checksum_address(coordinator)
        self.chain_id = int(self.w3.eth.chain_id)

    def logs(self, name: str, *indexed: int) -> list[Log]:
        """The coordinator's ``name`` events whose leading indexed uint256 topics equal ``indexed``."""
        spec = EVENT_SPECS[name]
        topics = [spec.topic, *(word(value) for value in indexed)]
        raw = self.w3.eth.get_logs({"address": self.coordinator, "fromBlock": 0, "toBlock": "latest",
                                    "topics": ["0x" + topic.hex() for topic in topics]})
        logs = [self._decode(spec, entry) for entry in raw]
        return sorted(logs, key=lambda log: (log.block, log.index))

    @staticmethod
    def _decode(spec: EventSpec, entry: Any) -> Log:
        args: dict[str, Any] = {}
        topics = list(entry["topics"][1:])
        data_types = [kind for kind, indexed, _ in spec.params if not indexed]
        data = iter(decode(data_types, bytes(entry["data"])))
        for kind, indexed, name in spec.params:
            args[name] = decode([kind], bytes(topics.pop(0)))[0] if indexed else next(data)
            if kind == "address":
                args[name] = to_checksum_address(args[name])
        return Log(spec.name, args, int(entry["blockNumber"]), int(entry["logIndex"]),
                   bytes(entry["transactionHash"]))

    def call(self, signature: str, arg_types: list[str], args: list[Any], result_types: list[str]) -> tuple:
        """``eth_call`` a view by its canonical signature."""
        data = selector(signature) + encode(arg_types, args)
        raw = self.w3.eth.call({"to": self.coordinator, "data": "0x" + data.hex()})
        return decode(result_types, bytes(raw))

    def struct(self, name: str, fields: str, task_id: int, *more: int) -> dict[str, Any]:
        """A view returning one static struct, decoded field by field."""
        pairs = parse_fields(fields)
        arg_types = ["uint256"] * (1 + len(more))
        signature = f"{name}({','.join(arg_types)})"
        values = self.call(signature, arg_types, [task_id, *more], [kind for _, kind in pairs])
        return dict(zip([name for name, _ in pairs], values, strict=True))

    def calldata(self, tx: bytes, signature: str, types: list[str]) -> tuple | None:
        """The arguments of a direct call to the coordinator, or None if the transaction is not one."""
        transaction = self.w3.eth.get_transaction(tx)
        data = bytes(transaction["input"])
        if transaction["to"] is None or to_checksum_address(transaction["to"]) != self.coordinator:
            return None
        if data[:4] != selector(signature):
            return None
        return decode(types, data[4:])


# ---------------------------------------------------------------------------------------------------------------
# The audit.


@dataclass
class RoundAudit:
    """What the auditor found for one round."""

    round: int
    status: str  # "finalized", "failed" or "open"
    anchored_root: bytes | None = None
    recomputed_root: bytes | None = None
    included: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    model: np.ndarray | None = field(default=None, repr=False)
    sampled_from: int = 0  # members when a sampled round opened (8.2); 0 when every member could enter

    @property
    def verified(self) -> bool:
        """A finalized round whose anchored root is the recomputed one, with nothing else wrong."""
        return self.status == "finalized" and not self.problems and self.anchored_root == self.recomputed_root


@dataclass
class TaskAudit:
    """What the auditor found for a task."""

    task_id: int
    mode: int
    model_spec_hash: bytes | None = None
    rounds: list[RoundAudit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Every finalized round verified and no task-level problem."""
        return not self.problems and all(r.verified for r in self.rounds if r.status != "failed")


class Auditor:
    """Recomputes every round of one task (sections 4-10)."""

    def __init__(self, w3: Web3 | str, coordinator: str, task_id: int, store: Path | str) -> None:
        self.chain = Chain(w3, coordinator)
        self.task_id = task_id
        self.store = Path(store)
        self.params = self.chain.struct("taskParams", TASK_PARAMS_FIELDS, task_id)
        self.layout = Layout(int(self.params["numParams"]), int(self.params["wordsPerLeaf"]))
        self.initial_header: dict[str, Any] = {}  # the initial model blob's, once read
        self.scoring = (self.chain.struct("scoringParams", SCORING_PARAMS_FIELDS, task_id)
                        if self.chain.struct("taskState", TASK_STATE_FIELDS, task_id)["scored"] else None)

    # -- task level ------------------------------------------------------------------------------------------

    def audit(self) -> TaskAudit:
        """Audit the task and every round that has opened."""
        report = TaskAudit(self.task_id, int(self.params["mode"]))
        (created,) = self.chain.logs("TaskCreated", self.task_id)
        model = self._initial_model(created.args, report)
        if model is None:
            return report
        for opened in self.chain.logs("RoundOpened", self.task_id):
            audit = self._audit_round(int(opened.args["round"]), model)
            report.rounds.append(audit)
            if audit.status == "finalized":
                model = self._next_model(audit, model)
        self._check_task_state(report)
        return report

    def _initial_model(self, created: dict[str, Any], report: TaskAudit) -> Blob | None:
        """The initial blob, checked against TaskCreated, with the model-spec hash recomputed (section 6)."""
        try:
            blob = read_blob(self.store, created["modelBlobRef"])
        except BlobError as error:
            report.problems.append(f"initial model: {error}")
            return None
        report.model_spec_hash = model_spec_hash(blob.header)
        self.initial_header = blob.header
        expected = {"modelSpecHash (TaskCreated)": created["modelSpecHash"],
                    "modelSpecHash (taskParams)": self.params["modelSpecHash"]}
        for what, value in expected.items():
            if value != report.model_spec_hash:
                report.problems.append(f"{what} 0x{value.hex()} != recomputed 0x{report.model_spec_hash.hex()}")
        if blob.root != created["modelRoot"]:
            report.problems.append("initial blob's root differs from TaskCreated.modelRoot")
        report.problems += self._model_header_problems(blob, "initial model")
        return blob

    def _model_header_problems(self, blob: Blob, what: str) -> list[str]:
        """A model blob's header must describe the task's vector (section 6), and carry the initial blob's ``data``."""
        expected = {"version": 1, "kind": "model", "numParams": self.layout.num_params,
                    "scaleBits": int(self.params["scaleBits"]), "wordsPerLeaf": self.layout.words_per_leaf,
                    "shapes": self.initial_header["shapes"], "data": self.initial_header.get("data")}
        return [f"{what}: header {key} = {blob.header.get(key)!r}, expected {value!r}"
                for key, value in expected.items() if blob.header.get(key) != value]

    def _next_model(self, audit: RoundAudit, previous: Blob) -> Blob:
        """The finalized round's model blob; if it cannot be read, the recomputed model stands in for it (and if
        that is missing too, the round is unverified and the previous model is carried on)."""
        (final,) = self.chain.logs("RoundFinalized", self.task_id, audit.round)
        try:
            blob = read_blob(self.store, final.args["modelBlobRef"])
        except BlobError as error:
            audit.problems.append(f"model: {error}")
            if audit.model is None or audit.recomputed_root is None:
                return previous
            header = {**self.initial_header, "root": "0x" + audit.recomputed_root.hex()}
            return Blob(final.args["modelBlobRef"], header, audit.model)
        audit.problems += self._model_header_problems(blob, f"model of round {audit.round}")
        if audit.model is not None and not np.array_equal(blob.values, audit.model):
            audit.problems.append(f"model blob of round {audit.round} differs from the recomputed model")
        return blob

    def _check_task_state(self, report: TaskAudit) -> None:
        """``taskState``'s model is the last finalized one (or the initial one)."""
        state = self.chain.struct("taskState", TASK_STATE_FIELDS, self.task_id)
        (created,) = self.chain.logs("TaskCreated", self.task_id)
        model = (created.args["modelRoot"], created.args["modelBlobRef"])
        for audit in report.rounds:
            if audit.status == "finalized":
                (final,) = self.chain.logs("RoundFinalized", self.task_id, audit.round)
                model = (final.args["modelRoot"], final.args["modelBlobRef"])
        if (state["modelRoot"], state["modelBlobRef"]) != model:
            report.problems.append("taskState's model is not the last finalized one")

    # -- round level -----------------------------------------------------------------------------------------

    def _audit_round(self, round: int, previous: Blob) -> RoundAudit:
        finalized = self.chain.logs("RoundFinalized", self.task_id, round)
        failed = self.chain.logs("RoundFailed", self.task_id, round)
        status = "finalized" if finalized else "failed" if failed else "open"
        audit = RoundAudit(round, status, anchored_root=finalized[0].args["modelRoot"] if finalized else None)
        self._check_cohort(audit)
        if status == "failed":
            return audit
        try:
            if self.params["mode"] == 0:
                model, weight = self._plain_aggregate(round, previous, audit)
            else:
                model, weight = self._secure_aggregate(round, previous, audit)
        except (BlobError, ValueError) as error:
            audit.problems.append(str(error))
            return audit
        audit.model = model
        audit.recomputed_root = merkle_root(model, self.layout)
        if finalized:
            self._check_finalized(finalized[0].args, model, weight, previous, audit)
        return audit

    def _check_cohort(self, audit: RoundAudit) -> None:
        """In a sampled round (8.2) only the cohort's members entered (plain: committed; secure: advertised)."""
        sampled = self.chain.logs("CohortSampled", self.task_id, audit.round)
        if not sampled:
            return
        audit.sampled_from = members = int(sampled[0].args["members"])
        seed, cap = int(sampled[0].args["seed"]), int(self.params["cohortCap"])
        entered = self.chain.logs("Committed" if self.params["mode"] == 0 else "Advertised", self.task_id, audit.round)
        audit.problems += [f"{log.args['participant']} entered round {audit.round} outside its sampled cohort"
                           for log in entered if not in_cohort(seed, members, cap, log.args["participant"])]

    def _check_finalized(self, final: dict[str, Any], model: np.ndarray, total_weight: int, previous: Blob,
                         audit: RoundAudit) -> None:
        """The anchored root and blob, and the reward arithmetic of 8.5."""
        proposals = self.chain.logs("Proposed", self.task_id, audit.round)
        if not proposals or (proposals[-1].args["root"], proposals[-1].args["blobRef"]) != (
                final["modelRoot"], final["modelBlobRef"]):
            audit.problems.append("RoundFinalized does not carry the round's last proposal")
        if final["modelRoot"] != audit.recomputed_root:
            audit.problems.append(f"anchored root 0x{final['modelRoot'].hex()} != recomputed "
                                  f"0x{audit.recomputed_root.hex()}")
        header = {**self.initial_header, "root": "0x" + audit.recomputed_root.hex()}
        canonical = hashlib.sha256(encode_blob(header, model)).digest()
        if canonical != final["modelBlobRef"]:
            audit.problems.append(f"anchored blobRef 0x{final['modelBlobRef'].hex()} is not the canonical blob "
                                  f"0x{canonical.hex()}")
        reward = int(self.params["rewardPerRound"])
        fee = reward * int(self.params["aggregatorFeeBps"]) // BPS
        if self.scoring is None:
            per_weight = (reward - fee) // total_weight
            expected = (per_weight, fee, reward - fee - per_weight * total_weight)
        else:
            expected = self._scored_rewards(audit, reward, fee)
        anchored = (final["rewardPerWeight"], final["aggregatorFee"], final["remainderToPool"])
        if anchored != expected:
            audit.problems.append(f"rewards {anchored} != recomputed {expected}")

    # -- contribution scores (section 12) --------------------------------------------------------------------

    def medians(self, round: int) -> dict[str, int]:
        """Each scored update's lower median of the scores the round's ScoresRevealed events give it (12.4)."""
        given: dict[str, list[int]] = {}
        for log in self.chain.logs("ScoresRevealed", self.task_id, round):
            for participant, score in zip(log.args["participants"], log.args["scores"], strict=True):
                if score != NO_SCORE:
                    given.setdefault(to_checksum_address(participant), []).append(int(score))
        return {participant: sorted(scores)[(len(scores) - 1) // 2] for participant, scores in given.items()}

    def _paid_reveals(self, round: int) -> int:
        """The reveals of ``round`` that earn its fee (12.5, 12.6): those whose validator was not slashed (for any
        round) between its reveal and the round's finalization."""
        (final,) = self.chain.logs("RoundFinalized", self.task_id, round)
        slashes = self.chain.logs("ValidatorSlashed", self.task_id)
        return sum(not any(slash.args["validator"] == log.args["validator"]
                           and (log.block, log.index) < (slash.block, slash.index) < (final.block, final.index)
                           for slash in slashes)
                   for log in self.chain.logs("ScoresRevealed", self.task_id, round))

    def _scored_rewards(self, audit: RoundAudit, reward: int, fee: int) -> tuple[int, int, int]:
        """Section 12.6's shares of a finalized scored round, after checking every scored-out update's median
        (12.4) against the scores revealed: (reward per point, the aggregator's fee, the remainder)."""
        assert self.scoring is not None
        medians = self.medians(audit.round)
        for log in self.chain.logs("UpdateScoredOut", self.task_id, audit.round):
            median = medians.get(log.args["participant"])
            if median is None or median != log.args["medianScore"] or median >= self.scoring["minScoreBps"]:
                audit.problems.append(f"{log.args['participant']} scored out at {log.args['medianScore']}, but its "
                                      f"median is {median} (threshold {self.scoring['minScoreBps']})")
        reveals = self._paid_reveals(audit.round)
        per_validator = reward * int(self.scoring["validatorFeeBps"]) // BPS // reveals if reveals else 0
        points = len(audit.included) * SCORE_ONE
        per_point = (reward - fee - per_validator * reveals) // points
        return per_point, fee, reward - fee - per_validator * reveals - per_point * points

    def _weight(self, sample_count: int) -> int:
        return min(sample_count, int(self.params["sampleCap"]))

    def _input_blob(self, ref: bytes, kind: str, root: bytes, layout: Layout, owner: str) -> Blob:
        """An input's blob, checked, with the header section 6 expects and the root its owner put on chain."""
        blob = read_blob(self.store, ref)
        shapes = self.initial_header["shapes"] if kind == "update" else [["masked", [self.layout.num_params, 2]]]
        expected = {"version": 1, "kind": kind, "numParams": layout.num_params, "shapes": shapes,
                    "wordsPerLeaf": layout.words_per_leaf, "scaleBits": int(self.params["scaleBits"])}
        for key, value in expected.items():
            if blob.header.get(key) != value:
                raise BlobError(f"{kind} of {owner}: header {key} = {blob.header.get(key)!r}, expected {value!r}")
        if blob.root != root:
            raise BlobError(f"{kind} of {owner}: blob root differs from the root on chain")
        return blob

    def _removed(self, round: int) -> set[str]:
        """Participants of ``UpdateDropped``, ``InputUnavailable``, ``UpdateScoredOut`` and ``UnscoredUpdateDropped``
        events of the round (8.4, 12.4)."""
        dropped = {log.args["participant"] for log in self.chain.logs("UpdateDropped", self.task_id, round)}
        scored_out = {log.args["participant"] for event in ("UpdateScoredOut", "UnscoredUpdateDropped")
                      for log in self.chain.logs(event, self.task_id, round)}
        return dropped | scored_out | {log.args["owner"]
                                       for log in self.chain.logs("InputUnavailable", self.task_id, round)}

    # -- plain mode (sections 4, 5, 8.4) ---------------------------------------------------------------------

    def _plain_aggregate(self, round: int, previous: Blob, audit: RoundAudit) -> tuple[np.ndarray, int]:
        removed = self._removed(round)
        reveals = [log for log in self.chain.logs("Revealed", self.task_id, round)
                   if log.args["participant"] not in removed]
        reveals.sort(key=lambda log: address_key(log.args["participant"]))
        committed = {log.args["participant"]: log for log in self.chain.logs("Committed", self.task_id, round)}
        updates, weights = [], []
        for log in reveals:
            args = log.args
            audit.included.append(args["participant"])
            if args["weight"] != self._weight(args["sampleCount"]):
                audit.problems.append(f"{args['participant']}: weight {args['weight']} != min(n, sampleCap)")
            audit.problems += self._commitment_problems(round, log, committed.get(args["participant"]))
            blob = self._input_blob(args["blobRef"], "update", args["root"], self.layout, args["participant"])
            updates.append(blob.values)
            weights.append(self._weight(args["sampleCount"]))
        if not updates:
            raise ValueError(f"round {round}: no included update")
        return aggregate(int(self.params["rule"]), int(self.params["ruleParam"]), previous.values, updates, weights,
                         int(self.params["serverLrBps"])), sum(weights)

    def commit_hash(self, round: int, participant: str, root: bytes, sample_count: int, salt: bytes) -> bytes:
        """Section 5's commitment for this chain, coordinator and task."""
        return keccak(encode(["uint256", "address", "uint256", "uint256", "address", "bytes32", "uint256", "bytes32"],
                             [self.chain.chain_id, self.chain.coordinator, self.task_id, round, participant, root,
                              sample_count, salt]))

    def _commitment_problems(self, round: int, revealed: Log, committed: Log | None) -> list[str]:
        """Recheck a reveal against its commitment, from the two transactions' calldata (section 5)."""
        who = revealed.args["participant"]
        if committed is None:
            return [f"{who}: revealed without a Committed event"]
        commit = self.chain.calldata(committed.tx, "commit(uint256,bytes32)", ["uint256", "bytes32"])
        reveal = self.chain.calldata(revealed.tx, "reveal(uint256,bytes32,uint256,bytes32,bytes32)",
                                     ["uint256", "bytes32", "uint256", "bytes32", "bytes32"])
        if commit is None or reveal is None:
            return [f"{who}: commit or reveal not a direct call to the coordinator (needs a call trace)"]
        _, root, sample_count, salt, blob_ref = reveal
        args = revealed.args
        if (root, sample_count, blob_ref) != (args["root"], args["sampleCount"], args["blobRef"]):
            return [f"{who}: reveal calldata differs from its Revealed event"]
        if self.commit_hash(round, who, root, sample_count, salt) != commit[1]:
            return [f"{who}: commitment does not match the revealed root, sample count and salt"]
        return []

    # -- secure mode (section 10) ----------------------------------------------------------------------------

    def _secure_aggregate(self, round: int, previous: Blob, audit: RoundAudit) -> tuple[np.ndarray, int]:
        adverts = [log.args for log in self.chain.logs("Advertised", self.task_id, round)]
        adverts.sort(key=lambda args: args["index"])
        if [a["index"] for a in adverts] != list(range(len(adverts))):
            raise ValueError(f"round {round}: advertise indices are not 0..n-1")
        secure = self.chain.struct("secureRound", SECURE_ROUND_FIELDS, self.task_id, round)
        seed = self._check_seed(round, adverts, secure, audit)
        graph = neighbours(seed, len(adverts), int(self.params["neighbours"]))
        index_of = {a["participant"]: a["index"] for a in adverts}
        commits = self._commitments(round, adverts, graph, audit)
        removed = self._removed(round)
        uploads = {log.args["participant"]: log.args for log in self.chain.logs("Uploaded", self.task_id, round)
                   if log.args["participant"] not in removed}
        survivors = sorted(uploads, key=address_key)
        dropped = sorted(set(commits) - set(uploads), key=address_key)
        audit.included = survivors
        bitmap = sum(1 << index_of[p] for p in survivors)
        if secure["uploaded"] != bitmap:
            audit.problems.append(f"secureRound.uploaded {secure['uploaded']:#x} != U3's bitmap {bitmap:#x}")
        transcript = self._transcript(round, secure, len(commits), audit)
        seeds, keys = transcript[:len(survivors)], transcript[len(survivors):]
        alive = {index_of[p] for p in survivors}
        self._check_transcript(survivors, dropped, seeds, keys, commits, adverts, index_of, graph, alive)
        sums = self._unmask(seed, survivors, dropped, seeds, keys, uploads, adverts, index_of, graph)
        total_weight = sum(commits[p]["weight"] for p in survivors)
        bound = int(self.params["clip"]) * total_weight
        sums = np.clip(sums.view(np.int64), -bound, bound)
        return apply_average(previous.values, sums, total_weight, int(self.params["serverLrBps"])), total_weight

    def _check_seed(self, round: int, adverts: list[dict[str, Any]], secure: dict[str, Any],
                    audit: RoundAudit) -> bytes:
        """The advertise digest and the round seed (10.2, 10.4)."""
        digest = advertise_digest(adverts)
        if digest != secure["digest"]:
            audit.problems.append("advertise digest differs from secureRound.digest")
        (fixed,) = self.chain.logs("RoundSeedFixed", self.task_id, round)
        seed = round_seed(self.chain.chain_id, self.chain.coordinator, self.task_id, round, digest,
                          fixed.args["randomness"])
        if seed != fixed.args["seed"] or seed != secure["seed"]:
            audit.problems.append("round seed differs from RoundSeedFixed / secureRound")
        return seed

    def _commitments(self, round: int, adverts: list[dict[str, Any]], graph: dict[int, set[int]],
                     audit: RoundAudit) -> dict[str, dict[str, Any]]:
        """U2 with each member's SharesCommitted arguments; checks bundle references and receivers (10.6)."""
        index_of = {a["participant"]: a["index"] for a in adverts}
        commits = {}
        for log in self.chain.logs("SharesCommitted", self.task_id, round):
            args, who = log.args, log.args["participant"]
            commits[who] = args
            if hashlib.sha256(args["shareBundle"]).digest() != args["shareBundleRef"]:
                audit.problems.append(f"{who}: shareBundleRef is not the bundle's sha256")
            if args["weight"] != self._weight(args["sampleCount"]):
                audit.problems.append(f"{who}: weight {args['weight']} != min(n, sampleCap)")
            receivers = share_bundle_receivers(args["shareBundle"])
            expected = sorted((adverts[b]["participant"] for b in graph[index_of[who]]), key=address_key)
            if receivers != expected:
                audit.problems.append(f"{who}: share bundle receivers are not its neighbours")
        return commits

    def _transcript(self, round: int, secure: dict[str, Any], commits: int, audit: RoundAudit) -> list[int]:
        """The finalized proposal's transcript (the round's last ``TranscriptProposed``), checked against
        ``transcriptHash`` (10.8, 10.12)."""
        logs = self.chain.logs("TranscriptProposed", self.task_id, round)
        if not logs:
            raise ValueError(f"round {round}: no transcript on chain")
        words = list(logs[-1].args["transcript"])
        if len(words) != commits:
            audit.problems.append(f"transcript of {len(words)} words, |U2| = {commits}")
        if keccak(b"".join(words)) != secure["transcriptHash"]:
            audit.problems.append("transcript does not hash to secureRound.transcriptHash")
        return [int.from_bytes(w, "big") for w in words]

    @staticmethod
    def _check_transcript(survivors: list[str], dropped: list[str], seeds: list[int], keys: list[int],
                          commits: dict[str, dict[str, Any]], adverts: list[dict[str, Any]],
                          index_of: dict[str, int], graph: dict[int, set[int]], alive: set[int]) -> None:
        """Transcript validity (10.8); an invalid transcript makes every leaf provably wrong."""
        for who, seed in zip(survivors, seeds, strict=True):
            if seed >= curve_order or self_seed_hash(seed) != commits[who]["selfSeedHash"]:
                raise ValueError(f"transcript: self seed of {who} does not match its selfSeedHash")
        for who, key in zip(dropped, keys, strict=True):
            advert = adverts[index_of[who]]
            if graph[index_of[who]] & alive:
                if not 1 <= key < curve_order or public_key(key) != (advert["pkX"], advert["pkY"]):
                    raise ValueError(f"transcript: mask key of {who} does not match its public key")
            elif key != 0:
                raise ValueError(f"transcript: {who} has no surviving neighbour but a nonzero word")

    def _unmask(self, seed: bytes, survivors: list[str], dropped: list[str], seeds: list[int], keys: list[int],
                uploads: dict[str, dict[str, Any]], adverts: list[dict[str, Any]], index_of: dict[str, int],
                graph: dict[int, set[int]]) -> np.ndarray:
        """``S`` of 10.8: masked vectors less self masks and the pair masks of dropped neighbours, mod 2^64."""
        size = self.layout.num_params
        masked_layout = Layout(2 * size, 2 * self.layout.words_per_leaf)
        total = np.zeros(size, dtype=np.uint64)
        for who, self_seed in zip(survivors, seeds, strict=True):
            blob = self._input_blob(uploads[who]["blobRef"], "masked", uploads[who]["maskedRoot"], masked_layout,
                                    who)
            total += decode_masked(blob.values, size)
            total -= mask_stream(self_mask_key(self_seed), size)
        for v, key in zip(dropped, keys, strict=True):
            for u in survivors:
                if index_of[u] not in graph[index_of[v]]:
                    continue
                advert = adverts[index_of[u]]
                mask = mask_stream(pair_mask_key(seed, diffie_hellman(key, (advert["pkX"], advert["pkY"])), u, v),
                                   size)
                if address_key(u) < address_key(v):
                    total -= mask
                else:
                    total += mask
        return total


def share_bundle_receivers(bundle: bytes) -> list[str]:
    """The receivers of a share bundle: ``"FCS1" ‖ nonce(12) ‖ uint16 count ‖ count × (address ‖ 80 bytes)``
    (10.6), checked for shape and strictly ascending order."""
    if bundle[:4] != b"FCS1":
        raise ValueError("share bundle: bad magic")
    count = int.from_bytes(bundle[16:18], "big")
    if len(bundle) != 18 + 100 * count:
        raise ValueError(f"share bundle: {len(bundle)} bytes for {count} entries")
    receivers = [to_checksum_address(bundle[18 + 100 * i:38 + 100 * i]) for i in range(count)]
    if [address_key(r) for r in receivers] != sorted({address_key(r) for r in receivers}):
        raise ValueError("share bundle: receivers not strictly ascending")
    return receivers


def audit_task(w3: Web3 | str, coordinator: str, task_id: int, store: Path | str) -> TaskAudit:
    """Audit every round of a task; see :class:`Auditor`."""
    return Auditor(w3, coordinator, task_id, store).audit()
