"""A participant's crash-safe local journal: one JSON file, rewritten atomically on every change.

What must survive a crash is what the chain cannot tell, each recorded BEFORE anything that depends on it
is sent:

- plain mode: the salt, root, sample count and blob reference of each commitment, so a restarted agent
  either finds its commitment on chain and reveals from the journal, or commits again with the same salt
  and root;
- an audited task's member: the seed of its batches' salts, before its dataset is registered (its trajectory
  and proofs are recomputed from the data, that seed and the chain);
- a validator (a scored task's committee member): the participants, scores and salt of the round it scores,
  before it commits to them, so a restarted validator reveals what it committed to, or commits the same
  scores again;
- secure mode: a round's secrets (both key pairs, the self seed and the share randomness) before its keys
  are advertised, and its trained update with its sample count before its shares are committed. A
  restarted agent therefore advertises the same keys, rebuilds the same share bundle (the randomness is
  journaled, so the bundle and its reference are byte for byte the same) and masks the same update. The
  secrets of a round are erased when the next round's are recorded (the round has closed by then) and
  all of them once the task has ended: old secrets are only a liability.

Rewards need no note: the contract books them. A transaction that was in flight at the crash needs no
note either: the node's pending pool shows it (`fedchain.roles.Agent.in_flight`). The file holds secrets
and is created readable by its owner only (``tempfile.mkstemp`` makes it 0600).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fedchain.errors import FedchainError
from fedchain.secagg.curve import MaskKeys
from fedchain.secagg.errors import SecAggError
from fedchain.secagg.keys import EncryptionKeys, RoundKeys
from fedchain.secagg.shares import ShareRandomness

JOURNAL_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Version 1 journals (plain commitments only, before secure mode) are read as they are."""
UPDATE_DTYPE = np.dtype("<i4")


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


