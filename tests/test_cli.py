"""The command line prints failures as one line, with no traceback and no secret."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import DemoRun


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


def test_demo_rejects_an_unknown_mode_before_anything_starts(tmp_path: Path) -> None:
    result = run_cli("demo", "--mode", "private", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: --mode: must be 'secure' or 'plain', got 'private'"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (None, "model.name: cannot load the model builder 'my_model:build': there is no module 'my_model'"),
        ("def build(in_features, num_classes):\n    raise ValueError('needs images')\n",
         "model.name: model 'my_model:build' cannot be built with options {}: ValueError: needs images"),
    ],
)
def test_simulate_names_a_model_that_cannot_be_built_in_one_line(tmp_path: Path, module: str | None,
                                                                  expected: str) -> None:
    config = tmp_path / "sim.toml"
    config.write_text('rounds = 2\nmode = "plain"\nadversaries = []\n[model]\nname = "my_model:build"\n')
    if module is not None:
        (tmp_path / "my_model.py").write_text(module)
    result = subprocess.run([sys.executable, "-m", "fedchain", "simulate", str(config), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {expected}"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_simulate_rejects_a_bad_setting_before_anything_starts(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("rounds = 3\n[simulation]\nalpha = -1\n")
    result = run_cli("simulate", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: simulation.alpha: must be > 0.0, got -1"]
    assert not (tmp_path / "out").exists()


def test_an_error_is_printed_as_it_is_brackets_included(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("rounds = 3\n[config]\nlearning_rate = 1\n")
    result = run_cli("simulate", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: config.learning_rate: a reserved key (set it in [training], or pick another name)"], result.stderr


def test_verify_model_says_what_it_checked(reduced_demo: DemoRun, tmp_path: Path) -> None:
    model = reduced_demo.folder / "model.pt"
    good = run_cli("verify-model", str(model))
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("OK:") and "RECORDED anchor" in good.stdout and "no live chain" in good.stdout
    state = torch.load(model, weights_only=True)
    next(iter(state.values())).view(-1)[0] += 0.5
    torch.save(state, tmp_path / "model.pt")
    (tmp_path / "anchor.json").write_bytes((reduced_demo.folder / "anchor.json").read_bytes())
    bad = run_cli("verify-model", str(tmp_path / "model.pt"))
    assert bad.returncode == 1 and bad.stderr.startswith("MISMATCH:") and "RECORDED anchor" in bad.stderr


SECRET_URL = "https://rpc.example.invalid/v3/0123456789abcdef-api-key"


@pytest.mark.parametrize(
    ("args", "extra_env", "expected"),
    [
        (["status", "--task", "1"], {}, "no chain given: pass --rpc URL or set FEDCHAIN_RPC"),
        (["status", "--task", "1", "--rpc", "anvil"], {}, "--rpc must be the http(s) URL of a running node, not "
                                                          "'anvil'"),
        (["status", "--task", "1"], {"FEDCHAIN_RPC": "http://127.0.0.1:9/v3/0123456789abcdef-api-key"},
         "no JSON-RPC node answers at http://127.0.0.1:9/..."),
        (["claim", "--task", "1", "--rpc", "http://127.0.0.1:9", "--max-fee-gwei", "cheap"],
         {"FEDCHAIN_PRIVATE_KEY": "ab" * 32}, "--max-fee-gwei 'cheap' is not a number of gwei"),
        (["deploy", "--rpc", "http://127.0.0.1:9", "--keystore", "/nonexistent/key.json"],
         {"FEDCHAIN_KEYSTORE_PASSWORD": "hunter2-secret"}, "keystore file /nonexistent/key.json does not exist"),
        (["task", "create", "--config", "/nonexistent/task.toml", "--store", "blobs"], {},
         "/nonexistent/task.toml: no such task file"),
        (["aggregator", "run", "--task", "1", "--store", "s3://user:pw@bucket/x"], {},
         "credentials do not belong in a URL"),
        (["participant", "run", "--task", "1", "--config", "examples/deploy/task.toml", "--data", "mnist:0/2",
          "--store", "blobs"], {}, "--data mnist:0/2: no built-in dataset 'mnist'"),
        (["task", "create", "--config", "tests/deploy/unbuildable_task.toml", "--store", "blobs"], {},
         "model.name: cannot load the model builder 'examples.nowhere:build': there is no module"),
        (["requester", "run", "--task", "1", "--config", "examples/deploy/task.toml", "--data", "breast_cancer:test",
          "--client", "examples.flower_app.fedchain_model:build", "--store", "blobs"], {},
         "give at most one of --data (the built-in evaluator) and --client"),
        (["requester", "run", "--task", "1", "--config", "examples/deploy/task.toml", "--data", "mnist:test",
          "--store", "blobs"], {}, "--data mnist:test: no built-in dataset 'mnist'"),
        (["validator", "run", "--task", "1", "--config", "examples/deploy/task.toml", "--store", "blobs"], {},
         "give exactly one of --data (the built-in scorer) and --client"),
        (["validator", "run", "--task", "1", "--config", "examples/deploy/task.toml", "--data", "breast_cancer:test",
          "--store", "blobs"], {}, "no chain given: pass --rpc URL or set FEDCHAIN_RPC"),
        (["task", "create", "--config", "examples/flower_app/task.toml", "--store", "blobs"], {},
         "no chain given: pass --rpc URL or set FEDCHAIN_RPC"),  # the app's model, by import path, builds
    ],
)
def test_deployment_commands_fail_in_one_line_without_secrets(args: list[str], extra_env: dict[str, str],
                                                              expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEDCHAIN_")}
    env.update(extra_env)
    result = run_cli(*args, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    for secret in ("0123456789abcdef-api-key", "ab" * 32, "hunter2-secret", "pw@"):
        assert secret not in result.stdout + result.stderr


def test_help_never_shows_the_values_of_secret_variables() -> None:
    env = {**os.environ, "FEDCHAIN_RPC": SECRET_URL, "FEDCHAIN_PRIVATE_KEY": "ab" * 32}
    for command in (["status"], ["participant", "run"], ["deploy"]):
        result = run_cli(*command, "--help", env=env)
        assert result.returncode == 0 and "FEDCHAIN_RPC" in result.stdout
        assert "api-key" not in result.stdout and "ab" * 32 not in result.stdout


@pytest.mark.anvil
def test_chain_up_prints_its_url_then_its_development_accounts_and_keys(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "fedchain", "chain", "up", "--port", "0", "--accounts", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(5)]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    assert process.returncode == 0
    assert lines[0].startswith("http://127.0.0.1:")
    assert lines[1] == ("3 funded DEVELOPMENT accounts (anvil's public test mnemonic: never use these keys for "
                        "anything of value):")
    assert lines[2] == ("0  0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266  key "
                        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    assert lines[4].startswith("2  0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC  key 0x")
