"""A secure participant killed at each point of its round and rebuilt (a fresh object, the same journal file)
carries on from the chain and its journal: the same keys, one advertisement, one share bundle committed once,
one upload, one unmask bundle, one training; and the round's model is still exactly plain FedAvg.

The crash is :class:`tests.roles.test_restart.Crash`, raised inside the transaction call of the doomed
participant only (the federation's other agents share the client and go on).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from tests.roles.conftest import Federation
from tests.roles.secure_checks import Trained, check_anchor, record_updates
from tests.roles.test_restart import Crash

from fedchain.chain.coordinator import TaskStatus
from fedchain.roles import BaseParticipant
from fedchain.secagg.derive import self_seed_hash

AGGREGATOR, WATCHER = 6, 7
HOSPITALS = 3

CRASH_POINTS = [
    ("advertise", False),  # secrets journaled, nothing sent
    ("advertise", True),  # keys advertised, the process dies before it sees the receipt
    ("commit_shares", False),  # update journaled and share bundle stored, commitment not sent
    ("commit_shares", True),
    ("upload", False),  # masked vector stored, upload not sent
    ("upload", True),
    ("publish_unmask_bundle", True),
]


def crash_for(participant: BaseParticipant, original: Callable[..., Any], *, after: bool,
              calls: list[tuple[Any, ...]]) -> Callable[..., Any]:
    """``original`` for everybody but ``participant``, whose call dies before (or right after) it is sent."""
    def crashing(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("sender") is not participant.account:
            return original(*args, **kwargs)
        calls.append(args)
        if after:
            original(*args, **kwargs)
        raise Crash(original.__name__)
    return crashing


def by(federation: Federation, event: str, participant: str) -> list[Any]:
    handle = getattr(federation.coordinator.contract.events, event)()
    return list(handle.get_logs(from_block=0, argument_filters={"taskId": federation.task_id,
                                                                  "participant": participant}))


@pytest.mark.parametrize(("method", "after"), CRASH_POINTS,
                         ids=[f"{'after' if after else 'before'}-{method}" for method, after in CRASH_POINTS])
def test_a_secure_participant_restarted_after_a_crash_never_acts_twice(
        secure_federation: Federation, monkeypatch: pytest.MonkeyPatch, method: str, after: bool) -> None:
    federation = secure_federation
    doomed = federation.add_participant(0)
    trained: dict[str, Trained] = {doomed.address: record_updates(doomed)}
    for client in range(1, HOSPITALS):
        other = federation.add_participant(client)
        trained[other.address] = record_updates(other)
    federation.add_aggregator(AGGREGATOR)
    federation.add_watcher(WATCHER)
    initial_ref = federation.state().model_blob_ref
    calls: list[tuple[Any, ...]] = []

    with monkeypatch.context() as patch:
        original = getattr(federation.coordinator, method)
        patch.setattr(federation.coordinator, method, crash_for(doomed, original, after=after, calls=calls))
        with pytest.raises(Crash):
            federation.run_until(lambda: federation.state().status != TaskStatus.RUNNING)
    journaled = doomed.journal.round_secrets(0)
    assert journaled is not None, "every crash point comes after the secrets were journaled"
    federation.participants.remove(doomed)
    reborn = federation.add_participant(0)  # same account, same journal file, fresh client
    reborn_trained = record_updates(reborn)
    federation.run_until(lambda: federation.state().status == TaskStatus.COMPLETED)

    address = reborn.address
    actions = doomed.actions + reborn.actions
    assert actions.count("trained round 0") == 1, "one training: the journaled update is reused"
    for event in ("Advertised", "SharesCommitted", "Uploaded", "UnmaskBundlePublished"):
        assert len(by(federation, event, address)) == 1, f"exactly one {event}"
    (advert,) = by(federation, "Advertised", address)
    assert (advert.args.pkX, advert.args.pkY) == journaled.keys.mask.public, "the journaled keys, never new ones"
    assert advert.args.encryptionKey == journaled.keys.encryption.public
    (commitment,) = by(federation, "SharesCommitted", address)
    assert commitment.args.selfSeedHash == self_seed_hash(journaled.self_seed)
    if method == "commit_shares":
        (crashed_call,) = calls
        assert commitment.args.shareBundleRef == hashlib.sha256(crashed_call[5]).digest(), \
            "the very bundle built before the crash"
    trained[address] = {**trained[address], **reborn_trained}
    check_anchor(federation, 0, initial_ref, trained)
