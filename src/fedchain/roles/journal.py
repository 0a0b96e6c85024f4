"""A participant's crash-safe local journal: one JSON file, rewritten atomically on every change.

What must survive a crash is what the chain cannot tell: the salt, root, sample count and blob reference
of each commitment (recorded BEFORE the commit is sent, so a restarted agent either finds its commitment
on chain and reveals from the journal, or commits again with the same salt and root). Rewards need no
note: the contract books them. A transaction that was in flight at the crash needs no note either: the
node's pending pool shows it (`fedchain.roles.Agent.in_flight`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fedchain.errors import FedchainError

JOURNAL_VERSION = 1


class JournalError(FedchainError):
    """The journal file is unreadable, of another agent, or asked for something it does not hold."""


@dataclass(frozen=True)
class CommitRecord:
    """Everything needed to reveal one round's commitment."""

    round: int
    salt: bytes
    root: bytes
    sample_count: int
    blob_ref: bytes

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (bytes as 0x-hex)."""
        return {key: "0x" + value.hex() if isinstance(value, bytes) else value for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommitRecord:
        """Parse a record written by :meth:`to_json`."""
        try:
            return cls(round=int(data["round"]), salt=bytes.fromhex(data["salt"][2:]),
                       root=bytes.fromhex(data["root"][2:]), sample_count=int(data["sample_count"]),
                       blob_ref=bytes.fromhex(data["blob_ref"][2:]))
        except (KeyError, TypeError, ValueError) as error:
            raise JournalError(f"malformed commit record {data!r}: {error}") from None


class Journal:
    """The journal of one agent (``owner`` address) for one task, stored at ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, owner: str, task_id: int) -> None:
        self.path = Path(path)
        self.owner = owner.lower()
        self.task_id = task_id
        self._commits: dict[int, CommitRecord] = {}
        if self.path.exists():
            self._load()

    # -- commitments ---------------------------------------------------------------------------------

    def commit_record(self, round: int) -> CommitRecord | None:
        """The commitment prepared for ``round``, if any."""
        return self._commits.get(round)

    def record_commit(self, record: CommitRecord) -> None:
        """Durably record a commitment before it is sent; refuses to replace a different one."""
        existing = self._commits.get(record.round)
        if existing is not None and existing != record:
            raise JournalError(f"round {record.round} already has a different commitment in {self.path}")
        self._commits[record.round] = record
        self._save()

    # -- storage -------------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as error:
            raise JournalError(f"journal {self.path} is unreadable: {error}") from None
        if data.get("version") != JOURNAL_VERSION:
            raise JournalError(f"journal {self.path} has version {data.get('version')!r}, expected {JOURNAL_VERSION}")
        if data.get("owner") != self.owner or data.get("task_id") != self.task_id:
            raise JournalError(f"journal {self.path} belongs to {data.get('owner')} task {data.get('task_id')}, "
                               f"not {self.owner} task {self.task_id}")
        self._commits = {int(key): CommitRecord.from_json(value) for key, value in data["commits"].items()}

    def _save(self) -> None:
        data = {
            "version": JOURNAL_VERSION,
            "owner": self.owner,
            "task_id": self.task_id,
            "commits": {str(round): record.to_json() for round, record in sorted(self._commits.items())},
        }
        write_atomically(self.path, json.dumps(data, indent=1, sort_keys=True).encode())


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
