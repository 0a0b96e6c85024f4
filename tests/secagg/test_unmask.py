"""Reconstruction, the transcript and unmasking (docs/protocol.md §10.7-10.8), and the issue's dropout matrix."""

from dataclasses import replace

import numpy as np
import pytest

from fedchain.aggregate.fedavg import FedAvg
from fedchain.secagg.aggregate import secure_fedavg
from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.derive import transcript_hash
from fedchain.secagg.errors import RoundFailedError, ShareError, TranscriptError
from fedchain.secagg.params import SecureParams
from fedchain.secagg.shares import ShareKind, UnmaskBundle
from fedchain.secagg.unmask import Transcript, dropped_touching_survivors, reconstruct, unmask
from tests.secagg import reference
from tests.secagg.cohort import Party, Phase, RoundRecord, aggregate, make_parties, plain_weighted_sum, run_phases

COHORT = 20
PARAMS = SecureParams(6, 3)
CLIP = 2**16
SAMPLE_CAP = 1000
NUM_PARAMS = 37
SEED = bytes.fromhex("5e" * 32)


def cohort(salt: bytes, size: int = COHORT) -> list[Party]:
    rng = np.random.default_rng(list(salt))
    updates = [rng.integers(-CLIP, CLIP + 1, size=NUM_PARAMS).astype(np.int32) for _ in range(size)]
    counts = [int(c) for c in rng.integers(1, 2 * SAMPLE_CAP, size=size)]
    return make_parties(updates, [min(c, SAMPLE_CAP) for c in counts], salt=salt)


def expected_to_unmask(record: RoundRecord, drops: dict[bytes, Phase]) -> bool:
    """Whether the round must succeed, decided from the sets alone with the reference ring (no fedchain
    graph code): unmaskable by the ring-gap rule, and every secret that must be rebuilt has t publishers."""
    final = record.final
    index = {member.address: member.index for member in final.advertised}
    alive = sorted(index[a] for a in final.uploaded)
    k, t = PARAMS.neighbours, PARAMS.threshold
    if not reference.unmaskable_by_gaps(final.seed, COHORT, k, t, alive):
        return False
    order = reference.ring_order(final.seed, COHORT)
    position = {order[p]: p for p in range(COHORT)}

    def neighbours(i: int) -> set[int]:
        if k >= COHORT - 1:
            return set(range(COHORT)) - {i}
        return {order[(position[i] + step) % COHORT] for step in range(-k // 2, k // 2 + 1) if step}

    publishers = {i for i in alive if drops.get(final.advertised[i].address) is not Phase.DURING_UNMASK}
    for i in alive:
        if i not in publishers and len(neighbours(i) & publishers) < t:
            return False
    for address in final.committed:
        i = index[address]
        if address not in final.uploaded and neighbours(i) & set(alive) and len(neighbours(i) & publishers) < t:
            return False
    return True


def check_round(parties: list[Party], drops: dict[bytes, Phase]) -> bool:
    """Run the round; assert exact unmasking or a clean failure, as the sets predict. Return success."""
    record = run_phases(parties, PARAMS, SEED, CLIP, drops)
    expected = expected_to_unmask(record, drops)
    if not expected:
        with pytest.raises(RoundFailedError):
            aggregate(record)
        return False
    transcript, weighted_sum = aggregate(record)
    plain = plain_weighted_sum(record)
    assert np.array_equal(weighted_sum, plain), "unmasked sum differs from the plaintext weighted sum"
    survivors = [record.party(a) for a in record.final.uploaded]
    previous = np.arange(NUM_PARAMS, dtype=np.int32) * 1000
    rule = FedAvg(SAMPLE_CAP, 7_500)
    plain_model = rule.aggregate(previous, [p.update for p in survivors], [p.weight for p in survivors])
    secure_model = secure_fedavg(
        previous, weighted_sum, record.final.total_weight(), clip=CLIP, server_lr_bps=rule.server_lr_bps
    )
    assert np.array_equal(secure_model, plain_model)
    transcript.check(record.final)
    return True


@pytest.mark.parametrize("phase", list(Phase), ids=[p.name for p in Phase])
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3])
def test_dropouts_at_each_phase_unmask_exactly_or_fail_cleanly(rate: float, phase: Phase) -> None:
    """The issue's matrix: 0%, 10% and 30% of a cohort of 20 (k = 6, t = 3) drop at one phase."""
    parties = cohort(f"{phase.name}-{rate}".encode())
    count = round(rate * COHORT)
    chosen = np.random.default_rng(count).permutation(COHORT)[:count]
    drops = {parties[int(i)].address: phase for i in chosen}
    succeeded = check_round(parties, drops)
    if rate <= 0.1:
        assert succeeded, "a round with at most 10% dropouts at one phase must unmask"


def test_dropouts_at_every_phase_at_once() -> None:
    parties = cohort(b"all-phases")
    phases = [Phase.BEFORE_COMMIT, Phase.BEFORE_UPLOAD, Phase.DURING_UNMASK]
    drops = {parties[i].address: phases[i % 3] for i in (0, 5, 11)}
    assert check_round(parties, drops)


