"""The output folder: report.json, report.html with its plots, the model, its anchor and its preprocessing; from the
reduced demo run by the real command, and from results built here (any metrics, with or without baselines)."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from rich.console import Console

from fedchain.commit.leaves import LeafLayout
from fedchain.commit.merkle import merkle_root
from fedchain.commit.quantize import QuantizationSpec, quantize_model
from fedchain.learn import Preprocessing
from fedchain.report import (
    ANCHOR_FILE,
    MODEL_FILE,
    PREPROCESSING_FILE,
    REPORT_JSON,
    VerificationError,
    read_anchor,
    report_data,
    verify_model,
    write_report,
)
from fedchain.report.atomic import write_json
from fedchain.report.compare import format_metric
from fedchain.report.html import metric_names
from fedchain.report.live import LineView, LiveView, print_summary
from fedchain.report.plots import (
    GAS_PNG,
    METRIC_PNG,
    PARTIES_PNG,
    gas_figure,
    kind_styles,
    metric_figure,
    parties_figure,
    token_label,
)
from fedchain.sim.records import (
    Balance,
    Baselines,
    ChainInfo,
    FinalModel,
    HospitalInfo,
    PairedOutcomes,
    Party,
    Proposal,
    RoundRecord,
    Scores,
    SimulationResult,
    Slash,
)
from tests.conftest import DemoRun

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOP_LEVEL = {"schema", "mode", "headline", "rounds", "final", "baselines", "slashes", "balances", "chain", "classes",
             "hospitals", "quantization", "gas_outside_rounds", "config", "wall_seconds", "audits"}


def test_report_json_has_the_documented_sections(reduced_demo: DemoRun) -> None:
    report = reduced_demo.report
    assert set(report) == TOP_LEVEL and report["schema"] == "fedchain-report/2" and report["headline"] == "accuracy"
    assert {"index", "loss", "metrics", "gas", "participants"} <= set(report["rounds"][0])
    assert {"accuracy", "auc"} <= set(report["rounds"][0]["metrics"])
    assert {"loss", "metrics", "model_root", "anchor_tx", "preprocessing_file"} <= set(report["final"])
    assert {"pooled", "local", "local_mean"} <= set(report["baselines"])
    assert {"role", "address", "reason", "amount"} <= set(report["slashes"][0])
    assert {"stake", "rewards_claimed", "address"} <= set(report["balances"][0])
    assert {"backend", "contracts"} <= set(report["chain"])


def test_the_html_page_shows_its_plots(reduced_demo: DemoRun) -> None:
    page = (reduced_demo.folder / "report.html").read_text()
    for image in ("metric.png", "gas.png", "parties.png"):
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


# Results built here, as the simulator records them: the built-in trainer's metrics with baselines, and a user's
# client that reports only an F1 score and keeps its data (and so its baselines) to itself.

ADDRESS = "0x" + "11" * 20
SCALE_BITS, WORDS_PER_LEAF = 16, 1
PARAMETERS = [np.array([[0.5, -0.25, 0.125], [1.0, 0.0, -2.0]], dtype=np.float32), np.array([0.75, -0.5], np.float32)]
NUM_PARAMS = sum(array.size for array in PARAMETERS)
TEST_EXAMPLES = 200
BUILT_IN = [Scores(loss=0.52, metrics={"accuracy": 0.815, "auc": 0.874}, examples=TEST_EXAMPLES),
            Scores(loss=0.31, metrics={"accuracy": 0.91, "auc": 0.951}, examples=TEST_EXAMPLES)]
F1_ONLY = [Scores(loss=0.69, metrics={"f1": 0.61}), Scores(loss=0.42, metrics={"f1": 0.73})]
PREPROCESSING = Preprocessing(features=("age", "dose"), mean=(50.0, 2.0), scale=(10.0, 0.5), missing="mean")


def anchored_root() -> str:
    vector = np.concatenate([array.astype(np.float64).ravel() for array in PARAMETERS])
    quantized = quantize_model(vector, QuantizationSpec(scale_bits=SCALE_BITS, clip=1))
    return "0x" + merkle_root(quantized, LeafLayout(num_params=NUM_PARAMS, words_per_leaf=WORDS_PER_LEAF)).hex()


def round_record(index: int, scores: Scores | None) -> RoundRecord:
    slashes = (Slash(round=index, role="aggregator", name="aggregator-b", address=ADDRESS, kind="wrong_aggregate",
                     reason="wrong aggregate", amount=5 * 10**18, bounty=10**18, challenger="aggregator-a"),
               ) if index == 1 else ()
    proposals: tuple[Proposal, ...] = (Proposal(aggregator="aggregator-a", root="0x" + "ab" * 32, outcome="finalized"),)
    if index == 1:
        proposals = (Proposal(aggregator="aggregator-b", root="0x" + "cd" * 32, outcome="rejected"), *proposals)
    return RoundRecord(index=index, status="finalized" if scores is not None else "failed", scores=scores,
                       participants=("hospital-0", "hospital-1"), committed=("hospital-0", "hospital-1"), dropped=(),
                       proposals=proposals, gas={"commit": 120_000, "finalize": 80_000 + index}, rewards={
                           "hospital-0": 2 * 10**18, "hospital-1": 10**18}, slashes=slashes,
                       model_root=None if scores is None else "0x" + "ab" * 32, wall_seconds=1.5)


def balance(name: str, role: str, *, slashed: int = 0) -> Balance:
    return Balance(party=Party(name=name, role=role, address=ADDRESS), token_balance=100 * 10**18, stake=20 * 10**18,
                   bond=0, funded=120 * 10**18, rewards_claimed=3 * 10**18, rewards_unclaimed=0, fees_claimed=0,
                   fees_unclaimed=0, bounties=0, slashed=slashed, withdrawn=0, escrow=0, pool_withdrawn=0)


def simulation_result(scores: list[Scores], *, baselines: Baselines | None, preprocessing: Preprocessing | None,
                      known_data: bool = True) -> SimulationResult:
    """Three rounds: ``scores`` for rounds 0 and 1 (round 1 re-aggregated after a slash), and a failed round 2."""
    rounds = (round_record(0, scores[0]), round_record(1, scores[1]), round_record(2, None))
    final = FinalModel(round=1, scores=scores[1], model_root=anchored_root(), model_blob_ref="0x" + "ef" * 32,
                       anchor_tx="0x" + "12" * 32, anchor_block=42, names=("layer.weight", "layer.bias"),
                       parameters=PARAMETERS)
    hospitals = tuple(HospitalInfo(name=f"hospital-{i}", address=ADDRESS, source="breast_cancer" if known_data else
                                   "MyClient", examples=(120 + i) if known_data else None,
                                   label_counts=LABEL_COUNTS[i] if known_data else None, misbehaviour=None)
                      for i in range(2))
    return SimulationResult(
        config={"task": {"mode": "plain", "rounds": 3}, "simulation": {"hospitals": 2}, "adversaries": []},
        rounds=rounds, final=final, baselines=baselines,
        preprocessing=None if preprocessing is None else preprocessing.to_json(),
        slashes=rounds[1].slashes,
        balances=(balance("requester", "requester"), balance("hospital-0", "hospital"),
                  balance("aggregator-b", "aggregator", slashed=5 * 10**18)),
        chain=ChainInfo(backend="embedded", chain_id=1337, coordinator=ADDRESS, token=ADDRESS, task_id=1,
                        contracts={"FedCoordinator": ADDRESS}),
        hospitals=hospitals,
        quantization={"scale_bits": SCALE_BITS, "words_per_leaf": WORDS_PER_LEAF, "num_params": NUM_PARAMS, "clip": 1},
        gas_outside_rounds={"deploy FedCoordinator": 3_000_000}, wall_seconds=12.0,
        classes=("malignant", "benign") if known_data else None)


LABEL_COUNTS = [(50, 70), (2, 119)]  # hospital-1 has hardly any example of class 0
BUILT_IN_BASELINES = Baselines(
    pooled=Scores(loss=0.28, metrics={"accuracy": 0.93, "auc": 0.96}, examples=TEST_EXAMPLES),
    local={"hospital-0": Scores(loss=0.6, metrics={"accuracy": 0.8, "auc": 0.85}, examples=TEST_EXAMPLES),
           "hospital-1": Scores(loss=0.7, metrics={"accuracy": 0.7, "auc": 0.75}, examples=TEST_EXAMPLES)},
    # the final model is right on 182 of the 200 test examples (91%), pooled training on 186, the hospitals on 160, 140
    paired={"pooled": PairedOutcomes(both=178, only_federation=4, only_baseline=8, neither=10),
            "hospital-0": PairedOutcomes(both=150, only_federation=32, only_baseline=10, neither=8),
            "hospital-1": PairedOutcomes(both=130, only_federation=52, only_baseline=10, neither=8)},
    test_label_counts=(80, 120))


@pytest.fixture
def built_in(tmp_path: Path) -> Path:
    """The built-in trainer's result (accuracy, AUC, baselines, preprocessing) written to a folder."""
    folder = tmp_path / "built-in"
    write_report(simulation_result(BUILT_IN, baselines=BUILT_IN_BASELINES, preprocessing=PREPROCESSING), folder)
    return folder


