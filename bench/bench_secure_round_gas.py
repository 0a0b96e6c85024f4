"""Gas per participant per secure round from the receipts of real transactions on the embedded py-evm chain.

    .venv/bin/python bench/bench_secure_round_gas.py [cohort ...]

The secure counterpart of bench_round_gas.py: rounds 0 and 1 warm up, round 2 is measured. Every member
advertises fresh BN254/X25519 keys, one member fixes the round seed, every member commits its self-seed
hash, its share bundle (on chain: a nonce and one encrypted share pair per neighbour, k of them, as
docs/protocol.md section 10.6 lays it out) and sample count, uploads its masked root, and after the
availability phase (no challenge) publishes its unmask bundle's reference; an aggregator proposes with a
transcript of one word per member, anyone finalizes. Each member then claims once; a claim per
ROUNDS_PER_CLAIM rounds is shared over those rounds. The contract sees roots, references, bundles and the
transcript only, so nothing is trained or masked here: the figures do not depend on the model's size. The
graph has k = 8 neighbours and threshold t = 5 at every cohort size.
"""

from __future__ import annotations

import secrets
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from bench_round_gas import ZERO_ADDRESS, measure, print_table, round_root, task_params
from fedchain.chain import Chain
from fedchain.chain.coordinator import Mode
from fedchain.chain.secure_coordinator import SecureCoordinator, unmask_start
from fedchain.commit.constants import ADDRESS_BYTES
from fedchain.secagg.constants import AEAD_NONCE_BYTES, SHARE_CIPHERTEXT_BYTES
from fedchain.secagg.keys import new_round_keys
from fedchain.secagg.shares import bundle_ref, encode_share_bundle

DEFAULT_COHORTS = (8, 32, 64)
NEIGHBOURS, THRESHOLD = 8, 5
PER_MEMBER = ("advertise", "commitShares", "upload", "publishUnmaskBundle")
PER_ROUND = ("fixRoundSeed", "propose", "finalize")


def play_round(chain: Chain, coordinator: SecureCoordinator, task_id: int, round: int) -> dict[str, list[int]]:
    """One whole secure round with every member; returns the gas of each transaction kind, from the receipts."""
    requester, aggregator, *members = chain.accounts
    first = len(chain.gas_records)
    keys = [new_round_keys() for _ in members]
    for member, member_keys in zip(members, keys, strict=True):
        coordinator.advertise(task_id, *member_keys.mask.public, member_keys.encryption.public, sender=member)
    start = coordinator.round_view(task_id, round).start
    chain.advance_to(start + coordinator.task_params(task_id).commit_window)
    coordinator.fix_round_seed(task_id, sender=requester)
    records = []
    for index, (member, member_keys) in enumerate(zip(members, keys, strict=True)):
        bundle = share_bundle_of_size(round, index)
        coordinator.commit_shares(task_id, index, *member_keys.mask.public, round_root(round, index), bundle,
                                  1000 + index, sender=member)
        records.append((index, *member_keys.mask.public, round_root(round, index), bundle_ref(bundle)))
    chain.advance_to(coordinator.round_view(task_id, round).commit_end)
    for index, (member, record) in enumerate(zip(members, records, strict=True)):
        coordinator.upload(task_id, *record, 1000 + index, round_root(round, 2000 + index), b"\x0b" * 32,
                           sender=member)
    view = coordinator.round_view(task_id, round)
    chain.advance_to(unmask_start(view, coordinator.task_params(task_id)))
    for index, member in enumerate(members):
        coordinator.publish_unmask_bundle(task_id, round_root(round, 3000 + index), sender=member)
    chain.advance_to(view.reveal_end)
    transcript = [round_root(round, 4000 + index) for index in range(len(members))]
    coordinator.propose(task_id, round_root(round, 10**6), b"\x0c" * 32, transcript, sender=aggregator)
    chain.advance_to(coordinator.round_view(task_id, round).challenge_end)
    coordinator.finalize(task_id, sender=requester)
    gas: dict[str, list[int]] = defaultdict(list)
    for record_gas in chain.gas_records[first:]:
        gas[record_gas.kind].append(record_gas.gas_used)
    return gas


def share_bundle_of_size(round: int, index: int) -> bytes:
    """A share bundle of the real layout and size for k = NEIGHBOURS neighbours (random ciphertexts)."""
    receivers = sorted(round_root(round, 5000 + index * NEIGHBOURS + n)[-ADDRESS_BYTES:] for n in range(NEIGHBOURS))
    return encode_share_bundle(secrets.token_bytes(AEAD_NONCE_BYTES),
                               {receiver: secrets.token_bytes(SHARE_CIPHERTEXT_BYTES) for receiver in receivers})


def main(argv: Sequence[str]) -> None:
    """Print one table row per cohort size."""
    cohorts = [int(arg) for arg in argv] or list(DEFAULT_COHORTS)

    def row_of(cohort: int) -> dict[str, float]:
        params = replace(task_params(ZERO_ADDRESS, cohort), mode=Mode.SECURE, words_per_leaf=2,
                         neighbours=NEIGHBOURS, threshold=THRESHOLD, clip=(1 << 31) - 1, sample_cap=1 << 20)
        return measure(cohort, SecureCoordinator, params, play_round, per_member=PER_MEMBER, per_round=PER_ROUND)

    print_table(cohorts, (*PER_MEMBER, *PER_ROUND, "shared", "claim share", "per participant"), row_of)


if __name__ == "__main__":
    main(sys.argv[1:])
