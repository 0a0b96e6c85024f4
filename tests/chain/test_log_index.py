"""The embedded chain's log index answers every log query exactly as eth-tester's own scan of the receipts does:
for one event of one contract (served from the event's own entries), for a contract, for an event across
contracts, for a list of contracts, with argument topics and block ranges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_tester import EthereumTester
from web3 import Web3

from fedchain.chain import Chain, connect
from fedchain.chain.coordinator import Token

TRANSFER = Web3.keccak(text="Transfer(address,address,uint256)").to_0x_hex()
APPROVAL = Web3.keccak(text="Approval(address,address,uint256)").to_0x_hex()


@pytest.fixture(scope="module")
def chain() -> Iterator[tuple[Chain, list[Token]]]:
    """Two dev tokens with mints, approvals and transfers among five accounts."""
    with connect("embedded", dev_accounts=5) as chain:
        tokens = [Token.deploy_dev(chain), Token.deploy_dev(chain, "Other", "OTH")]
        owner = chain.accounts[0]
        for round in range(3):
            for token in tokens:
                for account in chain.accounts[1:]:
                    token.mint(account.address, 10 + round, sender=owner)
                    token.approve(owner.address, round + 1, sender=account)
        yield chain, tokens


def topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def queries(chain: Chain, tokens: list[Token]) -> list[dict[str, Any]]:
    first, second = (token.address for token in tokens)
    someone = chain.accounts[2].address
    latest = int(chain.w3.eth.block_number)
    return [
        {},
        {"address": first},
        {"address": first, "topics": [TRANSFER]},
        {"address": second, "topics": [APPROVAL]},
        {"address": first, "topics": [TRANSFER, None, topic(someone)]},
        {"address": [first, second], "topics": [TRANSFER]},
        {"topics": [APPROVAL]},
        {"topics": [[TRANSFER, APPROVAL], topic(someone)]},
        {"address": first, "topics": [TRANSFER], "from_block": latest // 2, "to_block": latest - 3},
        {"address": second, "topics": [None, None, topic(someone)]},
        {"address": "0x" + "11" * 20, "topics": [TRANSFER]},
    ]


def test_every_query_gets_what_a_scan_of_the_receipts_gets(chain: tuple[Chain, list[Token]]) -> None:
    dev, tokens = chain
    tester = dev.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    for query in queries(dev, tokens):
        indexed = tester.get_logs(**{"from_block": 0, **query})
        scanned = EthereumTester.get_logs(tester, **{"from_block": 0, **query})
        assert indexed == scanned, query
    assert tester.get_logs(from_block=0, address=tokens[0].address, topics=[TRANSFER]), "the query finds events"


def test_the_index_follows_new_blocks_and_reverted_ones(chain: tuple[Chain, list[Token]]) -> None:
    dev, tokens = chain
    tester = dev.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    query = {"from_block": 0, "address": tokens[0].address, "topics": [TRANSFER]}
    before = tester.get_logs(**query)
    snapshot = tester.take_snapshot()
    tokens[0].mint(dev.accounts[1].address, 99, sender=dev.accounts[0])
    assert len(tester.get_logs(**query)) == len(before) + 1
    tester.revert_to_snapshot(snapshot)
    assert tester.get_logs(**query) == before == EthereumTester.get_logs(tester, **query)
