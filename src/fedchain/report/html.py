"""report.html: one static page (no script, no network) with the plots beside it and the report's tables."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from fedchain.report.atomic import write_atomically
from fedchain.report.plots import TOKEN_UNIT, draw_all, score
from fedchain.sim.records import shown_metrics

REPORT_HTML = "report.html"
MODE_NAMES = {"secure": "secure aggregation (no one saw an individual update)",
              "plain": "plain mode (updates revealed)"}
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#eee}td.l,th.l{text-align:left}img{max-width:100%}.bad{color:#b00}.good{color:#070}code{font-size:90%}"""


def write_html(folder: Path, data: dict[str, Any], *, report_json: str) -> Path:
    """Draw the plots and write report.html into ``folder``; returns its path."""
    images = draw_all(folder, data)
    page = _page(data, images, report_json)
    path = folder / REPORT_HTML
    write_atomically(path, lambda handle: handle.write(page.encode("utf-8")))
    return path


def tokens(amount: int) -> str:
    """Base units as tokens with up to 4 decimals."""
    return f"{amount / TOKEN_UNIT:,.4f}".rstrip("0").rstrip(".")


ACCURACY_LIKE = ("accuracy", "acc")
"""Metrics (by name, or a name ending in ``_accuracy``) shown as a percentage when they are a fraction in [0, 1]."""
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape")
"""Name fragments of metrics where less is better; every other metric is better higher."""
CLOSE_TO_POOLED = 0.02
"""How far below pooled training a result still counts as matching it: 2 points of an accuracy-like fraction,
else 2% of the pooled value."""


def accuracy_like(name: str) -> bool:
    """Whether ``name`` is an accuracy, shown as a percentage when a fraction."""
    lowered = name.lower()
    return lowered in ACCURACY_LIKE or lowered.endswith("_accuracy")


def higher_is_better(name: str) -> bool:
    """Whether a larger value of metric ``name`` is better (not a loss or an error)."""
    lowered = name.lower()
    return not any(fragment in lowered for fragment in LOWER_IS_BETTER)


def format_metric(name: str, value: float | None) -> str:
    """``value`` of metric ``name`` for people: a percentage for an accuracy-like fraction, else a number;
    ``n/a`` for a missing one."""
    if value is None:
        return "n/a"
    if accuracy_like(name) and 0.0 <= value <= 1.0:
        return f"{100 * value:.1f}%"
    return _number(value)


def metric_names(data: dict[str, Any]) -> list[str]:
    """Every metric report.json's evaluations have: the headline first, then the others by name, then ``loss``."""
    entries = [data["final"], *data["rounds"]]
    if data["baselines"] is not None:
        entries += [data["baselines"]["pooled"], *data["baselines"]["local"].values()]
    return shown_metrics(data["headline"], (name for entry in entries for name in entry.get("metrics") or {}))


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value != 0 and not 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.4f}"


def _difference(name: str, value: float, reference: float) -> str:
    if accuracy_like(name) and 0.0 <= value <= 1.0 and 0.0 <= reference <= 1.0:
        return f"{100 * (value - reference):+.1f} points"
    return f"{value - reference:+.4g}"


def _gain(name: str, value: float, reference: float) -> float:
    return value - reference if higher_is_better(name) else reference - value


def _comparison(data: dict[str, Any]) -> tuple[str, str]:
    """The sentence comparing the final model with the baselines, and its CSS class (good, bad or none)."""
    headline, final, baselines = data["headline"], data["final"], data["baselines"]
    value = score(final, headline)
    reaches = f"the final model reaches {escape(headline)} {format_metric(headline, value)}"
    if baselines is None:
        return (f"{reaches} on the requester's evaluation. No baselines were run (pooled or local training needs "
                "the hospitals' data, which their own clients keep).", "")
    pooled, local = score(baselines["pooled"], headline), baselines["local_mean"].get(headline)
    if value is None or (pooled is None and local is None):
        return f"{reaches}; the baselines have no {escape(headline)} to compare with.", ""
    parts, good = [], True
    if pooled is not None:
        parts.append(f"{_difference(headline, value, pooled)} from pooled training")
        tolerance = CLOSE_TO_POOLED if accuracy_like(headline) else CLOSE_TO_POOLED * abs(pooled)
        good = good and _gain(headline, value, pooled) >= -tolerance
    if local is not None:
        parts.append(f"{_difference(headline, value, local)} from the hospitals' mean training alone")
        good = good and _gain(headline, value, local) > 0
    direction = "" if higher_is_better(headline) else " (lower is better)"
    return f"{reaches}, {' and '.join(parts)}{direction}.", "good" if good else "bad"