@dataclass(frozen=True)
class ScoreRecord:
    """A validator's scores of one round: the included participants in increasing order, its score of each one's
    update and the commitment's salt (docs/protocol.md section 12.4)."""

    round: int
    participants: tuple[str, ...]
    scores: tuple[int, ...]
    salt: bytes

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (the salt as 0x-hex)."""
        return {"round": self.round, "participants": list(self.participants), "scores": list(self.scores),
                "salt": "0x" + self.salt.hex()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreRecord:
        """Parse a record written by :meth:`to_json`."""
        try:
            return cls(round=int(data["round"]), participants=tuple(str(address) for address in data["participants"]),
                       scores=tuple(int(score) for score in data["scores"]), salt=bytes.fromhex(data["salt"][2:]))
        except (KeyError, TypeError, ValueError) as error:
            raise JournalError(f"malformed score record {data!r}: {error}") from None


@dataclass(frozen=True)
class RoundSecrets:
    """What a secure participant draws for one round, journaled before its keys are advertised."""

    round: int
    keys: RoundKeys
    self_seed: int
    share_randomness: ShareRandomness

    def to_json(self) -> dict[str, Any]:
        """The secrets as JSON-ready data (integers and bytes as 0x-hex)."""
        randomness = self.share_randomness
        return {
            "round": self.round,
            "mask_key": hex(self.keys.mask.secret),
            "encryption_key": "0x" + self.keys.encryption.secret.hex(),
            "self_seed": hex(self.self_seed),
            "seed_coefficients": [hex(value) for value in randomness.seed_coefficients],
            "key_coefficients": [hex(value) for value in randomness.key_coefficients],
            "nonce": "0x" + randomness.nonce.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoundSecrets:
        """Parse secrets written by :meth:`to_json`."""
        try:
            keys = RoundKeys(MaskKeys(int(data["mask_key"], 16)),
                             EncryptionKeys(bytes.fromhex(data["encryption_key"][2:])))
            randomness = ShareRandomness(tuple(int(value, 16) for value in data["seed_coefficients"]),
                                         tuple(int(value, 16) for value in data["key_coefficients"]),
                                         bytes.fromhex(data["nonce"][2:]))
            return cls(round=int(data["round"]), keys=keys, self_seed=int(data["self_seed"], 16),
                       share_randomness=randomness)
        except (KeyError, TypeError, ValueError, SecAggError) as error:
            raise JournalError(f"malformed round secrets: {error}") from None


@dataclass(frozen=True)
class TrainedUpdate:
    """A participant's quantized update of one round (int32, little-endian bytes) and its sample count,
    journaled before anything that depends on it is sent (plain: the commitment, whose update it must be able
    to put on chain if challenged; secure: its shares, after which the update is masked and uploaded)."""

    round: int
    sample_count: int
    update: bytes

    @classmethod
    def of(cls, round: int, vector: NDArray[np.int32], sample_count: int) -> TrainedUpdate:
        """The record of ``vector`` (1-D int32)."""
        if vector.dtype != np.int32 or vector.ndim != 1:
            raise JournalError(f"an update is a flat int32 vector, got {vector.dtype} {vector.shape}")
        return cls(round=round, sample_count=sample_count, update=vector.astype(UPDATE_DTYPE).tobytes())

    @property
    def vector(self) -> NDArray[np.int32]:
        """The update as a read-only int32 vector."""
        vector: NDArray[np.int32] = np.frombuffer(self.update, dtype=UPDATE_DTYPE).astype(np.int32)
        vector.flags.writeable = False
        return vector

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (the update base64-encoded)."""
        return {"round": self.round, "sample_count": self.sample_count,
                "update": base64.b64encode(self.update).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainedUpdate:
        """Parse a record written by :meth:`to_json`."""
        try:
            update = base64.b64decode(data["update"], validate=True)
            if len(update) % UPDATE_DTYPE.itemsize:
                raise ValueError(f"{len(update)} bytes is not a whole number of int32 values")
            return cls(round=int(data["round"]), sample_count=int(data["sample_count"]), update=update)
        except (KeyError, TypeError, ValueError) as error:
            raise JournalError(f"malformed trained update: {error}") from None


class Journal:
    """The journal of one agent (``owner`` address) for one task, stored at ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, owner: str, task_id: int) -> None:
        self.path = Path(path)
        self.owner = owner.lower()
        self.task_id = task_id
        self._commits: dict[int, CommitRecord] = {}
        self._secrets: dict[int, RoundSecrets] = {}
        self._updates: dict[int, TrainedUpdate] = {}
        self._scores: dict[int, ScoreRecord] = {}
        self._dataset_seed: bytes | None = None
        self._lock: int | None = None
        if self.path.exists():
            self._load()

    # -- one process per journal -------------------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        """The lock file beside the journal."""
        return self.path.with_name(self.path.name + ".lock")

    def lock(self) -> None:
        """Hold the journal for this process (an exclusive ``flock`` on its lock file, released when the process
        ends); a second process on the same journal gets a :class:`JournalError` instead of racing the first."""
        if self._lock is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "another process"
            os.close(descriptor)
            raise JournalError(f"journal {self.path} is in use by {holder}: one process per journal (stop the "
                               "other one, or give this one its own --journal)") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"process {os.getpid()}".encode())
        self._lock = descriptor

    def unlock(self) -> None:
        """Release the journal (also done by the operating system when the process ends)."""
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

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

    # -- a validator's scores ------------------------------------------------------------------------

    def score_record(self, round: int) -> ScoreRecord | None:
        """The scores prepared for ``round``, if any."""
        return self._scores.get(round)

    def record_scores(self, record: ScoreRecord) -> None:
        """Durably record a round's scores before they are committed; refuses to replace different ones. The scores
        of earlier rounds are erased in the same write (only the current round's can still be revealed)."""
        existing = self._scores.get(record.round)
        if existing is not None and existing != record:
            raise JournalError(f"round {record.round} already has different scores in {self.path}")
        self._scores = {round: kept for round, kept in self._scores.items() if round > record.round}
        self._scores[record.round] = record
        self._save()

    # -- secure rounds -------------------------------------------------------------------------------

    def round_secrets(self, round: int) -> RoundSecrets | None:
        """The secrets drawn for secure ``round``, if any."""
        return self._secrets.get(round)

    def record_round_secrets(self, secrets: RoundSecrets) -> None:
        """Durably record a round's secrets before its keys are advertised; refuses to replace different
        ones. The secrets and updates of earlier rounds are erased in the same write."""
        existing = self._secrets.get(secrets.round)
        if existing is not None and existing != secrets:
            raise JournalError(f"round {secrets.round} already has different secrets in {self.path}")
        self._secrets = {round: kept for round, kept in self._secrets.items() if round > secrets.round}
        self._secrets[secrets.round] = secrets
        self._updates = {round: kept for round, kept in self._updates.items() if round >= secrets.round}
        self._save()

    def erase_round_secrets(self) -> None:
        """Erase every round's secrets and update (once the task has ended nothing needs them)."""
        if self._secrets or self._updates:
            self._secrets, self._updates = {}, {}
            self._save()

    def trained_update(self, round: int) -> TrainedUpdate | None:
        """The update trained for ``round``, if any."""
        return self._updates.get(round)

    def record_trained_update(self, update: TrainedUpdate) -> None:
        """Durably record a round's update before anything that depends on it is sent; refuses to replace a
        different one. Updates of earlier rounds are erased in the same write (only the current round's input
        can be challenged)."""
        existing = self._updates.get(update.round)
        if existing is not None and existing != update:
            raise JournalError(f"round {update.round} already has a different update in {self.path}")
        self._updates = {round: kept for round, kept in self._updates.items() if round > update.round}
        self._updates[update.round] = update
        self._save()

    # -- an audited task's dataset ------------------------------------------------------------------

    def dataset_seed(self) -> bytes | None:
        """The seed of the salts of this member's committed batches (an audited task, docs/protocol.md 13.2), if
        drawn."""
        return self._dataset_seed

    def record_dataset_seed(self, seed: bytes) -> None:
        """Durably record the salts' seed before the dataset is registered; refuses to replace a different one (the
        registered root depends on it, and every proof on the salts)."""
        if self._dataset_seed is not None and self._dataset_seed != seed:
            raise JournalError(f"{self.path} already holds a different dataset seed")
        self._dataset_seed = seed
        self._save()

    # -- storage -------------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as error:
            raise JournalError(f"journal {self.path} is unreadable: {error}") from None
        if data.get("version") not in READABLE_VERSIONS:
            raise JournalError(f"journal {self.path} has version {data.get('version')!r}, expected one of "
                               f"{', '.join(map(str, READABLE_VERSIONS))}")
        if data.get("owner") != self.owner or data.get("task_id") != self.task_id:
            raise JournalError(f"journal {self.path} belongs to {data.get('owner')} task {data.get('task_id')}, "
                               f"not {self.owner} task {self.task_id}")
        self._commits = {int(key): CommitRecord.from_json(value) for key, value in data["commits"].items()}
        self._secrets = {int(key): RoundSecrets.from_json(value)
                         for key, value in data.get("round_secrets", {}).items()}
        self._updates = {int(key): TrainedUpdate.from_json(value)
                         for key, value in data.get("trained_updates", {}).items()}
        self._scores = {int(key): ScoreRecord.from_json(value) for key, value in data.get("scores", {}).items()}
        seed = data.get("dataset_seed")
        self._dataset_seed = None if seed is None else bytes.fromhex(seed)

    def _save(self) -> None:
        data = {
            "version": JOURNAL_VERSION,
            "owner": self.owner,
            "task_id": self.task_id,
            "commits": {str(round): record.to_json() for round, record in sorted(self._commits.items())},
            "round_secrets": {str(round): secrets.to_json() for round, secrets in sorted(self._secrets.items())},
            "trained_updates": {str(round): update.to_json() for round, update in sorted(self._updates.items())},
            "scores": {str(round): record.to_json() for round, record in sorted(self._scores.items())},
        }
        if self._dataset_seed is not None:
            data["dataset_seed"] = self._dataset_seed.hex()
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
