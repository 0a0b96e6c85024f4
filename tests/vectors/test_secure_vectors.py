"""The committed secure vectors equal a fresh generation, and every one agrees with the independent reference
(tests/secagg/reference.py). contracts/test/secure/SecureVectors.t.sol checks the same file against Solidity."""

import json
from pathlib import Path
from typing import Any

import pytest

from fedchain.secagg.errors import SecureParamsError
from fedchain.secagg.params import SecureParams, check_ring_bound, check_secure_leaf_width
from fedchain.secagg.proofs import LeafOpening, SecureFraudProof, SecureLeafContext, check_proof
from tests.secagg import reference
from tests.vectors import make_secure_vectors

PATH = Path(__file__).with_name("secure.json")


def hex_bytes(text: str) -> bytes:
    assert text.startswith("0x") and text == text.lower()
    return bytes.fromhex(text[2:])


def hex_int(text: str) -> int:
    return int.from_bytes(hex_bytes(text), "big")


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return dict(json.loads(PATH.read_text(encoding="utf-8")))


def test_committed_file_matches_a_fresh_generation() -> None:
    fresh = make_secure_vectors.render(make_secure_vectors.compute_vectors())
    assert PATH.read_text(encoding="utf-8") == fresh, (
        "tests/vectors/secure.json is stale: run .venv/bin/python -m tests.vectors.make_secure_vectors"
    )


def test_numbers_fit_uint64_for_forge(vectors: dict[str, Any]) -> None:
    def numbers(node: Any) -> list[int]:
        if isinstance(node, dict):
            return [n for value in node.values() for n in numbers(value)]
        if isinstance(node, list):
            return [n for value in node for n in numbers(value)]
        return [node] if isinstance(node, int) else []

    assert all(0 <= n < 2**64 for n in numbers(vectors))


def test_chacha_blocks(vectors: dict[str, Any]) -> None:
    assert vectors["chacha"][0]["block"][0].startswith("0x76b8e0ada0f13d90")  # RFC 8439 A.1 #1
    for case in vectors["chacha"]:
        block = hex_bytes(case["block"][0]) + hex_bytes(case["block"][1])
        assert block == reference.stream_block(hex_bytes(case["key"]), case["counter"])


def test_curve_points(vectors: dict[str, Any]) -> None:
    for case in vectors["curve"]["keys"]:
        assert reference.ec_mul((1, 2), hex_int(case["secret"])) == (hex_int(case["x"]), hex_int(case["y"]))
    for case in vectors["curve"]["dh"]:
        peer = (hex_int(case["peerX"]), hex_int(case["peerY"]))
        assert reference.ec_mul(peer, hex_int(case["secret"])) == (hex_int(case["x"]), hex_int(case["y"]))


def test_derivations(vectors: dict[str, Any]) -> None:
    derive = vectors["derive"]
    for case in derive["advertise"]:
        preimage = hex_bytes(case["previous"]) + reference.address_word(hex_bytes(case["participant"]))
        preimage += hex_bytes(case["pkX"]) + hex_bytes(case["pkY"]) + hex_bytes(case["encryptionKey"])
        assert reference.keccak(preimage) == hex_bytes(case["digest"])
    for case in derive["roundSeed"]:
        preimage = reference.tag("fedchain.secagg.v1.round-seed") + reference.word(case["chainId"])
        preimage += reference.address_word(hex_bytes(case["coordinator"])) + reference.word(case["taskId"])
        preimage += reference.word(case["round"]) + hex_bytes(case["digest"]) + hex_bytes(case["randomness"])
        assert reference.keccak(preimage) == hex_bytes(case["seed"])
    for case in derive["selfSeed"]:
        preimage = reference.tag("fedchain.secagg.v1.self-seed") + hex_bytes(case["seed"])
        assert reference.keccak(preimage) == hex_bytes(case["hash"])
    for case in derive["pairMask"]:
        low, high = sorted((hex_bytes(case["first"]), hex_bytes(case["second"])))
        preimage = reference.tag("fedchain.secagg.v1.pair-mask") + hex_bytes(case["seed"])
        preimage += hex_bytes(case["x"]) + hex_bytes(case["y"]) + reference.address_word(low)
        assert reference.keccak(preimage + reference.address_word(high)) == hex_bytes(case["key"])
    for case in derive["record"]:
        preimage = reference.word(case["index"]) + hex_bytes(case["pkX"]) + hex_bytes(case["pkY"])
        preimage += hex_bytes(case["selfSeedHash"]) + hex_bytes(case["shareBundleRef"])
        preimage += reference.word(case["weight"]) + hex_bytes(case["maskedRoot"])
        assert reference.keccak(preimage) == hex_bytes(case["record"])
    for case in derive["transcript"]:
        assert reference.keccak(b"".join(hex_bytes(w) for w in case["words"])) == hex_bytes(case["hash"])


