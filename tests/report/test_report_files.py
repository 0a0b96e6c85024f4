"""The output folder of the reduced demo: report.json, report.html with its plots, the model and its anchor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from fedchain.report import ANCHOR_FILE, MODEL_FILE, VerificationError, read_anchor, verify_model
from fedchain.report.atomic import write_json
from tests.conftest import DemoRun

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOP_LEVEL = {"schema", "mode", "rounds", "final", "baselines", "slashes", "balances", "chain", "hospitals",
             "quantization", "gas_outside_rounds", "config", "wall_seconds"}


def test_report_json_has_the_documented_sections(reduced_demo: DemoRun) -> None:
    report = reduced_demo.report
    assert set(report) == TOP_LEVEL and report["schema"] == "fedchain-report/1"
    assert {"index", "accuracy", "auc", "loss", "gas", "participants"} <= set(report["rounds"][0])
    assert {"accuracy", "auc", "model_root", "anchor_tx"} <= set(report["final"])
    assert {"pooled", "local"} <= set(report["baselines"])
    assert {"role", "address", "reason", "amount"} <= set(report["slashes"][0])
    assert {"stake", "rewards_claimed", "address"} <= set(report["balances"][0])
    assert {"backend", "contracts"} <= set(report["chain"])


def test_the_html_page_shows_its_plots(reduced_demo: DemoRun) -> None:
    page = (reduced_demo.folder / "report.html").read_text()
    for image in ("accuracy.png", "gas.png", "parties.png"):
        assert f"src='{image}'" in page
        assert (reduced_demo.folder / image).read_bytes().startswith(PNG_MAGIC)
    assert "aggregator-b" in page and "wrong aggregate" in page and "hospital-1" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing is fetched from the network
    assert not list(reduced_demo.folder.glob(".*.tmp"))


def test_the_anchor_file_names_the_final_model(reduced_demo: DemoRun) -> None:
    anchor = read_anchor(reduced_demo.folder / ANCHOR_FILE)
    final = reduced_demo.report["final"]
    assert (anchor.model_root, anchor.anchor_tx, anchor.round) == (final["model_root"], final["anchor_tx"], 2)
    assert anchor.coordinator == reduced_demo.report["chain"]["contracts"]["FedCoordinator"]
    state = torch.load(reduced_demo.folder / MODEL_FILE, weights_only=True)
    assert [(name, tuple(tensor.shape)) for name, tensor in state.items()] == anchor.shapes
    assert sum(tensor.numel() for tensor in state.values()) == anchor.num_params


def test_the_saved_model_verifies_against_the_recorded_anchor(reduced_demo: DemoRun) -> None:
    verdict = verify_model(reduced_demo.folder / MODEL_FILE)
    assert verdict.matches and verdict.computed_root == reduced_demo.report["final"]["model_root"]
    assert "RECORDED anchor" in verdict.checked_against and "no live chain" in verdict.checked_against


def test_a_tampered_model_does_not_verify(reduced_demo: DemoRun, tmp_path: Path) -> None:
    state = torch.load(reduced_demo.folder / MODEL_FILE, weights_only=True)
    first = next(iter(state))
    state[first].view(-1)[0] += 2.0**-16  # one quantization step: the smallest change that counts
    torch.save(state, tmp_path / "tampered.pt")
    verdict = verify_model(tmp_path / "tampered.pt", anchor_file=reduced_demo.folder / ANCHOR_FILE)
    assert not verdict.matches and verdict.anchored_root == reduced_demo.report["final"]["model_root"]


def test_verification_problems_are_clear_errors(reduced_demo: DemoRun, tmp_path: Path) -> None:
    model = reduced_demo.folder / MODEL_FILE
    with pytest.raises(VerificationError, match="no anchor file"):
        verify_model(model, anchor_file=tmp_path / "none.json")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(VerificationError, match="not a PyTorch state_dict"):
        verify_model(tmp_path / "junk.pt", anchor_file=reduced_demo.folder / ANCHOR_FILE)
    torch.save({"w": torch.zeros(3)}, tmp_path / "small.pt")
    with pytest.raises(VerificationError, match="the model has 3 parameters, the task"):
        verify_model(tmp_path / "small.pt", anchor_file=reduced_demo.folder / ANCHOR_FILE)
    broken = json.loads((reduced_demo.folder / ANCHOR_FILE).read_text())
    del broken["scale_bits"]
    write_json(tmp_path / "broken.json", broken)
    with pytest.raises(VerificationError, match="malformed anchor file"):
        verify_model(model, anchor_file=tmp_path / "broken.json")
    with pytest.raises(VerificationError, match="--rpc must be the http"):
        verify_model(model, rpc="anvil")
