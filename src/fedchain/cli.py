"""The `fedchain` command line.

Every command that talks to a chain takes ``--rpc``: for ``chain info`` "embedded", "anvil" or a JSON-RPC
URL; for the deployment commands (``deploy``, ``task create``, ``participant run``, ``aggregator run``,
``watcher run``, ``status``, ``claim``, ``export-model``) the URL of a running node, also from
$FEDCHAIN_RPC. Commands that send transactions sign with a key from an environment variable
(``--key-env``, default FEDCHAIN_PRIVATE_KEY) or an encrypted keystore file (``--keystore``). Failures
fedchain can explain are printed as one line, never a traceback, and secrets (keys, passwords, the
path and query of an RPC URL) never appear in output or logs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from fedchain.chain import Chain, connect, dev_keys
from fedchain.chain.anvil import AnvilNode
from fedchain.chain.coordinator import CoordinatorClient
from fedchain.chain.keys import DEFAULT_KEY_ENV, DEFAULT_PASSWORD_ENV, create_keystore
from fedchain.deploy.amounts import parse_tokens
from fedchain.deploy.deployment import DEFAULT_DEPLOYMENT_FILE, RPC_ENV, coordinator_at, fee_caps, node_chain
from fedchain.errors import FedchainError

if TYPE_CHECKING:  # fedchain.roles loads torch, which most commands never need
    from fedchain.roles import Agent

app = typer.Typer(help="Federated learning coordinated by an EVM smart contract.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
chain_app = typer.Typer(help="Chains: inspect one, or run a local anvil node.", no_args_is_help=True)
account_app = typer.Typer(help="Accounts: encrypted keystore files.", no_args_is_help=True)
task_app = typer.Typer(help="Tasks: create one from a configuration file.", no_args_is_help=True)
participant_app = typer.Typer(help="Participants (hospitals): train, commit (plain) or mask (secure), claim.",
                              no_args_is_help=True)
aggregator_app = typer.Typer(help="Aggregators: bond, propose, finalize, collect fees.", no_args_is_help=True)
watcher_app = typer.Typer(help="Watchers: check every update and proposal, prove what is wrong.",
                          no_args_is_help=True)
validator_app = typer.Typer(help="Validators: score every update of a scored task on held-out data, in commit-reveal; "
                                 "prove what other validators get wrong.", no_args_is_help=True)
requester_app = typer.Typer(help="Requesters: evaluate every anchored model and publish its metrics, withdraw "
                                 "the pool.", no_args_is_help=True)
data_app = typer.Typer(help="Data: agree on a task's standardization statistics without pooling any row.",
                       no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(account_app, name="account")
app.add_typer(task_app, name="task")
app.add_typer(participant_app, name="participant")
app.add_typer(aggregator_app, name="aggregator")
app.add_typer(watcher_app, name="watcher")
app.add_typer(validator_app, name="validator")
app.add_typer(requester_app, name="requester")
app.add_typer(data_app, name="data")

console = Console()
errors = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

RpcOption = Annotated[str, typer.Option("--rpc", help="'embedded', 'anvil' or a JSON-RPC URL.")]
KeyEnvOption = Annotated[str, typer.Option("--key-env", help="Environment variable holding the hex private key.")]
KeystoreOption = Annotated[
    Path | None, typer.Option("--keystore", help=f"Encrypted keystore file (password from ${DEFAULT_PASSWORD_ENV}).")
]
NodeOption = Annotated[str | None, typer.Option("--rpc", envvar=RPC_ENV, show_envvar=True, show_default=False,
                                                help="JSON-RPC URL of a running node (keep an API key in the "
                                                     "variable rather than on the command line).")]
MaxFeeOption = Annotated[str | None, typer.Option(
    "--max-fee-gwei", envvar="FEDCHAIN_MAX_FEE_GWEI", show_envvar=True,
    help="Most paid per gas, base fee included (default: the node's suggestion).")]
PriorityFeeOption = Annotated[str | None, typer.Option(
    "--priority-fee-gwei", envvar="FEDCHAIN_PRIORITY_FEE_GWEI", show_envvar=True,
    help="Tip per gas to the block producer (default: the node's suggestion).")]
DeploymentOption = Annotated[Path, typer.Option("--deployment", help="Deployment file of `fedchain deploy`.")]
CoordinatorOption = Annotated[str | None, typer.Option(
    "--coordinator", help="Coordinator address (default: the deployment file's).")]
TaskOption = Annotated[int, typer.Option("--task", min=1, help="Task id.")]
StoreOption = Annotated[str, typer.Option(
    "--store", envvar="FEDCHAIN_STORE", show_envvar=True,
    help="Blob store every party shares: a directory (also on a shared file system), "
         "s3://bucket/prefix?endpoint=URL or ipfs+http://host:port.")]
PollOption = Annotated[float, typer.Option("--poll", help="Seconds between two looks at the chain.")]
LogFormatOption = Annotated[Literal["text", "json"], typer.Option(
    "--log-format", help="Logs on stderr as text lines, or as one JSON object per line for machines.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print a `FedchainError` as one red line and exit 1, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except FedchainError as error:
            errors.print(f"[bold red]error:[/] {escape(str(error))}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None

    return wrapper


def signing_chain(rpc: str | None, key_env: str, keystore: Path | None, max_fee_gwei: str | None,
                  priority_fee_gwei: str | None) -> Chain:
    """The running node at ``rpc`` with the account that signs, and the fee limits of its transactions."""
    caps = fee_caps(max_fee_gwei, priority_fee_gwei)
    return node_chain(rpc, key_env=key_env, keystore=keystore, fee_caps=caps)


def print_json(data: object) -> None:
    """``data`` as JSON on stdout, unstyled."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


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
    """Run a local anvil node until Ctrl-C, printing its URL (the first line), then its funded development accounts
    and their keys."""
    # Before anything is printed: whoever reads the URL may send SIGTERM at once, and a signal that came before
    # the handler would be lost where the parent ignores SIGTERM (children inherit SIG_IGN).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with AnvilNode(port=port or None, accounts=accounts, block_time=block_time) as node:
        console.print(node.url, highlight=False)
        console.print(f"{accounts} funded DEVELOPMENT accounts (anvil's public test mnemonic: never use these keys "
                      "for anything of value):", highlight=False, soft_wrap=True)
        for index, account in enumerate(dev_keys(accounts)):
            console.print(f"  {index:>2}  {account.address}  key 0x{bytes(account.key).hex()}", highlight=False,
                          soft_wrap=True)
        sys.stdout.flush()
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
    from fedchain.sim.config import with_output  # noqa: PLC0415

    if mode not in ("secure", "plain"):
        raise ConfigError(f"--mode: must be 'secure' or 'plain', got {mode!r}")
    simulate_with_live_view(with_output(demo_config("secure" if mode == "secure" else "plain"), out), console)


