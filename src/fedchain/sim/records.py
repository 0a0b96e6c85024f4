"""What a simulation observed, as plain data: per round, the final model, baselines, slashes, balances.

Everything on chain here (who was included, gas, rewards, slashes, stakes) is read back from the chain's
events, state and receipts after the fact, never taken from what the script meant to happen. Amounts
are token base units (ints); roots, references and hashes are 0x-hex strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fedchain.client import NDArrays


@dataclass(frozen=True)
class Metrics:
    """Test-set metrics of one model (``auc`` None when undefined)."""

    accuracy: float
    auc: float | None
    loss: float


@dataclass(frozen=True)
class Party:
    """A funded account taking part: its role and a readable name."""

    name: str
    role: str
    address: str


@dataclass(frozen=True)
class Proposal:
    """One proposal of a round and what became of it (``finalized``, ``rejected``, ``voided``)."""

    aggregator: str
    root: str
    outcome: str


@dataclass(frozen=True)
class Slash:
    """One slash read from the chain's events; ``kind`` is wrong_aggregate, withheld_model,
    bad_update, unavailable_input, missed_reveal, missed_upload or silence."""

    round: int | None
    role: str
    name: str
    address: str
    kind: str
    reason: str
    amount: int
    bounty: int
    challenger: str | None


@dataclass(frozen=True)
class RoundRecord:
    """One round as the chain recorded it, with the requester's evaluation of its model."""

    index: int
    status: str
    metrics: Metrics | None
    participants: tuple[str, ...]
    committed: tuple[str, ...]
    dropped: tuple[str, ...]
    proposals: tuple[Proposal, ...]
    gas: dict[str, int]
    rewards: dict[str, int]
    slashes: tuple[Slash, ...]
    model_root: str | None
    wall_seconds: float

    @property
    def reaggregated(self) -> bool:
        """Whether a proposal was thrown out and the round aggregated again."""
        return any(proposal.outcome != "finalized" for proposal in self.proposals)

    @property
    def gas_total(self) -> int:
        """All gas spent in the round."""
        return sum(self.gas.values())


@dataclass(frozen=True)
class Balance:
    """An account at the end: token balance, what it holds in the contract, and the flows that explain it.

    Conservation, for every account: ``token_balance + stake + bond == funded + rewards_claimed +
    fees_claimed + bounties - slashed - escrow + pool_withdrawn`` (``withdrawn`` stake and bond moved
    back to the token balance and appear on both sides).
    """

    party: Party
    token_balance: int
    stake: int
    bond: int
    funded: int
    rewards_claimed: int
    rewards_unclaimed: int
    fees_claimed: int
    fees_unclaimed: int
    bounties: int
    slashed: int
    withdrawn: int
    escrow: int
    pool_withdrawn: int


@dataclass(frozen=True)
class FinalModel:
    """The task's last anchored model, its evaluation and the transaction that anchored it."""

    round: int
    metrics: Metrics
    model_root: str
    model_blob_ref: str
    anchor_tx: str
    anchor_block: int
    names: tuple[str, ...]
    parameters: NDArrays = field(repr=False)

    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """``(name, dims)`` of every tensor, in order."""
        return [(name, tuple(int(dim) for dim in np.shape(array)))
                for name, array in zip(self.names, self.parameters, strict=True)]


@dataclass(frozen=True)
class Baselines:
    """Pooled training and each hospital alone, with the federation's budget, on the same test set."""

    pooled: Metrics
    local: dict[str, Metrics]

    @property
    def local_mean_accuracy(self) -> float:
        """Mean accuracy of the hospitals training alone."""
        return float(np.mean([metrics.accuracy for metrics in self.local.values()]))


@dataclass(frozen=True)
class ChainInfo:
    """Where it ran."""

    backend: str
    chain_id: int
    coordinator: str
    token: str
    task_id: int
    contracts: dict[str, str]


@dataclass(frozen=True)
class HospitalInfo:
    """One hospital's data."""

    name: str
    address: str
    source: str
    examples: int
    label_counts: tuple[int, ...]
    misbehaviour: str | None


@dataclass(frozen=True)
class SimulationResult:
    """Everything a report shows."""

    config: dict[str, Any]
    rounds: tuple[RoundRecord, ...]
    final: FinalModel
    baselines: Baselines
    slashes: tuple[Slash, ...]
    balances: tuple[Balance, ...]
    chain: ChainInfo
    hospitals: tuple[HospitalInfo, ...]
    quantization: dict[str, int]
    gas_outside_rounds: dict[str, int]
    wall_seconds: float
