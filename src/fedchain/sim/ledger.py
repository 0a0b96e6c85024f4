"""Reading what happened from the chain: rounds, proposals, rewards, slashes and balances, by event and view.

Nothing here trusts the simulation script: included participants are the round's ``Revealed`` events
minus its ``UpdateDropped``, ``UpdateScoredOut`` and ``UnscoredUpdateDropped`` (no slash) events and its failed
audits' ``AuditSettled`` events
(docs/protocol.md §8.4, §12.4, §13.5) in plain mode, its
``Uploaded`` events in secure mode (every upload is in the sum, with the weight its ``SharesCommitted`` event
fixed); slashes are the slash events, rewards are the ``RoundFinalized`` figures times the included weights (in
a scored task: times each update's median score, and each revealing validator's fee), balances are the token's
and the contract's views.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from fedchain.chain.audits import AuditStatus
from fedchain.chain.coordinator import Coordinator, CoordinatorClient, Mode, RoundStatus, Token
from fedchain.chain.scoring import ValidatorFault
from fedchain.sim.records import AuditRecord, Balance, Party, Proposal, Slash

ZERO_ADDRESS = "0x" + "00" * 20
_STATUS = {RoundStatus.ACTIVE: "active", RoundStatus.FINALIZED: "finalized", RoundStatus.FAILED: "failed"}
UNOPENED_LEAF = 2**256 - 1
"""The leaf index of a ProposalRejected event whose proposal was never opened by a model dispute."""
_PROPOSAL_ENDINGS = {"ProposalRejected": "rejected", "ProposalVoided": "voided", "RoundFinalized": "finalized",
                     "RoundFailed": "voided"}
_VALIDATOR_FAULTS = {ValidatorFault.SILENT: ("validator_silent", "sat in the round's committee and revealed no scores"),
                     ValidatorFault.DEVIATED: ("validator_deviated", "revealed a score farther than the tolerance "
                                                                     "from the update's median")}


@dataclass(frozen=True)
class Included:
    """A participant whose update is in a round's aggregate, and its weight."""

    participant: str
    weight: int


