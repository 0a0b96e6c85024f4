"""One way to reach a chain: `connect()` returns a `Chain` with a web3 handle and usable accounts.

Targets:
- ``"embedded"`` (default): eth-tester + py-evm inside this process; nothing to install or start.
- ``"anvil"``: a local anvil node on a free loopback port, stopped again on close, Ctrl-C or error.
- any ``http://`` or ``https://`` JSON-RPC URL, signing with a key from the environment or a keystore.

`Chain` also sends transactions (nonce tracking, gas limits, a revert check before sending, receipts, retries
on transient RPC failures, reverts decoded into `ContractRevertError`), deploys the shipped artifacts, records
the gas of every transaction, and moves the clock of development chains so deadlines never need real sleeping
(the embedded chain's clock moves only then, see `fedchain.chain.clock`).

Gas limits: on the embedded chain every transaction gets :data:`EMBEDDED_TX_GAS_LIMIT` after one ``eth_call``
has checked it. On an RPC node (anvil or a URL) each is estimated: ``eth_estimateGas`` is one request, as that
``eth_call`` would be, the node searches fast, and on a real chain a transaction that runs out of gas costs
fees, while a generous limit must be covered by the balance.

Reads are made once per chain state (`fedchain.chain.reads`): on the embedded chain every view, event query,
transaction count and block read is kept until the state changes (a block is mined, the clock moves), so the
agents a simulation steps between two transactions share one read of each. :meth:`Chain.send` returns once its
block is mined, and a mined block is a new state, so no read after a transaction is answered from before it. On
an RPC node knowing the latest block would itself cost a request per read, and others mine at any time, so only
what :meth:`Chain.pinned` fixes is kept, inside a pin: views, :meth:`Chain.now`, event queries, transaction counts
and blocks at the pinned block, and the account's pending transaction count (each transaction sent forgets them
all, and moves the pin of :meth:`Chain.snapshot`, an agent step's, to its block). The chain id is read once per
connection, and HTTP goes over one persistent session that reads the environment's proxy settings once
(:func:`http_provider`).
"""

from __future__ import annotations

import ast
import contextlib
import ipaddress
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from eth_tester.exceptions import TransactionFailed as TesterTransactionFailed
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    Web3RPCError,
)
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import BlockIdentifier, Nonce, TxParams, TxReceipt, Wei

from fedchain.chain.anvil import DEV_MNEMONIC, AnvilNode
from fedchain.chain.artifacts import error_decoder, load_artifact
from fedchain.chain.clock import SimulatedClockBackend
from fedchain.chain.errors import (
    ChainConnectionError,
    ChainError,
    ContractRevertError,
    DecodedError,
    DevChainOnlyError,
    TransactionFailedError,
)
from fedchain.chain.keys import DEFAULT_KEY_ENV, account_from_env, account_from_keystore
from fedchain.chain.log_index import IndexedEthereumTester
from fedchain.chain.reads import BlockReads, cached_reads, node_reads

EMBEDDED = "embedded"
ANVIL = "anvil"
RPC = "rpc"
DEFAULT_DEV_ACCOUNTS = 10
EMBEDDED_BLOCK_GAS_LIMIT = 60_000_000
EMBEDDED_TX_GAS_LIMIT = 2**24
"""The gas limit of every transaction on the embedded chain: EIP-7825's cap on any transaction (Osaka rules), so
that what runs here fits a current chain. No gas search: py-evm's estimate is a binary search that runs the
transaction over and over, it stamps the block it estimates in with the machine's clock (so deadlines would follow
the machine), and on this chain unused gas costs nothing and execution does not depend on the limit."""
RECEIPT_TIMEOUT_S = 120.0
TRANSIENT_RETRIES = 4

T = TypeVar("T")


@dataclass(frozen=True)
class GasRecord:
    """The gas one mined transaction used, labelled with what it was for."""

    kind: str
    sender: str
    gas_used: int
    tx_hash: str
    block: int


@dataclass(frozen=True)
class FeeCaps:
    """EIP-1559 fee limits for every transaction a `Chain` sends, in wei per gas (None: the node's suggestion).

    On a public chain or an L2 they bound what a transaction may cost: ``max_fee`` is the most paid per gas
    (base fee included), ``priority_fee`` the tip to the block producer. A transaction that the current base
    fee prices out waits in the pool until the fee falls (an agent does nothing else meanwhile).
    """

    max_fee: int | None = None
    priority_fee: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_fee", "priority_fee"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ChainError(f"{name.replace('_', ' ')} must be >= 0 wei, got {value}")
        if self.max_fee is not None and self.priority_fee is not None and self.priority_fee > self.max_fee:
            raise ChainError(f"the priority fee ({self.priority_fee} wei) exceeds the max fee ({self.max_fee} wei)")


