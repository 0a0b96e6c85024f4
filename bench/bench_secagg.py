"""Secure aggregation: mask-generation throughput against the raw ChaCha20 keystream, and round times.

    .venv/bin/python bench/bench_secagg.py [params] [cohort ...]

1. Masks: ``apply_masks`` adds 17 mask streams (a self mask and 16 pairwise masks) into a vector of
   ``params`` uint64 coordinates; its rate in mask bytes per second is compared with the raw rate of the
   same cipher (OpenSSL's ChaCha20 through ``cryptography``, writing zeros' keystream into a reused buffer)
   measured in the same process, so the ratio is stable on a noisy machine. 1.0 would mean laying the
   stream out as masks and adding them costs nothing beyond generating it.
2. A round per cohort size (default 10 and 50) at ``params`` parameters, with 10% of the cohort dropping
   after committing: per-participant time of each step (mean over the participants) and the aggregator's
   reconstruction and unmasking. k and t: 8 and 5 for cohort 10, 16 and 9 for cohort 50.
"""

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from fedchain.commit.keccak import keccak256
from fedchain.commit.leaves import LeafLayout
from fedchain.secagg.derive import new_self_seed, self_seed_hash
from fedchain.secagg.keys import RoundKeys, new_round_keys
from fedchain.secagg.masking import mask_update, masked_tree, weighted_update
from fedchain.secagg.params import SecureParams
from fedchain.secagg.roster import Commitment, Member, SecureRound
from fedchain.secagg.shares import UnmaskBundle, bundle_ref, share_bundle, unmask_bundle
from fedchain.secagg.stream import apply_masks
from fedchain.secagg.unmask import reconstruct, unmask

DEFAULT_PARAMS = 1_000_000
DEFAULT_COHORTS = (10, 50)
STREAMS = 17
REPEATS = 5
CLIP = 2**20
PARAMS_FOR = {10: SecureParams(8, 5), 50: SecureParams(16, 9)}


def best_of(function: Callable[[], object], repeats: int = REPEATS) -> float:
    """The shortest of ``repeats`` timings of ``function``, in seconds."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def raw_keystream_rate(num_bytes: int) -> float:
    """Bytes per second of bare ChaCha20 keystream written into a reused buffer."""
    zeros, out = bytes(num_bytes), bytearray(num_bytes)
    key = bytes(32)

    def run() -> None:
        Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor().update_into(zeros, out)

    return num_bytes / best_of(run)


def mask_rate(num_params: int) -> float:
    """Mask bytes per second of apply_masks with STREAMS streams over ``num_params`` coordinates."""
    total = np.zeros(num_params, dtype=np.uint64)
    streams = [(keccak256(bytes([k])), k % 2 == 0) for k in range(STREAMS)]
    return STREAMS * 8 * num_params / best_of(lambda: apply_masks(total, streams))


@dataclass
class Participant:
    """One simulated participant of the timed round."""

    address: bytes
    keys: RoundKeys
    self_seed: int
    update: np.ndarray


def timed(times: dict[str, list[float]], name: str, function: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = function()
    times.setdefault(name, []).append(time.perf_counter() - started)
    return result


def round_times(num_params: int, cohort: int) -> dict[str, float]:
    """Run one round and return the mean time per participant of each step and the aggregator's times."""
    params = PARAMS_FOR.get(cohort, SecureParams(16, 9))
    rng = np.random.default_rng(cohort)
    times: dict[str, list[float]] = {}
    parties = []
    for k in range(cohort):
        keys = timed(times, "keys", new_round_keys)
        assert isinstance(keys, RoundKeys)
        update = rng.integers(-CLIP, CLIP + 1, size=num_params).astype(np.int32)
        parties.append(Participant(keccak256(k.to_bytes(4, "big"))[:20], keys, new_self_seed(), update))
    advertised = tuple(
        Member(i, p.address, p.keys.mask.public, p.keys.encryption.public) for i, p in enumerate(parties)
    )
    seed = keccak256(b"bench" + cohort.to_bytes(4, "big"))
    keys_round = SecureRound(seed, params, advertised)
    bundles, committed = {}, {}
    for p in parties:
        owner = keys_round.member(p.address)
        bundle = timed(
            times,
            "shares",
            lambda p=p, owner=owner: share_bundle(round=keys_round, owner=owner, keys=p.keys, self_seed=p.self_seed),
        )
        assert isinstance(bundle, bytes)
        bundles[p.address] = bundle
        committed[p.address] = Commitment(self_seed_hash(p.self_seed), bundle_ref(bundle), 1)
    commit_round = SecureRound(seed, params, advertised, committed)
    dropped = {p.address for p in parties[: cohort // 10]}
    layout = LeafLayout(num_params, 2)
    masked, uploaded = {}, {}
    for p in parties:
        if p.address in dropped:
            continue
        member = commit_round.member(p.address)

        def mask(p: Participant = p, member: Member = member) -> np.ndarray:
            weighted = weighted_update(p.update, 1, CLIP)
            return mask_update(weighted, round=commit_round, owner=member, keys=p.keys.mask, self_seed=p.self_seed)

        vector = timed(times, "masking", mask)
        assert isinstance(vector, np.ndarray)
        masked[p.address] = vector
        tree = timed(times, "masked root", lambda vector=vector: masked_tree(vector, layout))
        uploaded[p.address] = tree.root  # type: ignore[attr-defined]
    final = SecureRound(seed, params, advertised, committed, uploaded)
    published: dict[bytes, UnmaskBundle] = {}
    for p in parties:
        if p.address in uploaded:
            member = final.member(p.address)
            result = timed(
                times,
                "unmask shares",
                lambda p=p, member=member: unmask_bundle(
                    round=final, holder=member, keys=p.keys, self_seed=p.self_seed, bundles=bundles
                ),
            )
            assert isinstance(result, UnmaskBundle)
            published[p.address] = result
    started = time.perf_counter()
    transcript = reconstruct(final, published)
    reconstructed = time.perf_counter() - started
    started = time.perf_counter()
    total = unmask(final, masked, transcript)
    unmasked = time.perf_counter() - started
    expected = sum(parties[i].update.astype(np.int64) for i in range(cohort) if parties[i].address in uploaded)
    assert np.array_equal(total, expected), "the benchmark's round did not unmask to the plain sum"
    means = {name: statistics.fmean(values) for name, values in times.items()}
    means["participant total"] = sum(means.values())
    means["aggregator reconstruct"] = reconstructed
    means["aggregator unmask"] = unmasked
    means["dropped"] = float(len(dropped))
    return means


def main(argv: list[str]) -> None:
    """Print the mask-rate ratio, then the round times per cohort."""
    num_params = int(argv[1]) if len(argv) > 1 else DEFAULT_PARAMS
    cohorts = tuple(int(c) for c in argv[2:]) or DEFAULT_COHORTS
    raw = raw_keystream_rate(8 * num_params)
    masks = mask_rate(num_params)
    print(
        f"params={num_params} streams={STREAMS} raw_keystream={raw / 1e9:.2f} GB/s "
        f"mask_generation={masks / 1e9:.2f} GB/s ratio={masks / raw:.2f}"
    )
    for cohort in cohorts:
        means = round_times(num_params, cohort)
        params = PARAMS_FOR.get(cohort, SecureParams(16, 9))
        print(f"cohort={cohort} k={params.neighbours} t={params.threshold} dropped={int(means.pop('dropped'))}")
        for name, seconds in means.items():
            print(f"  {name:24s} {seconds * 1000:9.1f} ms")


if __name__ == "__main__":
    main(sys.argv)
