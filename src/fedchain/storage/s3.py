"""A :class:`~fedchain.storage.store.BlobStore` in S3-compatible object storage (AWS S3, MinIO, Ceph, ...).

A blob is the object ``<prefix><ref hex>`` of one bucket. Credentials and region come from boto3's usual
sources (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``,
profiles, instance roles); they are never part of the store's URL and never appear in an error. An
object PUT is atomic (a reader sees the whole object or none), so a writer killed mid-upload leaves
nothing behind, and several writers may put the same blob at once. Every ``get`` checks the sha256 of
the bytes it received, like every backend.
"""

from __future__ import annotations

from typing import Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fedchain.storage.blob import blob_ref, ref_hex
from fedchain.storage.errors import BlobNotFoundError, StorageError
from fedchain.storage.store import verify_content

DEFAULT_REGION: Final = "us-east-1"
CONNECT_TIMEOUT_S: Final = 10
READ_TIMEOUT_S: Final = 60
RETRIES: Final = 4
_MISSING_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})


class S3BlobStore:
    """Blobs as objects ``prefix + ref hex`` in ``bucket`` (the bucket must exist).

    ``endpoint_url`` names an S3-compatible server other than AWS (``http://127.0.0.1:9000``); ``region``
    defaults to ``AWS_DEFAULT_REGION`` or us-east-1.
    """

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        if not bucket:
            raise StorageError("an S3 store needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        session = boto3.session.Session()
        config = Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                        retries={"max_attempts": RETRIES, "mode": "standard"})
        self._client: Any = session.client("s3", endpoint_url=endpoint_url,
                                           region_name=region or session.region_name or DEFAULT_REGION,
                                           config=config)

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix}{where})"

    def key_for(self, ref: bytes) -> str:
        """The object key of the blob with reference ``ref``."""
        return self.prefix + ref_hex(ref)

    def put(self, data: bytes) -> bytes:
        """Store ``data`` and return its reference; an object of the same size already stored is kept."""
        ref = blob_ref(data)
        key = self.key_for(ref)
        if self._holds(ref, key, len(data)):
            return ref
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"blob {ref_hex(ref)} cannot be written to {self._where(key)}: "
                               f"{_describe(error)}") from None
        return ref

    def get(self, ref: bytes) -> bytes:
        """Return the bytes stored under ``ref``, verified against it."""
        key = self.key_for(ref)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            data: bytes = response["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                raise BlobNotFoundError(f"blob {ref_hex(ref)} not found at {self._where(key)}") from None
            raise StorageError(f"blob {ref_hex(ref)} at {self._where(key)} cannot be read: "
                               f"{_describe(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"blob {ref_hex(ref)} at {self._where(key)} cannot be read: "
                               f"{_describe(error)}") from None
        verify_content(ref, data, self._where(key))
        return data

    def has(self, ref: bytes) -> bool:
        """Whether an object is stored under ``ref`` (not verified: ``get`` verifies)."""
        return self._size(ref, self.key_for(ref)) is not None

    def _holds(self, ref: bytes, key: str, size: int) -> bool:
        """Whether an object of the blob's size is stored: object storage keeps what it was given whole, and a
        copy altered behind its back is still caught by every ``get``."""
        return self._size(ref, key) == size

    def _size(self, ref: bytes, key: str) -> int | None:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise StorageError(f"blob {ref_hex(ref)} at {self._where(key)} cannot be looked up: "
                               f"{_describe(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"blob {ref_hex(ref)} at {self._where(key)} cannot be looked up: "
                               f"{_describe(error)}") from None
        return int(head["ContentLength"])

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}" + (f" ({self.endpoint_url})" if self.endpoint_url else "")


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _MISSING_CODES


def _describe(error: BotoCoreError | ClientError) -> str:
    """The error's code and message: botocore's messages name buckets and endpoints, never credentials."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', '')}".strip().rstrip(":")
    return f"{type(error).__name__}: {error}"
