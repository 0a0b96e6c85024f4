"""The journal survives restarts, refuses foreign or conflicting data, and writes atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchain.roles import CommitRecord, Journal, JournalError

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