def test_rings(vectors: dict[str, Any]) -> None:
    for case in vectors["ring"]:
        seed, n, k = hex_bytes(case["seed"]), case["n"], case["k"]
        order = reference.ring_order(seed, n)
        assert [order.index(i) for i in range(n)] == case["positions"]
        for index, neighbours in enumerate(case["neighbours"]):
            if n - 1 <= k:
                assert neighbours == [i for i in range(n) if i != index]
            else:
                p = case["positions"][index]
                assert set(neighbours) == {order[(p + s) % n] for s in range(-k // 2, k // 2 + 1) if s}


def test_unmaskable_sets(vectors: dict[str, Any]) -> None:
    for case in vectors["unmaskable"]:
        bitmap = hex_int(case["uploaded"])
        alive = [i for i in range(case["n"]) if bitmap >> i & 1]
        expected = reference.unmaskable_by_gaps(hex_bytes(case["seed"]), case["n"], case["k"], case["t"], alive)
        assert case["expected"] == int(expected)
    assert {case["expected"] for case in vectors["unmaskable"]} == {0, 1}


def test_parameter_rules(vectors: dict[str, Any]) -> None:
    for case in vectors["params"]:
        checks = {
            "neighbours": lambda c=case: SecureParams(c["neighbours"], 2),
            "threshold": lambda c=case: SecureParams(c["neighbours"], c["threshold"]),
            "wordsPerLeaf": lambda c=case: check_secure_leaf_width(c["wordsPerLeaf"]),
            "ringBound": lambda c=case: check_ring_bound(c["clip"], c["sampleCap"], c["cohortCap"]),
        }
        failed = ""
        for name, check in checks.items():
            try:
                check()
            except SecureParamsError:
                failed = name
                break
        assert failed == case["invalid"], case


def parse_proof(case: dict[str, Any]) -> tuple[SecureLeafContext, SecureFraudProof]:
    c = case["ctx"]
    ctx = SecureLeafContext(
        depth=c["depth"],
        words_per_leaf=c["wordsPerLeaf"],
        leaf_index=c["leafIndex"],
        previous_root=hex_bytes(c["previousRoot"]),
        proposed_root=hex_bytes(c["proposedRoot"]),
        server_lr_bps=c["serverLrBps"],
        clip=c["clip"],
        num_params=c["numParams"],
        round_seed=hex_bytes(c["roundSeed"]),
        advertised=c["advertised"],
        neighbours=c["neighbours"],
        uploads=c["uploads"],
        commits=c["commits"],
        transcript_hash=hex_bytes(c["transcriptHash"]),
    )

    def opening(leaf: dict[str, list[str]]) -> LeafOpening:
        return LeafOpening(tuple(map(hex_bytes, leaf["words"])), tuple(map(hex_bytes, leaf["siblings"])))

    proof = SecureFraudProof(
        opening(case["previous"]),
        opening(case["proposed"]),
        tuple(map(hex_bytes, case["survivors"])),
        tuple(map(hex_bytes, case["dropped"])),
    )
    return ctx, proof


def test_proofs_decide_as_their_names_say(vectors: dict[str, Any]) -> None:
    names = [case["name"] for case in vectors["proofs"]]
    assert any("dropped entry" in name for name in names) and any(": honest" in name for name in names)
    for case in vectors["proofs"]:
        verdict = check_proof(*parse_proof(case))
        assert case["differs"] == int(verdict.differs) == int(": honest" not in case["name"]), case["name"]
        assert case["participants"] == ["0x" + a.hex() for a in verdict.participants]
        assert case["records"] == ["0x" + r.hex() for r in verdict.records]
