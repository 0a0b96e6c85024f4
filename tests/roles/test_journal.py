"""The journal survives restarts, refuses foreign or conflicting data, and writes atomically."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fedchain.roles.journal import CommitRecord, Journal, JournalError, RoundSecrets, ScoreRecord, TrainedUpdate
from fedchain.secagg.derive import new_self_seed
from fedchain.secagg.keys import new_round_keys
from fedchain.secagg.shares import new_share_randomness

OWNER = "0x00000000000000000000000000000000000000Aa"


def record(round: int, salt: bytes = b"\x01" * 32) -> CommitRecord:
    return CommitRecord(round=round, salt=salt, root=b"\x02" * 32, sample_count=7, blob_ref=b"\x03" * 32)


def test_records_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    journal = Journal(path, owner=OWNER, task_id=1)
    journal.record_commit(record(0))
    journal.record_commit(record(1))

    reopened = Journal(path, owner=OWNER, task_id=1)
    assert reopened.commit_record(0) == record(0)
    assert reopened.commit_record(1) == record(1)
    assert reopened.commit_record(2) is None
    assert [p.name for p in tmp_path.iterdir()] == ["j.json"]  # no temporary file left behind


def test_a_different_commitment_for_a_round_is_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    journal.record_commit(record(0))
    journal.record_commit(record(0))  # the same record again is fine (a resent action)
    with pytest.raises(JournalError, match="different commitment"):
        journal.record_commit(record(0, salt=b"\x09" * 32))


def test_a_journal_of_another_agent_or_task_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    Journal(path, owner=OWNER, task_id=1).record_commit(record(0))
    with pytest.raises(JournalError, match="belongs to"):
        Journal(path, owner=OWNER, task_id=2)
    with pytest.raises(JournalError, match="belongs to"):
        Journal(path, owner="0x" + "bb" * 20, task_id=1)


def test_a_corrupt_journal_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text("{not json")
    with pytest.raises(JournalError, match="unreadable"):
        Journal(path, owner=OWNER, task_id=1)


# -- secure rounds ------------------------------------------------------------------------------------


def secrets(round: int) -> RoundSecrets:
    return RoundSecrets(round=round, keys=new_round_keys(), self_seed=new_self_seed(),
                        share_randomness=new_share_randomness(3))


def update(round: int, first: int = 5) -> TrainedUpdate:
    return TrainedUpdate.of(round, np.array([first, -2**31, 2**31 - 1, 0], dtype=np.int32), sample_count=40)


def test_round_secrets_and_updates_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    journal = Journal(path, owner=OWNER, task_id=1)
    drawn = secrets(3)
    journal.record_round_secrets(drawn)
    journal.record_trained_update(update(3))

    reopened = Journal(path, owner=OWNER, task_id=1)
    assert reopened.round_secrets(3) == drawn
    assert reopened.trained_update(3) == update(3)
    assert reopened.trained_update(3).vector.tolist() == [5, -2**31, 2**31 - 1, 0]  # type: ignore[union-attr]
    assert reopened.round_secrets(4) is None and reopened.trained_update(4) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the journal holds secrets: its owner's eyes only"


def test_different_secrets_or_updates_for_a_round_are_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    drawn = secrets(0)
    journal.record_round_secrets(drawn)
    journal.record_round_secrets(drawn)  # the same again is fine
    with pytest.raises(JournalError, match="different secrets"):
        journal.record_round_secrets(secrets(0))
    journal.record_trained_update(update(0))
    with pytest.raises(JournalError, match="different update"):
        journal.record_trained_update(update(0, first=6))
    assert journal.round_secrets(0) == drawn and journal.trained_update(0) == update(0)


def test_recording_a_rounds_secrets_erases_the_closed_rounds(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    journal.record_commit(record(0))
    journal.record_round_secrets(secrets(1))
    journal.record_trained_update(update(1))
    later = secrets(2)
    journal.record_round_secrets(later)

    reopened = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    assert reopened.round_secrets(1) is None and reopened.trained_update(1) is None
    assert reopened.round_secrets(2) == later
    assert reopened.commit_record(0) == record(0), "plain commitments are not secrets of a round"


def test_erasing_the_secrets_keeps_the_plain_commitments(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    journal.record_commit(record(0))
    journal.record_round_secrets(secrets(1))
    journal.record_trained_update(update(1))
    journal.erase_round_secrets()

    reopened = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    assert reopened.round_secrets(1) is None and reopened.trained_update(1) is None
    assert reopened.commit_record(0) == record(0)
    assert "round_secrets" in json.loads((tmp_path / "j.json").read_text())


def test_a_version_1_journal_is_read(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text(json.dumps({"version": 1, "owner": OWNER.lower(), "task_id": 1,
                                "commits": {"0": record(0).to_json()}}))
    journal = Journal(path, owner=OWNER, task_id=1)
    assert journal.commit_record(0) == record(0)
    journal.record_round_secrets(secrets(1))
    assert json.loads(path.read_text())["version"] == 2


@pytest.mark.parametrize(("section", "entry", "message"), [
    ("round_secrets", {"round": 1, "mask_key": "0x0"}, "malformed round secrets"),
    ("trained_updates", {"round": 1, "sample_count": 3, "update": "AAAA"}, "malformed trained update"),
    ("trained_updates", {"round": 1, "sample_count": 3, "update": "!!"}, "malformed trained update"),
])
def test_malformed_secure_records_are_reported(tmp_path: Path, section: str, entry: dict[str, object],
                                               message: str) -> None:
    path = tmp_path / "j.json"
    path.write_text(json.dumps({"version": 2, "owner": OWNER.lower(), "task_id": 1, "commits": {},
                                section: {"1": entry}}))
    with pytest.raises(JournalError, match=message):
        Journal(path, owner=OWNER, task_id=1)


def test_a_second_process_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hospital.json"
    first = Journal(path, owner=OWNER, task_id=1)
    first.lock()
    child = subprocess.run([sys.executable, "-c", (
        "import sys\nfrom fedchain.roles.journal import Journal, JournalError\n"
        f"journal = Journal({str(path)!r}, owner={OWNER!r}, task_id=1)\n"
        "try:\n    journal.lock()\nexcept JournalError as error:\n    print(error)\n    sys.exit(3)\n")],
        capture_output=True, text=True, check=False)
    assert child.returncode == 3, child.stderr
    assert f"journal {path} is in use by process {os.getpid()}: one process per journal" in child.stdout
    first.unlock()
    again = Journal(path, owner=OWNER, task_id=1)
    again.lock()  # free again once the first holder let go (or died: the system releases a dead process's lock)
    again.unlock()


# -- a validator's scores -----------------------------------------------------------------------------


def scores(round: int, first: int = 9_000) -> ScoreRecord:
    return ScoreRecord(round=round, participants=("0x" + "11" * 20, "0x" + "22" * 20), scores=(first, 65_535),
                       salt=b"\x04" * 32)


def test_scores_survive_a_restart_and_a_later_round_erases_earlier_ones(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    journal = Journal(path, owner=OWNER, task_id=1)
    journal.record_scores(scores(0))
    journal.record_commit(record(0))
    assert Journal(path, owner=OWNER, task_id=1).score_record(0) == scores(0)
    journal.record_scores(scores(1))
    reopened = Journal(path, owner=OWNER, task_id=1)
    assert reopened.score_record(0) is None and reopened.score_record(1) == scores(1)
    assert reopened.commit_record(0) == record(0), "a participant's records are kept"


def test_different_scores_for_a_round_are_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json", owner=OWNER, task_id=1)
    journal.record_scores(scores(2))
    journal.record_scores(scores(2))  # the same again is fine
    with pytest.raises(JournalError, match="round 2 already has different scores"):
        journal.record_scores(scores(2, first=0))


def test_a_malformed_score_record_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    Journal(path, owner=OWNER, task_id=1).record_scores(scores(0))
    data = json.loads(path.read_text())
    data["scores"]["0"]["salt"] = 7
    path.write_text(json.dumps(data))
    with pytest.raises(JournalError, match="malformed score record"):
        Journal(path, owner=OWNER, task_id=1)
