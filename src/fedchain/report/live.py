"""The live terminal view of a running simulation (rich), and the short summary printed at the end."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from fedchain.chain.coordinator import RoundPhase
from fedchain.report.files import report_data, write_report
from fedchain.report.html import tokens
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
        table = Table(title=f"fedchain federation ({self.mode} mode)", expand=False)
        for column in ("round", "status", "included/committed", "accuracy", "AUC", "gas", "rewards", "incidents"):
            table.add_column(column, justify="left" if column in ("status", "incidents") else "right")
        for record in self.records:
            metrics = record.metrics
            incidents = "; ".join(f"{slash.name} -{tokens(slash.amount)} ({slash.kind.replace('_', ' ')})"
                                  for slash in record.slashes)
            if record.reaggregated:
                incidents += ", re-aggregated"
            table.add_row(
                str(record.index), record.status, f"{len(record.participants)}/{len(record.committed)}",
                "-" if metrics is None else f"{100 * metrics.accuracy:.1f}%",
                "-" if metrics is None or metrics.auc is None else f"{metrics.auc:.3f}",
                f"{record.gas_total:,}", tokens(sum(record.rewards.values())),
                Text(incidents, style="red") if incidents else "",
            )
        return Group(table, self.status)


def print_summary(console: Console, data: dict[str, Any], html: str) -> None:
    """A few lines: the result against the baselines, the incidents, and where the files are."""
    final, baselines = data["final"], data["baselines"]
    pooled, local = baselines["pooled"]["accuracy"], baselines["local_mean_accuracy"]
    console.print(f"[bold]final model[/]  accuracy {100 * final['accuracy']:.1f}%  AUC {final['auc'] or 0:.3f}  "
                  f"(pooled {100 * pooled:.1f}%, hospitals alone {100 * local:.1f}% on average)")
    for slash in data["slashes"]:
        console.print(f"[red]slashed[/]  round {slash['round']}: {slash['role']} {slash['name']} lost "
                      f"{tokens(slash['amount'])} tokens ({slash['reason']}); bounty {tokens(slash['bounty'])} to "
                      f"{slash['challenger']}")
    gas = sum(row["gas_total"] for row in data["rounds"])
    console.print(f"gas in rounds {gas:,}; wall time {data['wall_seconds']:.0f} s; chain {data['chain']['backend']}")
    console.print(f"report  {html}", highlight=False)
    console.print(f"model   root {final['model_root']} anchored by tx {final['anchor_tx']}", highlight=False)


def simulate_with_live_view(config: SimulationConfig, console: Console) -> None:
    """Run ``config`` with the live view, write every output file into ``config.output``, print a summary."""
    view = LiveView(console, rounds=config.rounds, mode=config.mode)
    with view:
        result = run_simulation(config, view)
    html = write_report(result, config.output)
    print_summary(console, report_data(result), str(html))
