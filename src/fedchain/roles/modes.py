"""The agents of each mode: a task's mode (``TaskParams.mode``) picks the participant, aggregator and watcher
classes that work on it, each with the coordinator client of that mode (``Agent.COORDINATOR``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fedchain.chain.coordinator import Mode
from fedchain.roles.aggregator import Aggregator, BaseAggregator
from fedchain.roles.participant import BaseParticipant, Participant
from fedchain.roles.secure_aggregator import SecureAggregator
from fedchain.roles.secure_participant import SecureParticipant
from fedchain.roles.secure_watcher import SecureWatcher
from fedchain.roles.watcher import BaseWatcher, Watcher

PARTICIPANTS: Final[Mapping[Mode, type[BaseParticipant]]] = MappingProxyType(
    {Mode.PLAIN: Participant, Mode.SECURE: SecureParticipant})
AGGREGATORS: Final[Mapping[Mode, type[BaseAggregator]]] = MappingProxyType(
    {Mode.PLAIN: Aggregator, Mode.SECURE: SecureAggregator})
WATCHERS: Final[Mapping[Mode, type[BaseWatcher]]] = MappingProxyType(
    {Mode.PLAIN: Watcher, Mode.SECURE: SecureWatcher})
