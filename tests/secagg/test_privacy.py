"""What the aggregator sees reveals nothing about one update (docs/protocol.md §10.11).

Two claims of the issue, each tested so that the test fails when the claim is false:

- every masked vector in storage is indistinguishable from uniform, whatever the update under it;
- the aggregator, holding everything public (share bundles, masked vectors, unmask bundles, the
  transcript), together with t - 1 colluding neighbours of an honest survivor, cannot recover its update,
  while t colluders can.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from numpy.typing import NDArray
from scipy import stats

from fedchain.commit.keccak import keccak256
from fedchain.secagg.constants import GROUP_ORDER
from fedchain.secagg.curve import public_key, shared_point
from fedchain.secagg.derive import pair_mask_key, self_mask_key, share_key
from fedchain.secagg.errors import RoundFailedError
from fedchain.secagg.masking import masked_bytes, pair_key
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Member
from fedchain.secagg.shamir import share_point
from fedchain.secagg.shares import decode_share_bundle, open_shares
from fedchain.secagg.stream import mask_stream
from fedchain.secagg.unmask import Transcript
from tests.secagg import reference
from tests.secagg.cohort import Party, Phase, RoundRecord, aggregate, make_parties, run_phases

ALPHA = 1e-6
"""Significance of every uniformity test: a correct implementation fails a run with probability about
1e-6 (Bonferroni-corrected where several tests run together), so the test is not flaky, while structured
data fails it with p-values below 1e-100 (checked on the weighted updates themselves)."""


def byte_counts(data: bytes) -> NDArray[np.int64]:
    return np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256).astype(np.int64)


def uniformity_p_values(vectors: Sequence[bytes]) -> dict[str, float]:
    """p-values of three tests of the hypothesis "these bytes are uniform and independent":

    - ``bytes``: chi-square (255 degrees of freedom) of the frequencies of all byte values;
    - ``byte lanes``: the same for each of the 8 byte positions of a uint64 coordinate (a biased high byte
      of small numbers would show here), the smallest p-value times 8 (Bonferroni);
    - ``bits``: for each of the 64 bit positions of a coordinate, a two-sided binomial z-test of its
      share of ones against 1/2, the smallest p-value times 64.
    """
    data = b"".join(vectors)
    lanes = np.frombuffer(data, dtype=np.uint8).reshape(-1, 8)
    chi = stats.chisquare(byte_counts(data)).pvalue
    per_lane = min(stats.chisquare(np.bincount(lanes[:, j], minlength=256)).pvalue for j in range(8))
    bits = np.unpackbits(lanes, axis=1)
    ones = bits.sum(axis=0)
    count = bits.shape[0]
    z = (ones - count / 2) / np.sqrt(count / 4)
    per_bit = float(2 * stats.norm.sf(np.abs(z)).min())
    return {"bytes": float(chi), "byte lanes": min(1.0, 8 * float(per_lane)), "bits": min(1.0, 64 * per_bit)}


@pytest.fixture(scope="module")
def rounds() -> list[RoundRecord]:
    """Two rounds of 16 participants (k = 4, t = 3) over 2,048 coordinates with maximally structured
    updates: zeros, constants, a ramp, all at weight 1 or the largest weight."""
    records = []
    for salt in (b"uniform-1", b"uniform-2"):
        updates = [np.zeros(2048, dtype=np.int32)] * 4
        updates += [np.full(2048, value, dtype=np.int32) for value in (1, -1, 2**20, -(2**20))]
        updates += [np.arange(2048, dtype=np.int32) - 1024 + i for i in range(8)]
        weights = [1, 2**20] * 8
        parties = make_parties(updates, weights, salt=salt)
        drops = {parties[3].address: Phase.BEFORE_UPLOAD}
        records.append(run_phases(parties, SecureParams(4, 3), keccak256(salt), 2**20, drops))
    return records


def test_masked_vectors_in_storage_are_uniform(rounds: list[RoundRecord]) -> None:
    stored = [masked_bytes(vector) for record in rounds for vector in record.masked.values()]
    assert len(stored) == 30 and sum(map(len, stored)) == 30 * 2048 * 8
    for name, p_value in uniformity_p_values(stored).items():
        assert p_value > ALPHA, f"masked vectors fail the {name} uniformity test (p = {p_value:.3g})"


def test_the_same_tests_reject_the_updates_under_the_masks(rounds: list[RoundRecord]) -> None:
    plain = []
    for record in rounds:
        for address in record.masked:
            party = record.party(address)
            plain.append(masked_bytes((party.weight * party.update.astype(np.int64)).view(np.uint64)))
    assert all(p_value < 1e-100 for p_value in uniformity_p_values(plain).values())


def test_removing_the_revealed_self_masks_leaves_each_vector_uniform(rounds: list[RoundRecord]) -> None:
    """After the transcript is public, y_u - m(b_u) = w x_u + pairwise masks: still uniform on its own."""
    residuals = []
    for record in rounds:
        transcript, _ = aggregate(record)
        for address, vector in record.masked.items():
            residual = vector - mask_stream(self_mask_key(transcript.self_seeds[address]), 0, vector.size)
            residuals.append(masked_bytes(residual))
    for name, p_value in uniformity_p_values(residuals).items():
        assert p_value > ALPHA, f"self-unmasked vectors fail the {name} uniformity test (p = {p_value:.3g})"


# The collusion attack.

COHORT, PARAMS, CLIP = 12, SecureParams(6, 3), 1000


@dataclass
class Attack:
    """The public view of a round plus the colluders' secrets, and what the adversary makes of them."""

    record: RoundRecord
    transcript: Transcript
    target: Member
    colluders: list[Party]

    def mask_key_shares(self) -> dict[int, int]:
        """Every share of the target's mask key the adversary can obtain."""
        final = self.record.final
        bundle = self.record.share_bundles[self.target.address]
        shares = {}
        for party in self.colluders:
            member = final.member(party.address)
            pair = open_shares(round=final, receiver=member, keys=party.keys, sender=self.target, bundle=bundle)
            shares[member.index] = pair.mask_key
        # The dropped neighbours' mask keys are public. With one key per participant (the bug this test
        # guards against) they would open the target's shares to those neighbours as well: try it.
        nonce, ciphertexts = decode_share_bundle(bundle)
        for address, secret in self.transcript.mask_keys.items():
            if address not in ciphertexts:
                continue
            point = shared_point(secret, self.target.public)
            guess = share_key(final.seed, point[0].to_bytes(32, "big"), self.target.address, address)
            try:
                ChaCha20Poly1305(guess).decrypt(nonce, ciphertexts[address], None)
            except InvalidTag:
                continue
            raise AssertionError("a revealed mask key opened a share channel")
        return shares

    def recover_mask_key(self) -> int | None:
        """Interpolate the target's mask key from whatever shares there are; keep it only if it is right."""
        shares = self.mask_key_shares()
        points = {holder: share_point(holder) for holder in shares}
        candidate = 0
        for holder, value in shares.items():
            numerator, denominator = 1, 1
            for other, x in points.items():
                if other != holder:
                    numerator = numerator * x % GROUP_ORDER
                    denominator = denominator * (x - points[holder]) % GROUP_ORDER
            candidate = (candidate + value * numerator * pow(denominator, -1, GROUP_ORDER)) % GROUP_ORDER
        return candidate if candidate and public_key(candidate) == self.target.public else None

    def residual(self, mask_key: int | None) -> NDArray[np.uint64]:
        """The target's masked vector minus every mask the adversary can compute."""
        final = self.record.final
        vector = self.record.masked[self.target.address].copy()
        count = vector.size
        vector -= mask_stream(self_mask_key(self.transcript.self_seeds[self.target.address]), 0, count)
        known = {party.address: party.keys.mask.secret for party in self.colluders} | dict(self.transcript.mask_keys)
        for peer in final.neighbours(self.target):
            if peer.address not in final.committed:
                continue
            if mask_key is not None:
                key = pair_key(final, mask_key, self.target, peer)
            elif peer.address in known:
                key = pair_mask_key(
                    final.seed, shared_point(known[peer.address], self.target.public), self.target.address, peer.address
                )
            else:
                continue  # an honest neighbour's pairwise mask: unknown without one of the two mask keys
            stream = mask_stream(key, 0, count)
            if self.target.number < peer.number:
                vector -= stream
            else:
                vector += stream
        return vector

    def run(self) -> NDArray[np.int64] | None:
        """The adversary's best guess of the target's weighted update, or None when it has none."""
        residual = self.residual(self.recover_mask_key()).view(np.int64)
        weight = self.record.final.committed[self.target.address].weight
        if np.all(np.abs(residual) <= CLIP * weight):
            return residual
        return None


