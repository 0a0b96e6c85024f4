"""Gas per participant per round from the receipts of real transactions on the embedded py-evm chain.

    .venv/bin/python bench/bench_round_gas.py [cohort ...]

The forge gas test (contracts/test/Gas.t.sol) measures calls from inside a test contract; this runs the
same steady-state round as signed transactions and reads every figure from its receipt, so intrinsic gas,
calldata and the EIP-7623 floor are exactly what a chain charges. Rounds 0 and 1 warm up (first writes
of each member's entry and earnings); round 2 is measured: every member commits (which books its round-1
reward) and reveals, an aggregator proposes, anyone finalizes. Each member then claims once; a claim per
ROUNDS_PER_CLAIM rounds is shared over those rounds. The model size does not matter to the contract
(roots only), so no model is trained here.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from fedchain.chain import Chain, connect
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, TaskParams, Token
from fedchain.commit.commitment import commit_hash

WINDOW = 100_000
ROUNDS_PER_CLAIM = 20
DEFAULT_COHORTS = (8, 32, 64)
STAKE = 10**18
BOND = 100 * 10**18
ZERO_ADDRESS = "0x" + "00" * 20
"""The token of ``task_params`` until :func:`measure` deploys one."""


def task_params(token: str, cohort: int) -> TaskParams:
    """A task whose every round has ``cohort`` members."""
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, cohort_cap=cohort, sample_cap=1 << 20, min_stake=STAKE,
        token=token, mode=0, rule=0, scale_bits=16, words_per_leaf=2, clip=(1 << 31) - 1, min_participants=1,
        max_silent_rounds=3, num_params=10_000_000, server_lr_bps=10_000, unbonding_delay=1,
        allowlist=False, missed_reveal_slash_bps=1000, silence_slash_bps=100, violation_slash_bps=1000,
        aggregator_slash_bps=5000, bounty_bps=5000, aggregator_fee_bps=500, propose_window=WINDOW,
        challenge_window=WINDOW, num_rounds=100, aggregator_bond=BOND, reward_per_round=10**18,
        availability_window=WINDOW, availability_bond=10**18, model_spec_hash=b"\x07" * 32,
    )


def play_round(chain: Chain, coordinator: Coordinator, task_id: int, round: int) -> dict[str, list[int]]:
    """One whole round with every member; returns the gas of each transaction kind, from the receipts."""
    requester, aggregator, *members = chain.accounts
    first = len(chain.gas_records)
    for index, member in enumerate(members):
        root, salt = round_root(round, index), index.to_bytes(32, "big")
        digest = commit_hash(chain_id=chain.chain_id, coordinator=coordinator.address, task_id=task_id,
                             round=round, participant=member.address, root=root, sample_count=1000 + index, salt=salt)
        coordinator.commit(task_id, digest, sender=member)
    chain.advance_to(coordinator.round_view(task_id, round).commit_end)
    for index, member in enumerate(members):
        coordinator.reveal(task_id, round_root(round, index), 1000 + index, index.to_bytes(32, "big"), b"\x0b" * 32,
                           sender=member)
    chain.advance_to(coordinator.round_view(task_id, round).reveal_end)
    coordinator.propose(task_id, round_root(round, 10**6), b"\x0c" * 32, sender=aggregator)
    chain.advance_to(coordinator.round_view(task_id, round).challenge_end)
    coordinator.finalize(task_id, sender=requester)
    gas: dict[str, list[int]] = defaultdict(list)
    for record in chain.gas_records[first:]:
        gas[record.kind].append(record.gas_used)
    return gas


def round_root(round: int, index: int) -> bytes:
    """A distinct nonzero 32-byte root per round and member."""
    return (round << 64 | index + 1).to_bytes(32, "big")


PER_MEMBER = ("commit", "reveal")
PER_ROUND = ("propose", "finalize")
RoundPlayer = Callable[[Chain, Any, int, int], dict[str, list[int]]]


def measure(cohort: int, client: type[CoordinatorClient], params: TaskParams, play: RoundPlayer, *,
            per_member: Sequence[str], per_round: Sequence[str]) -> dict[str, float]:
    """Per-participant gas of round 2 of a fresh task with ``params`` and ``cohort`` members on a ``client``
    coordinator, its rounds played by ``play``: each of ``per_member``'s kinds per member, each of
    ``per_round``'s per round (and shared by the cohort), a claim (and its share per round)."""
    with connect("embedded", dev_accounts=cohort + 2) as chain:
        requester, aggregator, *members = chain.accounts
        coordinator = client.deploy(chain)
        token = Token.deploy_dev(chain)
        for account in chain.accounts:
            token.mint(account.address, 10**24, sender=requester)
            token.approve(coordinator.address, 10**24, sender=account)
        task_id = coordinator.create_task(replace(params, token=token.address), b"\x01" * 32, b"\x02" * 32,
                                          sender=requester)
        coordinator.post_bond(task_id, BOND, sender=aggregator)
        for member in members:
            coordinator.join(task_id, STAKE, sender=member)
        play(chain, coordinator, task_id, 0)
        play(chain, coordinator, task_id, 1)
        gas = play(chain, coordinator, task_id, 2)
        first = len(chain.gas_records)
        for member in members:
            coordinator.claim_rewards(task_id, sender=member)
        claims = [record.gas_used for record in chain.gas_records[first:]]
    row = {kind: sum(gas[kind]) / cohort for kind in per_member}
    row |= {kind: float(gas[kind][0]) for kind in per_round}
    row["shared"] = sum(sum(gas[kind]) for kind in per_round) / cohort
    row["claim"] = sum(claims) / len(claims)
    row["claim share"] = row["claim"] / ROUNDS_PER_CLAIM
    row["per participant"] = sum(row[kind] for kind in per_member) + row["shared"] + row["claim share"]
    return row


def print_table(cohorts: Sequence[int], columns: Sequence[str], row_of: Callable[[int], dict[str, float]]) -> None:
    """A markdown table: one row per cohort size, ``columns`` of ``row_of(cohort)``."""
    print("| cohort | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for cohort in cohorts:
        row = row_of(cohort)
        print(f"| {cohort} | " + " | ".join(f"{row[column]:,.0f}" for column in columns) + " |", flush=True)


def main(argv: Sequence[str]) -> None:
    """Print one table row per cohort size."""
    cohorts = [int(arg) for arg in argv] or list(DEFAULT_COHORTS)
    print_table(cohorts, (*PER_MEMBER, *PER_ROUND, "shared", "claim", "claim share", "per participant"),
                lambda cohort: measure(cohort, Coordinator, task_params(ZERO_ADDRESS, cohort), play_round,
                                       per_member=PER_MEMBER, per_round=PER_ROUND))


if __name__ == "__main__":
    main(sys.argv[1:])