def test_a_round_fails_cleanly_when_fewer_than_t_remain() -> None:
    parties = cohort(b"few", size=8)
    drops = {p.address: Phase.BEFORE_UPLOAD for p in parties[2:]}
    record = run_phases(parties, SecureParams(4, 3), SEED, CLIP, drops)
    with pytest.raises(RoundFailedError, match="fewer than the threshold"):
        aggregate(record)


def test_a_dropped_key_without_t_publishers_fails_the_round() -> None:
    parties = cohort(b"publish", size=8)
    params = SecureParams(6, 4)
    record = run_phases(parties, params, SEED, CLIP, {parties[0].address: Phase.BEFORE_UPLOAD})
    final = record.final
    dropped = final.member(parties[0].address)
    holders = [m.address for m in final.neighbours(dropped) if m.address in record.unmask_bundles]
    for address in holders[: len(holders) - params.threshold + 1]:
        del record.unmask_bundles[address]
    with pytest.raises(RoundFailedError, match="shares of 0x"):
        aggregate(record)


def round_with_drops() -> RoundRecord:
    parties = cohort(b"transcript", size=10)
    drops = {parties[1].address: Phase.BEFORE_UPLOAD, parties[2].address: Phase.DURING_UNMASK}
    return run_phases(parties, SecureParams(4, 2), SEED, CLIP, drops)


def test_transcript_words_follow_the_sets() -> None:
    record = round_with_drops()
    final = record.final
    transcript, _ = aggregate(record)
    words = transcript.words(final)
    survivors, dropped = final.survivors(), final.dropped()
    assert len(words) == len(final.committed)
    for member, word in zip(survivors, words, strict=False):
        assert int.from_bytes(word, "big") == record.party(member.address).self_seed
    for member, word in zip(dropped, words[len(survivors) :], strict=True):
        touching = member in dropped_touching_survivors(final)
        assert int.from_bytes(word, "big") == (record.party(member.address).keys.mask.secret if touching else 0)
    assert transcript.hash(final) == transcript_hash(words)
    assert Transcript.from_words(final, words) == transcript
    assert transcript.is_valid(final)


def test_every_wrong_transcript_entry_is_caught() -> None:
    record = round_with_drops()
    final = record.final
    transcript, _ = aggregate(record)
    survivor = final.survivors()[0].address
    dropped = dropped_touching_survivors(final)[0].address
    wrong = [
        replace(transcript, self_seeds={**transcript.self_seeds, survivor: transcript.self_seeds[survivor] + 1}),
        replace(transcript, self_seeds={**transcript.self_seeds, survivor: GROUP_ORDER}),
        replace(transcript, mask_keys={**transcript.mask_keys, dropped: transcript.mask_keys[dropped] + 1}),
        replace(transcript, mask_keys={k: v for k, v in transcript.mask_keys.items() if k != dropped}),
        replace(transcript, mask_keys={**transcript.mask_keys, survivor: 5}),
    ]
    for candidate in wrong:
        assert not candidate.is_valid(final)
        with pytest.raises(TranscriptError):
            unmask(final, record.masked, candidate)


def test_reconstruction_works_around_wrong_published_shares() -> None:
    record = round_with_drops()
    final = record.final
    expected, _ = aggregate(record)
    victim = next(m for m in final.survivors() if m.address not in record.unmask_bundles)
    liar = next(m.address for m in final.neighbours(victim) if m.address in record.unmask_bundles)
    bundle = record.unmask_bundles[liar]
    kind, value = bundle.shares[victim.address]
    record.unmask_bundles[liar] = UnmaskBundle(bundle.self_seed, {**bundle.shares, victim.address: (kind, value + 1)})
    assert reconstruct(final, record.unmask_bundles) == expected


def test_unmask_bundles_of_non_survivors_are_rejected() -> None:
    record = round_with_drops()
    bundles = dict(record.unmask_bundles)
    bundles[record.parties[1].address] = UnmaskBundle(1, {})
    with pytest.raises(ShareError, match="not a survivor"):
        reconstruct(record.final, bundles)


def test_unmasking_needs_every_survivors_masked_vector() -> None:
    record = round_with_drops()
    transcript, _ = aggregate(record)
    missing = dict(record.masked)
    missing.pop(record.final.survivors()[0].address)
    with pytest.raises(RoundFailedError, match="masked vectors missing"):
        unmask(record.final, missing, transcript)


def test_transcript_word_count_is_checked() -> None:
    record = round_with_drops()
    with pytest.raises(TranscriptError, match="one word per committed participant"):
        Transcript.from_words(record.final, [bytes(32)])


def test_share_kinds_are_never_mixed_up() -> None:
    """A holder's self-seed share of a dropped member is never used as its mask-key share."""
    record = round_with_drops()
    final = record.final
    dropped = dropped_touching_survivors(final)[0]
    forged = {
        address: UnmaskBundle(
            bundle.self_seed,
            {
                o: ((ShareKind.SELF_SEED, v) if o == dropped.address else (kind, v))
                for o, (kind, v) in bundle.shares.items()
            },
        )
        for address, bundle in record.unmask_bundles.items()
    }
    with pytest.raises(RoundFailedError, match=f"0x{dropped.address.hex()}"):
        reconstruct(final, forged)