def attack_scenario(colluding: int) -> tuple[Attack, NDArray[np.int64]]:
    """Cohort 12, k = 6, t = 3. The target keeps 6 neighbours by ring position: two drop after committing
    (their mask keys are revealed), ``colluding`` collude, the rest are honest survivors."""
    seed = keccak256(b"collusion")
    order = reference.ring_order(seed, COHORT)
    rng = np.random.default_rng(7)
    updates = [rng.integers(-CLIP, CLIP + 1, size=512).astype(np.int32) for _ in range(COHORT)]
    parties = make_parties(updates, [50] * COHORT, salt=b"collusion")
    target = parties[order[0]]
    ring = [parties[order[p]] for p in (1, 2, 3, COHORT - 1, COHORT - 2, COHORT - 3)]
    drops = {ring[0].address: Phase.BEFORE_UPLOAD, ring[3].address: Phase.BEFORE_UPLOAD}
    record = run_phases(parties, PARAMS, seed, CLIP, drops)
    transcript, _ = aggregate(record)
    colluders = [ring[1], ring[4], ring[2], ring[5]][:colluding]
    attack = Attack(record, transcript, record.final.member(target.address), colluders)
    return attack, target.weight * target.update.astype(np.int64)


def test_the_aggregator_with_t_minus_1_colluders_learns_nothing() -> None:
    attack, truth = attack_scenario(PARAMS.threshold - 1)
    assert len(attack.mask_key_shares()) == PARAMS.threshold - 1
    assert attack.recover_mask_key() is None
    assert attack.run() is None
    residual = attack.residual(None)
    assert not np.array_equal(residual.view(np.int64), truth)
    # what is left is the update under the honest neighbours' pairwise masks: uniform
    for name, p_value in uniformity_p_values([masked_bytes(residual)]).items():
        assert p_value > ALPHA, f"the residual fails the {name} uniformity test (p = {p_value:.3g})"


