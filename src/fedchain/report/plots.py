"""The report's PNG plots, drawn from report.json data on matplotlib Figures (Agg canvas: no display, no
network, no pyplot global state).

Every line and bar series of a plot is in its legend, which sits beside the axes so that it hides no data; every
transaction kind has a colour of its own (and a hatch, past the palette's colours); bars carry their values, and the
axes leave room for the labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from fedchain.report.atomic import write_atomically
from fedchain.report.compare import LEVEL, accuracy_interval, format_metric, is_fraction, score

METRIC_PNG = "metric.png"
GAS_PNG = "gas.png"
GAS_HEADROOM = 1.08
"""The gas axis ends this far above the tallest round's total."""
PARTIES_PNG = "parties.png"
TOKEN_UNIT = 10**18
DPI = 110
FIGURE_SIZE = (9.0, 4.5)
FEDERATION_COLOUR = "tab:blue"
POOLED_COLOUR = "tab:green"
SLASH_COLOUR = "tab:orange"
HOSPITAL_COLOURS = ("tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan", "black",
                    "gold", "navy")
"""One colour per hospital alone (none of them the federation's, pooled training's or a slash's); a federation of more
hospitals draws them all in ``MANY_HOSPITALS_COLOUR`` under one legend entry."""
MANY_HOSPITALS_COLOUR = "tab:gray"
DASH = 3.0
"""Length of a dash of a hospital-alone line; the lines' dashes are staggered, so that hospitals at the same level
all show (their legend entries show them plainly dashed)."""
STAGGERED = "staggered"
KIND_PALETTE = "tab20"
HATCHES = ("", "//", "..", "xx", "\\\\")
"""Transaction kinds beyond the palette's 20 colours reuse them with a hatch, so no two kinds look alike (up to
100 kinds)."""
EARNED_COLOUR, BOUNTY_COLOUR, SLASHED_COLOUR = "tab:green", "tab:blue", "tab:red"
HEADROOM = 0.15
"""Room left above (and below) the tallest bars, as a share of the bars' span, for their labels."""


def draw_all(folder: Path, data: dict[str, Any]) -> list[str]:
    """Draw every plot into ``folder``; returns the file names."""
    for name, draw in ((METRIC_PNG, metric_figure), (GAS_PNG, gas_figure), (PARTIES_PNG, parties_figure)):
        _save(folder / name, draw(data))
    return [METRIC_PNG, GAS_PNG, PARTIES_PNG]


def metric_figure(data: dict[str, Any]) -> Figure:
    """The headline metric of each round's anchored model (with its interval where known), against pooled training
    and each hospital training alone where the report has them; rounds with a slash are shaded."""
    headline = data["headline"]
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.subplots()
    rows = [row for row in data["rounds"] if score(row, headline) is not None]
    indices = [row["index"] for row in rows]
    values = [score(row, headline) or 0.0 for row in rows]
    intervals = [accuracy_interval(row, headline) for row in rows]
    if rows and all(interval is not None for interval in intervals):
        axes.fill_between(indices, [interval.low for interval in intervals if interval is not None],
                          [interval.high for interval in intervals if interval is not None], color=FEDERATION_COLOUR,
                          alpha=0.15, linewidth=0, label=f"federation: {LEVEL}")
    axes.plot(indices, values, marker="o", color=FEDERATION_COLOUR, label="federation: anchored model")
    levels = list(values)
    if data["baselines"] is not None:
        levels += _baselines(axes, data["baselines"], headline)
    for position, index in enumerate(sorted({row["index"] for row in data["rounds"]
                                             if row["reaggregated"] or row["dropped"] or row["slashes"]})):
        axes.axvspan(index - 0.4, index + 0.4, color=SLASH_COLOUR, alpha=0.25, linewidth=0,
                     label="a round with a slash" if position == 0 else "_slash")
    if levels and all(is_fraction(headline, level) for level in levels):
        axes.set_ylim(0.0, 1.02)
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("round")
    axes.set_ylabel(f"{headline} (requester's evaluation)")
    axes.set_title(f"{headline.capitalize()} of the anchored model, round by round")
    handles, labels = axes.get_legend_handles_labels()
    handles = [Line2D([], [], color=handle.get_color(), linewidth=handle.get_linewidth(), linestyle=(0, (DASH, 1.5)))
               if isinstance(handle, Line2D) and handle.get_gid() == STAGGERED else handle for handle in handles]
    axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return figure