@pytest.fixture
def f1_only(tmp_path: Path) -> Path:
    """A user's client's result: only an F1 score besides the loss, no baselines, data unknown, no preprocessing."""
    folder = tmp_path / "f1"
    write_report(simulation_result(F1_ONLY, baselines=None, preprocessing=None, known_data=False), folder)
    return folder


def read_report(folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((folder / REPORT_JSON).read_text())
    return report


def values(data: object) -> list[float]:
    return [float(value) for value in np.asarray(data).ravel()]


def test_report_json_records_any_metrics_and_the_baselines(built_in: Path) -> None:
    report = read_report(built_in)
    assert set(report) == TOP_LEVEL and report["schema"] == "fedchain-report/2" and report["mode"] == "plain"
    assert report["headline"] == "accuracy"
    assert [(row["loss"], row["metrics"], row["examples"]) for row in report["rounds"]] == [
        (0.52, {"accuracy": 0.815, "auc": 0.874}, 200), (0.31, {"accuracy": 0.91, "auc": 0.951}, 200),
        (None, None, None)]
    final = report["final"]
    assert (final["round"], final["loss"], final["metrics"]) == (1, 0.31, {"accuracy": 0.91, "auc": 0.951})
    assert (final["model_file"], final["anchor_file"], final["preprocessing_file"]) == (
        MODEL_FILE, ANCHOR_FILE, PREPROCESSING_FILE)
    baselines = report["baselines"]
    assert baselines["pooled"] == {"loss": 0.28, "metrics": {"accuracy": 0.93, "auc": 0.96}, "examples": 200}
    assert baselines["local"]["hospital-1"] == {"loss": 0.7, "metrics": {"accuracy": 0.7, "auc": 0.75}, "examples": 200}
    assert baselines["local_mean"] == pytest.approx({"loss": 0.65, "accuracy": 0.75, "auc": 0.8})
    assert baselines["paired"]["hospital-0"] == {"both": 150, "only_federation": 32, "only_baseline": 10, "neither": 8}
    assert set(baselines["paired"]) == {"pooled", "hospital-0", "hospital-1"}
    assert baselines["test_label_counts"] == [80, 120] and report["classes"] == ["malignant", "benign"]
    assert [(h["examples"], h["label_counts"]) for h in report["hospitals"]] == [(120, [50, 70]), (121, [2, 119])]
    assert report == json.loads(json.dumps(report_data(simulation_result(
        BUILT_IN, baselines=BUILT_IN_BASELINES, preprocessing=PREPROCESSING))))


def test_report_html_leads_with_accuracy_against_the_baselines(built_in: Path) -> None:
    page = (built_in / "report.html").read_text()
    assert ("<p class=\"good\">2 hospitals, 3 rounds, plain mode (updates revealed): the final model reaches accuracy "
            "91.0% (95% CI 86.2 to 94.2%, 200 test examples). Against pooled training (93.0%): -2.0 points (95% CI "
            "-5.9 to +1.7), within noise. Against the best hospital alone (hospital-0, 80.0%): +11.0 points (95% CI "
            "+4.7 to +17.4); it is above each of the 2 hospitals alone beyond noise.</p>") in page
    assert "<th>accuracy</th><th>95% CI</th><th>AUC</th><th>loss</th><th>federation minus this</th>" in page
    assert ("<td class='l'>pooled: all data in one place</td><td>93.0%</td><td>88.6 to 95.8%</td><td>0.9600</td>"
            "<td>0.2800</td><td>-2.0 points (95% CI -5.9 to +1.7), within noise</td>") in page
    assert ("<td class='l'>mean of hospitals training alone</td><td>75.0%</td><td></td><td>0.8000</td><td>0.6500</td>"
            "<td></td>") in page
    assert "<td>80.0%</td><td>73.9 to 85.0%</td><td>0.8500</td><td>0.6000</td><td>+11.0 points (95% CI +4.7" in page
    assert "<td>81.5%</td><td>0.8740</td><td>0.5200</td>" in page  # round 0
    assert "<td>n/a</td><td>n/a</td><td>n/a</td>" in page  # the failed round 2
    assert "<code>preprocessing.json</code>" in page and "aggregator-b: wrong aggregate" in page
    for image in (METRIC_PNG, GAS_PNG, PARTIES_PNG):
        assert f"src='{image}'" in page and (built_in / image).read_bytes().startswith(PNG_MAGIC)
    assert "http" not in page.replace("http-equiv", "") and not list(built_in.glob(".*.tmp"))


def test_a_result_with_only_f1_and_no_baselines_is_reported(f1_only: Path) -> None:
    report = read_report(f1_only)
    assert report["headline"] == "f1" and report["baselines"] is None
    assert [row["metrics"] for row in report["rounds"]] == [{"f1": 0.61}, {"f1": 0.73}, None]
    assert (report["final"]["metrics"], report["final"]["loss"]) == ({"f1": 0.73}, 0.42)
    assert report["final"]["preprocessing_file"] is None and not (f1_only / PREPROCESSING_FILE).exists()
    assert [(h["examples"], h["label_counts"]) for h in report["hospitals"]] == [(None, None), (None, None)]
    page = (f1_only / "report.html").read_text()
    assert "the final model reaches f1 0.7300 on the requester's evaluation. No baselines were run" in page
    assert "<th>f1</th><th>loss</th>" in page and "accuracy" not in page and "pooled: all data" not in page
    assert "<td>0.6100</td><td>0.6900</td>" in page and "<td>0.7300</td><td>0.4200</td>" in page
    assert "<td class='l'>MyClient</td><td>unknown</td><td>unknown</td>" in page
    for image in (METRIC_PNG, GAS_PNG, PARTIES_PNG):
        assert (f1_only / image).read_bytes().startswith(PNG_MAGIC)


def legend_labels(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def labelled(artists: Iterable[Artist]) -> list[str]:
    return [str(artist.get_label()) for artist in artists if not str(artist.get_label()).startswith("_")]


def test_the_metric_plot_draws_the_headline_and_the_baselines_only_when_there_are_any(built_in: Path,
                                                                                      f1_only: Path) -> None:
    axes = metric_figure(read_report(f1_only)).axes[0]
    assert legend_labels(axes) == ["federation: anchored model", "a round with a slash"]  # no baselines, no interval
    assert values(axes.lines[0].get_xdata()) == [0, 1] and values(axes.lines[0].get_ydata()) == [0.61, 0.73]
    axes = metric_figure(read_report(built_in)).axes[0]
    assert legend_labels(axes) == ["federation: 95% CI", "federation: anchored model",
                                   "pooled (all data together): 93.0%", "hospital-0 alone: 80.0%",
                                   "hospital-1 alone: 70.0%", "a round with a slash"]
    federation, pooled, *alone = axes.lines
    assert values(federation.get_ydata()) == [0.815, 0.91]
    assert [values(line.get_ydata())[0] for line in (pooled, *alone)] == pytest.approx([0.93, 0.8, 0.7])
    (band,) = [collection for collection in axes.collections if collection.get_label() == "federation: 95% CI"]
    lows = sorted({round(y, 6) for path in band.get_paths() for _, y in path.vertices})
    assert (lows[0], lows[-1]) == pytest.approx((0.7554, 0.9423), abs=1e-4)  # Wilson: 163 and 182 of 200
    assert axes.get_ylabel() == "accuracy (requester's evaluation)" and axes.get_ylim() == (0.0, 1.02)


def test_every_line_of_the_metric_plot_is_in_its_legend_beside_the_axes(built_in: Path) -> None:
    data = read_report(built_in)
    figure = metric_figure(data)
    axes = figure.axes[0]
    assert all(not str(line.get_label()).startswith("_") for line in axes.lines), "every line has a legend entry"
    assert sorted(legend_labels(axes)) == sorted(labelled([*axes.lines, *axes.collections, *axes.patches]))
    colours = [to_hex(line.get_color()) for line in axes.lines]
    assert len(set(colours)) == len(colours), "the federation, pooled training and each hospital have a colour each"
    figure.draw_without_rendering()
    legend = axes.get_legend()
    assert legend is not None and legend.get_window_extent().x0 >= axes.get_window_extent().x1, "it hides no data"

    many = {f"hospital-{i}": {"loss": 0.5, "metrics": {"accuracy": 0.5 + i / 100}, "examples": 200} for i in range(12)}
    axes = metric_figure({**data, "baselines": {**data["baselines"], "local": many}}).axes[0]
    assert len(axes.lines) == 2 + 12 and "each hospital alone (12 lines)" in legend_labels(axes)
    assert sorted(legend_labels(axes)) == sorted(labelled([*axes.lines, *axes.collections, *axes.patches]))


@pytest.mark.parametrize("kinds", [14, 20, 45])
def test_each_transaction_kind_has_a_look_of_its_own(kinds: int) -> None:
    styles = kind_styles(kinds)
    assert len(set(styles)) == kinds
    rounds = [{"index": index, "gas": {f"kind-{kind:02}": 1_000 * (kind + 1) for kind in range(kinds)}}
              for index in range(2)]
    axes = gas_figure({"rounds": rounds}).axes[0]
    looks = {(str(patch.get_label()), to_hex(patch.get_facecolor()), patch.get_hatch() or "")
             for container in axes.containers for patch in container}
    assert len(looks) == kinds and len({look[1:] for look in looks}) == kinds, "no two kinds look alike"
    assert legend_labels(axes) == [f"kind-{kind:02}" for kind in range(kinds)]
    tallest = sum(1_000 * (kind + 1) for kind in range(kinds))
    assert axes.get_ylim()[1] > tallest, "the tallest round is whole, with room above it"


def test_the_party_bars_carry_their_values_and_are_not_clipped(built_in: Path) -> None:
    axes = parties_figure(read_report(built_in)).axes[0]
    labels = [text.get_text() for text in axes.texts if text.get_text()]
    assert labels == ["3", "3", "-5"]  # hospital-0's and aggregator-b's rewards, aggregator-b's slash
    low, high = axes.get_ylim()
    assert high >= 3 * 1.2 and low <= -5 - 0.1 * 8, "room for the labels above and below the bars"
    assert legend_labels(axes) == ["rewards and fees", "bounties", "slashed"]


@pytest.mark.parametrize(("amount", "shown"), [(58.7, "59"), (1234.4, "1,234"), (-20.0, "-20"), (0.4, "0.4"),
                                               (0.0, "")])
def test_bar_labels_are_whole_tokens(amount: float, shown: str) -> None:
    assert token_label(amount) == shown


def test_a_hospital_alone_that_lacks_a_class_is_explained(built_in: Path, tmp_path: Path) -> None:
    page = (built_in / "report.html").read_text()
    assert ("<li><b>hospital-1 alone</b>: 119 of the 121 training examples it holds are benign (2 malignant), so alone "
            "it can hardly learn what malignant cases look like. Always answering benign would be right on 60.0% of "
            "the test set (120 of 200 examples); it scores 70.0%.</li><li>An AUC only says how well a model") in page
    assert "<td class='l'>breast_cancer</td><td>121</td><td>malignant: 2, benign: 119</td>" in page
    assert "<b>hospital-0 alone</b>" not in page  # 50 and 70: both classes
    unnamed = dataclasses.replace(simulation_result(BUILT_IN, baselines=BUILT_IN_BASELINES, preprocessing=None),
                                  classes=None)
    write_report(unnamed, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert ("119 of the 121 training examples it holds are of class 1 (2 of class 0), so alone it can hardly learn "
            "what class 0 cases look like. Always answering class 1 would be right on 60.0%") in page
    assert "<td>121</td><td>class 0: 2, class 1: 119</td>" in page


def paired_page(tmp_path: Path, outcomes: PairedOutcomes) -> str:
    """The built-in result's page with hospital-1's outcomes beside the federation replaced by ``outcomes``."""
    baselines = dataclasses.replace(BUILT_IN_BASELINES, paired={**BUILT_IN_BASELINES.paired, "hospital-1": outcomes})
    write_report(simulation_result(BUILT_IN, baselines=baselines, preprocessing=None), tmp_path)
    return (tmp_path / "report.html").read_text()


def test_a_difference_the_test_set_cannot_resolve_is_within_noise(tmp_path: Path) -> None:
    page = paired_page(tmp_path, PairedOutcomes(both=170, only_federation=12, only_baseline=8, neither=10))
    assert "<p class=\"\">" in page
    assert "it is above 1 of the 2 hospitals alone beyond noise, within noise of 1." in page
    assert "<td>+2.0 points (95% CI -2.6 to +6.7), within noise</td>" in page


def test_a_hospital_alone_beyond_noise_above_the_federation_is_bad_news(tmp_path: Path) -> None:
    page = paired_page(tmp_path, PairedOutcomes(both=178, only_federation=4, only_baseline=18, neither=0))
    assert "<p class=\"bad\">" in page and "within noise of 0 and below 1." in page
    assert "<td>-7.0 points (95% CI -12.0 to -2.5)</td>" in page


def test_the_live_view_and_summary_show_the_headline_metric(f1_only: Path, built_in: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    with LiveView(console, rounds=3, mode="plain") as view:
        for record in simulation_result(F1_ONLY, baselines=None, preprocessing=None).rounds:
            view.round_closed(record)
    print_summary(console, read_report(f1_only), str(f1_only / "report.html"))
    text = out.getvalue()
    assert "fedchain federation (plain mode)" in text and "re-aggregated" in text
    header = next(line for line in text.splitlines() if "round" in line and "status" in line)
    assert "f1" in header and "loss" in header and "accuracy" not in header
    assert "0.6100" in text and "0.6900" in text
    assert "final model  f1 0.7300  loss 0.4200" in text and "no baselines" in text
    assert "(pooled" not in text and "preprocessing.json" not in text

    out = io.StringIO()
    print_summary(Console(file=out, width=200), read_report(built_in), "report.html")
    assert ("final model  accuracy 91.0% (95% CI 86.2 to 94.2%)  AUC 0.9510  loss 0.3100  (pooled 93.0%, hospitals "
            "alone 75.0% on average)") in out.getvalue()
    assert ("federation minus  pooled -2.0 points (95% CI -5.9 to +1.7), within noise; best hospital alone "
            "(hospital-0) +11.0 points (95% CI +4.7 to +17.4)") in out.getvalue()
    assert "inputs  raw features through preprocessing.json" in out.getvalue()


def test_preprocessing_json_round_trips_and_a_stale_one_is_removed(built_in: Path) -> None:
    saved = json.loads((built_in / PREPROCESSING_FILE).read_text())
    assert saved == {"features": ["age", "dose"], "normalization": "standardize", "mean": [50.0, 2.0],
                     "scale": [10.0, 0.5], "missing": "mean"}
    restored = Preprocessing.from_json(saved)
    assert restored.to_json() == PREPROCESSING.to_json()
    raw = np.array([[60.0, 1.0], [np.nan, 3.0]])
    np.testing.assert_allclose(restored.transform(raw), [[1.0, -2.0], [0.0, 2.0]])
    write_report(simulation_result(F1_ONLY, baselines=None, preprocessing=None), built_in)
    assert not (built_in / PREPROCESSING_FILE).exists() and read_report(built_in)["final"]["preprocessing_file"] is None


def test_the_written_model_verifies_against_its_anchor(built_in: Path) -> None:
    anchor = read_anchor(built_in / ANCHOR_FILE)
    assert (anchor.round, anchor.anchor_block, anchor.num_params) == (1, 42, NUM_PARAMS)
    assert anchor.shapes == [("layer.weight", (2, 3)), ("layer.bias", (2,))]
    verdict = verify_model(built_in / MODEL_FILE)
    assert verdict.matches and verdict.computed_root == anchored_root() == read_report(built_in)["final"]["model_root"]


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("accuracy", 0.9123, "91.2%"), ("balanced_accuracy", 0.5, "50.0%"), ("accuracy", 3.0, "3.0000"),
    ("f1", 0.61, "0.6100"), ("auc", None, "n/a"), ("mse", 12345678.0, "1.235e+07"), ("loss", 0.0001234, "0.0001234"),
])
def test_metrics_are_shown_as_percentages_only_when_accuracy_like(name: str, value: float | None, shown: str) -> None:
    assert format_metric(name, value) == shown


def test_a_result_with_no_metrics_leads_with_the_loss(tmp_path: Path) -> None:
    losses = [Scores(loss=0.9, metrics={}), Scores(loss=0.4, metrics={})]
    baselines = Baselines(pooled=Scores(loss=0.35, metrics={}), local={"hospital-0": Scores(loss=0.8, metrics={})})
    write_report(simulation_result(losses, baselines=baselines, preprocessing=None), tmp_path)
    report = read_report(tmp_path)
    assert report["headline"] == "loss" and metric_names(report) == ["loss"]
    assert report["baselines"]["local_mean"] == {"loss": 0.8}
    page = (tmp_path / "report.html").read_text()
    assert "reaches loss 0.4000, +0.05 from pooled training and -0.4 from the hospitals' mean training alone " \
           "(lower is better)." in page


def test_a_tampered_model_does_not_verify(built_in: Path, tmp_path: Path) -> None:
    state = torch.load(built_in / MODEL_FILE, weights_only=True)
    first = next(iter(state))
    state[first].view(-1)[0] += 2.0**-16  # one quantization step: the smallest change that counts
    torch.save(state, tmp_path / "tampered.pt")
    verdict = verify_model(tmp_path / "tampered.pt", anchor_file=built_in / ANCHOR_FILE)
    assert not verdict.matches and verdict.anchored_root == anchored_root()


def test_verification_problems_are_clear_errors(built_in: Path, tmp_path: Path) -> None:
    model = built_in / MODEL_FILE
    with pytest.raises(VerificationError, match="no anchor file"):
        verify_model(model, anchor_file=tmp_path / "none.json")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(VerificationError, match="not a PyTorch state_dict"):
        verify_model(tmp_path / "junk.pt", anchor_file=built_in / ANCHOR_FILE)
    torch.save({"w": torch.zeros(3)}, tmp_path / "small.pt")
    with pytest.raises(VerificationError, match="the model has 3 parameters, the task"):
        verify_model(tmp_path / "small.pt", anchor_file=built_in / ANCHOR_FILE)
    broken = json.loads((built_in / ANCHOR_FILE).read_text())
    del broken["scale_bits"]
    write_json(tmp_path / "broken.json", broken)
    with pytest.raises(VerificationError, match="malformed anchor file"):
        verify_model(model, anchor_file=tmp_path / "broken.json")
    with pytest.raises(VerificationError, match="--rpc must be the http"):
        verify_model(model, rpc="anvil")


def test_an_80_column_terminal_shows_the_whole_table_and_every_incident() -> None:
    view = LiveView(Console(file=io.StringIO()), rounds=3, mode="plain")
    for record in simulation_result(F1_ONLY, baselines=None, preprocessing=None).rounds:
        view.round_closed(record)
    terminal = Console(file=io.StringIO(), width=80, record=True, color_system=None)
    terminal.print(view.renderable())
    lines = terminal.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert any(line.rstrip().endswith("│") and "200,001" in line for line in lines), "rows are whole"
    assert "round 1: aggregator-b -5 (wrong aggregate), re-aggregated" in lines


def test_output_that_is_not_a_terminal_is_one_plain_line_per_round() -> None:
    out = io.StringIO()
    view = LineView(Console(file=out, width=40), rounds=3, mode="plain")
    for record in simulation_result(F1_ONLY, baselines=None, preprocessing=None).rounds:
        view.round_closed(record)
    lines = out.getvalue().splitlines()
    assert lines[0] == ("fedchain federation (plain mode, 3 rounds): deploying contracts, funding accounts, creating "
                        "the task")
    assert lines[2] == ("round 2/3 finalized: 2/2 included, f1 0.7300, loss 0.4200, gas 200,001, rewards 3; "
                        "aggregator-b -5 (wrong aggregate), re-aggregated")
    assert len(lines) == 4, "a line per round, never wrapped at the console's width"