def _known(value: object) -> str:
    return "unknown" if value is None else escape(str(value))


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    head = "".join(f"<th class='l'>{escape(h)}</th>" if i < left else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class='l'>{cell}</td>" if i < left else f"<td>{cell}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(data: dict[str, Any], images: list[str], report_json: str) -> str:
    final, baselines, chain = data["final"], data["baselines"], data["chain"]
    names = metric_names(data)
    headers = [name if name != "auc" else "AUC" for name in names]

    def cells(entry: dict[str, Any] | None) -> list[str]:
        return [format_metric(name, score(entry, name)) for name in names]

    summary_rows = [["federation (final anchored model)", *cells(final)]]
    if baselines is not None:
        local_mean = baselines["local_mean"]
        summary_rows += [
            ["pooled: all data in one place", *cells(baselines["pooled"])],
            ["mean of hospitals training alone", *[format_metric(name, local_mean.get(name)) for name in names]],
            *[[f"{escape(name)} alone", *cells(entry)] for name, entry in baselines["local"].items()],
        ]
    summary = _table(["", *headers], summary_rows)
    rounds = _table(["round", "status", "included", *headers, "proposals", "gas", "slashes"], [
        [str(row["index"]), row["status"], str(len(row["participants"])), *cells(row),
         escape(", ".join(f"{p['aggregator']}: {p['outcome']}" for p in row["proposals"])), f"{row['gas_total']:,}",
         "<span class='bad'>" + escape("; ".join(f"{s['name']}: {s['reason']}" for s in row["slashes"])) + "</span>"]
        for row in data["rounds"]
    ])
    slashes = _table(["round", "role", "who", "reason", "slashed", "bounty", "proven by"], [
        [str(s["round"]), s["role"], escape(s["name"]), escape(s["reason"]), tokens(s["amount"]),
         tokens(s["bounty"]), escape(str(s["challenger"]))] for s in data["slashes"]
    ], left=4) if data["slashes"] else "<p>No slashes.</p>"
    balances = _table(["who", "role", "stake", "bond", "rewards", "fees", "bounties", "slashed", "token balance"], [
        [escape(b["name"]), b["role"], tokens(b["stake"]), tokens(b["bond"]),
         tokens(b["rewards_claimed"] + b["rewards_unclaimed"]), tokens(b["fees_claimed"] + b["fees_unclaimed"]),
         tokens(b["bounties"]), tokens(b["slashed"]), tokens(b["token_balance"])] for b in data["balances"]
    ], left=2)
    hospitals = _table(["hospital", "data", "examples", "examples per class", "scripted misbehaviour"], [
        [escape(h["name"]), escape(h["source"]), _known(h["examples"]), _known(h["label_counts"]),
         escape(h["misbehaviour"] or "")] for h in data["hospitals"]
    ], left=2)
    contracts = "".join(f"<li>{escape(name)}: <code>{escape(address)}</code></li>"
                        for name, address in chain["contracts"].items())
    plots = "".join(f"<p><img src='{escape(image)}' alt='{escape(image)}'></p>" for image in images)
    comparison, verdict = _comparison(data)
    mode = MODE_NAMES[data["mode"]]
    preprocessing = "" if final["preprocessing_file"] is None else (
        f"<p>Raw features become the model's inputs as in training through "
        f"<code>{escape(final['preprocessing_file'])}</code> beside it "
        "(<code>fedchain.learn.Preprocessing.from_json</code>, then <code>transform</code>).</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fedchain report</title><style>{STYLE}</style></head><body>
<h1>fedchain federation report</h1>
<p class="{verdict}">{len(data["hospitals"])} hospitals, {len(data["rounds"])} rounds, {mode}: {comparison}</p>
{summary}
<h2>Plots</h2>{plots}
<h2>Rounds</h2>{rounds}
<h2>Slashes</h2>{slashes}
<h2>Balances at the end (tokens)</h2>{balances}
<h2>Hospitals</h2>{hospitals}
<h2>Chain</h2>
<p>Backend <b>{escape(chain["backend"])}</b>, chain id {chain["chain_id"]}, task {chain["task_id"]}.</p>
<ul>{contracts}</ul>
<p>Final model root <code>{escape(final["model_root"])}</code>, anchored in round {final["round"]} by transaction
<code>{escape(final["anchor_tx"])}</code> (block {final["anchor_block"]}). Check the saved model with
<code>fedchain verify-model {escape(final["model_file"])}</code>.</p>
{preprocessing}<p>Machine-readable: <a href="{escape(report_json)}">{escape(report_json)}</a>.</p>
</body></html>
"""
