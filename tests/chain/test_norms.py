"""Rule 3, norm-bounded averaging, on the embedded chain with the real contracts (docs/protocol.md section 4.4):
a round in which members declare their norms from fedchain.commit.norms, the aggregate fedchain.aggregate computes
is the one the contract's fraud proof accepts, a member that understates its norm is proven at one leaf from its
NormDeclared event and dropped, one over the hard limit cannot declare and is dropped, and the round finalizes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from fedchain.aggregate.norm_bounded import NormBounded
from fedchain.chain import Chain, ContractRevertError
from fedchain.chain.coordinator import (
    AggregateFraudProof,
    Coordinator,
    EntryState,
    IncludedLeaf,
    LeafProof,
    NormProof,
    TaskParams,
    Token,
)
from fedchain.commit.commitment import commit_hash
from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import MerkleTree
from fedchain.commit.norms import NormTree, leaf_norms, norm_declaration

WINDOW = 100
LAYOUT = LeafLayout(num_params=20, words_per_leaf=1)  # 3 real leaves, depth 2
RULE = NormBounded(sample_cap=100, server_lr_bps=10_000, param=500, clip=1_000, num_params=20)  # B ~ 224


def _params(token: str) -> TaskParams:
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, propose_window=WINDOW, challenge_window=WINDOW, cohort_cap=4,
        min_participants=1, sample_cap=100, num_rounds=2, max_silent_rounds=2, token=token, mode=0, rule=3,
        scale_bits=8, words_per_leaf=1, clip=1_000, num_params=20, server_lr_bps=10_000, unbonding_delay=10,
        allowlist=False, missed_reveal_slash_bps=1_000, silence_slash_bps=100, violation_slash_bps=5_000,
        aggregator_slash_bps=1_000, bounty_bps=1_000, aggregator_fee_bps=100, min_stake=10, aggregator_bond=10,
        reward_per_round=1_000, availability_window=WINDOW, availability_bond=5, model_spec_hash=b"\x07" * 32,
        rule_param=500,
    )


def _leaf(tree: MerkleTree, index: int) -> LeafProof:
    return LeafProof(words=tree.leaf_words(index), siblings=tree.proof(index))


def test_a_norm_bounded_round_on_chain(embedded_chain: Chain) -> None:
    chain = embedded_chain
    requester, honest_a, honest_b, liar, big, aggregator, watcher = chain.accounts[:7]
    coordinator = Coordinator.deploy(chain)
    token = Token.deploy_dev(chain)
    for account in (requester, honest_a, honest_b, liar, big, aggregator, watcher):
        token.mint(account.address, 10**6, sender=requester)
        token.approve(coordinator.address, 10**6, sender=account)
    previous = np.zeros(20, dtype=np.int32)
    task_id = coordinator.create_task(_params(token.address), MerkleTree(previous, LAYOUT).root, b"\x02" * 32,
                                      sender=requester)
    members = (honest_a, honest_b, liar, big)
    for member in members:
        coordinator.join(task_id, 100, sender=member)
    coordinator.post_bond(task_id, 10, sender=aggregator)

    updates: dict[str, NDArray[np.int64]] = {
        honest_a.address: np.arange(20, dtype=np.int64) - 10,
        honest_b.address: np.full(20, 30, dtype=np.int64),
        liar.address: np.full(20, 150, dtype=np.int64),  # norm ~ 671: scaled to a third, if declared truthfully
        big.address: np.full(20, 300, dtype=np.int64),  # norm ~ 1342, over the hard limit 4 B ~ 894
    }
    trees = {address: MerkleTree(vector, LAYOUT) for address, vector in updates.items()}
    view = coordinator.round_view(task_id, 0)
    for member in members:
        digest = commit_hash(chain_id=chain.chain_id, coordinator=coordinator.address, task_id=task_id, round=0,
                             participant=member.address, root=trees[member.address].root, sample_count=50,
                             salt=b"\x05" * 32)
        coordinator.commit(task_id, digest, sender=member)
    chain.advance_to(view.commit_end)
    for member in members:
        coordinator.reveal(task_id, trees[member.address].root, 50, b"\x05" * 32, b"\x09" * 32, sender=member)

    for member in (honest_a, honest_b):
        coordinator.declare_norm(task_id, leaf_norms(updates[member.address], LAYOUT), sender=member)
    lie = list(leaf_norms(updates[liar.address], LAYOUT))
    lie[2] = 0  # the last leaf's squares left out: 360,000 declared for 450,000 (B^2 = 50,000), more weight
    coordinator.declare_norm(task_id, lie, sender=liar)
    with pytest.raises(ContractRevertError) as over:
        coordinator.declare_norm(task_id, leaf_norms(updates[big.address], LAYOUT), sender=big)
    assert over.value.error.name == "NormOverLimit"

    declared = {d.participant: d for d in coordinator.norm_declarations(task_id, 0)}
    assert set(declared) == {honest_a.address, honest_b.address, liar.address}
    tree_a = NormTree.of_vector(updates[honest_a.address], LAYOUT)
    assert (declared[honest_a.address].norm_root, declared[honest_a.address].norm_sq) == (tree_a.root, tree_a.total)
    assert coordinator.norm_declaration_of(task_id, honest_a.address) == norm_declaration(0, tree_a.root, tree_a.total)
    assert RULE.scale(declared[liar.address].norm_sq) > RULE.scale(int((updates[liar.address] ** 2).sum()))

    chain.advance_to(view.reveal_end)
    # The big update is dropped as undeclared; the liar is proven at the leaf it understated, from its event alone.
    coordinator.drop_undeclared(task_id, big.address, trees[big.address].root, 50, sender=watcher)
    liar_values = declared[liar.address].leaf_norms
    wrong = [i for i, value in enumerate(liar_values) if value != leaf_norms(updates[liar.address], LAYOUT)[i]]
    assert wrong == [2]
    liar_tree = NormTree(liar_values, LAYOUT.depth)
    path = liar_tree.path(2)
    proof = NormProof(norm_root=liar_tree.root, norm_sq=liar_tree.total, leaf_index=2,
                      leaf=_leaf(trees[liar.address], 2), value=liar_values[2], hashes=path.hashes, sums=path.sums)
    stake = coordinator.member(task_id, liar.address).stake
    coordinator.prove_norm_violation(task_id, liar.address, trees[liar.address].root, 50, proof, sender=watcher)
    assert coordinator.entry_state(task_id, 0, liar.address) == EntryState.DROPPED
    assert coordinator.entry_state(task_id, 0, big.address) == EntryState.DROPPED
    assert coordinator.member(task_id, liar.address).stake == stake // 2

    # The aggregate of the two honest members, as fedchain.aggregate computes it from the declared norms.
    honest = (honest_a, honest_b)
    model = RULE.aggregate_declared(previous, [updates[m.address] for m in honest], [50, 50],
                                    [declared[m.address].norm_sq for m in honest])
    proposal = MerkleTree(model, LAYOUT)
    coordinator.propose(task_id, proposal.root, b"\x0b" * 32, sender=aggregator)
    for index in range(LAYOUT.width):
        included = tuple(sorted((IncludedLeaf(participant=m.address, weight=50, leaf=_leaf(trees[m.address], index),
                                              norm=(declared[m.address].norm_root, declared[m.address].norm_sq))
                                 for m in honest), key=lambda leaf: int(leaf.participant, 16)))
        fraud = AggregateFraudProof(leaf_index=index, previous=_leaf(MerkleTree(previous, LAYOUT), index),
                                    proposed=_leaf(proposal, index), updates=included)
        with pytest.raises(ContractRevertError) as correct:
            coordinator.challenge_aggregate(task_id, fraud, sender=watcher)
        assert correct.value.error.name == "ProposalCorrect"
    chain.advance_time(WINDOW)
    coordinator.finalize(task_id, sender=watcher)
    assert coordinator.task_state(task_id).model_root == proposal.root