@app.command("simulate")
@one_line_errors
def simulate(config_file: Annotated[Path, typer.Argument(metavar="CONFIG.toml", help="Simulation settings.")],
             out: OutOption = None) -> None:
    """Run the federation a TOML file describes (every key has a default, listed in docs/tasks.md;
    examples/breast_cancer.toml is the demo)."""
    from fedchain.report.live import simulate_with_live_view  # noqa: PLC0415
    from fedchain.sim import load_config  # noqa: PLC0415
    from fedchain.sim.config import with_output  # noqa: PLC0415

    simulate_with_live_view(with_output(load_config(config_file), out), console)


@app.command("attack-bench")
@one_line_errors
def attack_bench(
    attacks: Annotated[str | None, typer.Option(help="Attacks, comma-separated (default: every kind of "
                                                     "fedchain.sim.attacks a task without scores can stage).")]
    = None,
    rules: Annotated[str | None, typer.Option(help="Aggregation rules, comma-separated (default: every rule a "
                                                   "task accepts).")] = None,
    shares: Annotated[str | None, typer.Option(help="Attackers' shares of the hospitals (default: 0.1,0.2,0.3).")]
    = None,
    tasks: Annotated[str | None, typer.Option(help="Tasks: breast_cancer_iid, breast_cancer_dirichlet, digits_cnn, "
                                                   "digits_cnn_dirichlet (default: all).")] = None,
    rounds: Annotated[int | None, typer.Option(help="Rounds of every federation (default: 10).")] = None,
    hospitals: Annotated[int | None, typer.Option(help="Hospitals of every federation (default: 10).")] = None,
    chain: Annotated[str | None, typer.Option(help="'embedded' (default) or 'anvil' (much faster for a large "
                                                   "grid).")] = None,
    scored_attacks: Annotated[str | None, typer.Option(help="Attacks run again with contribution scores on, "
                                                            "comma-separated, or 'none' (default: every kind).")]
    = None,
    scored_rules: Annotated[str | None, typer.Option(help="Rules of the scored runs, comma-separated, or 'none' "
                                                          "(default: every rule).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("fedchain-out/attack-bench"),
    quick: Annotated[bool, typer.Option("--quick", help="A tiny grid (every rule; scaling and ipm; one attacker "
                                                        "of 4 hospitals; 2 rounds; breast cancer IID; scored: "
                                                        "free_rider_zero and sybil under fedavg); options given "
                                                        "still apply.")] = False,
) -> None:
    """Run the attack suite against the aggregation rules, each cell a real federation on a development chain, and
    write the final accuracy and every attacker's and honest hospital's stake and earnings to attack_bench.json,
    attack_bench.md and attack_bench.html (with a plot)."""
    from fedchain.report.attack_bench import Outcome, bench_settings, run_bench  # noqa: PLC0415
    from fedchain.report.attack_tables import write_bench  # noqa: PLC0415

    def progress(outcome: Outcome, number: int, total: int) -> None:
        cell = outcome.cell
        what = f"{cell.task} {cell.rule_label} " + ("clean" if cell.attack is None else f"{cell.attack} {cell.share:g}")
        done = (f"skipped: {outcome.skipped}" if outcome.accuracy is None
                else f"accuracy {100 * outcome.accuracy:.1f}% ({outcome.seconds:.1f} s)")
        console.print(f"[{number}/{total}] {what}: {done}", highlight=False, soft_wrap=True, markup=False)

    settings = bench_settings(quick=quick, attacks=attacks, rules=rules, shares=shares, tasks=tasks, rounds=rounds,
                              hospitals=hospitals, chain=chain, scored_attacks=scored_attacks,
                              scored_rules=scored_rules)
    for path in write_bench(run_bench(settings, progress), out):
        console.print(f"wrote {path}", highlight=False)


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


# -- deployment: one process per role against a running node (docs/deployment.md) ---------------------


@app.command("deploy")
@one_line_errors
def deploy(rpc: NodeOption = None, key_env: KeyEnvOption = DEFAULT_KEY_ENV, keystore: KeystoreOption = None,
           max_fee_gwei: MaxFeeOption = None, priority_fee_gwei: PriorityFeeOption = None,
           token: Annotated[str | None, typer.Option(help="An existing ERC-20 for stakes and rewards (default: "
                                                         "deploy a DevToken, which anyone may mint: development "
                                                         "chains and testnets only).")] = None,
           fund: Annotated[list[str] | None, typer.Option("--fund", help="Mint DevTokens to this address "
                                                                         "(repeatable).")] = None,
           fund_amount: Annotated[str, typer.Option(help="Whole tokens minted to each --fund address.")] = "1000",
           out: Annotated[Path, typer.Option("--out", help="Where to write the deployment file.")]
           = DEFAULT_DEPLOYMENT_FILE,
           mode: Annotated[str, typer.Option("--mode", help="'plain' (commit-reveal: a FedCoordinator) or 'secure' "
                                                            "(masked updates, SecAgg+: a SecureCoordinator).")]
           = "plain") -> None:
    """Deploy the coordinator of one mode (and a DevToken) and write the deployment file the other commands read."""
    from fedchain.deploy.deployment import deploy as deploy_contracts  # noqa: PLC0415
    from fedchain.deploy.deployment import parse_mode, write_deployment  # noqa: PLC0415

    kind = parse_mode("--mode", mode)
    with signing_chain(rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei) as chain:
        deployment = deploy_contracts(chain, mode=kind, token=token, fund=fund or [],
                                      fund_amount=parse_tokens("--fund-amount", fund_amount))
    write_deployment(out, deployment)
    console.print(f"chain        {deployment.chain_id}", highlight=False)
    console.print(f"coordinator  {deployment.coordinator} ({deployment.mode.label} mode)", highlight=False)
    console.print(f"token        {deployment.token}{' (DevToken)' if deployment.dev_token else ''}", highlight=False)
    for address in fund or []:
        console.print(f"funded       {address} with {fund_amount} tokens", highlight=False)
    console.print(f"wrote        {out}", highlight=False)


@task_app.command("create")
@one_line_errors
def task_create(config: Annotated[Path, typer.Option("--config", help="Task configuration file (TOML).")],
                store: StoreOption, rpc: NodeOption = None, key_env: KeyEnvOption = DEFAULT_KEY_ENV,
                keystore: KeystoreOption = None, max_fee_gwei: MaxFeeOption = None,
                priority_fee_gwei: PriorityFeeOption = None, deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE,
                coordinator: CoordinatorOption = None,
                token: Annotated[str | None, typer.Option(help="ERC-20 of the task (default: the deployment "
                                                              "file's).")] = None,
                as_json: JsonOption = False) -> None:
    """Upload the initial model, fund the reward pool and create the task; prints its id."""
    from fedchain.chain.amounts import whole_tokens  # noqa: PLC0415
    from fedchain.deploy.deployment import token_of  # noqa: PLC0415
    from fedchain.deploy.tasks import create_task, initial_model  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415
    from fedchain.task import load_task  # noqa: PLC0415

    task_config = load_task(config)
    model = initial_model(task_config)  # a task that cannot build its model fails here, before any chain is reached
    blobs = open_store(store)
    with signing_chain(rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei) as chain:
        client = coordinator_at(chain, coordinator=coordinator, deployment_file=deployment)
        created = create_task(client, blobs, chain.accounts[0], task_config,
                              token_of(chain, token=token, deployment_file=deployment), model)
    if as_json:
        print_json({"task_id": created.task_id, "coordinator": client.address, "mode": client.MODE.label,
                    "num_params": created.num_params, "model_root": created.model_root,
                    "model_blob_ref": created.model_blob_ref, "escrow": created.escrow, "token": created.token})
        return
    console.print(f"{client.MODE.label} task {created.task_id} created on coordinator {client.address}: "
                  f"{created.num_params} parameters, model root {created.model_root}, escrow "
                  f"{whole_tokens(created.escrow, created.decimals)} tokens", highlight=False, soft_wrap=True)


def _run(agent_for: Callable[[CoordinatorClient], Agent], rpc: str | None, key_env: str, keystore: Path | None,
         max_fee_gwei: str | None, priority_fee_gwei: str | None, deployment: Path, coordinator: str | None,
         poll: float, log_format: Literal["text", "json"]) -> None:
    """Connect, build the agent and run it until it is finished or a signal stops it, logging in ``log_format``."""
    from fedchain.deploy.runner import configure_logging, run_agent  # noqa: PLC0415

    configure_logging(log_format)
    with signing_chain(rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei) as chain:
        run_agent(agent_for(coordinator_at(chain, coordinator=coordinator, deployment_file=deployment)),
                  poll_seconds=poll)


@participant_app.command("run")
@one_line_errors
def participant_run(task: TaskOption,
                    config: Annotated[Path, typer.Option("--config", help="The task's file (TOML).")],
                    store: StoreOption,
                    data: Annotated[str | None, typer.Option(
                        "--data", help="Training data for the built-in trainer: a CSV file (checked against the "
                                       "task's [data]), or NAME:I/N for part I of N of a built-in dataset.")] = None,
                    client: Annotated[str | None, typer.Option(
                        "--client", help="Your own client instead: package.module:client_fn, a function of the "
                                         "hospital number returning a Flower NumPyClient (or any object with its "
                                         "methods).")] = None,
                    app: Annotated[str | None, typer.Option(
                        "--app", help="Your own Flower ClientApp instead: package.module:app (it gets the task's "
                                      "[config] as its run config).")] = None,
                    hospital: Annotated[int, typer.Option(
                        min=0, help="This hospital's number, given to --client's function and as a ClientApp's "
                                    "node_config partition-id.")] = 0,
                    hospitals: Annotated[int | None, typer.Option(
                        min=1, help="How many hospitals there are (a ClientApp's num-partitions; default: the "
                                    "task's cohort cap).")] = None,
                    device: Annotated[str, typer.Option(help="Where the built-in trainer runs: cpu, cuda or auto "
                                                             "(cuda without a GPU falls back to the CPU).")] = "cpu",
                    rpc: NodeOption = None, key_env: KeyEnvOption = DEFAULT_KEY_ENV,
                    keystore: KeystoreOption = None, max_fee_gwei: MaxFeeOption = None,
                    priority_fee_gwei: PriorityFeeOption = None,
                    deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE, coordinator: CoordinatorOption = None,
                    journal: Annotated[Path | None, typer.Option(help="Journal file (default: fedchain-journal-"
                                                                      "TASK-ADDRESS.json here).")] = None,
                    stake: Annotated[str | None, typer.Option(help="Whole tokens to stake (default: the task's "
                                                                   "minimum).")] = None,
                    poll: PollOption = 2.0, log_format: LogFormatOption = "text") -> None:
    """Train each round (the built-in trainer on --data, or your --client or Flower --app) and feed the update to
    the round (plain task: commit and reveal it; secure task: advertise keys, share secrets, upload it masked, help
    unmask the sum), claim rewards, then take the stake back. The data and the client are checked against the task
    before anything is staked; the task's mode is read from the chain. In an audited task (--data only) train the
    task's circuit step on the data, commit the trajectory and prove every drawn step (docs/deployment.md)."""
    from fedchain.deploy import runner  # noqa: PLC0415
    from fedchain.deploy.data import load_hospital_data  # noqa: PLC0415
    from fedchain.deploy.errors import DeployError  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415
    from fedchain.task import load_task  # noqa: PLC0415

    spec = load_task(config)
    if sum(option is not None for option in (data, client, app)) != 1:
        raise DeployError("give exactly one of --data (the built-in trainer), --client or --app")
    prepared = None
    if data is not None:
        prepared = load_hospital_data(data, spec)
        trainer = runner.builtin_client(spec, prepared, device=device)
    else:
        trainer = runner.user_client(str(app or client), app=app is not None, task=spec, hospital=hospital,
                                     hospitals=runner.partitions(spec, hospital, hospitals))
    blobs = open_store(store)
    amount = None if stake is None else parse_tokens("--stake", stake)

    def build(node: CoordinatorClient) -> Agent:
        path = journal or runner.default_journal(task, node.chain.accounts[0].address)
        return runner.participant(node, blobs, task, node.chain.accounts[0], task=spec, client=trainer,
                                  journal=path, stake=amount, data=prepared)

    _run(build, rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei, deployment, coordinator, poll, log_format)


@aggregator_app.command("run")
@one_line_errors
def aggregator_run(task: TaskOption, store: StoreOption, rpc: NodeOption = None,
                   key_env: KeyEnvOption = DEFAULT_KEY_ENV, keystore: KeystoreOption = None,
                   max_fee_gwei: MaxFeeOption = None, priority_fee_gwei: PriorityFeeOption = None,
                   deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE, coordinator: CoordinatorOption = None,
                   bond: Annotated[str | None, typer.Option(help="Whole tokens to bond (default: the task's "
                                                                 "aggregatorBond).")] = None,
                   standby: Annotated[bool, typer.Option(help="Propose only in reopened propose windows: take "
                                                              "a round over when the others are gone.")] = False,
                   poll: PollOption = 2.0, log_format: LogFormatOption = "text") -> None:
    """Bond, propose each round's aggregate (of a secure task: unmasked from the survivors' masked updates),
    finalize; after the task, claim fees and take the bond back."""
    from fedchain.deploy import runner  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415

    blobs = open_store(store)
    amount = None if bond is None else parse_tokens("--bond", bond)

    def build(client: CoordinatorClient) -> Agent:
        return runner.aggregator(client, blobs, task, client.chain.accounts[0], bond=amount, standby=standby)

    _run(build, rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei, deployment, coordinator, poll, log_format)


@watcher_app.command("run")
@one_line_errors
def watcher_run(task: TaskOption, store: StoreOption, rpc: NodeOption = None,
                key_env: KeyEnvOption = DEFAULT_KEY_ENV, keystore: KeystoreOption = None,
                max_fee_gwei: MaxFeeOption = None, priority_fee_gwei: PriorityFeeOption = None,
                deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE, coordinator: CoordinatorOption = None,
                poll: PollOption = 2.0, log_format: LogFormatOption = "text") -> None:
    """Recompute every reveal (plain task) and proposal and prove what is wrong; slash missed reveals (secure:
    missed uploads); end an idle task."""
    from fedchain.deploy import runner  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415

    blobs = open_store(store)

    def build(client: CoordinatorClient) -> Agent:
        return runner.watcher(client, blobs, task, client.chain.accounts[0])

    _run(build, rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei, deployment, coordinator, poll, log_format)


@validator_app.command("run")
@one_line_errors
def validator_run(task: TaskOption,
                  config: Annotated[Path, typer.Option("--config", help="The task's file (TOML).")],
                  store: StoreOption,
                  data: Annotated[str | None, typer.Option(
                      "--data", help="Your held-out data for the built-in scorer: a CSV file (checked against the "
                                     "task's [data]), or NAME:test, a built-in dataset's test portion.")] = None,
                  client: Annotated[str | None, typer.Option(
                      "--client", help="Your own scorer instead: package.module:client_fn, a function of 0 "
                                       "returning a Flower NumPyClient whose evaluate() gives a model's loss on "
                                       "your data.")] = None,
                  device: Annotated[str, typer.Option(help="Where the built-in scorer runs: cpu, cuda or "
                                                           "auto.")] = "cpu",
                  rpc: NodeOption = None, key_env: KeyEnvOption = DEFAULT_KEY_ENV, keystore: KeystoreOption = None,
                  max_fee_gwei: MaxFeeOption = None, priority_fee_gwei: PriorityFeeOption = None,
                  deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE, coordinator: CoordinatorOption = None,
                  journal: Annotated[Path | None, typer.Option(help="Journal file (default: fedchain-journal-"
                                                                    "TASK-ADDRESS.json here).")] = None,
                  poll: PollOption = 2.0, log_format: LogFormatOption = "text") -> None:
    """Take a seat in a scored task's committee (staking its validatorStake) and, in every round the chain's
    randomness seats you in, score each update by its loss improvement on your held-out data, commit, reveal; slash
    validators far from the median or silent; withdraw at the end. The task, data and model are checked before
    anything is staked."""
    from fedchain.deploy import runner  # noqa: PLC0415
    from fedchain.deploy.data import load_hospital_data  # noqa: PLC0415
    from fedchain.deploy.errors import DeployError  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415
    from fedchain.task import load_task  # noqa: PLC0415

    spec = load_task(config)
    if (data is None) == (client is None):
        raise DeployError("give exactly one of --data (the built-in scorer) and --client")
    if data is not None:
        scorer = runner.builtin_client(spec, load_hospital_data(data, spec), device=device)
    else:
        scorer = runner.user_client(str(client), app=False, task=spec, hospital=0, hospitals=1)
    blobs = open_store(store)

    def build(node: CoordinatorClient) -> Agent:
        path = journal or runner.default_journal(task, node.chain.accounts[0].address)
        return runner.validator(node, blobs, task, node.chain.accounts[0], task=spec, client=scorer, journal=path)

    _run(build, rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei, deployment, coordinator, poll, log_format)


@requester_app.command("run")
@one_line_errors
def requester_run(task: TaskOption,
                  config: Annotated[Path, typer.Option("--config", help="The task's file (TOML).")],
                  store: StoreOption,
                  data: Annotated[str | None, typer.Option(
                      "--data", help="Held-out validation data for the built-in evaluator: a CSV file (checked "
                                     "against the task's [data]), or NAME:test, a built-in dataset's test portion. "
                                     "Without it (and without --client) nothing is evaluated.")] = None,
                  client: Annotated[str | None, typer.Option(
                      "--client", help="Your own evaluator instead: package.module:client_fn, a function of 0 "
                                       "returning a Flower NumPyClient whose evaluate() scores a model on your "
                                       "data.")] = None,
                  device: Annotated[str, typer.Option(help="Where the built-in evaluator runs: cpu, cuda or "
                                                           "auto.")] = "cpu",
                  rpc: NodeOption = None, key_env: KeyEnvOption = DEFAULT_KEY_ENV, keystore: KeystoreOption = None,
                  max_fee_gwei: MaxFeeOption = None, priority_fee_gwei: PriorityFeeOption = None,
                  deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE, coordinator: CoordinatorOption = None,
                  poll: PollOption = 2.0, log_format: LogFormatOption = "text") -> None:
    """Evaluate every model the task anchors on your held-out data and publish the metrics on chain (so `status`
    and the dashboard show them, attributed to you); as the task's requester, withdraw what is left of the pool
    once the task has ended. Any account with validation data may run it."""
    from fedchain.deploy import runner  # noqa: PLC0415
    from fedchain.deploy.data import load_hospital_data  # noqa: PLC0415
    from fedchain.deploy.errors import DeployError  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415
    from fedchain.task import load_task  # noqa: PLC0415

    spec = load_task(config)
    if data is not None and client is not None:
        raise DeployError("give at most one of --data (the built-in evaluator) and --client")
    evaluator = None
    if data is not None:
        evaluator = runner.builtin_client(spec, load_hospital_data(data, spec), device=device)
    elif client is not None:
        evaluator = runner.user_client(client, app=False, task=spec, hospital=0, hospitals=1)
    blobs = open_store(store)

    def build(node: CoordinatorClient) -> Agent:
        return runner.requester(node, blobs, task, node.chain.accounts[0], task=spec, evaluator=evaluator)

    _run(build, rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei, deployment, coordinator, poll, log_format)


@app.command("status")
@one_line_errors
def status(task: TaskOption, rpc: NodeOption = None, deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE,
           coordinator: CoordinatorOption = None, as_json: JsonOption = False) -> None:
    """A task's state as the chain tells it: mode, round, phase, deadlines, who committed and revealed (secure:
    advertised, committed, uploaded), proposal, stakes."""
    from fedchain.deploy.status import render, task_report  # noqa: PLC0415

    with node_chain(rpc, read_only=True) as chain:
        report = task_report(coordinator_at(chain, coordinator=coordinator, deployment_file=deployment), task)
    if as_json:
        print_json(report.to_json())
        return
    for line in render(report):
        console.print(line, highlight=False, soft_wrap=True)


@app.command("dashboard")
@one_line_errors
def dashboard(task: TaskOption, rpc: NodeOption = None, deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE,
              coordinator: CoordinatorOption = None,
              host: Annotated[str, typer.Option("--host", help="Address to listen on (the default: this machine "
                                                               "only).")] = "127.0.0.1",
              port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free "
                                                                                 "one).")] = 8600,
              poll: PollOption = 1.0) -> None:
    """Serve a read-only web page that follows a task as the chain moves: round, phase and deadlines, anchored models
    and their metrics, members' stakes, rewards and slashes, challenges and disputes, gas. No key is needed."""
    from fedchain.dashboard.server import DashboardServer  # noqa: PLC0415

    with node_chain(rpc, read_only=True) as chain:
        server = DashboardServer(coordinator_at(chain, coordinator=coordinator, deployment_file=deployment), task,
                                 host=host, port=port, poll=poll)
        console.print(f"dashboard of task {task}: {server.url} (Ctrl-C stops it)", highlight=False, soft_wrap=True)
        sys.stdout.flush()
        server.serve()


