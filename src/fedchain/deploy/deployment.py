"""Deploying the coordinator (and, on a development chain, a token) and the deployment file every later
command reads: chain id, the coordinator's mode and the contract addresses, written atomically.

    {"schema": "fedchain-deployment/1", "chain_id": 31337, "coordinator": "0x...", "token": "0x...",
     "dev_token": true, "deployer": "0x...", "block": 7,
     "contracts": {"FedCoordinator": "0x...", "Registry": "0x...", "Availability": "0x...",
                   "LeafVerifier": "0x...", "TaskParamsValidator": "0x...", "DevToken": "0x..."}, "mode": "plain"}

One deployment file describes one coordinator: a FedCoordinator for plain tasks (``"mode": "plain"``) or a
SecureCoordinator for secure ones (``"secure"``, with ``SecureCoordinator`` and ``SecureLeafVerifier`` under
``contracts``). Files written before secure deployments existed have no ``mode`` and are plain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from web3 import Web3

from fedchain.chain import ANVIL, EMBEDDED, Chain, ChainError, FeeCaps, connect
from fedchain.chain.coordinator import TOKEN_CONTRACT, CoordinatorClient, Mode, Token
from fedchain.chain.keys import DEFAULT_KEY_ENV
from fedchain.chain.modes import COORDINATORS, MODES, coordinator_client
from fedchain.deploy.errors import DeployError

SCHEMA: Final = "fedchain-deployment/1"
DEFAULT_DEPLOYMENT_FILE: Final = Path("deployment.json")
RPC_ENV: Final = "FEDCHAIN_RPC"
GWEI_DECIMALS: Final = 9


@dataclass(frozen=True)
class Deployment:
    """Where fedchain's contracts live on one chain."""

    chain_id: int
    coordinator: str
    token: str
    dev_token: bool
    deployer: str
    block: int
    contracts: dict[str, str] = field(default_factory=dict)
    mode: Mode = Mode.PLAIN


def deploy(chain: Chain, *, mode: Mode = Mode.PLAIN, token: str | None = None, fund: Sequence[str] = (),
           fund_amount: Decimal = Decimal(0)) -> Deployment:
    """Deploy the coordinator of ``mode`` (a FedCoordinator or a SecureCoordinator), and a DevToken unless
    ``token`` names an existing ERC-20.

    With the DevToken (open mint: development chains and testnets only), ``fund_amount`` whole tokens
    are minted to each address of ``fund``.
    """
    if fund and token is not None:
        raise DeployError("--fund mints DevTokens: it cannot be used with an existing --token")
    for address in fund:
        if not Web3.is_address(address):
            raise DeployError(f"--fund {address!r} is not an address")
    existing = None if token is None else existing_token(chain, token)
    used = existing or Token.deploy_dev(chain)
    units = fund_amount.scaleb(used.decimals())
    if fund and (units != units.to_integral_value() or units <= 0):
        raise DeployError(f"--fund-amount {fund_amount}: must be a positive amount in whole base units")
    coordinator = COORDINATORS[mode].deploy(chain)
    for address in fund:
        used.mint(address, int(units), sender=chain.accounts[0])
    contracts = {**coordinator.deployed_contracts(), TOKEN_CONTRACT if existing is None else "Token": used.address}
    return Deployment(chain_id=chain.chain_id, coordinator=coordinator.address, token=used.address,
                      dev_token=existing is None, deployer=chain.accounts[0].address,
                      block=int(chain.w3.eth.block_number), contracts=contracts, mode=mode)


def parse_mode(option: str, value: str) -> Mode:
    """The mode named ``value`` ("plain" or "secure"), given as ``option`` (named in the error)."""
    if value not in MODES:
        raise DeployError(f"{option} {value!r}: must be one of {', '.join(map(repr, MODES))}")
    return MODES[value]


def existing_token(chain: Chain, address: str, source: str = "--token") -> Token:
    """The ERC-20 at ``address`` (named by ``source`` in errors), checked to have code and answer ``decimals()``."""
    if not Web3.is_address(address):
        raise DeployError(f"{source} {address!r} is not an address")
    checksum = Web3.to_checksum_address(address)
    if not chain.w3.eth.get_code(checksum):
        raise DeployError(f"{source} {checksum}: no contract at this address on chain {chain.chain_id}")
    token = Token(chain, checksum)
    try:
        token.decimals()
    except ChainError:
        raise DeployError(f"{source} {checksum} does not answer decimals(): not an ERC-20") from None
    return token


def write_deployment(path: Path, deployment: Deployment) -> None:
    """The deployment file at ``path``, replaced atomically."""
    # Imported here: fedchain.roles loads torch (docs/architecture.md), which reading a deployment never needs.
    from fedchain.roles.journal import write_atomically  # noqa: PLC0415

    data = {"schema": SCHEMA, **asdict(deployment), "mode": deployment.mode.label}
    try:
        write_atomically(path, json.dumps(data, indent=2).encode() + b"\n")
    except OSError as error:
        raise DeployError(f"cannot write the deployment file {path}: {error}") from None


