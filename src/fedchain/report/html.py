"""report.html: one static page (no script, no network) with the plots beside it and the report's tables."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from fedchain.report.atomic import write_atomically
from fedchain.report.compare import (
    LEVEL,
    POOLED,
    accuracy_interval,
    best_alone,
    format_difference,
    format_interval,
    format_metric,
    higher_is_better,
    is_fraction,
    score,
    verdict,
    versus,
)
from fedchain.report.plots import TOKEN_UNIT, draw_all
from fedchain.report.stats import Interval
from fedchain.sim.records import shown_metrics

REPORT_HTML = "report.html"
MODE_NAMES = {"secure": "secure aggregation (no one saw an individual update)",
              "plain": "plain mode (updates revealed)"}
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#eee}td.l,th.l{text-align:left}img{max-width:100%}.bad{color:#b00}.good{color:#070}code{font-size:90%}
.note{font-size:90%;color:#444}"""
SKEWED_SHARE = 0.05
"""A hospital whose smallest class is below this share of its training examples gets a note: alone, its model
mostly answers its main class, so its accuracy says more about the test set's class balance than about learning."""
INTERVALS = (f"Intervals are {LEVEL.removesuffix(' CI')} confidence intervals (CI): for an accuracy, Wilson's score "
             "interval over the test examples; for a difference, Newcombe's interval for two models judged on the same "
             "test examples. A difference whose interval contains 0 is <i>within noise</i>: this test set cannot tell "
             "the two models apart.")


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


def metric_names(data: dict[str, Any]) -> list[str]:
    """Every metric report.json's evaluations have: the headline first, then the others by name, then ``loss``."""
    entries = [data["final"], *data["rounds"]]
    if data["baselines"] is not None:
        entries += [data["baselines"]["pooled"], *data["baselines"]["local"].values()]
    return shown_metrics(data["headline"], (name for entry in entries for name in entry.get("metrics") or {}))


def _difference(name: str, value: float, reference: float) -> str:
    if is_fraction(name, value) and is_fraction(name, reference):
        return f"{100 * (value - reference):+.1f} points"
    return f"{value - reference:+.4g}"


def _reaches(data: dict[str, Any]) -> str:
    headline, final = data["headline"], data["final"]
    reaches = f"the final model reaches {escape(headline)} {format_metric(headline, score(final, headline))}"
    interval = accuracy_interval(final, headline)
    if interval is None:
        return reaches
    return f"{reaches} ({LEVEL} {format_interval(interval)}, {final['examples']} test examples)"


def _comparison(data: dict[str, Any]) -> tuple[str, str]:
    """The sentence comparing the final model with the baselines, and its CSS class (good, bad or none)."""
    headline, final, baselines = data["headline"], data["final"], data["baselines"]
    reaches = _reaches(data)
    if baselines is None:
        return (f"{reaches} on the requester's evaluation. No baselines were run (pooled or local training needs "
                "the hospitals' data, which their own clients keep).", "")
    pooled = versus(data, POOLED)
    alone = {name: difference for name in baselines["local"] if (difference := versus(data, name)) is not None}
    if pooled is not None and alone and len(alone) == len(baselines["local"]):
        return _paired_comparison(data, reaches, pooled, alone), verdict(pooled, list(alone.values()))
    value = score(final, headline)
    pooled_value, local = score(baselines["pooled"], headline), baselines["local_mean"].get(headline)
    if value is None or (pooled_value is None and local is None):
        return f"{reaches}; the baselines have no {escape(headline)} to compare with.", ""
    parts = [f"{_difference(headline, value, pooled_value)} from pooled training"] if pooled_value is not None else []
    if local is not None:
        parts.append(f"{_difference(headline, value, local)} from the hospitals' mean training alone")
    direction = "" if higher_is_better(headline) else " (lower is better)"
    return (f"{reaches}, {' and '.join(parts)}{direction}. How sure these differences are is unknown: the report "
            "has no per-example outcomes to judge them by.", "")


