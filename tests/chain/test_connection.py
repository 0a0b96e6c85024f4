"""Connecting, deploying, transacting and moving time on real chains (py-evm in process, and anvil)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fedchain.chain import (
    ANVIL,
    Chain,
    ChainConnectionError,
    ContractRevertError,
    DevChainOnlyError,
    TransactionFailedError,
    connect,
)
from fedchain.chain.clock import BLOCK_SECONDS
from fedchain.chain.connection import EMBEDDED_TX_GAS_LIMIT


def test_deploy_and_call_on_each_dev_chain(dev_chain: Chain) -> None:
    token = dev_chain.deploy("DevToken", "Fed", "FED")
    holder = dev_chain.accounts[1]
    dev_chain.send(token.functions.mint(holder.address, 5 * 10**18), kind="mint", sender=holder)
    assert dev_chain.call(token.functions.balanceOf(holder.address)) == 5 * 10**18
    assert dev_chain.call(token.functions.symbol()) == "FED"


def test_gas_is_recorded_per_transaction(dev_chain: Chain) -> None:
    token = dev_chain.deploy("DevToken", "Fed", "FED")
    dev_chain.send(token.functions.mint(dev_chain.accounts[0].address, 1), kind="mint")
    kinds = [record.kind for record in dev_chain.gas_records]
    assert kinds == ["deploy DevToken", "mint"]
    assert all(record.gas_used > 21_000 for record in dev_chain.gas_records)
    assert dev_chain.gas_records[1].sender == dev_chain.accounts[0].address


def test_advance_time_moves_the_clock_exactly(dev_chain: Chain) -> None:
    before = dev_chain.now()
    after = dev_chain.advance_time(7 * 24 * 3600)
    assert after - before == 7 * 24 * 3600
    assert dev_chain.now() == after
    assert dev_chain.advance_to(after - 100) == after  # never backwards


def test_custom_errors_are_decoded_before_sending(dev_chain: Chain) -> None:
    token = dev_chain.deploy("DevToken", "Fed", "FED")
    nonce_before = dev_chain.w3.eth.get_transaction_count(dev_chain.accounts[0].address)
    with pytest.raises(ContractRevertError) as caught:
        dev_chain.send(token.functions.mint(dev_chain.accounts[0].address, 10**31), kind="mint")
    assert caught.value.error.name == "MintTooLarge"
    assert caught.value.error.args == (10**31, 10**30)
    assert "mint reverted: MintTooLarge(requested=" in str(caught.value)
    assert dev_chain.w3.eth.get_transaction_count(dev_chain.accounts[0].address) == nonce_before
    # The nonce was not consumed: the next transaction goes through.
    dev_chain.send(token.functions.mint(dev_chain.accounts[0].address, 1), kind="mint")


def test_library_errors_from_openzeppelin_are_decoded(embedded_chain: Chain) -> None:
    token = embedded_chain.deploy("DevToken", "Fed", "FED")
    poor = embedded_chain.accounts[2]
    with pytest.raises(ContractRevertError) as caught:
        embedded_chain.send(token.functions.transfer(embedded_chain.accounts[3].address, 1), kind="transfer",
                            sender=poor)
    assert caught.value.error.name == "ERC20InsufficientBalance"


def test_rpc_url_with_a_key_from_the_environment(anvil_chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    assert anvil_chain.url is not None
    monkeypatch.setenv("TEST_OPERATOR_KEY", anvil_chain.accounts[4].key.hex())
    with connect(anvil_chain.url, key_env="TEST_OPERATOR_KEY") as remote:
        assert remote.backend == "rpc"
        assert [account.address for account in remote.accounts] == [anvil_chain.accounts[4].address]
        token = remote.deploy("DevToken", "Fed", "FED")
        assert remote.call(token.functions.name()) == "Fed"
        with pytest.raises(DevChainOnlyError):
            remote.advance_time(10)


def test_unreachable_rpc_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDCHAIN_PRIVATE_KEY", "11" * 32)
    with pytest.raises(ChainConnectionError, match=r"no JSON-RPC node answers at http://127\.0\.0\.1:9"):
        connect("http://127.0.0.1:9")


def test_unknown_target_is_rejected() -> None:
    with pytest.raises(ChainConnectionError, match="unknown chain target 'mainnet'"):
        connect("mainnet")


def test_anvil_node_stops_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), connect(ANVIL) as chain:
        node = chain._anvil
        assert node is not None and node.running
        raise RuntimeError("boom")
    assert not node.running


def test_a_mined_revert_is_decoded_from_a_replay(dev_chain: Chain) -> None:
    token = dev_chain.deploy("DevToken", "Fed", "FED")
    with pytest.raises(ContractRevertError, match="MintTooLarge"):
        # An explicit gas limit skips estimation, so the transaction is mined and fails on chain.
        dev_chain.send(token.functions.mint(dev_chain.accounts[0].address, 10**31), kind="mint", gas=200_000)


def test_out_of_gas_is_a_failed_transaction(dev_chain: Chain) -> None:
    token = dev_chain.deploy("DevToken", "Fed", "FED")
    with pytest.raises(TransactionFailedError, match=r"mint failed in block \d+ \(gas used 30000 of 30000\): it ran"):
        dev_chain.send(token.functions.mint(dev_chain.accounts[0].address, 10), kind="mint", gas=30_000)
    assert [record.kind for record in dev_chain.gas_records] == ["deploy DevToken"]


def test_embedded_transactions_get_one_limit_and_no_gas_search(embedded_chain: Chain,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_search(*args: object, **kwargs: object) -> int:
        raise AssertionError("the embedded chain estimated gas")

    assert embedded_chain._tester is not None
    monkeypatch.setattr(embedded_chain._tester.backend, "estimate_gas", no_search)
    token = embedded_chain.deploy("DevToken", "Fed", "FED")
    receipt = embedded_chain.send(token.functions.mint(embedded_chain.accounts[0].address, 1), kind="mint")
    assert embedded_chain.w3.eth.get_transaction(receipt["transactionHash"])["gas"] == EMBEDDED_TX_GAS_LIMIT
    assert embedded_chain.gas_records[-1].gas_used == receipt["gasUsed"] < EMBEDDED_TX_GAS_LIMIT
    with pytest.raises(ContractRevertError, match="MintTooLarge"):  # checked by one eth_call, never sent
        embedded_chain.send(token.functions.mint(embedded_chain.accounts[0].address, 10**31), kind="mint")
    assert embedded_chain.w3.eth.get_transaction_count(embedded_chain.accounts[0].address) == 2


def test_a_chain_wide_limit_too_low_is_a_clear_error_not_a_lost_transaction(embedded_chain: Chain) -> None:
    token = embedded_chain.deploy("DevToken", "Fed", "FED")
    embedded_chain.gas_limit = 30_000
    with pytest.raises(TransactionFailedError, match=r"mint failed in block \d+ .*: it ran out of gas"):
        embedded_chain.send(token.functions.mint(embedded_chain.accounts[0].address, 10), kind="mint")
    assert [record.kind for record in embedded_chain.gas_records] == ["deploy DevToken"]


def test_embedded_blocks_follow_the_chain_clock_not_the_machines(embedded_chain: Chain,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    machine = [int(time.time())]
    monkeypatch.setattr("eth._utils.headers.eth_now", lambda: machine[0])  # py-evm's clock for each new block
    token = embedded_chain.deploy("DevToken", "Fed", "FED")
    start = embedded_chain.now()
    for _ in range(3):
        machine[0] += 3600  # a slow machine: an hour between transactions
        embedded_chain.send(token.functions.mint(embedded_chain.accounts[0].address, 1), kind="mint")
    assert embedded_chain.now() == start + 3 * BLOCK_SECONDS
    assert embedded_chain.advance_time(100) == start + 3 * BLOCK_SECONDS + 100
    embedded_chain.send(token.functions.mint(embedded_chain.accounts[0].address, 1), kind="mint")
    assert embedded_chain.now() == start + 4 * BLOCK_SECONDS + 100


def test_pinned_reads_see_one_block_however_the_chain_moves(dev_chain: Chain) -> None:
    token = dev_chain.deploy("DevToken", "Fed", "FED")
    holder = dev_chain.accounts[1].address
    with dev_chain.pinned() as block:
        dev_chain.send(token.functions.mint(holder, 7), kind="mint")
        assert dev_chain.call(token.functions.balanceOf(holder)) == 0, "the mint came after the pinned block"
        assert dev_chain.now() == dev_chain.w3.eth.get_block(block)["timestamp"]
        assert not list(token.events.Transfer().get_logs(from_block=0, to_block=dev_chain.read_block))
    assert dev_chain.call(token.functions.balanceOf(holder)) == 7
    with dev_chain.pinned(block + 1):
        assert dev_chain.call(token.functions.balanceOf(holder)) == 7


class _FlakyNode(BaseHTTPRequestHandler):
    """Answers eth_chainId once, then HTTP 503 to everything: a hosted endpoint that starts failing."""

    answered = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if _FlakyNode.answered == 0:
            _FlakyNode.answered += 1
            body = json.dumps({"jsonrpc": "2.0", "id": 0, "result": "0x7a69"}).encode()
            self.send_response(200)
        else:
            body = b"Service Unavailable"
            self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def test_http_errors_are_retried_then_reported_without_the_urls_secret_parts() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyNode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v3/secret-api-key"
        chain = connect(url, read_only=True)
        with pytest.raises(ChainConnectionError) as caught:
            chain.now()
    finally:
        server.shutdown()
        server.server_close()
    message = str(caught.value)
    assert "stopped answering (HTTPError, HTTP 503)" in message and "/..." in message
    assert "secret-api-key" not in message