class Ledger:
    """Event and state queries about task ``task_id``, naming addresses by ``parties`` (lowercase keys)."""

    def __init__(self, coordinator: CoordinatorClient, token: Token, task_id: int, parties: Iterable[Party]) -> None:
        self.coordinator = coordinator
        self.token = token
        self.task_id = task_id
        self.parties = {party.address.lower(): party for party in parties}
        self.secure = coordinator.task_params(task_id).mode == Mode.SECURE
        self.scoring: Coordinator | None = coordinator if isinstance(coordinator, Coordinator) and \
            coordinator.scoring_params(task_id).scored else None
        """The coordinator of a scored task (None without scoring)."""
        self.audited = isinstance(coordinator, Coordinator) and coordinator.audit_params(task_id).audited
        """Whether the members' training is audited (docs/protocol.md section 13)."""

    def name(self, address: str) -> str:
        """The party's name, or the address itself for an account the simulation does not know."""
        party = self.parties.get(address.lower())
        return party.name if party else Web3.to_checksum_address(address)

    def events(self, event: str, **filters: Any) -> list[Any]:
        """Every ``event`` of the coordinator matching ``filters`` (the task is always filtered)."""
        handle = getattr(self.coordinator.contract.events, event)()
        return list(handle.get_logs(from_block=0, argument_filters={"taskId": self.task_id, **filters}))

    # -- rounds --------------------------------------------------------------------------------------

    def status(self, round: int) -> str:
        """``finalized``, ``failed`` or ``active``."""
        return _STATUS[self.coordinator.round_view(self.task_id, round).status]

    def committed(self, round: int) -> tuple[str, ...]:
        """Names of the members that committed in ``round`` (their shares, in secure mode)."""
        event = "SharesCommitted" if self.secure else "Committed"
        return tuple(self.name(log.args.participant) for log in self.events(event, round=round))

    def included(self, round: int) -> list[Included]:
        """The updates in ``round``'s aggregate, in chain order: the reveals not dropped (plain mode) or the
        uploads (secure mode)."""
        unavailable = {log.args.owner.lower() for log in self.events("InputUnavailable", round=round)}
        if self.secure:
            weights = {log.args.participant: int(log.args.weight)
                       for log in self.events("SharesCommitted", round=round)}
            return [Included(log.args.participant, weights[log.args.participant])
                    for log in self.events("Uploaded", round=round) if log.args.participant.lower() not in unavailable]
        drops = ("UpdateDropped", "UpdateScoredOut", "UnscoredUpdateDropped")
        dropped = unavailable | {log.args.participant.lower() for event in drops
                                 for log in self.events(event, round=round)} | {
            log.args.participant.lower() for log in self.failed_audits(round)}
        return [Included(log.args.participant, int(log.args.weight)) for log in self.events("Revealed", round=round)
                if log.args.participant.lower() not in dropped]

    def dropped(self, round: int) -> tuple[str, ...]:
        """Names of the members whose update of ``round`` was proven wrong, withheld, scored too low, or left
        unscored by the committee (dropped without a slash), and dropped."""
        return tuple([self.name(log.args.participant) for log in self.events("UpdateDropped", round=round)]
                     + [self.name(log.args.owner) for log in self.events("InputUnavailable", round=round)]
                     + [self.name(log.args.participant) for log in self.events("UpdateScoredOut", round=round)]
                     + [self.name(log.args.participant)
                        for log in self.events("UnscoredUpdateDropped", round=round)]
                     + [self.name(log.args.participant) for log in self.failed_audits(round)])

    def failed_audits(self, round: int | None = None) -> list[Any]:
        """The AuditSettled events of audits that failed (the update was dropped), of ``round`` or of every round."""
        if not self.audited:
            return []
        filters = {} if round is None else {"round": round}
        return [log for log in self.events("AuditSettled", **filters) if AuditStatus(log.args.status) ==
                AuditStatus.FAILED]

    def proposals(self, round: int) -> tuple[Proposal, ...]:
        """Every proposal of ``round`` with its outcome: the next ending event after it decides."""
        endings = sorted(
            ((_position(log), _PROPOSAL_ENDINGS[name]) for name in _PROPOSAL_ENDINGS
             for log in self.events(name, round=round)),
        )
        proposals = []
        for log in self.events("Proposed", round=round):
            position = _position(log)
            outcome = next((ending for at, ending in endings if at > position), "pending")
            proposals.append(Proposal(aggregator=self.name(log.args.aggregator), root="0x" + bytes(log.args.root).hex(),
                                      outcome=outcome))
        return tuple(proposals)

    def finalized(self, round: int) -> Any | None:
        """The ``RoundFinalized`` event of ``round``, if it was finalized."""
        logs = self.events("RoundFinalized", round=round)
        return logs[0] if logs else None

    def rewards(self, round: int) -> dict[str, int]:
        """What ``round`` credited to whom: each included participant its weight (a scored task: its median score)
        x rewardPerWeight, the aggregator its fee, each validator that revealed its scores its fee."""
        finalized = self.finalized(round)
        if finalized is None:
            return {}
        credited: dict[str, int] = {}
        for included in self.included(round):
            name = self.name(included.participant)
            units = included.weight if self.scoring is None else self.scoring.median_score(
                self.task_id, round, included.participant)[1]
            credited[name] = credited.get(name, 0) + units * int(finalized.args.rewardPerWeight)
        aggregator = self.name(self.coordinator.round_view(self.task_id, round).aggregator)
        credited[aggregator] = credited.get(aggregator, 0) + int(finalized.args.aggregatorFee)
        for booked in self.events("ValidatorFeesBooked", round=round):
            for validator in self._fee_takers(round, _position(finalized)):
                name = self.name(validator)
                credited[name] = credited.get(name, 0) + int(booked.args.perValidator)
        return credited

    def _fee_takers(self, round: int, finalized_at: tuple[int, int]) -> list[str]:
        """The validators booked a fee when ``round`` was finalized (at ``finalized_at``): those that revealed their
        scores and were not slashed between their reveal and the round's end (docs/protocol.md section 12.5)."""
        slashed_at: dict[str, list[tuple[int, int]]] = {}
        for log in self.events("ValidatorSlashed"):
            slashed_at.setdefault(str(log.args.validator).lower(), []).append(_position(log))
        return [str(log.args.validator) for log in self.events("ScoresRevealed", round=round)
                if not any(_position(log) < at < finalized_at for at in slashed_at.get(
                    str(log.args.validator).lower(), []))]

    # -- slashes -------------------------------------------------------------------------------------

    def slashes(self) -> list[Slash]:
        """Every slash of the task, in chain order."""
        num_params = self.coordinator.task_params(self.task_id).num_params
        found: list[tuple[tuple[int, int], Slash]] = []
        for log in self.events("ProposalRejected"):
            unopened = int(log.args.leafIndex) == UNOPENED_LEAF
            found.append((_position(log), self._slash(
                log, log.args.round, log.args.aggregator, "aggregator",
                "withheld_model" if unopened else "wrong_aggregate",
                "proposed a model it never opened when disputed (its blob withheld)" if unopened
                else f"wrong aggregate, proven by a fraud proof at leaf {log.args.leafIndex}", log.args.challenger)))
        for log in self.events("InputUnavailable"):
            found.append((_position(log), self._slash(
                log, log.args.round, log.args.owner, "participant", "unavailable_input",
                "withheld its " + ("masked update" if self.secure else "update") + ", not put on chain when challenged",
                log.args.challenger)))
        for log in self.events("UpdateDropped"):
            coordinate = int(log.args.coordinate)
            what = "nonzero padding" if coordinate >= num_params else "outside the clipping range"
            found.append((_position(log), self._slash(
                log, log.args.round, log.args.participant, "participant", "bad_update",
                f"update coordinate {coordinate} {what}, proven on chain", log.args.challenger)))
        missed_kind, missed_reason = (("missed_upload", "committed its shares but never uploaded its masked update")
                                      if self.secure else ("missed_reveal", "committed but never revealed"))
        for log in self.events("MissedRevealSlashed"):
            sender = self._sender(log)
            forfeited = sender.lower() == log.args.participant.lower()  # settled at its own next entry
            found.append((_position(log), self._slash(
                log, log.args.round, log.args.participant, "participant", missed_kind,
                missed_reason + (" (forfeited at its next entry)" if forfeited else ""),
                None if forfeited else sender)))
        for log in self.events("SilenceSlashed"):
            found.append((_position(log), self._slash(
                log, None, log.args.member, "participant", "silence", "silent for more rounds than the task allows",
                self._sender(log))))
        for log in self.events("UpdateScoredOut"):
            found.append((_position(log), self._slash(
                log, log.args.round, log.args.participant, "participant", "low_score",
                f"its update's median score {log.args.medianScore} was below the task's minimum", log.args.challenger)))
        for log in self.failed_audits():
            found.append((_position(log), self._slash(
                log, log.args.round, log.args.participant, "participant", "failed_audit",
                f"no valid proof of training step {log.args.step} within the proof window (audit)",
                log.args.challenger)))
        for log in self.events("ValidatorSlashed"):
            kind, reason = _VALIDATOR_FAULTS[ValidatorFault(log.args.fault)]
            found.append((_position(log), self._slash(log, log.args.round, log.args.validator, "validator", kind,
                                                      reason, log.args.challenger)))
        return [slash for _, slash in sorted(found, key=lambda item: item[0])]

    def _slash(self, log: Any, round: int | None, address: str, role: str, kind: str, reason: str,
               challenger: str | None) -> Slash:
        return Slash(round=None if round is None else int(round), role=role, name=self.name(address),
                     address=Web3.to_checksum_address(address), kind=kind, reason=reason, amount=int(log.args.slashed),
                     bounty=int(log.args.bounty), challenger=None if challenger is None else self.name(challenger))

    def _sender(self, log: Any) -> str:
        transaction = self.coordinator.chain.w3.eth.get_transaction(log.transactionHash)
        return str(transaction["from"])

    # -- audits --------------------------------------------------------------------------------------

    def audits(self, seconds: Mapping[tuple[int, str, int], float],
               refused: Mapping[tuple[int, str, int], int]) -> list[AuditRecord]:
        """Every training audit of the task, in chain order (none without audits), with the seconds each proof took
        and how many proofs the contract refused, by (round, lowercase participant, step), where known."""
        if not self.audited:
            return []

        def key(log: Any) -> tuple[int, str, int]:
            return int(log.args.round), str(log.args.participant).lower(), int(log.args.step)

        def gas(log: Any) -> int:
            return int(self.coordinator.chain.w3.eth.get_transaction_receipt(log.transactionHash)["gasUsed"])

        proven = {key(log): log for log in self.events("StepProven")}
        settled = {key(log): log for log in self.events("AuditSettled")}
        records = []
        for log in self.events("AuditOpened"):
            at = key(log)
            proof, settlement = proven.get(at), settled.get(at)
            outcome = ("proven" if proof is not None else "open" if settlement is None
                       else AuditStatus(settlement.args.status).name.lower())
            records.append(AuditRecord(
                round=at[0], name=self.name(log.args.participant), step=at[2], opened_by=self.name(log.args.challenger),
                drawn=int(log.args.bond) == 0, outcome=outcome, prove_gas=None if proof is None else gas(proof),
                prove_seconds=seconds.get(at), settle_gas=None if settlement is None else gas(settlement),
                slashed=0 if settlement is None else int(settlement.args.slashed), refused=refused.get(at, 0)))
        return records

    # -- balances ------------------------------------------------------------------------------------

    def balances(self, slashes: list[Slash]) -> list[Balance]:
        """Every party's end state and the flows that explain it (each event read once for all parties)."""
        claimed = self._totals("RewardsClaimed", "participant", "amount")
        fees = self._totals("FeesClaimed", "aggregator", "amount")
        withdrawn = self._totals("StakeWithdrawn", "member", "amount")
        bonds_back = self._totals("BondWithdrawn", "aggregator", "amount")
        escrow = self._totals("TaskCreated", "requester", "escrow")
        pool = self._totals("PoolWithdrawn", "requester", "amount")
        for event, field in (("ValidatorWithdrawn", "fees"), ("ValidatorFeesClaimed", "amount")):
            for address, amount in self._totals(event, "validator", field).items():
                fees[address] = fees.get(address, 0) + amount
        for address, amount in self._totals("ValidatorWithdrawn", "validator", "stake").items():
            withdrawn[address] = withdrawn.get(address, 0) + amount
        minted = self._minted()
        balances = []
        for address, party in self.parties.items():
            seat_stake, seat_fees = 0, 0
            if self.scoring is not None:
                seat = self.scoring.validator_seat(self.task_id, address)
                seat_stake, seat_fees = seat.stake, seat.fees
            balances.append(Balance(
                party=party,
                token_balance=self.token.balance_of(address),
                stake=self.coordinator.member(self.task_id, address).stake + seat_stake,
                bond=self.coordinator.aggregator(self.task_id, address).bond,
                funded=minted.get(address, 0),
                rewards_claimed=claimed.get(address, 0),
                rewards_unclaimed=self.coordinator.claimable(self.task_id, address),
                fees_claimed=fees.get(address, 0),
                fees_unclaimed=self.coordinator.fees_of(self.task_id, address) + seat_fees,
                bounties=sum(slash.bounty for slash in slashes if slash.challenger == party.name),
                slashed=sum(slash.amount for slash in slashes if slash.address.lower() == address),
                withdrawn=withdrawn.get(address, 0) + bonds_back.get(address, 0),
                escrow=escrow.get(address, 0),
                pool_withdrawn=pool.get(address, 0),
            ))
        return balances

    def _totals(self, event: str, by: str, field: str) -> dict[str, int]:
        """The sum of ``field`` over the task's ``event`` logs, by the (lowercase) address in argument ``by``."""
        totals: dict[str, int] = {}
        for log in self.events(event):
            address = str(getattr(log.args, by)).lower()
            totals[address] = totals.get(address, 0) + int(getattr(log.args, field))
        return totals

    def _minted(self) -> dict[str, int]:
        """Tokens minted to each (lowercase) address: the token's transfers from the zero address."""
        handle = self.token.contract.events.Transfer()
        totals: dict[str, int] = {}
        for log in handle.get_logs(from_block=0, argument_filters={"from": ZERO_ADDRESS}):
            address = str(log.args.to).lower()
            totals[address] = totals.get(address, 0) + int(log.args.value)
        return totals


def _position(log: Any) -> tuple[int, int]:
    return int(log.blockNumber), int(log.logIndex)