def test_the_attack_succeeds_with_t_colluders() -> None:
    attack, truth = attack_scenario(PARAMS.threshold)
    assert attack.recover_mask_key() == attack.record.party(attack.target.address).keys.mask.secret
    recovered = attack.run()
    assert recovered is not None
    assert np.array_equal(recovered, truth)


def test_colluders_covering_every_surviving_neighbour_succeed_without_the_key() -> None:
    """The other way in: when every surviving neighbour of the target colludes, all its pairwise masks are
    known. The rule that each survivor keeps t surviving neighbours is what makes this need t colluders."""
    attack, truth = attack_scenario(4)
    assert np.array_equal(attack.residual(None).view(np.int64), truth)


def test_colluders_learn_nothing_from_the_dropped_members_revealed_keys() -> None:
    attack, _ = attack_scenario(0)
    assert attack.mask_key_shares() == {}
    assert attack.recover_mask_key() is None
    assert len(attack.transcript.mask_keys) >= 2


def test_a_survivor_exposed_by_its_dropped_neighbours_blocks_the_round() -> None:
    """Without the t-surviving-neighbours rule, a survivor whose neighbours all dropped would be exposed by
    their revealed keys alone; the round is refused before anything is released."""
    seed = keccak256(b"exposed")
    order = reference.ring_order(seed, COHORT)
    parties = make_parties([np.ones(8, dtype=np.int32)] * COHORT, [1] * COHORT, salt=b"exposed")
    drops = {parties[order[p]].address: Phase.BEFORE_UPLOAD for p in (1, 2, 3, COHORT - 1, COHORT - 2)}
    record = run_phases(parties, PARAMS, seed, CLIP, drops)
    target = record.final.member(parties[order[0]].address)
    alive = [m for m in record.final.neighbours(target) if m.address in record.final.uploaded]
    assert len(alive) == 1  # fewer than t = 3 surviving neighbours
    assert record.unmask_bundles == {}
    with pytest.raises(RoundFailedError, match="fewer than the threshold"):
        aggregate(record)
