"""The report's PNG plots, drawn from report.json data on matplotlib Figures (Agg canvas: no display, no
network, no pyplot global state)."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fedchain.report.atomic import write_atomically

METRIC_PNG = "metric.png"
GAS_PNG = "gas.png"
PARTIES_PNG = "parties.png"
TOKEN_UNIT = 10**18
DPI = 110


def score(entry: dict[str, Any] | None, name: str) -> float | None:
    """Metric ``name`` (or the loss for ``"loss"``) of a report.json evaluation: a round row, ``final``, or a
    baseline's ``{loss, metrics}``; None where the entry is null or has no such metric."""
    if entry is None:
        return None
    value = entry.get("loss") if name == "loss" else (entry.get("metrics") or {}).get(name)
    return None if value is None else float(value)


def draw_all(folder: Path, data: dict[str, Any]) -> list[str]:
    """Draw every plot into ``folder``; returns the file names."""
    for name, draw in ((METRIC_PNG, metric_figure), (GAS_PNG, gas_figure), (PARTIES_PNG, parties_figure)):
        _save(folder / name, draw(data))
    return [METRIC_PNG, GAS_PNG, PARTIES_PNG]


def metric_figure(data: dict[str, Any]) -> Figure:
    """The headline metric of each round's anchored model, against the pooled and local baselines where the
    report has them."""
    headline = data["headline"]
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    points = [(row["index"], value) for row in data["rounds"] if (value := score(row, headline)) is not None]
    axes.plot([index for index, _ in points], [value for _, value in points], marker="o",
              label="federation (anchored model)")
    baselines = data["baselines"]
    if baselines is not None:
        pooled = score(baselines["pooled"], headline)
        if pooled is not None:
            axes.axhline(pooled, color="tab:green", linestyle="--", label="pooled (all data together)")
        local_mean = baselines["local_mean"].get(headline)
        if local_mean is not None:
            axes.axhline(local_mean, color="tab:red", linestyle="--", label="mean of hospitals alone")
        for entry in baselines["local"].values():
            value = score(entry, headline)
            if value is not None:
                axes.axhline(value, color="tab:red", alpha=0.2, linewidth=0.8)
    for row in data["rounds"]:
        if row["reaggregated"] or row["dropped"]:
            axes.axvline(row["index"], color="tab:orange", alpha=0.4, linewidth=6)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("round")
    axes.set_ylabel(f"{headline} (requester's evaluation)")
    axes.set_title(f"{headline.capitalize()} per round (orange: a round with a slash)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="best", fontsize="small")
    return figure


def gas_figure(data: dict[str, Any]) -> Figure:
    """Gas per round, stacked by transaction kind."""
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    kinds = sorted({kind for row in data["rounds"] for kind in row["gas"]})
    bottom = [0] * len(data["rounds"])
    indices = [row["index"] for row in data["rounds"]]
    for kind in kinds:
        heights = [row["gas"].get(kind, 0) for row in data["rounds"]]
        axes.bar(indices, heights, bottom=bottom, label=kind)
        bottom = [low + high for low, high in zip(bottom, heights, strict=True)]
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("round")
    axes.set_ylabel("gas")
    axes.set_title("Gas per round by transaction kind")
    axes.legend(fontsize="x-small", ncol=2)
    return figure


def parties_figure(data: dict[str, Any]) -> Figure:
    """Rewards (claimed and claimable, fees, bounties) and slashes per party, in tokens."""
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    rows = [row for row in data["balances"] if row["role"] != "requester"]
    names = [row["name"] for row in rows]
    earned = [(row["rewards_claimed"] + row["rewards_unclaimed"] + row["fees_claimed"] + row["fees_unclaimed"])
              / TOKEN_UNIT for row in rows]
    bounties = [row["bounties"] / TOKEN_UNIT for row in rows]
    slashed = [-row["slashed"] / TOKEN_UNIT for row in rows]
    axes.bar(names, earned, color="tab:green", label="rewards and fees")
    axes.bar(names, bounties, bottom=earned, color="tab:blue", label="bounties")
    axes.bar(names, slashed, color="tab:red", label="slashed")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_ylabel("tokens")
    axes.set_title("Rewards and slashes per party")
    axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _save(path: Path, figure: Figure) -> None:
    def save(handle: IO[bytes]) -> None:
        figure.savefig(handle, format="png", dpi=DPI)

    write_atomically(path, save)