def _paired_comparison(data: dict[str, Any], reaches: str, pooled: Interval, alone: dict[str, Interval]) -> str:
    headline, local, best = data["headline"], data["baselines"]["local"], best_alone(data) or ""
    best_value = format_metric(headline, score(local[best], headline))
    pooled_value = format_metric(headline, score(data["baselines"]["pooled"], headline))
    above = sum(difference.low > 0 for difference in alone.values())
    below = sum(difference.high < 0 for difference in alone.values())
    if above == len(alone):
        standing = f"it is above each of the {len(alone)} hospitals alone beyond noise"
    else:
        standing = (f"it is above {above} of the {len(alone)} hospitals alone beyond noise, within noise of "
                    f"{len(alone) - above - below}" + (f" and below {below}" if below else ""))
    return (f"{reaches}. Against pooled training ({pooled_value}): {format_difference(pooled)}. Against the best "
            f"hospital alone ({escape(best)}, {best_value}): {format_difference(alone[best])}; {standing}.")


def _class(data: dict[str, Any], label: int) -> str:
    """Label ``label`` for people: its name where the report has the classes' names, else ``class 2``."""
    classes = data.get("classes")
    return escape(classes[label]) if classes else f"class {label}"


def _of(data: dict[str, Any], label: int) -> str:
    """Examples *of* label ``label``: ``malignant`` where the classes have names, else ``of class 2``."""
    return _class(data, label) if data.get("classes") else f"of class {label}"


def _per_class(data: dict[str, Any], counts: list[int] | None) -> str:
    """A hospital's examples per class: ``malignant: 3, benign: 205`` (or by label number)."""
    if counts is None:
        return "unknown"
    return ", ".join(f"{_class(data, label)}: {count}" for label, count in enumerate(counts))


def _notes(data: dict[str, Any]) -> list[str]:
    """Why a hospital alone may score oddly: its training data (nearly) lacks a class. The last note says what an AUC
    measures, where a noted hospital has one."""
    baselines, headline = data["baselines"], data["headline"]
    if baselines is None:
        return []
    tested = baselines.get("test_label_counts")
    notes, ranked = [], False
    for hospital in data["hospitals"]:
        counts, entry = hospital["label_counts"], baselines["local"].get(hospital["name"])
        if counts is None or entry is None or min(counts) >= SKEWED_SHARE * sum(counts):
            continue
        main = max(range(len(counts)), key=lambda label: counts[label])
        others = [label for label in range(len(counts)) if label != main]
        held = "; ".join([f"{counts[label]} {_of(data, label)}" for label in others if counts[label]]
                         + [f"none {_of(data, label)}" for label in others if not counts[label]])
        share = "all" if counts[main] == sum(counts) else f"{counts[main]} of the"
        unseen = f"{_class(data, others[0])} cases look" if len(others) == 1 else "the other classes look"
        note = (f"<b>{escape(hospital['name'])} alone</b>: {share} {sum(counts)} training examples it holds are "
                f"{_of(data, main)} ({held}), so alone it can hardly learn what {unseen} like")
        if tested is not None and sum(tested):
            note += (f". Always answering {_class(data, main)} would be right on "
                     f"{format_metric('accuracy', tested[main] / sum(tested))} of the test set ({tested[main]} of "
                     f"{sum(tested)} examples); it scores {format_metric(headline, score(entry, headline))}")
        notes.append(note + ".")
        ranked = ranked or score(entry, "auc") is not None
    if ranked:
        notes.append("An AUC only says how well a model ranks the test examples: it can be high while the model "
                     "answers one class almost every time.")
    return notes


