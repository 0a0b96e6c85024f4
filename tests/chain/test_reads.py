"""Reads made once per chain state: repeated reads reach the node once, and a read after a transaction or a clock
move never returns the answer of the state before."""

from __future__ import annotations

from fedchain.chain import EMBEDDED, Chain
from fedchain.chain.coordinator import Token
from fedchain.chain.reads import BlockReads, counted_requests


def test_block_reads_keeps_answers_per_scope() -> None:
    reads, made = BlockReads(), []

    def read() -> int:
        made.append(1)
        return len(made)

    assert [reads.read("a", "key", read), reads.read("a", "key", read)] == [1, 1]
    assert reads.read("b", "key", read) == 2, "another scope reads again"
    assert reads.read(None, "key", read) == 3
    assert reads.read(None, "key", read) == 4, "no scope keeps nothing"


def test_embedded_reads_are_made_once_per_block_and_never_stale(embedded_chain: Chain) -> None:
    chain = embedded_chain
    token = Token.deploy_dev(chain)
    holder = chain.accounts[1].address
    transfers = token.contract.events.Transfer()
    with counted_requests(chain.w3) as counts:
        for _ in range(3):
            assert token.balance_of(holder) == 0
            assert chain.query(lambda: transfers.get_logs(from_block=0)) == []
            assert chain.transaction_counts(holder) == (0, 0)
            assert chain.now() == chain.now()
    assert {"eth_call", "eth_getLogs", "eth_getTransactionCount", "eth_getBlockByNumber"} <= set(counts)
    assert set(counts.values()) == {1}, counts

    before = chain.now()
    token.mint(holder, 5, sender=chain.accounts[0])
    assert token.balance_of(holder) == 5
    assert len(chain.query(lambda: transfers.get_logs(from_block=0))) == 1
    assert chain.now() > before
    chain.send(token.contract.functions.transfer(chain.accounts[2].address, 2), kind="transfer",
               sender=chain.accounts[1])
    assert token.balance_of(holder) == 3
    assert chain.transaction_counts(holder) == (1, 1)
    assert chain.advance_time(100) >= before + 100
    assert chain.now() >= before + 100


def test_pinned_reads_are_kept_on_each_dev_chain(dev_chain: Chain) -> None:
    chain = dev_chain
    token = Token.deploy_dev(chain)
    holder = chain.accounts[1].address
    with chain.pinned() as block:
        token.mint(holder, 5, sender=chain.accounts[0])
        with counted_requests(chain.w3) as counts:
            assert token.balance_of(holder) == 0, f"read at block {block}, before the mint"
            assert token.balance_of(holder) == 0
    assert counts["eth_call"] == 1
    with counted_requests(chain.w3) as counts:
        assert token.balance_of(holder) == 5
        assert token.balance_of(holder) == 5
    assert counts["eth_call"] == (1 if chain.backend == EMBEDDED else 2), "an RPC node's latest block moves"


def test_node_chain_reads_its_chain_id_once_and_keeps_only_fixed_reads(anvil_chain: Chain) -> None:
    chain = anvil_chain
    token = Token.deploy_dev(chain)
    holder = chain.accounts[1].address
    with counted_requests(chain.w3) as counts:
        for _ in range(3):
            token.mint(holder, 1, sender=chain.accounts[0])
            assert chain.chain_id == 31337
    assert counts["eth_chainId"] == 0, "read once, when the chain was connected or first asked"
    assert counts["eth_sendRawTransaction"] == 3
    with counted_requests(chain.w3) as counts:
        for _ in range(2):
            assert chain.transaction_counts(holder) == (0, 0)
            assert token.balance_of(holder) == 3
    assert counts["eth_call"] == 2 and counts["eth_getTransactionCount"] == 4, "outside a pin nothing is kept"


def test_a_snapshot_reads_once_and_follows_its_own_transactions(anvil_chain: Chain) -> None:
    chain = anvil_chain
    token = Token.deploy_dev(chain)
    sender, holder = chain.accounts[0], chain.accounts[1].address
    with chain.snapshot() as block, counted_requests(chain.w3) as counts:
        for _ in range(3):
            assert token.balance_of(holder) == 0
            assert chain.transaction_counts(sender.address) == (1, 1)
            assert chain.now() == chain.now()
        assert counts["eth_call"] == 1 and counts["eth_getTransactionCount"] == 2, counts
        token.mint(holder, 5, sender=sender)
        assert chain.read_block > block, "the pin moved to the mint's block"
        assert token.balance_of(holder) == 5, "a step reads its own transaction's effects"
        assert chain.transaction_counts(sender.address) == (2, 2)
        assert chain.advance_time(50) == chain.now()
    with chain.pinned() as fixed:
        token.mint(holder, 1, sender=sender)
        assert chain.read_block == fixed and token.balance_of(holder) == 5, "a plain pin stays where it was"
        assert chain.transaction_counts(sender.address) == (2, 3), "the pending count is read again after a send"
