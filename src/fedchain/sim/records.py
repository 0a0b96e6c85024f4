"""What a simulation observed, as plain data: per round, the final model, baselines, slashes, balances.

Everything on chain here (who was included, gas, rewards, slashes, stakes) is read back from the chain's
events, state and receipts after the fact, never taken from what the script meant to happen. Amounts
are token base units (ints); roots, references and hashes are 0x-hex strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fedchain.client import NDArrays

HEADLINE_METRIC = "accuracy"
"""The metric a report leads with when the evaluation has it (else the first metric by name, else the loss)."""


def shown_metrics(headline: str, names: Iterable[str]) -> list[str]:
    """The order a report shows metrics in: the headline, the other ``names`` alphabetically, then the loss."""
    others = sorted(set(names) - {headline, "loss"})
    return [headline, *others] + ([] if headline == "loss" else ["loss"])


@dataclass(frozen=True)
class Scores:
    """One model's evaluation: its loss and the numeric metrics the evaluating client's ``evaluate`` returned
    (whatever they are: the built-in trainer's are ``accuracy`` and, where defined, ``auc``), on ``examples``
    examples (None where unknown)."""

    loss: float
    metrics: dict[str, float]
    examples: int | None = None

    def get(self, name: str) -> float | None:
        """Metric ``name``, or the loss for ``"loss"``; None when the evaluation has no such metric."""
        return self.loss if name == "loss" else self.metrics.get(name)

    @property
    def headline(self) -> str:
        """The name of the metric to lead with: accuracy if present, else the first metric, else ``loss``."""
        if HEADLINE_METRIC in self.metrics:
            return HEADLINE_METRIC
        return min(self.metrics, default="loss")


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
    bad_update, unavailable_input, missed_reveal, missed_upload, silence, low_score, failed_audit or a validator's
    fault."""

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
    scores: Scores | None
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
    scores: Scores
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
class PairedOutcomes:
    """The federation's final model and a baseline classifying the same test examples: how many both got right,
    only the federation, only the baseline, and neither (what an interval for the difference of their accuracies
    needs)."""

    both: int
    only_federation: int
    only_baseline: int
    neither: int


@dataclass(frozen=True)
class Baselines:
    """Pooled training and each hospital alone, with the federation's budget, on the same test set (a simulation
    of the built-in trainer on its own data has them; one of the user's clients has not).

    ``paired`` holds, per baseline (``"pooled"`` and each hospital's name), its outcomes beside the federation's
    final model on each test example; ``test_label_counts`` the test set's examples per class.
    """

    pooled: Scores
    local: dict[str, Scores]
    paired: dict[str, PairedOutcomes] = field(default_factory=dict)
    test_label_counts: tuple[int, ...] | None = None

    def local_mean(self, metric: str) -> float | None:
        """Mean of ``metric`` over the hospitals training alone (None if some lack it)."""
        values = [scores.get(metric) for scores in self.local.values()]
        return None if not values or None in values else float(np.mean([v for v in values if v is not None]))


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
    """One hospital's data (``examples`` and ``label_counts`` unknown for a client that keeps them to itself), what it
    does wrong, whether it is one of the attack's attackers, and for a Sybil identity, the hospital whose data it
    runs."""

    name: str
    address: str
    source: str
    examples: int | None
    label_counts: tuple[int, ...] | None
    misbehaviour: str | None
    attacker: bool = False
    identity_of: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    """One training audit read from the chain (docs/protocol.md section 13): whose update, which step, who opened it
    (``drawn`` by the chain's draw, or demanded against a bond), and how it ended: ``proven`` (with the gas of the
    proveStep transaction and, where the simulation knows it, the seconds the proof took), ``failed`` (no valid
    proof in time: the update dropped, ``slashed`` taken, with the gas of settleAudit), ``moot`` or still ``open``;
    ``refused`` counts the proofs the contract refused for it."""

    round: int
    name: str
    step: int
    opened_by: str
    drawn: bool
    outcome: str
    prove_gas: int | None = None
    prove_seconds: float | None = None
    settle_gas: int | None = None
    slashed: int = 0
    refused: int = 0


@dataclass(frozen=True)
class SimulationResult:
    """Everything a report shows."""

    config: dict[str, Any]
    rounds: tuple[RoundRecord, ...]
    final: FinalModel
    baselines: Baselines | None
    preprocessing: dict[str, Any] | None
    slashes: tuple[Slash, ...]
    balances: tuple[Balance, ...]
    chain: ChainInfo
    hospitals: tuple[HospitalInfo, ...]
    quantization: dict[str, int]
    gas_outside_rounds: dict[str, int]
    wall_seconds: float
    classes: tuple[str, ...] | None = None
    """What each label means, where the data says (the built-in datasets do)."""
    audits: tuple[AuditRecord, ...] = ()
    """An audited task's audits, in chain order (empty without audits)."""
