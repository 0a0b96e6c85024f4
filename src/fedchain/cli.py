"""The `fedchain` command line.

Every command that talks to a chain takes ``--rpc`` ("embedded", "anvil" or a JSON-RPC URL) and, for a
URL, a key from an environment variable (``--key-env``, default FEDCHAIN_PRIVATE_KEY) or an encrypted
keystore file (``--keystore``). Failures fedchain can explain are printed as one line, never a traceback,
and secrets never appear in output.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from fedchain.chain import connect
from fedchain.chain.anvil import AnvilNode
from fedchain.chain.keys import DEFAULT_KEY_ENV, DEFAULT_PASSWORD_ENV, create_keystore
from fedchain.errors import FedchainError

app = typer.Typer(help="Federated learning coordinated by an EVM smart contract.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
chain_app = typer.Typer(help="Chains: inspect one, or run a local anvil node.", no_args_is_help=True)
account_app = typer.Typer(help="Accounts: encrypted keystore files.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(account_app, name="account")

console = Console()
errors = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

RpcOption = Annotated[str, typer.Option("--rpc", help="'embedded', 'anvil' or a JSON-RPC URL.")]
KeyEnvOption = Annotated[str, typer.Option("--key-env", help="Environment variable holding the hex private key.")]
KeystoreOption = Annotated[
    Path | None, typer.Option("--keystore", help=f"Encrypted keystore file (password from ${DEFAULT_PASSWORD_ENV}).")
]


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print a `FedchainError` as one red line and exit 1, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except FedchainError as error:
            errors.print(f"[bold red]error:[/] {error}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None

    return wrapper


@chain_app.command("info")
@one_line_errors
def chain_info(rpc: RpcOption = "embedded", key_env: KeyEnvOption = DEFAULT_KEY_ENV,
               keystore: KeystoreOption = None) -> None:
    """Connect and print the chain id, latest block and the account in use."""
    with connect(rpc, key_env=key_env, keystore=keystore) as chain:
        block = chain.w3.eth.get_block("latest")
        console.print(f"backend   {chain.backend}")
        console.print(f"chain id  {chain.chain_id}")
        console.print(f"block     {block['number']} at {block['timestamp']}")
        console.print(f"account   {chain.accounts[0].address}")


@chain_app.command("up")
@one_line_errors
def chain_up(port: Annotated[int, typer.Option(help="Loopback port (0: any free one).")] = 8545,
             accounts: Annotated[int, typer.Option(help="Funded development accounts.")] = 10,
             block_time: Annotated[int, typer.Option(help="Also mine a block every this many seconds, so deadlines "
                                                          "pass in real time (0: only on transactions).")] = 1) -> None:
    """Run a local anvil node until Ctrl-C, printing its URL."""
    with AnvilNode(port=port or None, accounts=accounts, block_time=block_time) as node:
        console.print(node.url, highlight=False)
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while node.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


@account_app.command("new")
@one_line_errors
def account_new(keystore: Annotated[Path, typer.Option("--keystore", help="Where to write the keystore file.")],
                password_env: Annotated[str, typer.Option(help="Environment variable with the password.")]
                = DEFAULT_PASSWORD_ENV) -> None:
    """Create a new account in an encrypted keystore file and print its address."""
    password = os.environ.get(password_env) or typer.prompt("Keystore password", hide_input=True,
                                                            confirmation_prompt=True)
    console.print(create_keystore(keystore, password), highlight=False)


OutOption = Annotated[Path | None, typer.Option("--out", help="Output folder (default: ./fedchain-out, or the "
                                                "config's output).")]


ModeOption = Annotated[str, typer.Option("--mode", help="'secure' (masked updates) or 'plain' (commit-reveal).")]


@app.command("demo")
@one_line_errors
def demo(out: OutOption = None, mode: ModeOption = "secure") -> None:
    """Five hospitals train a breast-cancer model for 20 rounds on an embedded chain. Secure mode (the default):
    nobody sees a hospital's update; a cheating aggregator is caught and slashed, and a hospital that drops
    after committing is unmasked around, then slashed. Plain mode: a cheating aggregator and an out-of-range
    hospital are caught and slashed. Writes report.json, report.html and the model."""
    # Imported on use, here and below: torch and matplotlib take seconds to load and most commands need neither.
    from fedchain.report.live import simulate_with_live_view  # noqa: PLC0415
    from fedchain.sim import ConfigError, demo_config  # noqa: PLC0415

    if mode not in ("secure", "plain"):
        raise ConfigError(f"--mode: must be 'secure' or 'plain', got {mode!r}")
    config = demo_config("secure" if mode == "secure" else "plain")
    simulate_with_live_view(replace(config, output=out or config.output), console)


@app.command("simulate")
@one_line_errors
def simulate(config_file: Annotated[Path, typer.Argument(metavar="CONFIG.toml", help="Simulation settings.")],
             out: OutOption = None) -> None:
    """Run the federation a TOML file describes (every key defaults to the demo's value; see examples/)."""
    from fedchain.report.live import simulate_with_live_view  # noqa: PLC0415
    from fedchain.sim import load_config  # noqa: PLC0415

    config = load_config(config_file)
    simulate_with_live_view(replace(config, output=out or config.output), console)


@app.command("verify-model")
@one_line_errors
def verify_model(
    model: Annotated[Path, typer.Argument(metavar="FILE", help="A saved model (PyTorch state_dict).")],
    anchor: Annotated[Path | None, typer.Option(help="Anchor file (default: anchor.json beside the model).")] = None,
    rpc: Annotated[str | None, typer.Option("--rpc", help="JSON-RPC URL of a live node to check against.")] = None,
    coordinator: Annotated[str | None, typer.Option(help="Coordinator address (default: the anchor's).")] = None,
    task: Annotated[int | None, typer.Option(help="Task id (default: the anchor's).")] = None,
    round: Annotated[int | None, typer.Option(help="Round whose model to compare (default: the anchor's round, "
                                                   "or the task's current model).")] = None,
) -> None:
    """Recompute a saved model's Merkle root and compare it with its on-chain anchor (live with --rpc)."""
    from fedchain.report.verify import verify_model as check_model  # noqa: PLC0415

    verdict = check_model(model, anchor_file=anchor, rpc=rpc, coordinator=coordinator, task_id=task, round=round)
    if not verdict.matches:
        errors.print(f"[bold red]MISMATCH:[/] {model} has root {verdict.computed_root}; the anchored root is "
                     f"{verdict.anchored_root}, in {verdict.checked_against}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1)
    console.print(f"[bold green]OK:[/] {model} has root {verdict.computed_root}, as anchored in "
                  f"{verdict.checked_against}", highlight=False, soft_wrap=True)
