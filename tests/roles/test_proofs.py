"""The proof builders against the contract's own LeafVerifier (pure functions, called on the embedded chain)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from fedchain.aggregate.registry import rule_for
from fedchain.chain import Chain, connect
from fedchain.chain.coordinator import Coordinator, Reveal
from fedchain.commit.commitment import revealed_entry
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.roles.proofs import aggregate_fraud_proof, first_differing_leaf, first_out_of_range, violation_leaf
from fedchain.roles.task import IncludedUpdate

CLIP = 1000
LAYOUT = LeafLayout(num_params=50, words_per_leaf=1)
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def verifier() -> Iterator[tuple[Chain, Contract]]:
    with connect("embedded") as chain:
        coordinator = Coordinator.deploy(chain)
        yield chain, chain.contract("LeafVerifier", coordinator.verifier_address())


ROUND = 3


def context(leaf_index: int, previous_root: bytes, proposed_root: bytes, rule: int = 0,
            rule_param: int = 0) -> tuple[object, ...]:
    return (ROUND, LAYOUT.depth, LAYOUT.words_per_leaf, leaf_index, previous_root, proposed_root, rule, rule_param,
            10_000, CLIP, LAYOUT.num_params)


vectors = st.lists(st.integers(-CLIP, CLIP), min_size=LAYOUT.num_params, max_size=LAYOUT.num_params)


@SETTINGS
@given(values=vectors, position=st.integers(0, LAYOUT.num_params - 1), excess=st.integers(1, 2**20))
def test_violation_proofs_are_accepted_by_the_contract(verifier: tuple[Chain, Contract], values: list[int],
                                                       position: int, excess: int) -> None:
    chain, contract = verifier
    update = np.asarray(values, dtype=np.int32)
    update[position] = -(CLIP + excess)
    coordinate = first_out_of_range(update, CLIP)
    assert coordinate is not None and coordinate <= position
    index, leaf = violation_leaf(update, LAYOUT, coordinate)
    root = MerkleTree(update, LAYOUT).root
    found, at = chain.call(contract.functions.findViolation(context(index, root, root), root, leaf.as_abi()))
    assert (found, at) == (True, coordinate)


@SETTINGS
@given(updates=st.lists(vectors, min_size=1, max_size=4), previous=vectors, position=st.integers(0, 49),
       rule=st.sampled_from([(0, 0), (1, 0), (2, 2_500)]))
def test_the_contract_agrees_with_every_rule_leaf_by_leaf(verifier: tuple[Chain, Contract], updates: list[list[int]],
                                                          previous: list[int], position: int,
                                                          rule: tuple[int, int]) -> None:
    chain, contract = verifier
    rule_id, rule_param = rule
    counts = [3 + k for k in range(len(updates))]
    included = [IncludedUpdate(Reveal(participant=f"0x{k + 1:040x}", root=MerkleTree(np.asarray(u, np.int32),
                                                                                     LAYOUT).root,
                                      sample_count=n, weight=n, blob_ref=b"\x01" * 32), np.asarray(u, np.int32))
                for k, (u, n) in enumerate(zip(updates, counts, strict=True))]
    old = np.asarray(previous, dtype=np.int32)
    aggregation = rule_for(rule_id, sample_cap=1000, server_lr_bps=10_000, param=rule_param)
    correct = aggregation.aggregate(old, [u.vector for u in included], counts)
    wrong = correct.copy()
    wrong[position] += 1
    assert first_differing_leaf(correct, wrong, LAYOUT) == position // LAYOUT.coords_per_leaf
    for proposed, differs in ((correct, False), (wrong, True)):
        proof = aggregate_fraud_proof(position // LAYOUT.coords_per_leaf, LAYOUT, old, MerkleTree(proposed, LAYOUT),
                                      included)
        ctx = context(proof.leaf_index, MerkleTree(old, LAYOUT).root, MerkleTree(proposed, LAYOUT).root, rule_id,
                      rule_param)
        found, participants, entries = chain.call(contract.functions.proposalDiffers(ctx, proof.as_abi()))
        assert found is differs
        ordered = sorted(included, key=lambda update: int(update.reveal.participant, 16))
        assert [int(participant, 16) for participant in participants] == [int(u.reveal.participant, 16)
                                                                         for u in ordered]
        assert list(entries) == [revealed_entry(ROUND, u.reveal.root, u.reveal.weight) for u in ordered]
