"""Write tests/vectors/secure.json, the secure-mode vectors shared by pytest and forge (docs/protocol.md §10).

Run from the repository root: ``.venv/bin/python -m tests.vectors.make_secure_vectors``. Every input is fixed
(keys and seeds are keccak of labels, updates come from a seeded generator), so every run writes the same
bytes; tests/vectors/test_secure_vectors.py fails if the committed file drifts from what this produces, and
checks every vector against the independent reference in tests/secagg/reference.py.

forge parses JSON numbers above uint64 unreliably, so every larger integer is a 0x-prefixed 32-byte word
and every boolean is 0 or 1.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from fedchain.commit.encoding import to_hex
from fedchain.commit.keccak import keccak256
from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.curve import public_key, shared_point
from fedchain.secagg.derive import (
    advertise_digest,
    pair_mask_key,
    participant_record,
    round_seed,
    self_seed_hash,
    transcript_hash,
)
from fedchain.secagg.errors import RoundFailedError
from fedchain.secagg.graph import RingGraph, ring_positions
from fedchain.secagg.params import SecureParams
from fedchain.secagg.proofs import SecureFraudProof, SecureLeafContext, check_proof
from fedchain.secagg.roster import Commitment, Member, SecureRound
from fedchain.secagg.stream import keystream
from tests.secagg.cohort import Phase, address_of, seeded_parties
from tests.secagg.scenarios import ProofScenario, scenario

OUTPUT_PATH = Path(__file__).with_name("secure.json")
UPDATE_SEED = 20_250_101


def draw(label: str, modulus: int = 2**256) -> int:
    """A fixed pseudo-random integer named by ``label``."""
    return int.from_bytes(keccak256(b"fedchain.secure-vectors." + label.encode()), "big") % modulus


def word(value: int) -> str:
    return to_hex(value.to_bytes(32, "big"))


def chacha_vectors() -> list[dict[str, Any]]:
    """RFC 8439 appendix A.1 #1-#4 (zero nonce), then keys and counters across the 2^32 seam and near 2^64."""
    cases = [(bytes(32), 0), (bytes(32), 1), (bytes(31) + b"\x01", 1), (b"\x00\xff" + bytes(30), 2)]
    for k, counter in enumerate((3, 2**32 - 1, 2**32, 2**32 + 7, 2**40 + 12345, 2**63, 2**64 - 1)):
        cases.append((draw(f"chacha-key-{k}").to_bytes(32, "big"), counter))
    out = []
    for key, counter in cases:
        block = keystream(key, counter, 1)
        out.append({"key": to_hex(key), "counter": counter, "block": [to_hex(block[:32]), to_hex(block[32:])]})
    return out


def curve_vectors() -> dict[str, list[dict[str, Any]]]:
    secrets = [1, 2, GROUP_ORDER - 1, *(1 + draw(f"secret-{k}", GROUP_ORDER - 1) for k in range(4))]
    keys = [{"secret": word(s), "x": word(public_key(s)[0]), "y": word(public_key(s)[1])} for s in secrets]
    points = []
    for k in range(3):
        secret, peer = 1 + draw(f"dh-a-{k}", GROUP_ORDER - 1), public_key(1 + draw(f"dh-b-{k}", GROUP_ORDER - 1))
        x, y = shared_point(secret, peer)
        points.append(
            {"secret": word(secret), "peerX": word(peer[0]), "peerY": word(peer[1]), "x": word(x), "y": word(y)}
        )
    return {"keys": keys, "dh": points}