def read_deployment(path: Path) -> Deployment:
    """Parse a deployment file; every problem names the file."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeployError(f"no deployment file {path}: run `fedchain deploy`, or pass --coordinator") from None
    except (OSError, ValueError) as error:
        raise DeployError(f"{path}: unreadable deployment file: {error}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise DeployError(f"{path}: not a {SCHEMA} deployment file")
    mode = data.get("mode", Mode.PLAIN.label)  # files from before secure deployments are plain
    if mode not in MODES:
        raise DeployError(f"{path}: mode {mode!r} is not one of {', '.join(map(repr, MODES))}")
    try:
        deployment = Deployment(
            chain_id=int(data["chain_id"]), coordinator=str(data["coordinator"]), token=str(data["token"]),
            dev_token=bool(data["dev_token"]), deployer=str(data["deployer"]), block=int(data["block"]),
            contracts={str(name): str(address) for name, address in dict(data.get("contracts", {})).items()},
            mode=MODES[mode])
    except (KeyError, TypeError, ValueError) as error:
        raise DeployError(f"{path}: malformed deployment file ({type(error).__name__}: {error})") from None
    for name in ("coordinator", "token"):
        if not Web3.is_address(getattr(deployment, name)):
            raise DeployError(f"{path}: {name} {getattr(deployment, name)!r} is not an address")
    return deployment


def node_chain(rpc: str | None, *, key_env: str = DEFAULT_KEY_ENV, keystore: Path | None = None,
               read_only: bool = False, fee_caps: FeeCaps | None = None) -> Chain:
    """A running node at URL ``rpc``, with the account from ``key_env`` or ``keystore`` unless ``read_only``."""
    if not rpc:
        raise DeployError(f"no chain given: pass --rpc URL or set {RPC_ENV} (start a local node with "
                          "`fedchain chain up`)")
    if not rpc.startswith(("http://", "https://")):
        # Anything else is not echoed: a mistyped hosted endpoint may carry its API key.
        given = f", not {rpc!r}" if rpc in (EMBEDDED, ANVIL) else ""
        raise DeployError(f"--rpc must be the http(s) URL of a running node{given}: start one with "
                          "`fedchain chain up` (or use a testnet's RPC URL)")
    return connect(rpc, key_env=key_env, keystore=keystore, read_only=read_only, fee_caps=fee_caps)


def fee_caps(max_fee_gwei: str | None, priority_fee_gwei: str | None) -> FeeCaps:
    """The fee limits ``--max-fee-gwei`` and ``--priority-fee-gwei`` give (gwei, decimals allowed)."""
    return FeeCaps(max_fee=_gwei("--max-fee-gwei", max_fee_gwei), priority_fee=_gwei("--priority-fee-gwei",
                                                                                     priority_fee_gwei))


def _gwei(option: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise DeployError(f"{option} {value!r} is not a number of gwei") from None
    wei = amount.scaleb(GWEI_DECIMALS)
    if not amount.is_finite() or amount < 0 or wei != wei.to_integral_value():
        raise DeployError(f"{option} {value!r}: must be a non-negative number of gwei with at most "
                          f"{GWEI_DECIMALS} decimals")
    return int(wei)


def token_of(chain: Chain, *, token: str | None, deployment_file: Path) -> Token:
    """The ERC-20 named by ``token``, else the deployment file's."""
    if token is not None:
        return existing_token(chain, token)
    return existing_token(chain, read_deployment(deployment_file).token, source=f"the token of {deployment_file}")


def coordinator_at(chain: Chain, *, coordinator: str | None, deployment_file: Path) -> CoordinatorClient:
    """The coordinator named by ``coordinator``, else by the deployment file (which must be of this chain), with
    the client of its kind as the chain tells it (a FedCoordinator or a SecureCoordinator). A deployment file
    whose mode is not the contract's is refused."""
    deployment = None
    if coordinator is None:
        deployment = read_deployment(deployment_file)
        if deployment.chain_id != chain.chain_id:
            raise DeployError(f"{deployment_file} is a deployment on chain {deployment.chain_id}, but the node "
                              f"serves chain {chain.chain_id}")
        coordinator = deployment.coordinator
    if not Web3.is_address(coordinator):
        raise DeployError(f"--coordinator {coordinator!r} is not an address")
    address = Web3.to_checksum_address(coordinator)
    if not chain.w3.eth.get_code(address):
        raise DeployError(f"no contract at {address} on chain {chain.chain_id} (is this the right --rpc?)")
    client = coordinator_client(chain, address)
    if client is None:
        raise DeployError(f"the contract at {address} on chain {chain.chain_id} is not a fedchain coordinator "
                          f"(neither {' nor '.join(kind.CONTRACT for kind in COORDINATORS.values())})")
    if deployment is not None and deployment.mode != client.MODE:
        raise DeployError(f"{deployment_file} records a {deployment.mode.label} coordinator at {address}, but the "
                          f"contract there is a {client.CONTRACT} ({client.MODE.label} mode)")
    return client
