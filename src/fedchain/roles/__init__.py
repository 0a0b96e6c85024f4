"""Off-chain agents over the coordinator contract and blob storage.

Each agent has a `step()` that reads chain state and does at most what is due now (idempotent), and a
`run()` loop for real deployments. Plain-mode agents (`Participant`, `Aggregator`, `Watcher`, and a scored
task's `Validator`) work with a FedCoordinator, secure-mode ones (`SecureParticipant`, `SecureAggregator`,
`SecureWatcher`) with a SecureCoordinator; the `Requester` works with either. Adversarial variants are small
subclasses used by tests and the demo.
"""

from fedchain.roles.agent import Agent
from fedchain.roles.aggregator import Aggregator, BaseAggregator, TamperingAggregator, WithholdingAggregator
from fedchain.roles.journal import CommitRecord, Journal, JournalError, RoundSecrets, ScoreRecord, TrainedUpdate
from fedchain.roles.participant import (
    BaseParticipant,
    NormLiarParticipant,
    OutOfRangeParticipant,
    Participant,
    SilentParticipant,
    WithholdingParticipant,
)
from fedchain.roles.requester import Evaluation, Requester
from fedchain.roles.secure_aggregator import SecureAggregator, SecureTamperingAggregator, SecureWithholdingAggregator
from fedchain.roles.secure_participant import (
    DroppingParticipant,
    SecureParticipant,
    SecureStep,
    WithholdingSecureParticipant,
)
from fedchain.roles.secure_watcher import SecureWatcher
from fedchain.roles.task import IncludedUpdate, RoleError, TaskRules, load_rules
from fedchain.roles.validator import ColludingValidator, SilentValidator, Validator
from fedchain.roles.watcher import BaseWatcher, Watcher

__all__ = [
    "Agent",
    "Aggregator",
    "BaseAggregator",
    "BaseParticipant",
    "BaseWatcher",
    "ColludingValidator",
    "CommitRecord",
    "DroppingParticipant",
    "Evaluation",
    "IncludedUpdate",
    "Journal",
    "JournalError",
    "NormLiarParticipant",
    "OutOfRangeParticipant",
    "Participant",
    "Requester",
    "RoleError",
    "RoundSecrets",
    "ScoreRecord",
    "SecureAggregator",
    "SecureParticipant",
    "SecureStep",
    "SecureTamperingAggregator",
    "SecureWatcher",
    "SecureWithholdingAggregator",
    "SilentParticipant",
    "SilentValidator",
    "TamperingAggregator",
    "TaskRules",
    "TrainedUpdate",
    "Validator",
    "Watcher",
    "WithholdingAggregator",
    "WithholdingParticipant",
    "WithholdingSecureParticipant",
    "load_rules",
]
