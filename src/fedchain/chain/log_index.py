"""An eth-tester whose log queries read an in-memory index instead of re-reading every receipt.

eth-tester answers ``eth_getLogs`` by fetching the receipt of every transaction in the block range, and
py-evm finds each receipt by walking the chain backwards from its head, so one query from block 0 costs
(blocks x transactions) and a simulation that queries events every step slows down quadratically with
its length. :class:`IndexedEthereumTester` reads each mined block's receipts once (from the block itself, not
by transaction hash, which would walk the chain again), keeps their log entries, and filters those with
eth-tester's own filter rules, so the answers are the same. Entries are also kept by emitting contract and
first topic (the event), so a query for one event of one contract, the usual one, looks only at that event's
entries: a federation of a thousand members emits thousands of events that most queries never need to see.

The index is rebuilt from scratch if the chain's history no longer contains the last indexed block (after
``revert_to_snapshot``), so it never serves logs of blocks that were undone.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from eth_tester import EthereumTester
from eth_tester.backends.pyevm.serializers import serialize_transaction_receipt
from eth_tester.utils.filters import Filter, check_if_log_matches


class IndexedEthereumTester(EthereumTester):  # type: ignore[misc]  # eth-tester is untyped
    """:class:`eth_tester.EthereumTester` with ``get_logs`` served from an incremental index."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._indexed_logs: list[dict[str, Any]] = []
        self._by_event: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
        self._indexed_hashes: list[Any] = []

    def get_logs(self, from_block: Any = None, to_block: Any = None, address: Any = None,
                 topics: Any = None) -> tuple[Any, ...]:
        """The log entries matching the filter, oldest first (eth-tester's semantics)."""
        self.validator.validate_inbound_filter_params(from_block=from_block, to_block=to_block, address=address,
                                                      topics=topics)
        raw_from, raw_to, raw_address, raw_topics = self.normalizer.normalize_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics)
        params = {"from_block": raw_from, "to_block": raw_to, "addresses": raw_address, "topics": raw_topics}
        log_filter = Filter(filter_params=params, filter_fn=partial(check_if_log_matches, **params))
        lower = raw_from if isinstance(raw_from, int) else self._block_number(raw_from or "latest")
        upper = raw_to if isinstance(raw_to, int) else self._block_number(raw_to or "latest")
        self._index_through(self._block_number("latest"))
        for entry in self._candidates(raw_address, raw_topics):
            if lower <= entry["block_number"] <= upper:
                log_filter.add(entry)
        return tuple(self.normalizer.normalize_outbound_log_entry(item) for item in log_filter.get_all())

    def _block_number(self, tag: Any) -> int:
        return int(self.get_block_by_number(tag)["number"])

    def _candidates(self, address: Any, topics: Any) -> list[dict[str, Any]]:
        """The entries a filter can match, in chain order: those of its event when it names one contract and one
        first topic, else every entry (the filter then decides)."""
        first = topics[0] if topics else None
        if isinstance(address, bytes) and isinstance(first, bytes):
            return self._by_event.get((address, first), [])
        return self._indexed_logs

    def _index_through(self, latest: int) -> None:
        chain = self.backend.chain
        indexed = len(self._indexed_hashes)
        if indexed and (indexed - 1 > latest
                        or chain.get_canonical_block_hash(indexed - 1) != self._indexed_hashes[-1]):
            self._indexed_logs.clear()
            self._by_event.clear()
            self._indexed_hashes.clear()
        for number in range(len(self._indexed_hashes), latest + 1):
            block = chain.get_canonical_block_by_number(number)
            receipts = block.get_receipts(chain.chaindb)
            for index, transaction in enumerate(block.transactions):
                # what eth-tester's get_transaction_receipt returns, without searching the chain for the transaction
                raw = serialize_transaction_receipt(block, receipts, transaction, index, False, chain.get_vm())
                self.validator.validate_outbound_receipt(raw)
                for log in self.normalizer.normalize_outbound_receipt(raw)["logs"]:
                    entry = self.normalizer.normalize_inbound_log_entry(log)
                    self._indexed_logs.append(entry)
                    if entry["topics"]:
                        self._by_event.setdefault((entry["address"], entry["topics"][0]), []).append(entry)
            self._indexed_hashes.append(block.hash)