def derive_vectors() -> dict[str, list[dict[str, Any]]]:
    advertise, digest = [], bytes(32)
    for k in range(3):
        participant, point = address_of(k, b"advertise"), public_key(k + 2)
        encryption = draw(f"enc-{k}").to_bytes(32, "big")
        following = advertise_digest(digest, participant, point, encryption)
        advertise.append(
            {
                "previous": to_hex(digest),
                "participant": to_hex(participant),
                "pkX": word(point[0]),
                "pkY": word(point[1]),
                "encryptionKey": to_hex(encryption),
                "digest": to_hex(following),
            }
        )
        digest = following
    seeds = []
    for chain_id, task_id, round_index in ((31337, 1, 0), (1, 2**40, 99), (2**64 - 1, 2**64 - 1, 2**64 - 1)):
        coordinator, randomness = address_of(round_index % 1000, b"coordinator"), draw(f"randao-{task_id}")
        inputs = {"chain_id": chain_id, "task_id": task_id, "round": round_index, "advertise_digest": digest}
        seed = round_seed(coordinator=coordinator, randomness=randomness, **inputs)
        seeds.append(
            {
                "chainId": chain_id,
                "coordinator": to_hex(coordinator),
                "taskId": task_id,
                "round": round_index,
                "digest": to_hex(digest),
                "randomness": word(randomness),
                "seed": to_hex(seed),
            }
        )
    self_seeds = [
        {"seed": word(value), "hash": to_hex(self_seed_hash(value))}
        for value in (0, 1, GROUP_ORDER - 1, draw("self", GROUP_ORDER))
    ]
    pairs = []
    for k in range(3):
        point = public_key(5 + k)
        first, second = address_of(2 * k, b"pair"), address_of(2 * k + 1, b"pair")
        key = pair_mask_key(keccak256(bytes([k])), point, first, second)
        pairs.append(
            {
                "seed": to_hex(keccak256(bytes([k]))),
                "x": word(point[0]),
                "y": word(point[1]),
                "first": to_hex(first),
                "second": to_hex(second),
                "key": to_hex(key),
            }
        )
    records = []
    for k, (index, weight, root) in enumerate(((0, 1, bytes(32)), (255, 2**20, keccak256(b"root")))):
        point = public_key(11 + k)
        fields = {
            "index": index,
            "public": point,
            "self_seed_hash": keccak256(b"seed" + bytes([k])),
            "share_bundle_ref": keccak256(b"bundle" + bytes([k])),
            "weight": weight,
            "masked_root": root,
        }
        records.append(
            {
                "index": index,
                "pkX": word(point[0]),
                "pkY": word(point[1]),
                "selfSeedHash": to_hex(fields["self_seed_hash"]),
                "shareBundleRef": to_hex(fields["share_bundle_ref"]),
                "weight": weight,
                "maskedRoot": to_hex(root),
                "record": to_hex(participant_record(**fields)),
            }
        )
    transcripts = [
        {"words": [to_hex(w) for w in words], "hash": to_hex(transcript_hash(words))}
        for words in ([bytes(32)], [word_bytes(1), word_bytes(GROUP_ORDER - 1), bytes(32)])
    ]
    return {
        "advertise": advertise,
        "roundSeed": seeds,
        "selfSeed": self_seeds,
        "pairMask": pairs,
        "record": records,
        "transcript": transcripts,
    }


def word_bytes(value: int) -> bytes:
    return value.to_bytes(32, "big")


def ring_vectors() -> list[dict[str, Any]]:
    out = []
    for n, k in ((1, 2), (2, 2), (5, 4), (6, 4), (13, 4), (40, 6), (64, 16), (256, 12)):
        seed = keccak256(f"ring-{n}-{k}".encode())
        graph = RingGraph(seed, n, SecureParams(k, 2))
        out.append(
            {
                "seed": to_hex(seed),
                "n": n,
                "k": k,
                "positions": list(ring_positions(seed, n)),
                "neighbours": [list(graph.neighbours_of(i)) for i in range(n)] if n <= 40 else [],
            }
        )
    return out


