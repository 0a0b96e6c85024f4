"""Off-chain agents over the coordinator contract and blob storage.

Each agent has a `step()` that reads chain state and does at most what is due now (idempotent), and a
`run()` loop for real deployments. Adversarial variants are small subclasses used by tests and the demo.
"""

from fedchain.roles.agent import Agent
from fedchain.roles.aggregator import Aggregator, TamperingAggregator
from fedchain.roles.journal import CommitRecord, Journal, JournalError
from fedchain.roles.participant import OutOfRangeParticipant, Participant, SilentParticipant
from fedchain.roles.requester import Evaluation, Requester
from fedchain.roles.task import IncludedUpdate, RoleError, TaskRules, load_rules
from fedchain.roles.watcher import Watcher

__all__ = [
    "Agent",
    "Aggregator",
    "CommitRecord",
    "Evaluation",
    "IncludedUpdate",
    "Journal",
    "JournalError",
    "OutOfRangeParticipant",
    "Participant",
    "Requester",
    "RoleError",
    "SilentParticipant",
    "TamperingAggregator",
    "TaskRules",
    "Watcher",
    "load_rules",
]
