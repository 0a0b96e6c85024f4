"""The command line prints failures as one line, with no traceback and no secret."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fedchain", *args], capture_output=True, text=True,
                          env=env, check=False, timeout=120)


def test_chain_info_on_the_embedded_chain() -> None:
    result = run_cli("chain", "info")
    assert result.returncode == 0, result.stderr
    assert "backend   embedded" in result.stdout
    assert "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in result.stdout


@pytest.mark.parametrize(
    ("extra_env", "args", "expected"),
    [
        ({"FEDCHAIN_PRIVATE_KEY": "ab" * 32}, ["--rpc", "http://127.0.0.1:9"], "no JSON-RPC node answers"),
        ({"FEDCHAIN_PRIVATE_KEY": "0xabc"}, ["--rpc", "http://127.0.0.1:9"], "does not hold a private key"),
        ({"FEDCHAIN_ANVIL": "/nonexistent/anvil"}, ["--rpc", "anvil"], "not an executable file"),
    ],
)
def test_failures_are_one_line(extra_env: dict[str, str], args: list[str], expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "FEDCHAIN_PRIVATE_KEY"}
    env.update(extra_env)
    result = run_cli("chain", "info", *args, env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr
    assert "ab" * 32 not in result.stderr + result.stdout