def _known(value: object) -> str:
    return "unknown" if value is None else escape(str(value))


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    head = "".join(f"<th class='l'>{escape(h)}</th>" if i < left else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class='l'>{cell}</td>" if i < left else f"<td>{cell}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


SummaryRow = tuple[str, dict[str, Any] | None, Interval | None]
"""A row of the summary table: its label, its evaluation, its difference from the federation."""


def _summary(data: dict[str, Any], names: list[str], headers: list[str]) -> str:
    """The table of the final model and the baselines (with the headline's interval and each baseline's difference
    from the federation, where the report has them), the notes on odd hospitals alone, and what the intervals are."""
    final, baselines, headline = data["final"], data["baselines"], data["headline"]
    rows: list[SummaryRow] = [("federation (final anchored model)", final, None)]
    if baselines is not None:
        mean = {"loss": baselines["local_mean"].get("loss"), "metrics": baselines["local_mean"]}  # no interval
        rows += [("pooled: all data in one place", baselines["pooled"], versus(data, POOLED)),
                 ("mean of hospitals training alone", mean, None),
                 *[(f"{escape(name)} alone", entry, versus(data, name)) for name, entry in baselines["local"].items()]]
    intervals = [accuracy_interval(entry, headline) for _, entry, _ in rows]
    shown_intervals, shown_differences = any(intervals), any(difference for _, _, difference in rows)

    def cells(entry: dict[str, Any] | None, interval: Interval | None, difference: Interval | None) -> list[str]:
        values = [format_metric(name, score(entry, name)) for name in names]
        if shown_intervals:
            values.insert(1, "" if interval is None else format_interval(interval))
        return values + ([format_difference(difference) if difference else ""] if shown_differences else [])

    table = _table(["", headers[0], *([LEVEL] if shown_intervals else []), *headers[1:],
                    *(["federation minus this"] if shown_differences else [])],
                   [[label, *cells(entry, interval, difference)]
                    for (label, entry, difference), interval in zip(rows, intervals, strict=True)])
    notes = "".join(f"<li>{note}</li>" for note in _notes(data))
    return (table + (f"<ul class='note'>{notes}</ul>" if notes else "")
            + (f"<p class='note'>{INTERVALS}</p>" if shown_intervals or shown_differences else ""))


def _audits(audits: list[dict[str, Any]]) -> str:
    """The training audits' section (nothing for a task without audits): who was drawn or challenged, which step,
    whether its proof verified on chain, and the gas of each proveStep and settleAudit."""
    if not audits:
        return ""
    outcomes = {"proven": "proof verified on chain", "failed": "no valid proof in time: update dropped, slashed",
                "moot": "moot (the update had left the round)", "open": "open"}

    def seconds(value: float | None) -> str:
        return "" if value is None else f"{value:.1f} s"

    def gas(value: int | None) -> str:
        return "" if value is None else f"{value:,}"

    table = _table(["round", "whose update", "step", "opened by", "outcome", "proof time", "proveStep gas",
                    "settleAudit gas", "refused proofs", "slashed"], [
        [str(a["round"]), escape(a["name"]), str(a["step"]),
         escape(a["opened_by"] + (" (drawn)" if a["drawn"] else " (demanded)")),
         f"<span class='{'bad' if a['outcome'] == 'failed' else ''}'>{escape(outcomes.get(a['outcome'], a['outcome']))}"
         "</span>", seconds(a["prove_seconds"]), gas(a["prove_gas"]), gas(a["settle_gas"]), str(a["refused"]),
         tokens(a["slashed"])] for a in audits
    ], left=5)
    return ("<h2>Training audits</h2><p>Each drawn or demanded step must be proven with a zero-knowledge proof of the "
            "training step, verified on chain against the anchored global model, the hospital's committed data and "
            f"its revealed update (docs/protocol.md section 13).</p>{table}\n")


def _page(data: dict[str, Any], images: list[str], report_json: str) -> str:
    final, chain = data["final"], data["chain"]
    names = metric_names(data)
    headers = [name if name != "auc" else "AUC" for name in names]

    def cells(entry: dict[str, Any] | None) -> list[str]:
        return [format_metric(name, score(entry, name)) for name in names]

    summary = _summary(data, names, headers)
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
    audits = _audits(data.get("audits", []))
    hospitals = _table(["hospital", "data", "examples", "examples per class", "scripted misbehaviour"], [
        [escape(h["name"]), escape(h["source"]), _known(h["examples"]), _per_class(data, h["label_counts"]),
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
{audits}<h2>Balances at the end (tokens)</h2>{balances}
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