@app.command("claim")
@one_line_errors
def claim(task: TaskOption, rpc: NodeOption = None, key_env: KeyEnvOption = DEFAULT_KEY_ENV,
          keystore: KeystoreOption = None, max_fee_gwei: MaxFeeOption = None,
          priority_fee_gwei: PriorityFeeOption = None, deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE,
          coordinator: CoordinatorOption = None) -> None:
    """Collect what a task owes this account: rewards and fees; after its end also the stake, the bond and
    (for the requester) the rest of the pool."""
    from fedchain.deploy.claim import claim_all  # noqa: PLC0415

    with signing_chain(rpc, key_env, keystore, max_fee_gwei, priority_fee_gwei) as chain:
        actions = claim_all(coordinator_at(chain, coordinator=coordinator, deployment_file=deployment), task,
                            chain.accounts[0])
    for action in actions or ["nothing to claim"]:
        console.print(action, highlight=False)


@app.command("export-model")
@one_line_errors
def export_model(task: TaskOption, store: StoreOption, rpc: NodeOption = None,
                 deployment: DeploymentOption = DEFAULT_DEPLOYMENT_FILE, coordinator: CoordinatorOption = None,
                 out: Annotated[Path, typer.Option("--out", help="Model file to write (anchor.json goes beside "
                                                                 "it).")] = Path("model.pt"),
                 round: Annotated[int | None, typer.Option(help="Round whose model to save (default: the last "
                                                                "finalized).")] = None,
                 config: Annotated[Path | None, typer.Option(
                     "--config", help="The task's file: its [data] must be the preprocessing the task's model pins "
                                      "on chain (checked before anything is written).")] = None) -> None:
    """Save a task's anchored model (checked against the chain) as a PyTorch state_dict, with its anchor and
    preprocessing.json: the preprocessing the model was trained with, which the chain pins, so the model applies to
    raw data as trained."""
    from fedchain.deploy.export import export_model as save_model  # noqa: PLC0415
    from fedchain.report.files import PREPROCESSING_FILE  # noqa: PLC0415
    from fedchain.storage import open_store  # noqa: PLC0415
    from fedchain.task import load_task  # noqa: PLC0415

    spec = None if config is None else load_task(config)
    blobs = open_store(store)
    with node_chain(rpc, read_only=True) as chain:
        saved = save_model(coordinator_at(chain, coordinator=coordinator, deployment_file=deployment), blobs,
                           task, out, round, spec)
    anchor = saved.anchor
    beside = "" if saved.preprocessing is None else f" and {out.parent / PREPROCESSING_FILE}"
    console.print(f"saved {out}{beside}: round {anchor.round} of task {anchor.task_id}, root {anchor.model_root}; "
                  f"check it with `fedchain verify-model {out} --rpc URL`", highlight=False, soft_wrap=True)


