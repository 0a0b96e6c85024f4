"""The live terminal view of a running simulation (rich), and the short summary printed at the end."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fedchain.chain.coordinator import RoundPhase
from fedchain.report.files import report_data, write_report
from fedchain.report.html import format_metric, metric_names, tokens
from fedchain.report.plots import score
from fedchain.sim.config import SimulationConfig
from fedchain.sim.records import RoundRecord
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
        self._live = Live(self._render(), console=console, refresh_per_second=REFRESH_PER_SECOND)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.status = Text("")
        self._live.update(self._render())
        self._live.__exit__(kind, error, trace)

    def phase(self, round: int, phase: RoundPhase) -> None:
        """The round in progress moved to ``phase``."""
        self.status = Text(f"round {round + 1}/{self.rounds}: {phase.name.lower().replace('_', ' ')}", style="cyan")
        self._live.update(self._render())

    def round_closed(self, record: RoundRecord) -> None:
        """Add the closed round's row."""
        self.records.append(record)
        self._live.update(self._render())

    def _render(self) -> Any:
        names = self._metric_names()
        table = Table(title=f"fedchain federation ({self.mode} mode)", expand=False)
        columns = ("round", "status", "included/committed", *[_header(name) for name in names], "gas", "rewards",
                   "incidents")
        for column in columns:
            table.add_column(column, justify="left" if column in ("status", "incidents") else "right")
        for record in self.records:
            scores = record.scores
            incidents = "; ".join(f"{slash.name} -{tokens(slash.amount)} ({slash.kind.replace('_', ' ')})"
                                  for slash in record.slashes)
            if record.reaggregated:
                incidents += ", re-aggregated"
            table.add_row(
                str(record.index), record.status, f"{len(record.participants)}/{len(record.committed)}",
                *["-" if scores is None else format_metric(name, scores.get(name)) for name in names],
                f"{record.gas_total:,}", tokens(sum(record.rewards.values())),
                Text(incidents, style="red") if incidents else "",
            )
        return Group(table, self.status)

    def _metric_names(self) -> list[str]:
        """The headline of the rounds evaluated so far, their other metrics by name, and the loss."""
        evaluated = [record.scores for record in self.records if record.scores is not None]
        if not evaluated:
            return []
        headline = evaluated[-1].headline
        others = sorted({name for scores in evaluated for name in scores.metrics} - {headline})
        return [headline, *others] + ([] if headline == "loss" else ["loss"])


def print_summary(console: Console, data: dict[str, Any], html: str) -> None:
    """A few lines: the result (against the baselines where there are any), the incidents, and where the files
    are."""
    final, baselines, headline = data["final"], data["baselines"], data["headline"]
    shown = "  ".join(f"{_header(name)} {format_metric(name, score(final, name))}" for name in metric_names(data))
    against = ""
    if baselines is not None:
        pooled, local = score(baselines["pooled"], headline), baselines["local_mean"].get(headline)
        against = (f"  (pooled {format_metric(headline, pooled)}, hospitals alone {format_metric(headline, local)} "
                   "on average)")
    console.print(f"[bold]final model[/]  {shown}{escape(against)}")
    if baselines is None:
        console.print("no baselines: pooled and local training need the hospitals' data")
    for slash in data["slashes"]:
        console.print(f"[red]slashed[/]  round {slash['round']}: {slash['role']} {slash['name']} lost "
                      f"{tokens(slash['amount'])} tokens ({slash['reason']}); bounty {tokens(slash['bounty'])} to "
                      f"{slash['challenger']}")
    gas = sum(row["gas_total"] for row in data["rounds"])
    console.print(f"gas in rounds {gas:,}; wall time {data['wall_seconds']:.0f} s; chain {data['chain']['backend']}")
    console.print(f"report  {html}", highlight=False)
    console.print(f"model   root {final['model_root']} anchored by tx {final['anchor_tx']}", highlight=False)
    if final["preprocessing_file"] is not None:
        console.print(f"inputs  raw features through {final['preprocessing_file']} beside the model, as in training",
                      highlight=False)


def _header(name: str) -> str:
    return "AUC" if name == "auc" else escape(name)


def simulate_with_live_view(config: SimulationConfig, console: Console) -> None:
    """Run ``config`` with the live view, write every output file into ``config.simulation.output``, print a
    summary."""
    view = LiveView(console, rounds=config.task.rounds, mode=config.task.mode)
    with view:
        result = run_simulation(config, view)
    html = write_report(result, config.simulation.output)
    print_summary(console, report_data(result), str(html))
