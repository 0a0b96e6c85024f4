"""What a task's events tell beyond its state (``fedchain status``): every slash, every availability challenge
and model dispute with its outcome, the rewards and fees claimed, and the gas of the task's transactions by kind.

`TaskActivity` reads the coordinator's events of one task incrementally: each update asks the node only for
the blocks after the last one it read (one ``eth_getLogs`` call), and fetches the transaction and receipt of
each transaction it has not seen yet. A transaction of the task is one that emitted an event of the task (every
state-changing function of a coordinator does); its kind is the coordinator function it called. Should the
chain reorganize below the last block read (its hash changed), everything is read again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from eth_utils.abi import function_abi_to_4byte_selector
from web3 import Web3
from web3.exceptions import BlockNotFound

from fedchain.chain.coordinator import CoordinatorClient, DisputeOutcome, Mode
from fedchain.sim.ledger import UNOPENED_LEAF

OTHER_KIND = "other"
"""The kind of a transaction that reached the coordinator through another contract (or called no function of
its interface)."""
_MISSED = {Mode.PLAIN: ("missed_reveal", "committed but never revealed"),
           Mode.SECURE: ("missed_upload", "committed its shares but never uploaded its masked update")}


@dataclass(frozen=True)
class SlashEvent:
    """One slash: whose stake or bond (``role`` participant or aggregator) lost ``amount`` base units and why
    (``kind``: wrong_aggregate, withheld_model, bad_update, unavailable_input, missed_reveal, missed_upload or
    silence, explained by ``reason``); ``bounty`` went to ``challenger`` (None for a forfeit)."""

    round: int | None
    address: str
    role: str
    kind: str
    reason: str
    amount: int
    bounty: int
    challenger: str | None
    block: int
    tx_hash: str


@dataclass(frozen=True)
class ChallengeEvent:
    """An availability challenge on ``subject``'s input (``kind`` availability) or a model dispute of the round's
    proposal by ``aggregator`` ``subject`` (``kind`` dispute), opened by ``challenger``. ``outcome`` is ``open``
    until it ends: ``resolved`` (the input was posted) or ``unavailable`` (it was not; its owner was slashed) for a
    challenge, ``moot``, ``proposal_unopened`` (the proposal was rejected) or ``challenger_lapsed`` for a dispute."""

    round: int
    kind: str
    subject: str
    challenger: str
    outcome: str


@dataclass(frozen=True)
class GasUse:
    """The gas the task's transactions of one kind used: how many there were and their total."""

    kind: str
    transactions: int
    gas: int


@dataclass(frozen=True)
class _Transaction:
    sender: str
    kind: str
    gas_used: int


