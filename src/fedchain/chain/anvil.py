"""A local anvil node, started from the npm package's binary and always stopped again."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import requests

from fedchain.chain.errors import AnvilNotFoundError, ChainConnectionError

ANVIL_ENV = "FEDCHAIN_ANVIL"
DEV_MNEMONIC = "test test test test test test test test test test test junk"
_REPO_CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
_PR_SET_PDEATHSIG = 1


def find_anvil() -> Path:
    """The anvil binary: $FEDCHAIN_ANVIL, then `anvil` on PATH, then the repository's npm install."""
    configured = os.environ.get(ANVIL_ENV)
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise AnvilNotFoundError(f"{ANVIL_ENV}={configured} is not an executable file")
        return path
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    for candidate in sorted(_REPO_CONTRACTS.glob("node_modules/@foundry-rs/anvil-*/bin/anvil")):
        if os.access(candidate, os.X_OK):
            return candidate
    raise AnvilNotFoundError(
        "anvil not found: install it (`npm ci` in contracts/, or Foundry), put it on PATH, "
        f"or set {ANVIL_ENV} to its path"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child if this process dies, so no node outlives a killed parent."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class AnvilNode:
    """An anvil process on a loopback port; use as a context manager, or call `stop()`."""

    def __init__(self, *, port: int | None = None, chain_id: int = 31337, accounts: int = 10,
                 binary: Path | None = None, startup_timeout: float = 30.0, block_time: int = 0) -> None:
        """``block_time`` > 0 also mines a block every that many seconds (besides one per transaction), so
        the chain's clock, which contract views read, follows real time while nothing is sent."""
        self.binary = binary or find_anvil()
        self.port = port or free_port()
        self.chain_id = chain_id
        self.url = f"http://127.0.0.1:{self.port}"
        command = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port),
                   "--chain-id", str(chain_id), "--accounts", str(accounts),
                   "--mnemonic", DEV_MNEMONIC, "--silent"]
        if block_time > 0:
            command += ["--block-time", str(block_time), "--mixed-mining"]
        # preexec_fn is the only way to set PR_SET_PDEATHSIG; it runs one libc call, takes no locks.
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        try:
            self._wait_until_ready(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise ChainConnectionError(f"anvil exited at start (code {self._process.returncode}): "
                                           f"{stderr.strip()[:500]}")
            with contextlib.suppress(requests.RequestException):
                if requests.post(self.url, json=payload, timeout=1).ok:
                    return
            time.sleep(0.05)
        raise ChainConnectionError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self._process.poll() is None

    def stop(self) -> None:
        """Stop the node (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
