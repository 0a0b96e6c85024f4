"""The secure fraud proof at one leaf (docs/protocol.md §10.10): building it and the Python mirror of the
contract's check. The forge tests run the same cases through SecureLeafVerifier via tests/vectors."""

from dataclasses import replace

import numpy as np
import pytest

from fedchain.commit.keccak import keccak256
from fedchain.commit.merkle import leaf_hash
from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.curve import public_key
from fedchain.secagg.derive import participant_record
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.params import SecureParams
from fedchain.secagg.proofs import LeafOpening, SecureFraudProof, SecureLeafContext, check_proof, head_word
from tests.secagg import reference
from tests.secagg.cohort import Phase, make_parties
from tests.secagg.scenarios import ProofScenario, scenario

SEED = keccak256(b"proofs")
NUM_PARAMS = 70  # W = 2: 16 coordinates a leaf, 5 real leaves, 8 in the tree


def updates(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(count)
    return [rng.integers(-(2**20), 2**20 + 1, size=NUM_PARAMS).astype(np.int32) for _ in range(count)]


@pytest.fixture(scope="module")
def dropped_round() -> ProofScenario:
    """Cohort 12, k = 4, t = 2, by ring position: 3, 4, 6 and 7 never commit, 5 and 11 commit but do not
    upload (5 then has no surviving neighbour, so its transcript entry must be 0; 11 has three), and 10
    uploads but publishes no unmask bundle (its seed is rebuilt from its neighbours' shares)."""
    parties = make_parties(updates(12), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], salt=b"proofs")
    order = reference.ring_order(SEED, 12)
    phases = {3: Phase.BEFORE_COMMIT, 4: Phase.BEFORE_COMMIT, 6: Phase.BEFORE_COMMIT, 7: Phase.BEFORE_COMMIT}
    phases |= {5: Phase.BEFORE_UPLOAD, 11: Phase.BEFORE_UPLOAD, 10: Phase.DURING_UNMASK}
    drops = {parties[order[position]].address: phase for position, phase in phases.items()}
    return scenario(parties, SecureParams(4, 2), SEED, drops=drops, server_lr_bps=7_000)


def test_the_honest_proposal_is_correct_at_every_leaf(dropped_round: ProofScenario) -> None:
    final = dropped_round.record.final
    for leaf in range(dropped_round.layout.width):
        ctx, proof = dropped_round.build(leaf)
        verdict = check_proof(ctx, proof)
        assert not verdict.differs
        assert verdict.participants == tuple(m.address for m in final.survivors() + final.dropped())


def test_records_are_what_the_slots_bind(dropped_round: ProofScenario) -> None:
    final = dropped_round.record.final
    ctx, proof = dropped_round.build(1)
    verdict = check_proof(ctx, proof)
    records = dict(zip(verdict.participants, verdict.records, strict=True))
    for member in final.survivors() + final.dropped():
        commitment = final.committed[member.address]
        expected = participant_record(
            index=member.index,
            public=member.public,
            self_seed_hash=commitment.self_seed_hash,
            share_bundle_ref=commitment.share_bundle_ref,
            weight=commitment.weight,
            masked_root=final.uploaded.get(member.address, bytes(32)),
        )
        assert records[member.address] == expected


def test_one_wrong_coordinate_is_caught_at_its_leaf_only(dropped_round: ProofScenario) -> None:
    wrong = dropped_round.model.copy()
    wrong[37] += 1  # leaf 2
    for leaf in range(dropped_round.layout.width):
        assert check_proof(*dropped_round.build(leaf, wrong)).differs == (leaf == 2)


def test_a_nonzero_padding_coordinate_is_caught(dropped_round: ProofScenario) -> None:
    assert dropped_round.layout.padded_length > NUM_PARAMS
    # the model tree holds exactly numParams coordinates, so a wrong proposal can only differ in a real one;
    # the last real leaf is partly padding and must still be computed with zero sums there
    assert not check_proof(*dropped_round.build(4)).differs
    wrong = dropped_round.model.copy()
    wrong[NUM_PARAMS - 1] -= 1
    assert check_proof(*dropped_round.build(4, wrong)).differs


def test_a_wrong_self_seed_in_the_transcript_is_caught(dropped_round: ProofScenario) -> None:
    words = list(dropped_round.transcript)
    words[0] = (int.from_bytes(words[0], "big") ^ 1).to_bytes(32, "big")
    assert check_proof(*dropped_round.build(0, transcript=words)).differs


def test_dropped_entries_of_the_transcript_are_checked(dropped_round: ProofScenario) -> None:
    final = dropped_round.record.final
    survivors = len(final.survivors())
    words = dropped_round.transcript
    silent = [i for i, word in enumerate(words[survivors:], start=survivors) if word == bytes(32)]
    revealed = [i for i, word in enumerate(words[survivors:], start=survivors) if word != bytes(32)]
    assert len(silent) == 1 and len(revealed) == 1
    cases = {
        "key of an untouched member revealed": {silent[0]: (5).to_bytes(32, "big")},
        "needed key missing": {revealed[0]: bytes(32)},
        "needed key wrong": {
            revealed[0]: ((int.from_bytes(words[revealed[0]], "big") + 1) % GROUP_ORDER).to_bytes(32, "big")
        },
        "key not reduced": {revealed[0]: (int.from_bytes(words[revealed[0]], "big") + GROUP_ORDER).to_bytes(32, "big")},
    }
    for name, changes in cases.items():
        changed = [changes.get(i, word) for i, word in enumerate(words)]
        assert check_proof(*dropped_round.build(3, transcript=changed)).differs, name


