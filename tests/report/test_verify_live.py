"""`fedchain verify-model` against a live anvil node: the real chain's anchor decides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fedchain.chain import Chain
from fedchain.chain.coordinator import TaskStatus
from fedchain.client import unflatten
from fedchain.commit.quantize import dequantize
from fedchain.learn import TorchTrainer, federate, initial_parameters, load_breast_cancer, model_parameter_names
from fedchain.report import VerificationError, verify_model
from fedchain.roles.task import fetch_model
from fedchain.sim import Federation
from fedchain.storage import LocalBlobStore
from tests.roles.conftest import FUNDS, MODEL, TRAINING, task_template

pytestmark = pytest.mark.anvil


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fedchain", *args], capture_output=True, text=True, check=False,
                          timeout=120)


def test_verify_model_reads_the_anchor_from_a_live_chain(anvil_chain: Chain, tmp_path: Path) -> None:
    split = federate(load_breast_cancer(), "dirichlet", num_clients=2, alpha=1.0, seed=11)
    names = model_parameter_names(MODEL.build())
    federation = Federation.launch(
        anvil_chain, LocalBlobStore(tmp_path / "blobs"), tmp_path / "journals", template=task_template(1),
        parameters=initial_parameters(MODEL, seed=0), names=names, funds=FUNDS,
        client_for=lambda client: TorchTrainer.from_spec(MODEL, 0, split.clients[client], config=TRAINING))
    for client in range(2):
        federation.add_participant(client)
    federation.add_aggregator(6)
    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    rules = federation.requester.rules
    state = federation.state()
    anchored = fetch_model(federation.store, rules, state.model_root, state.model_blob_ref)
    vector = dequantize(anchored, rules.quantization)
    arrays = unflatten(vector, [(shape.name, shape.dims) for shape in rules.shapes], dtype="float32")
    model = tmp_path / "model.pt"
    torch.save({name: torch.from_numpy(array) for name, array in zip(names, arrays, strict=True)}, model)
    assert anvil_chain.url is not None
    live = ("--rpc", anvil_chain.url, "--coordinator", federation.coordinator.address, "--task", "1")

    good = run_cli("verify-model", str(model), *live)
    assert good.returncode == 0, good.stderr
    assert f"LIVE chain 31337 at {anvil_chain.url}" in good.stdout and "0x" + state.model_root.hex() in good.stdout

    round_zero = verify_model(model, rpc=anvil_chain.url, coordinator=federation.coordinator.address, task_id=1,
                              round=0)
    assert round_zero.matches and "round 0's model" in round_zero.checked_against

    state_dict = torch.load(model, weights_only=True)
    state_dict[names[0]].view(-1)[0] += 1.0
    torch.save(state_dict, tmp_path / "tampered.pt")
    bad = run_cli("verify-model", str(tmp_path / "tampered.pt"), *live)
    assert bad.returncode == 1 and "MISMATCH" in bad.stderr and "LIVE chain" in bad.stderr

    with pytest.raises(VerificationError, match="task 9 does not exist"):
        verify_model(model, rpc=anvil_chain.url, coordinator=federation.coordinator.address, task_id=9)
    with pytest.raises(VerificationError, match="round 5 of task 1 has no anchored model"):
        verify_model(model, rpc=anvil_chain.url, coordinator=federation.coordinator.address, task_id=1, round=5)