def unmaskable_vectors() -> list[dict[str, Any]]:
    """Survivor sets for SecureAggregation.unmaskable, decided by SecureRound.check_unmaskable."""
    rng = np.random.default_rng(UPDATE_SEED)
    out = []
    for case in range(24):
        n = int(rng.integers(3, 41))
        half = int(rng.integers(1, 6))
        k, t = 2 * half, int(rng.integers(2, 2 * half + 1))
        seed = keccak256(f"unmaskable-{case}".encode())
        rate = (0.05, 0.2, 0.4, 0.6)[case % 4]
        alive = [i for i in range(n) if rng.random() > rate] or [0]
        advertised = tuple(Member(i, address_of(i, b"u"), (1, 2), bytes(32)) for i in range(n))
        committed = {m.address: Commitment(bytes(32), bytes(32), 1) for m in advertised}
        uploaded = {advertised[i].address: keccak256(bytes([i])) for i in alive}
        secure_round = SecureRound(seed, SecureParams(k, t), advertised, committed, uploaded)
        try:
            secure_round.check_unmaskable()
        except RoundFailedError:
            expected = 0
        else:
            expected = 1
        bitmap = sum(1 << i for i in alive)
        out.append({"seed": to_hex(seed), "n": n, "k": k, "t": t, "uploaded": word(bitmap), "expected": expected})
    return out


def params_vectors() -> list[dict[str, Any]]:
    cases = [
        (8, 5, 2, 2**31 - 1, 2**20, 256, ""),
        (2, 2, 1, 1, 1, 1, ""),
        (254, 254, 4, 2**43 - 1, 2**12, 256, ""),
        (3, 2, 2, 1, 1, 1, "neighbours"),
        (256, 2, 2, 1, 1, 1, "neighbours"),
        (0, 2, 2, 1, 1, 1, "neighbours"),
        (8, 1, 2, 1, 1, 1, "threshold"),
        (8, 9, 2, 1, 1, 1, "threshold"),
        (8, 5, 8, 1, 1, 1, "wordsPerLeaf"),
        (8, 5, 3, 1, 1, 1, "wordsPerLeaf"),
        (8, 5, 2, 2**43, 2**12, 256, "ringBound"),
        (8, 5, 2, 1, 1, 257, "ringBound"),
        (8, 5, 2, 0, 1, 1, "ringBound"),
    ]
    keys = ("neighbours", "threshold", "wordsPerLeaf", "clip", "sampleCap", "cohortCap", "invalid")
    return [dict(zip(keys, case, strict=True)) for case in cases]


def scenarios() -> list[tuple[str, ProofScenario]]:
    """Three rounds: cohort 12 with drops at every phase (W = 2), cohort 8 without drops (W = 1), and
    cohort 6 with one drop after commit (W = 4), over 70 parameters."""
    rng = np.random.default_rng(UPDATE_SEED)

    def updates(count: int) -> list[np.ndarray]:
        return [rng.integers(-(2**20), 2**20 + 1, size=70).astype(np.int32) for _ in range(count)]

    seed_a = keccak256(b"secure-vectors-a")
    parties = seeded_parties(updates(12), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], 2, b"round-a")
    order = RingGraph(seed_a, 12, SecureParams(4, 2)).order
    phases = {3: Phase.BEFORE_COMMIT, 4: Phase.BEFORE_COMMIT, 6: Phase.BEFORE_COMMIT, 7: Phase.BEFORE_COMMIT}
    phases |= {5: Phase.BEFORE_UPLOAD, 11: Phase.BEFORE_UPLOAD, 10: Phase.DURING_UNMASK}
    drops = {parties[order[p]].address: phase for p, phase in phases.items()}
    round_a = scenario(parties, SecureParams(4, 2), seed_a, drops=drops, server_lr_bps=7_000, clip=2**20)
    round_b = scenario(
        seeded_parties(updates(8), [1, 1, 2, 3, 5, 8, 13, 21], 3, b"round-b"),
        SecureParams(4, 3),
        keccak256(b"secure-vectors-b"),
        words_per_leaf=1,
        clip=2**20,
    )
    parties_c = seeded_parties(updates(6), [1000, 1, 999, 2, 998, 3], 3, b"round-c")
    round_c = scenario(
        parties_c,
        SecureParams(6, 3),
        keccak256(b"secure-vectors-c"),
        drops={parties_c[2].address: Phase.BEFORE_UPLOAD, parties_c[4].address: Phase.DURING_UNMASK},
        words_per_leaf=4,
        clip=2**20,
        server_lr_bps=100_000,
    )
    return [("a", round_a), ("b", round_b), ("c", round_c)]