@dataclass
class Chain:
    """A connected chain: web3 handle, signing accounts and transaction plumbing."""

    w3: Web3
    backend: str
    accounts: list[LocalAccount]
    gas_records: list[GasRecord] = field(default_factory=list)
    fee_caps: FeeCaps = field(default_factory=FeeCaps)
    gas_limit: int | None = None
    """The gas limit of every transaction sent without one (the embedded chain's); None: each is estimated."""
    _tester: EthereumTester | None = None
    _anvil: AnvilNode | None = None
    _nonces: dict[str, int] = field(default_factory=dict)
    _read_block: BlockIdentifier = "latest"
    _reads: BlockReads = field(default_factory=BlockReads)
    _chain_id: int | None = None
    _following: bool = False

    def __post_init__(self) -> None:
        # The outermost layer: web3 builds it by calling it with the Web3 handle (its annotation asks for a
        # class), and it keeps answers the inner layers have finished (attrdict converts them in place).
        layer = cached_reads if self._tester is not None else node_reads
        self.w3.middleware_onion.add(layer(self._reads, self._read_scope))  # type: ignore[arg-type]

    # -- lifecycle -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the chain; stops an anvil node this connection started."""
        if self._anvil is not None:
            self._anvil.stop()

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @property
    def url(self) -> str | None:
        """The JSON-RPC URL other processes can use, or None for an in-process chain."""
        if self._anvil is not None:
            return self._anvil.url
        endpoint = getattr(self.w3.provider, "endpoint_uri", None)
        return str(endpoint) if endpoint else None

    @property
    def chain_id(self) -> int:
        """The chain id (read once: a connection's chain never changes it)."""
        if self._chain_id is None:
            self._chain_id = int(self._rpc(lambda: self.w3.eth.chain_id))
        return self._chain_id

    # -- time ----------------------------------------------------------------------------------------

    def now(self) -> int:
        """The timestamp of the latest block (of the pinned block, see :meth:`pinned`): the chain's 'now'."""
        return self._reads.read(self._read_scope(), ("now", self._read_block),
                                lambda: int(self._rpc(lambda: self.w3.eth.get_block(self._read_block)["timestamp"])))

    @property
    def read_block(self) -> BlockIdentifier:
        """The block that views, event queries and :meth:`now` read: "latest", or the one :meth:`pinned` holds."""
        return self._read_block

    @contextlib.contextmanager
    def pinned(self, block: int | None = None) -> Iterator[int]:
        """Read at one block while inside: views (:meth:`call`), event queries that end at :attr:`read_block`
        and :meth:`now` all see block ``block`` (default: the latest on entry), whose number is yielded. What
        is read together is then consistent, however fast the chain moves. Transactions are unaffected."""
        number = int(self._rpc(lambda: self.w3.eth.block_number)) if block is None else block
        previous, following = self._read_block, self._following
        self._read_block, self._following = number, False
        try:
            yield number
        finally:
            self._read_block, self._following = previous, following

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[int]:
        """The reads of one agent step: pinned (:meth:`pinned`) to the latest block on entry, learnt with one
        request, and moved to the block of each transaction this chain sends inside (and to the new block of each
        clock move), so the step reads its own actions' effects and never a state older than its entry. What a
        step reads twice, or what agents stepped one after another between two transactions read alike, reaches
        the node once (`fedchain.chain.reads.node_reads`); others' transactions are seen from the next step on."""
        with self.pinned() as number:
            self._following = True
            yield number

    def query(self, thunk: Callable[[], T]) -> T:
        """Run a read that does not go through :meth:`call` (an event query, say) with the same retries."""
        return self._rpc(thunk)

    def advance_time(self, seconds: int) -> int:
        """Move a development chain's clock forward by `seconds` and mine a block; return the new time."""
        if seconds < 0:
            raise ValueError(f"cannot move the chain clock backwards ({seconds} s)")
        if seconds == 0:
            return self.now()
        if self._tester is not None:
            # py-evm mines the travelling block one second before the requested time.
            self._tester.time_travel(self.now() + seconds + 1)
        elif self.backend == ANVIL:
            target = self.now() + seconds
            self.w3.provider.make_request("evm_setNextBlockTimestamp", [target])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            if self._following:
                self._read_block = int(self._rpc(lambda: self.w3.eth.block_number))
        else:
            raise DevChainOnlyError("only the embedded chain and anvil can move their clock; "
                                    "a real chain's deadlines pass in real time")
        return self.now()

    def advance_to(self, timestamp: int) -> int:
        """Move a development chain's clock to at least `timestamp` (no-op if already past)."""
        return self.advance_time(max(0, timestamp - self.now()))

    # -- contracts -----------------------------------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        """A handle on a deployed contract whose artifact ships with fedchain."""
        artifact = load_artifact(name)
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)

    def deploy(self, name: str, *args: Any, sender: LocalAccount | None = None) -> Contract:
        """Deploy the shipped artifact `name` with constructor `args`; returns the bound contract."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.send(factory.constructor(*args), kind=f"deploy {name}", sender=sender)
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionFailedError(f"deploying {name} produced no contract address")
        return self.contract(name, address)

    def call(self, function: ContractFunction, *, sender: str | None = None) -> Any:
        """Run a view (or simulate a transaction) and return its result; reverts are decoded."""
        # An explicit sender spares eth-tester from listing every account to guess one, on each call.
        caller = sender or (self.accounts[0].address if self.accounts else None)
        params: TxParams = {"from": Web3.to_checksum_address(caller)} if caller else {}
        key = ("call", function.address, repr(function), repr(function.args), repr(function.kwargs), caller,
               self._read_block)
        return self._reads.read(self._read_scope(), key, lambda: self._decoded(
            f"{function.fn_name}", lambda: self._rpc(lambda: function.call(params, block_identifier=self._read_block))))

    # -- transactions --------------------------------------------------------------------------------

    def send(self, call: ContractFunction | ContractConstructor, *, kind: str,
             sender: LocalAccount | None = None, value: int = 0, gas: int | None = None) -> TxReceipt:
        """Sign, send and wait for one transaction; record its gas under `kind` and return the receipt.

        The gas limit is ``gas`` if given; nothing is checked first then, so a transaction that reverts is mined
        and fails. Otherwise a transaction that would revert raises `ContractRevertError` naming the Solidity
        error before anything is sent: with a chain-wide :attr:`gas_limit` (the embedded chain) one ``eth_call``
        on the next block checks it, else the node's gas estimate does. A mined transaction that failed raises
        (`ContractRevertError` if a replay names a reason, else `TransactionFailedError`, which says whether it
        ran out of gas) and is not recorded. Transient RPC failures are retried; the signed transaction is
        idempotent, so a retry can never double-submit.
        """
        account = sender or self.accounts[0]
        address = account.address
        nonce = self._next_nonce(address)
        params: TxParams = {"from": address, "nonce": Nonce(nonce), "value": Wei(value), "chainId": self.chain_id}
        limit = self.gas_limit if gas is None else gas
        if limit is not None:
            params["gas"] = limit
        if self.fee_caps.max_fee is not None:
            params["maxFeePerGas"] = Wei(self.fee_caps.max_fee)
        if self.fee_caps.priority_fee is not None:
            params["maxPriorityFeePerGas"] = Wei(self.fee_caps.priority_fee)
        tx = self._decoded(kind, lambda: self._rpc(lambda: call.build_transaction(params)))
        if gas is None and limit is not None:
            self._decoded(kind, lambda: self._rpc(lambda: self.w3.eth.call(_replay(tx), "pending")))
        signed = account.sign_transaction(tx)  # type: ignore[arg-type]
        tx_hash = self._rpc(lambda: self._send_raw(signed.raw_transaction, signed.hash))
        self._nonces[address] = nonce + 1
        receipt = self.wait_for_receipt(tx_hash)
        # Kept reads (the pending transaction count above, say) are of the state before: read them again.
        self._reads.forget()
        if self._following and isinstance(self._read_block, int):
            self._read_block = max(self._read_block, int(receipt["blockNumber"]))
        if receipt["status"] != 1:
            self._raise_failure(kind, tx, receipt)
        self.gas_records.append(GasRecord(kind=kind, sender=address, gas_used=int(receipt["gasUsed"]),
                                          tx_hash=tx_hash.to_0x_hex(), block=int(receipt["blockNumber"])))
        return receipt

    def wait_for_receipt(self, tx_hash: HexBytes, timeout: float = RECEIPT_TIMEOUT_S) -> TxReceipt:
        """Wait until `tx_hash` is mined and return its receipt."""
        try:
            return self._rpc(lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout))
        except TimeExhausted:
            raise ChainError(f"transaction {tx_hash.to_0x_hex()} was not mined within {timeout:.0f} s") from None

    def transaction_counts(self, address: str) -> tuple[int, int]:
        """``(mined, sent)``: the transactions of ``address`` in the latest block's state (the pinned block's, see
        :meth:`pinned`), and those the node knows of including its pending pool. ``sent > mined`` means some are
        still waiting to be mined. An embedded chain that mines each transaction as it arrives has no pending pool:
        one request then."""
        account = Web3.to_checksum_address(address)
        mined = int(self._rpc(lambda: self.w3.eth.get_transaction_count(account, self._read_block)))
        if self._tester is not None and self._tester.auto_mine_transactions:
            return mined, mined
        sent = int(self._rpc(lambda: self.w3.eth.get_transaction_count(account, "pending")))
        return mined, sent

    def _read_scope(self) -> object:
        """The chain state reads are kept for (see `fedchain.chain.reads`), or None: keep nothing. On the embedded
        chain, py-evm's pending block header, replaced by every change of state (a block mined, a transaction
        added to the pending block, the clock moved, a snapshot reverted); elsewhere the block that
        :meth:`pinned` holds (`fedchain.chain.reads.node_reads` keeps only the reads that block fixes)."""
        if self._tester is not None:
            return self._tester.backend.chain.header
        return self._read_block if isinstance(self._read_block, int) else None

    def _send_raw(self, raw: bytes, tx_hash: HexBytes) -> HexBytes:
        try:
            return HexBytes(self.w3.eth.send_raw_transaction(raw))
        except Web3RPCError as error:
            # A retry of a transaction that already reached the node: it is known, not lost.
            if "already known" in str(error).lower() or "already imported" in str(error).lower():
                return tx_hash
            raise

    def _next_nonce(self, address: str) -> int:
        on_chain = int(self._rpc(lambda: self.w3.eth.get_transaction_count(address, "pending")))  # type: ignore[arg-type]
        return max(on_chain, self._nonces.get(address, 0))

    def _raise_failure(self, kind: str, tx: TxParams, receipt: TxReceipt) -> None:
        self._decoded(kind, lambda: self.w3.eth.call(_replay(tx), receipt["blockNumber"] - 1))
        used, limit = receipt["gasUsed"], tx.get("gas")
        reason = "it ran out of gas" if used == limit else "without a reason"
        raise TransactionFailedError(f"{kind} failed in block {receipt['blockNumber']} (gas used {used} of {limit}): "
                                     f"{reason}")

    def _decoded(self, action: str, thunk: Callable[[], T]) -> T:
        try:
            return thunk()
        except (ContractCustomError, ContractLogicError, ContractPanicError) as error:
            raise ContractRevertError(action, _decode_web3_error(error)) from None
        except TesterTransactionFailed as error:
            raise ContractRevertError(action, _decode_tester_error(error)) from None

    def _rpc(self, thunk: Callable[[], T]) -> T:
        """Run one RPC interaction, retrying transport failures and HTTP errors (a node restarting, a hosted
        endpoint's rate limit) with backoff. The error names the failure, never the URL's secret parts:
        requests' own messages quote the whole URL, so they are not passed on."""
        delay = 0.25
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                return thunk()
            except requests.RequestException as error:
                if attempt == TRANSIENT_RETRIES:
                    raise ChainConnectionError(f"the chain at {shown_url(self.url or '')} stopped answering "
                                               f"({_describe_http_failure(error)})") from None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def _replay(tx: TxParams) -> TxParams:
    """What an ``eth_call`` needs to run ``tx`` again: sender, recipient (none for a deployment), data, value."""
    replay: TxParams = {"from": tx["from"], "data": tx["data"], "value": tx.get("value", Wei(0))}
    if "to" in tx:
        replay["to"] = tx["to"]
    return replay


def _describe_http_failure(error: requests.RequestException) -> str:
    """The failure's kind and HTTP status, without the request's URL."""
    status = error.response.status_code if error.response is not None else None
    return type(error).__name__ + (f", HTTP {status}" if status is not None else "")


def _decode_web3_error(error: ContractCustomError | ContractLogicError | ContractPanicError) -> DecodedError:
    data = error.data
    if isinstance(data, str) and data.startswith("0x"):
        return error_decoder().decode(bytes.fromhex(data[2:]))
    if isinstance(data, bytes | bytearray):
        return error_decoder().decode(bytes(data))
    message = str(error.message or error).removeprefix("execution reverted: ").removeprefix("execution reverted")
    return DecodedError("Error", (message.strip() or "reverted without a reason",))


def _decode_tester_error(error: BaseException) -> DecodedError:
    """eth-tester wraps the raw revert bytes in exceptions, sometimes only as their repr; recover them."""
    current: BaseException | None = error
    while current is not None:
        if current.args and isinstance(current.args[0], bytes):
            return error_decoder().decode(current.args[0])
        current = current.__cause__ or current.__context__
    text = str(error).removeprefix("execution reverted: ")
    if text.startswith(("b'", 'b"')):
        with contextlib.suppress(ValueError, SyntaxError):
            raw = ast.literal_eval(text)
            if isinstance(raw, bytes):
                return error_decoder().decode(raw)
    return DecodedError("Error", (text,))


def connect(target: str = EMBEDDED, *, key_env: str = DEFAULT_KEY_ENV, keystore: Path | None = None,
            dev_accounts: int = DEFAULT_DEV_ACCOUNTS, read_only: bool = False,
            fee_caps: FeeCaps | None = None) -> Chain:
    """Connect to `target` ("embedded", "anvil" or a JSON-RPC URL) and return a ready `Chain`.

    Development chains come with `dev_accounts` funded accounts. A URL gets one account: from the
    keystore file if given (password from $FEDCHAIN_KEYSTORE_PASSWORD), else from `key_env`; with
    `read_only` it gets none and needs no key (views and events only). ``fee_caps`` bound the fees of
    every transaction sent through the URL.
    """
    if target == EMBEDDED:
        return _connect_embedded(dev_accounts)
    if target == ANVIL:
        node = AnvilNode(accounts=dev_accounts)
        try:
            w3 = Web3(http_provider(node.url))
            return Chain(w3=w3, backend=ANVIL, accounts=dev_keys(dev_accounts), _anvil=node)
        except BaseException:
            node.stop()
            raise
    if target.startswith(("http://", "https://")):
        accounts = [] if read_only else [account_from_keystore(keystore) if keystore else account_from_env(key_env)]
        w3 = Web3(http_provider(target))
        try:
            w3.eth.chain_id  # noqa: B018 - a probe: fail here, clearly, if nothing answers
        except (requests.RequestException, OSError, ValueError) as error:
            reason = _describe_http_failure(error) if isinstance(error, requests.RequestException) else \
                type(error).__name__
            raise ChainConnectionError(f"no JSON-RPC node answers at {shown_url(target)} ({reason})") from None
        return Chain(w3=w3, backend=RPC, accounts=accounts, fee_caps=fee_caps or FeeCaps())
    raise ChainConnectionError(f"unknown chain target {target!r}: use 'embedded', 'anvil' or an http(s) URL")


def http_provider(url: str) -> HTTPProvider:
    """web3's HTTP provider for ``url`` over one persistent session (keep-alive) that reads the environment once.

    requests looks up proxies, ``NO_PROXY`` and a CA bundle in the environment on every request when a session
    trusts it (9% of a simulation's Python side on anvil, issue #17). Here it is read once: a loopback URL (anvil)
    gets no proxy, another URL the proxies the environment names for it (``NO_PROXY`` honoured) and
    ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` if set, as requests would have used."""
    session = requests.Session()
    session.trust_env = False
    host = urlsplit(url).hostname or ""
    if not _is_loopback(host):
        session.proxies.update(requests.utils.get_environ_proxies(url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    return HTTPProvider(url, request_kwargs={"timeout": 30}, session=session)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_url(url: str) -> str:
    """``url`` fit for output: scheme, host and port only. Hosted RPC endpoints often carry an API key in the
    path, query or user part, and that is a secret."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "(unparseable URL)"
    port = f":{parts.port}" if parts.port else ""
    hidden = "/..." if parts.path.strip("/") or parts.query or parts.username else ""
    return f"{parts.scheme}://{parts.hostname}{port}{hidden}"


def dev_keys(count: int) -> list[LocalAccount]:
    """The well-known development accounts of anvil's default mnemonic (never use them for value)."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}") for index in range(count)]


def _connect_embedded(count: int) -> Chain:
    accounts = dev_keys(count)
    genesis = SimulatedClockBackend.generate_genesis_state(num_accounts=0)
    balance = 10**24
    for account in accounts:
        genesis[HexBytes(account.address)] = {"balance": balance, "nonce": 0, "code": b"", "storage": {}}
    params = SimulatedClockBackend.generate_genesis_params(overrides={"gas_limit": EMBEDDED_BLOCK_GAS_LIMIT})
    tester = IndexedEthereumTester(SimulatedClockBackend(genesis_parameters=params, genesis_state=genesis))
    w3 = Web3(EthereumTesterProvider(tester))
    return Chain(w3=w3, backend=EMBEDDED, accounts=accounts, gas_limit=EMBEDDED_TX_GAS_LIMIT, _tester=tester)
