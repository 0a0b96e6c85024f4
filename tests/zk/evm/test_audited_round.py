"""An audited round on the embedded chain (docs/protocol.md section 13), with real EZKL proofs verified by EZKL's
real Solidity verifier, called by the coordinator with the public instances it builds from the chain: an honest
hospital proves its drawn step and stays in the round (another hospital's real proof does not pass for it); a
hospital whose committed trajectory was not trained (every step shifted from the real one) cannot make its real
proof of the step verify, and is dropped and slashed when the proof window ends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from fedchain.chain import Chain, ContractRevertError
from fedchain.chain.audits import (
    AuditParams,
    AuditStatus,
    StepOpening,
    TrajectoryLeaf,
    batch_index,
    catch_probability,
    dataset_leaf,
    drawn_step,
    selected,
    trajectory_leaf,
    tree_path,
    tree_root,
)
from fedchain.chain.coordinator import Coordinator, EntryState, TaskParams, Token
from fedchain.commit.commitment import commit_hash
from fedchain.commit.leaves import LeafLayout, leaf_words
from fedchain.commit.merkle import merkle_root
from fedchain.zk.evm.onchain import DeployedVerifier
from fedchain.zk.fixed.arith import Ints, quantize
from fedchain.zk.fixed.logreg import sgd_step
from fedchain.zk.proof.artifacts import CircuitArtifacts
from fedchain.zk.proof.poseidon import poseidon
from fedchain.zk.proof.prover import prove_step
from fedchain.zk.proof.statement import Statement
from tests.zk.conftest import TINY, Batch, make_batch

WINDOW = 50
STEPS = 2
BATCHES = 2
SAMPLES = BATCHES * TINY.batch
STAKE = 1_000
LAYOUT = LeafLayout(TINY.parameters, 1)


def task(token: str) -> TaskParams:
    return TaskParams(
        commit_window=WINDOW, reveal_window=WINDOW, propose_window=WINDOW, challenge_window=WINDOW, cohort_cap=4,
        min_participants=2, sample_cap=100, num_rounds=1, max_silent_rounds=2, token=token, mode=0, rule=0,
        scale_bits=TINY.scale, words_per_leaf=1, clip=1 << 20, num_params=TINY.parameters, server_lr_bps=10_000,
        unbonding_delay=10, allowlist=False, missed_reveal_slash_bps=1_000, silence_slash_bps=100,
        violation_slash_bps=5_000, aggregator_slash_bps=1_000, bounty_bps=1_000, aggregator_fee_bps=100,
        min_stake=10, aggregator_bond=10, reward_per_round=1_000_000, availability_window=WINDOW,
        availability_bond=5, model_spec_hash=b"\x07" * 32,
    )


@dataclass
class Hospital:
    """A hospital's data and the trajectory it commits: models[j] after j steps (shifted by ``fake`` per step)."""

    batches: list[Batch]
    models: list[Ints]

    @property
    def batch_hashes(self) -> list[int]:
        return [poseidon(batch.packed) for batch in self.batches]

    @property
    def dataset_root(self) -> bytes:
        return tree_root([dataset_leaf(b, h) for b, h in enumerate(self.batch_hashes)])

    @property
    def trajectory_leaves(self) -> list[bytes]:
        return [trajectory_leaf(j, merkle_root(model, LAYOUT), poseidon(model)) for j, model in enumerate(self.models)]

    @property
    def update(self) -> Ints:
        return self.models[-1] - self.models[0]

    @property
    def update_root(self) -> bytes:
        return merkle_root(self.update, LAYOUT)

    def opening(self, round: int, step: int) -> StepOpening:
        leaves = self.trajectory_leaves
        opened = tuple(TrajectoryLeaf(leaf_words(self.models[j], LAYOUT, 0), poseidon(self.models[j]),
                                      tree_path(leaves, j)) for j in (0, step, step + 1, STEPS))
        b = batch_index(round, STEPS, step, BATCHES)
        dataset = [dataset_leaf(i, h) for i, h in enumerate(self.batch_hashes)]
        return StepOpening(opened, self.batch_hashes[b], tree_path(dataset, b))  # type: ignore[arg-type]