def proof_vectors() -> list[dict[str, Any]]:
    out = []
    for name, case in scenarios():
        width = case.layout.width
        for leaf in sorted({0, 2 % width, width - 1}):
            out.append(proof_vector(f"{name}: honest, leaf {leaf}", *case.build(leaf)))
        wrong = case.model.copy()
        wrong[17] = wrong[17] + 1
        leaf = 17 // case.layout.coords_per_leaf
        out.append(proof_vector(f"{name}: coordinate 17 off by one", *case.build(leaf, wrong)))
        seed_flipped = list(case.transcript)
        seed_flipped[1] = word_bytes(int.from_bytes(seed_flipped[1], "big") ^ 1)
        out.append(proof_vector(f"{name}: a wrong self seed", *case.build(0, transcript=seed_flipped)))
        survivors = len(case.record.final.survivors())
        for position in range(survivors, len(case.transcript)):
            changed = list(case.transcript)
            value = int.from_bytes(changed[position], "big")
            changed[position] = word_bytes(value + 1 if value else 1)
            out.append(
                proof_vector(
                    f"{name}: dropped entry {position - survivors} changed", *case.build(1, transcript=changed)
                )
            )
    return out


def proof_vector(name: str, ctx: SecureLeafContext, proof: SecureFraudProof) -> dict[str, Any]:
    verdict = check_proof(ctx, proof)
    return {
        "name": name,
        "ctx": {
            "depth": ctx.depth,
            "wordsPerLeaf": ctx.words_per_leaf,
            "leafIndex": ctx.leaf_index,
            "previousRoot": to_hex(ctx.previous_root),
            "proposedRoot": to_hex(ctx.proposed_root),
            "serverLrBps": ctx.server_lr_bps,
            "clip": ctx.clip,
            "numParams": ctx.num_params,
            "roundSeed": to_hex(ctx.round_seed),
            "advertised": ctx.advertised,
            "neighbours": ctx.neighbours,
            "uploads": ctx.uploads,
            "commits": ctx.commits,
            "transcriptHash": to_hex(ctx.transcript_hash),
        },
        "previous": {
            "words": [to_hex(w) for w in proof.previous.words],
            "siblings": [to_hex(w) for w in proof.previous.siblings],
        },
        "proposed": {
            "words": [to_hex(w) for w in proof.proposed.words],
            "siblings": [to_hex(w) for w in proof.proposed.siblings],
        },
        "survivors": [to_hex(w) for w in proof.survivors],
        "dropped": [to_hex(w) for w in proof.dropped],
        "differs": int(verdict.differs),
        "participants": [to_hex(a) for a in verdict.participants],
        "records": [to_hex(r) for r in verdict.records],
    }


def compute_vectors() -> dict[str, Any]:
    """Every secure-mode vector, in the JSON schema both test suites read."""
    return {
        "chacha": chacha_vectors(),
        "curve": curve_vectors(),
        "derive": derive_vectors(),
        "ring": ring_vectors(),
        "unmaskable": unmaskable_vectors(),
        "params": params_vectors(),
        "proofs": proof_vectors(),
    }


def render(vectors: dict[str, Any]) -> str:
    """Serialize vectors the way the committed file is written."""
    return json.dumps(vectors, indent=1) + "\n"


if __name__ == "__main__":
    OUTPUT_PATH.write_text(render(compute_vectors()), encoding="utf-8")
