"""The attack bench's files: ``attack_bench.json`` (every cell, every party), ``attack_bench.md`` (two tables: final
accuracy per attack and share, and the attackers' and honest hospitals' stake and earnings per cell) and
``attack_bench.html`` (the same tables and a plot of accuracy against the attackers' share, as inline SVG: one static
page, no script, nothing fetched)."""

from __future__ import annotations

import io
import json
import statistics
from html import escape
from pathlib import Path
from typing import Final

from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from fedchain.report.atomic import write_atomically
from fedchain.report.attack_bench import BenchResult, Cell, Outcome, Party
from fedchain.sim.attacks import ATTACKS

JSON_FILE: Final = "attack_bench.json"
MARKDOWN_FILE: Final = "attack_bench.md"
HTML_FILE: Final = "attack_bench.html"
MISSING: Final = "—"
PANEL_SIZE: Final = (4.6, 3.4)
MARKERS: Final = "osD^v<>ph*"
STYLE: Final = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#eee}td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}.note{font-size:90%;color:#444}
svg{max-width:100%;height:auto}pre{white-space:pre-wrap}"""

Table = tuple[list[str], list[list[str]]]


def write_bench(result: BenchResult, folder: Path) -> list[Path]:
    """Write the three files into ``folder`` (created if need be); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {JSON_FILE: json.dumps(result.to_json(), indent=2) + "\n", MARKDOWN_FILE: markdown(result),
             HTML_FILE: html_page(result)}
    for name, text in texts.items():
        _write_text(folder / name, text)
    return [folder / name for name in texts]


def _write_text(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    write_atomically(path, lambda handle: handle.write(data))


def summary(result: BenchResult) -> str:
    """What the tables show and how they were made, in a few sentences."""
    settings = result.settings
    ran = sum(1 for outcome in result.outcomes if outcome.skipped is None)
    per_cell = result.seconds_per_cell()
    timing = "" if per_cell is None else f", a median {per_cell:.1f} s per cell"
    return (f"Plain mode, {settings.hospitals} hospitals, {settings.rounds} rounds, on the {settings.chain} chain; "
            f"every hospital (and every Sybil identity) stakes {result.stake} tokens. Accuracy is the requester's "
            "evaluation of the last model anchored on chain, on the held-out test set, in percent, with the change "
            "from the clean run of the same task and rule in points. Attackers are picked from the seed; a share "
            "rounds down to whole hospitals, at least one. A rule marked scored ran with contribution scores on (the "
            "task's [scoring] defaults: three validators, each holding a third of the test split), where every "
            "update earns its median score and one scored below 20% is dropped and its owner slashed. "
            f"{ran} federations ran in {result.wall_seconds / 60:.1f} minutes{timing}, made by:")


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal."""
    return MISSING if value is None else f"{100 * value:.1f}"


def _panels(result: BenchResult) -> list[tuple[str, bool, tuple[str, ...]]]:
    """Each rule of the grid with whether it ran scored and the attacks it ran: the rules without scores, then the
    scored ones."""
    settings = result.settings
    scored = [(rule, True, settings.scored_attacks) for rule in settings.scored_rules if settings.scored_attacks]
    return [*((rule, False, settings.attacks) for rule in settings.rules), *scored]


def accuracy_table(result: BenchResult) -> Table:
    """Final accuracy per task, rule (scored or not) and attack (rows) and attackers' share (columns)."""
    shares = list(result.settings.shares)
    headers = ["task", "rule", "attack", "clean", *(f"{100 * share:g}%" for share in shares)]
    rows = []
    for task in result.settings.tasks:
        for rule, scored, attacks in _panels(result):
            clean = result.clean(task, rule, scored)
            clean_accuracy = None if clean is None else clean.accuracy
            label = Cell(task, rule, scored=scored).rule_label
            for attack in attacks:
                cells = [_cell(result, Cell(task, rule, attack, share, scored), clean_accuracy) for share in shares]
                rows.append([task, label, attack, percent(clean_accuracy), *cells])
    return headers, rows


def _cell(result: BenchResult, cell: Cell, clean: float | None) -> str:
    outcome = _outcome(result, cell)
    if outcome is None or outcome.accuracy is None:
        return MISSING
    change = "" if clean is None else f" ({100 * (outcome.accuracy - clean):+.1f})"
    return f"{percent(outcome.accuracy)}{change}"


def _outcome(result: BenchResult, cell: Cell) -> Outcome | None:
    return next((o for o in result.outcomes if o.cell == cell), None)


def money_table(result: BenchResult) -> Table:
    """Per cell: the attackers (their number, and identities where Sybils have more), the final accuracy, and the
    mean stake and earnings (tokens) of an attacker and of an honest hospital at the end."""
    headers = ["task", "rule", "attack", "share", "attackers", "accuracy", "attacker stake", "attacker earnings",
               "honest stake", "honest earnings"]
    rows = []
    for outcome in result.outcomes:
        if outcome.skipped is not None:
            continue
        cell, attackers = outcome.cell, outcome.attackers
        identities = sum(party.identities for party in attackers)
        count = f"{len(attackers)}" + (f" ({identities} identities)" if identities > len(attackers) else "")
        rows.append([cell.task, cell.rule_label, cell.attack or "none (clean)",
                     MISSING if cell.share is None else f"{100 * cell.share:g}%", count, percent(outcome.accuracy),
                     *_means(attackers), *_means(outcome.honest)])
    return headers, rows


def _means(parties: tuple[Party, ...]) -> list[str]:
    if not parties:
        return [MISSING, MISSING]
    return [f"{statistics.mean(p.stake for p in parties):.2f}", f"{statistics.mean(p.earnings for p in parties):.3f}"]


def attack_notes(result: BenchResult) -> list[str]:
    """What each attack of the grid sends, and its strength's default (from the registry)."""
    notes = []
    for kind in dict.fromkeys((*result.settings.attacks, *result.settings.scored_attacks)):
        attack = ATTACKS[kind]  # type: ignore[index]  # the settings checked the kind
        strength = "" if attack.strength is None else f"; {attack.strength.name}: {attack.strength.doc}"
        notes.append(f"{kind}: {attack.summary}{strength}")
    return notes


def skipped(result: BenchResult) -> list[str]:
    """Why cells were not run, each reason once."""
    return list(dict.fromkeys(f"{o.cell.attack} at {100 * (o.cell.share or 0):g}%"
                              f"{' (scored)' if o.cell.scored else ''}: {o.skipped}"
                              for o in result.outcomes if o.skipped is not None))


def markdown(result: BenchResult) -> str:
    """attack_bench.md: the summary and the command, the accuracy table, the stake and earnings table."""
    notes = "".join(f"\n{MISSING} {reason}\n" for reason in skipped(result))
    attacks = "".join(f"- {note}\n" for note in attack_notes(result))
    return (f"{summary(result)}\n\n    {result.command}\n\n{attacks}\n"
            f"#### Final accuracy (%)\n\n{_markdown_table(*accuracy_table(result))}{notes}\n"
            "#### Stake and earnings at the end (tokens; mean per attacker, its identities together, and per honest "
            f"hospital)\n\n{_markdown_table(*money_table(result))}")


def _markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def html_page(result: BenchResult) -> str:
    """attack_bench.html: the summary, the plot (inline SVG) and both tables."""
    notes = "".join(f'<p class="note">{MISSING} {escape(reason)}</p>' for reason in skipped(result))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fedchain attack bench</title>"
            f"<style>{STYLE}</style></head><body><h1>Attack bench</h1><p>{escape(summary(result))}</p>"
            f"<pre>{escape(result.command)}</pre><ul>"
            f"{''.join(f'<li>{escape(note)}</li>' for note in attack_notes(result))}</ul>"
            f"{plot_svg(result)}<h2>Final accuracy (%)</h2>{_html_table(*accuracy_table(result))}{notes}"
            f"<h2>Stake and earnings at the end (tokens)</h2>{_html_table(*money_table(result))}</body></html>\n")


