"""Connecting, deploying, transacting and moving time on real chains (py-evm in process, and anvil)."""

from __future__ import annotations

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
    with pytest.raises(TransactionFailedError, match="mint failed in block"):
        dev_chain.send(token.functions.mint(dev_chain.accounts[0].address, 10), kind="mint", gas=30_000)
    assert [record.kind for record in dev_chain.gas_records] == ["deploy DevToken"]