def train(theta: Ints, batches: list[Batch], fake: int) -> list[Ints]:
    models = [theta]
    for step in range(STEPS):
        batch = batches[batch_index(0, STEPS, step, BATCHES)]
        models.append(sgd_step(TINY, models[-1], batch.features, batch.labels) + fake)
    return models


@pytest.mark.slow
def test_an_audited_round_with_real_proofs(session_chain: Chain, deployed: DeployedVerifier,
                                           tiny_artifacts: CircuitArtifacts) -> None:
    chain = session_chain
    requester, aggregator, watcher, honest_account, cheater_account = chain.accounts[:5]
    coordinator = Coordinator.deploy(chain)
    token = Token.deploy_dev(chain)
    for account in (requester, aggregator, watcher, honest_account, cheater_account):
        token.mint(account.address, 10**7, sender=requester)
        token.approve(coordinator.address, 10**7, sender=account)
    rng = np.random.default_rng(1515)
    theta = quantize(rng.normal(0.0, 1.0, TINY.parameters), TINY.scale)
    audits = AuditParams(verifier=deployed.contract.address, steps=STEPS, batch_size=TINY.batch, audit_bps=10_000,
                         audit_steps=1, proof_window=WINDOW, demand_bond=5)
    task_id = coordinator.create_audited_task(task(token.address), audits, merkle_root(theta, LAYOUT), b"\x02" * 32,
                                              sender=requester)
    assert coordinator.audit_params(task_id) == audits and audits.audited
    coordinator.post_bond(task_id, 10, sender=aggregator)

    hospitals = {}
    for account, fake in ((honest_account, 0), (cheater_account, 1)):
        batches = [make_batch(TINY, rng) for _ in range(BATCHES)]
        hospital = Hospital(batches, train(theta, batches, fake))
        hospitals[account.address] = hospital
        coordinator.join(task_id, STAKE, sender=account)
        coordinator.register_dataset(task_id, hospital.dataset_root, BATCHES, sender=account)
    salt = b"\x05" * 32
    for account in (honest_account, cheater_account):
        hospital = hospitals[account.address]
        digest = commit_hash(chain_id=chain.chain_id, coordinator=coordinator.address, task_id=task_id, round=0,
                             participant=account.address, root=hospital.update_root, sample_count=SAMPLES, salt=salt)
        coordinator.commit(task_id, digest, sender=account)
        coordinator.commit_trajectory(task_id, tree_root(hospital.trajectory_leaves), sender=account)
    chain.advance_to(coordinator.round_view(task_id, 0).commit_end)
    for account in (honest_account, cheater_account):
        coordinator.reveal(task_id, hospitals[account.address].update_root, SAMPLES, salt, b"\x09" * 32,
                           sender=account)
    chain.advance_to(coordinator.round_view(task_id, 0).reveal_end)

    coordinator.draw_audits(task_id, sender=watcher)
    steps = {}
    for account in (honest_account, cheater_account):
        chosen, (step,) = coordinator.audit_draw(task_id, 0, account.address)
        seed = coordinator.audit_seed(task_id, 0)
        assert chosen and selected(seed, account.address, audits.audit_bps)
        assert step == drawn_step(seed, account.address, 0, STEPS)
        steps[account.address] = step
        coordinator.open_audit(task_id, account.address, hospitals[account.address].update_root, SAMPLES, 0,
                               sender=watcher)

    # The honest hospital proves its drawn step; the contract's instances are the statement of that step. The
    # cheater's real proof of its own step (another model, other data) does not pass for it.
    honest, cheater = hospitals[honest_account.address], hospitals[cheater_account.address]
    cheater_step = steps[cheater_account.address]
    cheater_batch = cheater.batches[batch_index(0, STEPS, cheater_step, BATCHES)]
    real = prove_step(tiny_artifacts, TINY, cheater.models[cheater_step], cheater_batch.packed)
    step = steps[honest_account.address]
    batch = honest.batches[batch_index(0, STEPS, step, BATCHES)]
    proof = prove_step(tiny_artifacts, TINY, honest.models[step], batch.packed)
    opening = honest.opening(0, step)
    with pytest.raises(ContractRevertError) as foreign:
        coordinator.prove_step(task_id, 0, honest_account.address, step, opening, real.proof, sender=honest_account)
    assert foreign.value.error.name == "ProofRejected"
    statement = Statement.of(honest.models[step], poseidon(batch.packed), honest.models[step + 1])
    built = coordinator.step_instances(task_id, 0, honest_account.address, step, honest.update_root, SAMPLES, opening)
    assert list(built) == statement.instances()
    receipt = coordinator.prove_step(task_id, 0, honest_account.address, step, opening, proof.proof,
                                     sender=honest_account)
    gas = int(receipt["gasUsed"])
    print(f"proveStep gas with the real EZKL verifier: {gas}")
    assert 300_000 < gas < 3_000_000
    assert coordinator.audit_of(task_id, 0, honest_account.address, step).status is AuditStatus.PROVEN

    # The cheater's real proof of the step from its committed model does not reach the model it committed after
    # the step: the contract refuses it, and at the deadline the update is dropped and the cheater slashed.
    step = cheater_step
    with pytest.raises(ContractRevertError) as refused:
        coordinator.prove_step(task_id, 0, cheater_account.address, step, cheater.opening(0, step), real.proof,
                               sender=cheater_account)
    assert refused.value.error.name == "ProofRejected"
    # The honest hospital's valid proof does not pass for the cheater's changed update either.
    with pytest.raises(ContractRevertError) as other:
        coordinator.prove_step(task_id, 0, cheater_account.address, step, cheater.opening(0, step), proof.proof,
                               sender=cheater_account)
    assert other.value.error.name == "ProofRejected"
    chain.advance_to(coordinator.audit_of(task_id, 0, cheater_account.address, step).deadline)
    coordinator.settle_audit(task_id, 0, cheater_account.address, step, sender=watcher)
    assert coordinator.entry_state(task_id, 0, cheater_account.address) is EntryState.DROPPED
    assert coordinator.entry_state(task_id, 0, honest_account.address) is EntryState.REVEALED
    assert coordinator.member(task_id, cheater_account.address).stake == STAKE // 2
    (settled,) = coordinator.audit_settlements(task_id)
    assert (settled.participant, settled.status, settled.slashed) == (cheater_account.address, AuditStatus.FAILED,
                                                                      STAKE // 2)
    assert coordinator.proven_steps(task_id) == [(0, honest_account.address, steps[honest_account.address])]
    kinds = ("registerDataset", "commitTrajectory", "drawAudits", "openAudit", "proveStep", "settleAudit")
    print("audit gas:", [(record.kind, record.gas_used) for record in chain.gas_records if record.kind in kinds])


def test_the_draw_is_the_contracts() -> None:
    # keccak(abi.encode(seed, participant)) % 10000 and keccak(abi.encode(seed, participant, j)) % steps
    participant = "0x" + "11" * 20
    assert selected(7, participant, 10_000) and not selected(7, participant, 0)
    assert {drawn_step(seed, participant, 0, 4) for seed in range(64)} == {0, 1, 2, 3}


def test_the_catch_probability() -> None:
    assert catch_probability(10_000, 1, 4, 4) == 1.0
    assert catch_probability(2_500, 1, 4, 1) == pytest.approx(0.0625)
    assert catch_probability(2_500, 2, 4, 1, rounds=10) == pytest.approx(1 - (1 - 0.25 * (1 - 0.75**2)) ** 10)