@data_app.command("summary")
@one_line_errors
def data_summary(data: Annotated[str, typer.Argument(metavar="DATA", help="A CSV file (or NAME:I/N).")],
                 config: Annotated[Path, typer.Option("--config", help="The task's file (TOML).")]) -> None:
    """Print what this hospital shares so the consortium can agree on standardization statistics: per feature the
    count, sum and sum of squares of its values (no row leaves the hospital)."""
    from fedchain.deploy.data import load_raw_data  # noqa: PLC0415
    from fedchain.learn.preprocess import FeatureSummary  # noqa: PLC0415
    from fedchain.task import load_task  # noqa: PLC0415

    print_json(FeatureSummary.of(load_raw_data(data, load_task(config))).to_json())


@data_app.command("stats")
@one_line_errors
def data_stats(summaries: Annotated[list[Path], typer.Argument(metavar="SUMMARY.json...",
                                                               help="Every hospital's `fedchain data summary`.")]
               ) -> None:
    """Combine the hospitals' summaries into the statistics a task file's [data] fixes (paste them in)."""
    from fedchain.deploy.data import agreed_statistics_of  # noqa: PLC0415

    features, mean, scale = agreed_statistics_of(summaries)
    console.print(f"features = {json.dumps(list(features))}", highlight=False, soft_wrap=True)
    console.print(f"mean = {json.dumps(list(mean))}", highlight=False, soft_wrap=True)
    console.print(f"scale = {json.dumps(list(scale))}", highlight=False, soft_wrap=True)
