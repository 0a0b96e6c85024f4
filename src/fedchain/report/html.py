"""report.html: one static page (no script, no network) with the plots beside it and the report's tables."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from fedchain.report.atomic import write_atomically
from fedchain.report.plots import TOKEN_UNIT, draw_all

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


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    head = "".join(f"<th class='l'>{escape(h)}</th>" if i < left else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class='l'>{cell}</td>" if i < left else f"<td>{cell}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(data: dict[str, Any], images: list[str], report_json: str) -> str:
    final, baselines, chain = data["final"], data["baselines"], data["chain"]
    gap = 100 * (final["accuracy"] - baselines["pooled"]["accuracy"])
    local_gain = 100 * (final["accuracy"] - baselines["local_mean_accuracy"])
    summary = _table(["", "accuracy", "AUC"], [
        ["federation (final anchored model)", _percent(final["accuracy"]), _number(final["auc"])],
        ["pooled: all data in one place", _percent(baselines["pooled"]["accuracy"]),
         _number(baselines["pooled"]["auc"])],
        ["mean of hospitals training alone", _percent(baselines["local_mean_accuracy"]), ""],
        *[[f"{escape(name)} alone", _percent(m["accuracy"]), _number(m["auc"])]
          for name, m in baselines["local"].items()],
    ])
    rounds = _table(["round", "status", "included", "accuracy", "AUC", "loss", "proposals", "gas", "slashes"], [
        [str(row["index"]), row["status"], str(len(row["participants"])), _percent(row["accuracy"]),
         _number(row["auc"]), _number(row["loss"]),
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
        [escape(h["name"]), escape(h["source"]), str(h["examples"]), escape(str(h["label_counts"])),
         escape(h["misbehaviour"] or "")] for h in data["hospitals"]
    ], left=2)
    contracts = "".join(f"<li>{escape(name)}: <code>{escape(address)}</code></li>"
                        for name, address in chain["contracts"].items())
    plots = "".join(f"<p><img src='{escape(image)}' alt='{escape(image)}'></p>" for image in images)
    verdict = "good" if gap >= -2 and local_gain > 0 else "bad"
    mode = MODE_NAMES[data["mode"]]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fedchain report</title><style>{STYLE}</style></head><body>
<h1>fedchain federation report</h1>
<p class="{verdict}">{len(data["hospitals"])} hospitals, {len(data["rounds"])} rounds, {mode}: the final model reaches
{_percent(final["accuracy"])} test accuracy, {gap:+.1f} points from pooled training and {local_gain:+.1f} points
above the hospitals' mean training alone.</p>
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
<p>Machine-readable: <a href="{escape(report_json)}">{escape(report_json)}</a>.</p>
</body></html>
"""
