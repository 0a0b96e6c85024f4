"""What a running simulation prints: in a terminal, a live table (rich) that folds long cells to its width; anywhere
else (a pipe, a log file, CI), one plain line per round as it closes; and the short summary at the end."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fedchain.chain.coordinator import RoundPhase
from fedchain.report.compare import (
    LEVEL,
    POOLED,
    accuracy_interval,
    best_alone,
    format_difference,
    format_interval,
    format_metric,
    score,
    versus,
)
from fedchain.report.files import report_data, write_report
from fedchain.report.html import metric_names, tokens
from fedchain.sim.config import SimulationConfig
from fedchain.sim.records import RoundRecord, shown_metrics
from fedchain.sim.run import run_simulation

REFRESH_PER_SECOND = 4


class LiveView:
    """A rich table with one row per closed round and a status line for the round in progress."""

    def __init__(self, console: Console, *, rounds: int, mode: str) -> None:
        self.console = console
        self.rounds = rounds
        self.mode = mode
        self.records: list[RoundRecord] = []
        self.status = Text("deploying contracts, funding accounts, creating the task ...")
        self._live = Live(self.renderable(), console=console, refresh_per_second=REFRESH_PER_SECOND)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.status = Text("")
        self._live.update(self.renderable())
        self._live.__exit__(kind, error, trace)

    def phase(self, round: int, phase: RoundPhase) -> None:
        """The round in progress moved to ``phase``."""
        self.status = Text(f"round {round + 1}/{self.rounds}: {phase.name.lower().replace('_', ' ')}", style="cyan")
        self._live.update(self.renderable())

    def round_closed(self, record: RoundRecord) -> None:
        """Add the closed round's row."""
        self.records.append(record)
        self._live.update(self.renderable())

    def renderable(self) -> Any:
        """The table of the closed rounds, a line per round with incidents under it (wrapped to the terminal's
        width, never cut), and the status line."""
        names = self._metric_names()
        table = Table(title=f"fedchain federation ({self.mode} mode)", expand=False)
        for column in ("round", "status", "included", *[_header(name) for name in names], "gas", "rewards"):
            table.add_column(column, justify="left" if column == "status" else "right", no_wrap=True)
        incidents = []
        for record in self.records:
            scores = record.scores
            table.add_row(
                str(record.index), record.status, f"{len(record.participants)}/{len(record.committed)}",
                *["-" if scores is None else format_metric(name, scores.get(name)) for name in names],
                f"{record.gas_total:,}", tokens(sum(record.rewards.values())),
            )
            if _incidents(record):
                incidents.append(Text(f"round {record.index}: {_incidents(record)}", style="red"))
        return Group(table, *incidents, self.status)

    def _metric_names(self) -> list[str]:
        """The headline of the rounds evaluated so far, their other metrics by name, and the loss."""
        evaluated = [record.scores for record in self.records if record.scores is not None]
        if not evaluated:
            return []
        return shown_metrics(evaluated[-1].headline, (name for scores in evaluated for name in scores.metrics))


class LineView:
    """One plain line per closed round (and one per start), for output that is not a terminal: nothing is redrawn,
    nothing is cut at a width, and a log shows progress as it happens."""

    def __init__(self, console: Console, *, rounds: int, mode: str) -> None:
        self.console = console
        self.rounds = rounds
        self.console.print(f"fedchain federation ({mode} mode, {rounds} rounds): deploying contracts, funding "
                           "accounts, creating the task", highlight=False, soft_wrap=True)

    def phase(self, round: int, phase: RoundPhase) -> None:
        """Phases are not printed: a line per round is enough for a log."""

    def round_closed(self, record: RoundRecord) -> None:
        """Print the closed round's line."""
        scores = record.scores
        shown = "" if scores is None else ", " + ", ".join(
            f"{_header(name)} {format_metric(name, scores.get(name))}"
            for name in shown_metrics(scores.headline, scores.metrics))
        incidents = _incidents(record)
        self.console.print(f"round {record.index + 1}/{self.rounds} {record.status}: {len(record.participants)}/"
                           f"{len(record.committed)} included{shown}, gas {record.gas_total:,}, rewards "
                           f"{tokens(sum(record.rewards.values()))}" + (f"; {incidents}" if incidents else ""),
                           highlight=False, soft_wrap=True, markup=False)


def _incidents(record: RoundRecord) -> str:
    incidents = "; ".join(f"{slash.name} -{tokens(slash.amount)} ({slash.kind.replace('_', ' ')})"
                          for slash in record.slashes)
    return incidents + (", re-aggregated" if record.reaggregated else "")


def print_summary(console: Console, data: dict[str, Any], html: str) -> None:
    """A few lines: the result (against the baselines where there are any), the incidents, and where the files
    are."""
    final, baselines, headline = data["final"], data["baselines"], data["headline"]
    interval = accuracy_interval(final, headline)
    shown = "  ".join(f"{_header(name)} {format_metric(name, score(final, name))}"
                      + (f" ({LEVEL} {format_interval(interval)})" if name == headline and interval else "")
                      for name in metric_names(data))
    against = ""
    if baselines is not None:
        pooled, local = score(baselines["pooled"], headline), baselines["local_mean"].get(headline)
        against = (f"  (pooled {format_metric(headline, pooled)}, hospitals alone {format_metric(headline, local)} "
                   "on average)")
    console.print(f"[bold]final model[/]  {shown}{escape(against)}", soft_wrap=True)
    if baselines is None:
        console.print("no baselines: pooled and local training need the hospitals' data")
    best = best_alone(data)
    differences = []
    for label, name in (("pooled", POOLED), (f"best hospital alone ({best})", best)):
        difference = None if name is None else versus(data, name)
        if difference is not None:
            differences.append(f"{label} {format_difference(difference)}")
    if differences:
        console.print(f"[bold]federation minus[/]  {escape('; '.join(differences))}", soft_wrap=True)
    for slash in data["slashes"]:
        console.print(f"[red]slashed[/]  round {slash['round']}: {slash['role']} {slash['name']} lost "
                      f"{tokens(slash['amount'])} tokens ({slash['reason']}); bounty {tokens(slash['bounty'])} to "
                      f"{slash['challenger']}", soft_wrap=True)
    gas = sum(row["gas_total"] for row in data["rounds"])
    console.print(f"gas in rounds {gas:,}; wall time {data['wall_seconds']:.0f} s; chain {data['chain']['backend']}",
                  soft_wrap=True)
    console.print(f"report  {html}", highlight=False, soft_wrap=True)
    console.print(f"model   root {final['model_root']} anchored by tx {final['anchor_tx']}", highlight=False,
                  soft_wrap=True)
    if final["preprocessing_file"] is not None:
        console.print(f"inputs  raw features through {final['preprocessing_file']} beside the model, as in training",
                      highlight=False, soft_wrap=True)


def _header(name: str) -> str:
    return "AUC" if name == "auc" else escape(name)


def simulate_with_live_view(config: SimulationConfig, console: Console) -> None:
    """Run ``config`` with the live table in a terminal (a line per round elsewhere), write every output file into
    ``config.simulation.output``, print a summary."""
    if console.is_terminal:
        with LiveView(console, rounds=config.task.rounds, mode=config.task.mode) as view:
            result = run_simulation(config, view)
    else:
        result = run_simulation(config, LineView(console, rounds=config.task.rounds, mode=config.task.mode))
    html = write_report(result, config.simulation.output)
    print_summary(console, report_data(result), str(html))