def _html_table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def plot_svg(result: BenchResult) -> str:
    """Accuracy against the attackers' share, one panel per task (row) and rule (column; a scored rule a panel of its
    own), one line per attack starting from the clean run at 0%, as an inline ``<svg>`` element."""
    settings = result.settings
    columns = _panels(result)
    kinds = list(dict.fromkeys(attack for _, _, attacks in columns for attack in attacks))
    figure = Figure(figsize=(PANEL_SIZE[0] * len(columns) + 2.4, PANEL_SIZE[1] * len(settings.tasks)),
                    layout="constrained")
    panels = figure.subplots(len(settings.tasks), len(columns), squeeze=False, sharex=True, sharey=True)
    colours = colormaps["tab10"]
    for row, task in zip(panels, settings.tasks, strict=True):
        for axes, (rule, scored, attacks) in zip(row, columns, strict=True):
            clean = result.clean(task, rule, scored)
            for attack in attacks:
                number = kinds.index(attack)
                points = [(0.0, None if clean is None else clean.accuracy)]
                for share in settings.shares:
                    outcome = _outcome(result, Cell(task, rule, attack, share, scored))
                    points.append((share, None if outcome is None else outcome.accuracy))
                shown = [(100 * share, 100 * accuracy) for share, accuracy in points if accuracy is not None]
                axes.plot([x for x, _ in shown], [y for _, y in shown], marker=MARKERS[number % len(MARKERS)],
                          color=to_hex(colours(number % colours.N)), label=attack)
            axes.set_title(f"{task}, {Cell(task, rule, scored=scored).rule_label}", fontsize=10)
            axes.set_ylim(0, 100)
            axes.grid(alpha=0.3)
        row[0].set_ylabel("final accuracy (%)")
    for axes in panels[-1]:
        axes.set_xlabel("attackers' share of hospitals (%)")
    legend = {label: handle for axes in panels[0] for handle, label in zip(*axes.get_legend_handles_labels(),
                                                                             strict=True)}
    figure.legend(list(legend.values()), list(legend), loc="outside right center", fontsize=9)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()[buffer.getvalue().index("<svg"):]