def test_a_proof_must_carry_the_proposals_transcript(dropped_round: ProofScenario) -> None:
    ctx, proof = dropped_round.build(0)
    other = list(proof.survivors)
    other[5] = bytes(32)
    with pytest.raises(SecAggError, match="transcript"):
        check_proof(ctx, replace(proof, survivors=tuple(other)))


def test_malformed_proofs_are_rejected(dropped_round: ProofScenario) -> None:
    ctx, proof = dropped_round.build(0)
    stride = 6 + 4 + ctx.depth
    swapped = proof.survivors[stride : 2 * stride] + proof.survivors[:stride] + proof.survivors[2 * stride :]
    cases = [
        (ctx, replace(proof, survivors=swapped), "strictly increasing"),
        (ctx, replace(proof, survivors=proof.survivors[:-1]), "entries"),
        (ctx, replace(proof, dropped=proof.dropped[:-6]), "entries"),
        (replace(ctx, words_per_leaf=8), proof, "words_per_leaf"),
        (replace(ctx, uploads=0), proof, "round sets"),
        (replace(ctx, commits=ctx.advertised + 1), proof, "round sets"),
        (ctx, replace(proof, previous=LeafOpening(proof.previous.words, proof.previous.siblings[1:])), "previous"),
        (ctx, replace(proof, proposed=LeafOpening(proof.proposed.words[:1], proof.proposed.siblings)), "proposed"),
        (replace(ctx, advertised=3), proof, "advertise index|round sets"),
    ]
    for context, candidate, message in cases:
        with pytest.raises(SecAggError, match=message):
            check_proof(context, candidate)


def test_head_word_layout(dropped_round: ProofScenario) -> None:
    member = dropped_round.record.final.advertised[7]
    head = int.from_bytes(head_word(member, 1234), "big")
    assert head >> 96 == member.number
    assert (head >> 32) & (2**64 - 1) == 7
    assert head & (2**32 - 1) == 1234
    with pytest.raises(SecAggError, match="weight"):
        head_word(member, 0)


def test_a_round_without_dropouts() -> None:
    parties = make_parties(updates(6), [1, 2, 3, 4, 5, 6], salt=b"none")
    full = scenario(parties, SecureParams(4, 2), SEED, words_per_leaf=1)
    assert not full.record.final.dropped()
    for leaf in range(full.layout.width):
        assert not check_proof(*full.build(leaf)).differs
    wrong = full.model.copy()
    wrong[0] = wrong[0] + 1
    assert check_proof(*full.build(0, wrong)).differs


def self_mask_only(seed: int) -> tuple[SecureLeafContext, SecureFraudProof]:
    """One survivor, W = 1, depth 0, whose masked leaf is exactly its self mask (the stream of the seed's 32
    bytes, however large): the unmasked sum is 0, so the correct proposal repeats the previous leaf."""
    previous = (keccak256(b"previous leaf"),)
    root = leaf_hash(0, previous)
    lanes = reference.stream_masks(seed.to_bytes(32, "big"), 0, 8)
    masked = tuple(b"".join(lane.to_bytes(8, "big") for lane in lanes[k : k + 4]) for k in (0, 4))
    head = ((0xA11CE << 96) | 1).to_bytes(32, "big")
    x, y = public_key(7)
    seed_hash = reference.keccak(reference.tag("fedchain.secagg.v1.self-seed") + seed.to_bytes(32, "big"))
    entry = (head, x.to_bytes(32, "big"), y.to_bytes(32, "big"), seed_hash, bytes(32), seed.to_bytes(32, "big"))
    ctx = SecureLeafContext(
        depth=0, words_per_leaf=1, leaf_index=0, previous_root=root, proposed_root=root, server_lr_bps=10_000,
        clip=100, num_params=8, round_seed=keccak256(b"one"), advertised=1, neighbours=2, uploads=1, commits=1,
        transcript_hash=keccak256(seed.to_bytes(32, "big")),
    )  # fmt: skip
    opening = LeafOpening(previous, ())
    return ctx, SecureFraudProof(opening, opening, entry + masked, ())


def test_a_seed_outside_the_field_is_never_valid() -> None:
    """As SecureLeafVerifier.t.sol: the same leaf is right with a seed in F_r and wrong with one above r,
    even when its owner committed to that seed's hash and the proposal used it consistently."""
    assert not check_proof(*self_mask_only(GROUP_ORDER - 5)).differs
    assert check_proof(*self_mask_only(GROUP_ORDER + 5)).differs