class TaskActivity:
    """The events of task ``task_id`` on ``coordinator``, read up to the block of the last :meth:`update`."""

    def __init__(self, coordinator: CoordinatorClient, task_id: int) -> None:
        self.coordinator = coordinator
        self.task_id = task_id
        self.mode = coordinator.MODE
        contract = coordinator.contract
        self._events = {getattr(contract.events, entry["name"])().topic: getattr(contract.events, entry["name"])()
                        for entry in contract.abi if entry["type"] == "event"}
        self._functions = {function_abi_to_4byte_selector(entry): str(entry["name"])
                           for entry in contract.abi if entry["type"] == "function"}
        self._reset()

    def _reset(self) -> None:
        self._logs: list[Any] = []
        self._transactions: dict[str, _Transaction] = {}
        self._read_to = -1
        self._read_hash = ""

    def update(self, block: int) -> None:
        """Read the events of the blocks after the last one read up to ``block`` (all of them again if the chain
        reorganized), and the transactions that emitted them."""
        if self._read_to >= 0 and self._hash_at(self._read_to) != self._read_hash:
            self._reset()
        if block <= self._read_to:
            return
        chain = self.coordinator.chain
        topic = "0x" + self.task_id.to_bytes(32, "big").hex()
        query = {"address": self.coordinator.address, "fromBlock": self._read_to + 1, "toBlock": block,
                 "topics": [None, topic]}
        raw = chain.query(lambda: chain.w3.eth.get_logs(query))  # type: ignore[arg-type]
        logs = [self._events[log["topics"][0].to_0x_hex()].process_log(log) for log in raw
                if log["topics"][0].to_0x_hex() in self._events]
        for log in logs:
            tx_hash = log.transactionHash.to_0x_hex()
            if tx_hash not in self._transactions:
                self._transactions[tx_hash] = self._transaction(tx_hash)
        self._logs += logs
        self._read_to, self._read_hash = block, self._hash_at(block)

    def _hash_at(self, block: int) -> str:
        chain = self.coordinator.chain
        try:
            return str(chain.query(lambda: chain.w3.eth.get_block(block)["hash"]).to_0x_hex())
        except BlockNotFound:
            return ""

    def _transaction(self, tx_hash: str) -> _Transaction:
        chain = self.coordinator.chain
        transaction = chain.query(lambda: chain.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        receipt = chain.query(lambda: chain.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        kind = OTHER_KIND
        if transaction.get("to") == self.coordinator.address:
            kind = self._functions.get(bytes(transaction["input"])[:4], OTHER_KIND)
        return _Transaction(sender=str(transaction["from"]), kind=kind, gas_used=int(receipt["gasUsed"]))

    def _named(self, *names: str) -> list[Any]:
        return [log for log in self._logs if log.event in names]

    # -- what the events tell ------------------------------------------------------------------------

    def slashes(self) -> list[SlashEvent]:
        """Every slash of the task, in chain order."""
        found = []
        for log in self._named("ProposalRejected", "InputUnavailable", "UpdateDropped", "MissedRevealSlashed",
                               "SilenceSlashed"):
            args, sender = log.args, self._transactions[log.transactionHash.to_0x_hex()].sender
            if log.event == "ProposalRejected":
                unopened = int(args.leafIndex) == UNOPENED_LEAF
                address, role, challenger = args.aggregator, "aggregator", args.challenger
                kind, reason = (("withheld_model", "never opened its proposed model when disputed") if unopened else
                                ("wrong_aggregate", f"wrong aggregate, proven at leaf {args.leafIndex}"))
            elif log.event == "InputUnavailable":
                address, role, challenger = args.owner, "participant", args.challenger
                kind, reason = "unavailable_input", "withheld its input when challenged"
            elif log.event == "UpdateDropped":
                address, role, challenger = args.participant, "participant", args.challenger
                kind, reason = "bad_update", f"update breaks the rules at coordinate {args.coordinate}"
            elif log.event == "MissedRevealSlashed":
                forfeited = sender.lower() == str(args.participant).lower()  # settled at its own next entry
                address, role, challenger = args.participant, "participant", None if forfeited else sender
                kind, reason = _MISSED[self.mode]
                reason += " (forfeited at its next entry)" if forfeited else ""
            else:
                address, role, challenger = args.member, "participant", sender
                kind, reason = "silence", "silent for more rounds than the task allows"
            found.append(SlashEvent(
                round=int(args.round) if "round" in args else None, address=Web3.to_checksum_address(address),
                role=role, kind=kind, reason=reason, amount=int(args.slashed), bounty=int(args.bounty),
                challenger=None if challenger is None else Web3.to_checksum_address(challenger),
                block=int(log.blockNumber), tx_hash=log.transactionHash.to_0x_hex()))
        return found

    def challenges(self) -> list[ChallengeEvent]:
        """Every availability challenge and model dispute of the task, in the order they were opened."""
        endings: dict[tuple[str, int, str], str] = {}
        for log in self._named("InputResolved", "InputUnavailable"):
            endings["availability", int(log.args.round), str(log.args.owner)] = (
                "resolved" if log.event == "InputResolved" else "unavailable")
        for log in self._named("DisputeSettled"):
            endings["dispute", int(log.args.round), str(log.args.challenger)] = DisputeOutcome(
                log.args.outcome).name.lower()
        proposers: dict[int, str] = {}
        found = []
        for log in self._named("InputChallenged", "DisputeOpened", "Proposed"):
            round = int(log.args.round)
            if log.event == "Proposed":
                proposers[round] = str(log.args.aggregator)
            elif log.event == "InputChallenged":
                found.append(ChallengeEvent(round=round, kind="availability", subject=str(log.args.owner),
                                            challenger=str(log.args.challenger),
                                            outcome=endings.get(("availability", round, str(log.args.owner)), "open")))
            else:
                challenger = str(log.args.challenger)
                found.append(ChallengeEvent(round=round, kind="dispute", subject=proposers[round],
                                            challenger=challenger,
                                            outcome=endings.get(("dispute", round, challenger), "open")))
        return found

    def claimed(self) -> Counter[str]:
        """What each account (checksum address) claimed so far: participants' rewards and aggregators' fees."""
        total: Counter[str] = Counter()
        for log in self._named("RewardsClaimed", "FeesClaimed"):
            claimant = log.args.participant if log.event == "RewardsClaimed" else log.args.aggregator
            total[Web3.to_checksum_address(claimant)] += int(log.args.amount)
        return total

    def gas(self) -> list[GasUse]:
        """The gas of the task's transactions by kind, the costliest kind first."""
        count: Counter[str] = Counter()
        used: Counter[str] = Counter()
        for transaction in self._transactions.values():
            count[transaction.kind] += 1
            used[transaction.kind] += transaction.gas_used
        return [GasUse(kind=kind, transactions=count[kind], gas=gas) for kind, gas in used.most_common()]