def _baselines(axes: Axes, baselines: dict[str, Any], headline: str) -> list[float]:
    """Pooled training and each hospital alone as horizontal lines, each in the legend with its value; returns the
    values drawn."""
    drawn = []
    pooled = score(baselines["pooled"], headline)
    if pooled is not None:
        axes.axhline(pooled, color=POOLED_COLOUR, linestyle="--",
                     label=f"pooled (all data together): {format_metric(headline, pooled)}")
        drawn.append(pooled)
    local = [(name, value) for name, entry in baselines["local"].items()
             if (value := score(entry, headline)) is not None]
    each = len(local) <= len(HOSPITAL_COLOURS)
    for position, (name, value) in enumerate(local):
        label = (f"{name} alone: {format_metric(headline, value)}" if each else
                 f"each hospital alone ({len(local)} lines)" if position == 0 else "_hospital")
        staggered = each and len(local) > 1
        axes.axhline(value, color=HOSPITAL_COLOURS[position] if each else MANY_HOSPITALS_COLOUR, linewidth=2.0,
                     linestyle=(DASH * position, (DASH, DASH * (len(local) - 1))) if staggered else ":",
                     label=label, gid=STAGGERED if staggered else None)
        drawn.append(value)
    return drawn


def kind_styles(count: int) -> list[tuple[str, str]]:
    """A colour (hex) and a hatch for each of ``count`` transaction kinds, no two alike (up to 100 kinds)."""
    palette = [to_hex(colour) for colour in colormaps[KIND_PALETTE].colors]  # type: ignore[attr-defined]
    return [(palette[position % len(palette)], HATCHES[position // len(palette) % len(HATCHES)])
            for position in range(count)]


def gas_figure(data: dict[str, Any]) -> Figure:
    """Gas per round, stacked by transaction kind."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.subplots()
    kinds = sorted({kind for row in data["rounds"] for kind in row["gas"]})
    bottom = [0] * len(data["rounds"])
    indices = [row["index"] for row in data["rounds"]]
    for kind, (colour, hatch) in zip(kinds, kind_styles(len(kinds)), strict=True):
        heights = [row["gas"].get(kind, 0) for row in data["rounds"]]
        axes.bar(indices, heights, bottom=bottom, color=colour, hatch=hatch, edgecolor="white", linewidth=0.3,
                 label=kind)
        bottom = [low + high for low, high in zip(bottom, heights, strict=True)]
    axes.set_ylim(0, max(bottom, default=0) * GAS_HEADROOM or 1)  # the tallest round whole, with room above
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1e6:g}M"))
    axes.set_xlabel("round")
    axes.set_ylabel("gas")
    axes.set_title("Gas per round by transaction kind")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small", ncol=1 if len(kinds) <= 18 else 2)
    return figure


def token_label(amount: float) -> str:
    """A bar's value in tokens: whole tokens, or one decimal under one token; nothing for zero."""
    if amount == 0:
        return ""
    return f"{amount:,.0f}" if abs(amount) >= 1 else f"{amount:.1f}"


def parties_figure(data: dict[str, Any]) -> Figure:
    """Rewards (claimed and claimable, fees, bounties) and slashes per party, in tokens, each bar labelled."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.subplots()
    rows = [row for row in data["balances"] if row["role"] != "requester"]
    names = [row["name"] for row in rows]
    earned = [(row["rewards_claimed"] + row["rewards_unclaimed"] + row["fees_claimed"] + row["fees_unclaimed"])
              / TOKEN_UNIT for row in rows]
    bounties = [row["bounties"] / TOKEN_UNIT for row in rows]
    slashed = [-row["slashed"] / TOKEN_UNIT for row in rows]
    totals = [gain + bounty for gain, bounty in zip(earned, bounties, strict=True)]
    axes.bar(names, earned, color=EARNED_COLOUR, label="rewards and fees")
    _label(axes, axes.bar(names, bounties, bottom=earned, color=BOUNTY_COLOUR, label="bounties"), totals)
    _label(axes, axes.bar(names, slashed, color=SLASHED_COLOUR, label="slashed"), slashed)
    axes.axhline(0, color="black", linewidth=0.8)
    top, low = max([*totals, 0.0]), min([*slashed, 0.0])
    room = HEADROOM * ((top - low) or 1.0)
    axes.set_ylim(low - room if low < 0 else 0.0, top + room)
    axes.set_ylabel("tokens")
    axes.set_title("Rewards and slashes per party (tokens)")
    axes.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return figure


def _label(axes: Axes, bars: BarContainer, amounts: list[float]) -> None:
    """Write each amount at the end of its bar (above a positive one, below a negative one)."""
    axes.bar_label(bars, labels=[token_label(amount) for amount in amounts], padding=2, fontsize="small")


def _save(path: Path, figure: Figure) -> None:
    def save(handle: IO[bytes]) -> None:
        figure.savefig(handle, format="png", dpi=DPI)

    write_atomically(path, save)
