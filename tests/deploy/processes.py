"""Running `fedchain` commands as separate OS processes, as a consortium would: one-shot commands, and
long-running agents whose output goes to a log file, which tests kill (SIGKILL) and start again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMMAND_TIMEOUT_S = 120
FEDCHAIN_ENV_PREFIXES = ("FEDCHAIN_", "AWS_")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without fedchain's or AWS's variables, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(FEDCHAIN_ENV_PREFIXES)}
    env.update(extra or {})
    return env


def fedchain(*args: str, env: Mapping[str, str], cwd: Path, check: bool = True,
             timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run one `fedchain` command to its end; with ``check``, fail the test on a non-zero exit."""
    result = subprocess.run([sys.executable, "-m", "fedchain", *args], capture_output=True, text=True,
                            env=dict(env), cwd=cwd, check=False, timeout=timeout)
    if check:
        assert result.returncode == 0, f"fedchain {' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class AgentProcess:
    """A long-running `fedchain ... run` process; every life of it appends to one log file."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    log: Path
    lives: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        """Start (or start again) the process."""
        with self.log.open("ab") as handle:
            handle.write(f"--- life {len(self.lives) + 1} ---\n".encode())
            handle.flush()
            self.lives.append(subprocess.Popen([sys.executable, "-m", "fedchain", *self.args], env=self.env,
                                               cwd=self.cwd, stdout=handle, stderr=subprocess.STDOUT))

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The current life."""
        return self.lives[-1]

    def kill(self) -> None:
        """SIGKILL the current life: it gets no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """End the current life if it still runs (test teardown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def output(self) -> str:
        """Everything every life wrote."""
        return self.log.read_text(errors="replace")

    def life_output(self, life: int) -> str:
        """What life ``life`` (1-based) wrote."""
        parts = self.output().split("--- life ")
        return next(part for part in parts if part.startswith(f"{life} ---"))


class Consortium:
    """The agent processes of one test, all stopped at the end however the test ends."""

    def __init__(self) -> None:
        self.agents: list[AgentProcess] = []

    def start(self, agent: AgentProcess) -> AgentProcess:
        """Start ``agent`` and keep it for teardown."""
        agent.start()
        self.agents.append(agent)
        return agent

    def stop_all(self) -> None:
        """Kill whatever still runs."""
        for agent in self.agents:
            agent.stop()

    def logs(self) -> str:
        """Every agent's log, labelled, for failure messages."""
        return "\n".join(f"===== {agent.name}\n{agent.output()[-3000:]}" for agent in self.agents)


@contextmanager
def consortium() -> Iterator[Consortium]:
    """A :class:`Consortium` whose processes are killed when the block ends."""
    group = Consortium()
    try:
        yield group
    finally:
        group.stop_all()


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, poll: float = 0.5,
             explain: Callable[[], str] = lambda: "") -> Any:
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{explain()}")
        time.sleep(poll)


def status_json(*, env: Mapping[str, str], cwd: Path, task: int) -> dict[str, Any]:
    """`fedchain status --json` of ``task``."""
    result = fedchain("status", "--task", str(task), "--json", env=env, cwd=cwd)
    data: dict[str, Any] = json.loads(result.stdout)
    return data
