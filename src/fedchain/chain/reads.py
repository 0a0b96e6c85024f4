"""Reads of one chain state, made once: what a read returns at a fixed chain state never changes, so every agent
that asks again while that state lasts gets the answer already read.

A :class:`BlockReads` keeps the answers of one *scope*, a token that names a chain state, and forgets them all
when it is asked under another. `fedchain.chain.connection.Chain` picks the scope: on the embedded chain the
pending block header of py-evm, which is replaced whenever a block is mined, the clock moves, a snapshot is
reverted or a transaction enters the pending block, so nothing is ever read from a state that has passed; on an
RPC node (anvil or a URL) the block that :meth:`Chain.pinned` holds, and no scope (nothing kept) outside it.

:func:`cached_reads` is the web3 middleware that serves the embedded chain's JSON-RPC reads other than views
(:data:`CACHED_METHODS`: event logs, transaction counts, blocks) from a :class:`BlockReads`;
:func:`node_reads` is its counterpart on a node: the chain id once per connection, and inside a pin the reads that
name a block by number. :func:`counted_requests` counts the requests that reach a node, to measure what the cache
spares.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from functools import partial
from typing import Any, Final, TypeVar

from web3 import Web3
from web3.middleware.base import Web3Middleware
from web3.types import MakeRequestFn, RPCEndpoint, RPCResponse

T = TypeVar("T")

CACHED_METHODS: Final = frozenset({"eth_getLogs", "eth_getTransactionCount", "eth_blockNumber",
                                   "eth_getBlockByNumber", "eth_chainId", "eth_getBalance", "eth_getCode"})
"""The JSON-RPC reads :func:`cached_reads` keeps per scope: each answer is fixed by its parameters and the chain's
state. ``eth_call`` is not among them: views are kept decoded by `Chain.call`, and the other calls (a
transaction's check before it is sent) are never repeated."""


class BlockReads:
    """The answers read in one scope (a chain state), each kept under a key that names the read."""

    def __init__(self) -> None:
        self._scope: object = None
        self._answers: dict[Hashable, Any] = {}

    def read(self, scope: object, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``'s answer, read once per ``scope`` and ``key``; with scope None it is always read. A read that
        raises is not kept. Answers are shared: callers must not change them."""
        if scope is None:
            return read()
        if scope is not self._scope and scope != self._scope:
            self._scope, self._answers = scope, {}
        if key in self._answers:
            answer: T = self._answers[key]
            return answer
        answer = read()
        self._answers[key] = answer
        return answer

    def forget(self) -> None:
        """Drop every answer kept (a transaction was sent: the state they were read in may have passed)."""
        self._scope, self._answers = None, {}


class _CachedReads(Web3Middleware):
    """Serves the JSON-RPC reads in :data:`CACHED_METHODS` from ``reads`` under the scope ``scope()`` names."""

    def __init__(self, w3: Web3, *, reads: BlockReads, scope: Callable[[], object]) -> None:
        super().__init__(w3)
        self._reads = reads
        self._scope = scope

    def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
        """Answer a cached method from the scope's answers, reading it on the first request."""
        def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
            if method not in CACHED_METHODS:
                return make_request(method, params)
            return self._reads.read(self._scope(), (method, repr(params)), lambda: make_request(method, params))
        return middleware


def cached_reads(reads: BlockReads, scope: Callable[[], object]) -> Callable[[Web3], Web3Middleware]:
    """The middleware (for ``w3.middleware_onion``) that keeps the reads of :data:`CACHED_METHODS` in ``reads``."""
    return partial(_CachedReads, reads=reads, scope=scope)


NODE_BLOCK_READS: Final = {"eth_getTransactionCount": 1, "eth_getBalance": 1, "eth_getCode": 1,
                           "eth_getBlockByNumber": 0}
"""The JSON-RPC reads :func:`node_reads` keeps per scope on a node, with the position of their block parameter:
kept only when that names a block by number (fixed), never "latest" or "pending" (which move without notice)."""


def _is_number(block: object) -> bool:
    return isinstance(block, int) or (isinstance(block, str) and block.startswith("0x"))


def node_cacheable(method: str, params: Any) -> bool:
    """Whether the answer of ``method`` with ``params`` on a node is fixed by its parameters: a read at a block named
    by number (an event query whose range is given by numbers, say), or one of this process's own pending
    transaction count (see :func:`node_reads`)."""
    if method == "eth_getLogs":
        query = params[0] if params else None
        return isinstance(query, dict) and "blockHash" not in query and \
            _is_number(query.get("fromBlock")) and _is_number(query.get("toBlock"))
    position = NODE_BLOCK_READS.get(method)
    if position is None or len(params) <= position:
        return False
    block = params[position]
    return _is_number(block) or (method == "eth_getTransactionCount" and block == "pending")


class _NodeReads(Web3Middleware):
    """A node's chain id, read once, and its reads that :func:`node_cacheable` names fixed, kept per scope."""

    def __init__(self, w3: Web3, *, reads: BlockReads, scope: Callable[[], object],
                 held: dict[str, RPCResponse]) -> None:
        super().__init__(w3)
        self._reads = reads
        self._scope = scope
        self._held = held

    def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
        """Answer the chain id and the fixed reads from what was read before."""
        def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
            if method == "eth_chainId":
                answer = self._held.get(method)
                if answer is None or "error" in answer:
                    answer = self._held[method] = make_request(method, params)
                return answer
            if not node_cacheable(method, params):
                return make_request(method, params)
            return self._reads.read(self._scope(), (method, repr(params)), lambda: make_request(method, params))
        return middleware


def node_reads(reads: BlockReads, scope: Callable[[], object]) -> Callable[[Web3], Web3Middleware]:
    """The middleware for a node-backed chain (anvil or a URL). A connection's chain id never changes, so it is read
    once (web3's request validation asks for it before every ``eth_call``, gas estimate and transaction). Under a
    scope (the block `Chain.pinned` holds; none outside a pin: nothing else kept) it keeps the reads whose answer
    the scope fixes (:func:`node_cacheable`): those at a numbered block, and the pending transaction count, which
    only the account's own transactions change: the `Chain` forgets every kept read when it sends one."""
    # web3 builds the layer again whenever the onion changes: what is held for the connection lives outside it.
    return partial(_NodeReads, reads=reads, scope=scope, held={})


class _Counting(Web3Middleware):
    """Counts the JSON-RPC requests that pass it in ``counts``, by method."""

    def __init__(self, w3: Web3, *, counts: Counter[str]) -> None:
        super().__init__(w3)
        self._counts = counts

    def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
        """Count, then pass the request on."""
        def middleware(method: RPCEndpoint, params: Any) -> RPCResponse:
            self._counts[method] += 1
            return make_request(method, params)
        return middleware


@contextlib.contextmanager
def counted_requests(w3: Web3) -> Iterator[Counter[str]]:
    """While inside, count by method the JSON-RPC requests that reach ``w3``'s node (those no cache answered):
    the counter sits innermost in the middleware onion, next to the provider. Counts may nest."""
    counts: Counter[str] = Counter()
    layer = f"fedchain_request_counter_{id(counts)}"
    # web3 builds each layer by calling it with the Web3 handle; its annotation asks for a class.
    w3.middleware_onion.inject(partial(_Counting, counts=counts), name=layer, layer=0)  # type: ignore[arg-type]
    try:
        yield counts
    finally:
        w3.middleware_onion.remove(layer)
