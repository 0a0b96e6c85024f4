"""A :class:`~fedchain.storage.store.BlobStore` over the IPFS HTTP RPC API of a kubo node (or any node that
speaks it).

Each blob is one raw IPFS block: ``block/put`` with ``cid-codec=raw`` and ``mhtype=sha2-256`` makes its
content identifier the CIDv1 of codec raw over the sha256 multihash, which is exactly the on-chain blob
reference with a fixed prefix. :func:`cid_of` therefore turns a reference into the CID with no lookup
table, and any node of the network can fetch the blob from the chain's reference alone. Blocks are
pinned, so the node's garbage collection keeps them.

Limitation: a single block above 1 MiB (blobs of models with more than about 260,000 parameters) needs
``allow-big-block``, which kubo accepts and serves over its HTTP API, but bitswap does not transfer such
blocks between nodes. Parties that share one node (or one cluster behind one API) are unaffected; a
consortium of separate nodes with larger models should use S3-compatible storage or a shared directory.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Final

import requests

from fedchain.storage.blob import blob_ref, check_ref, ref_hex
from fedchain.storage.errors import BlobNotFoundError, StorageError
from fedchain.storage.store import verify_content

CID_PREFIX: Final = bytes([0x01, 0x55, 0x12, 0x20])
"""CIDv1, multicodec raw (0x55), multihash sha2-256 (0x12) of 32 bytes (0x20)."""
MAX_BITSWAP_BLOCK_BYTES: Final = 1024 * 1024
REQUEST_TIMEOUT_S: Final = 120.0
FETCH_TIMEOUT: Final = "60s"
"""How long the node may search the network for a block before a get gives up (kubo's ``timeout``)."""
_MISSING_MARKERS: Final = ("not found", "could not find", "deadline exceeded")


def cid_of(ref: bytes) -> str:
    """The CIDv1 (raw, sha2-256), base32 as kubo prints it, of the block whose sha256 is ``ref``."""
    encoded = base64.b32encode(CID_PREFIX + check_ref(ref)).decode().lower().rstrip("=")
    return "b" + encoded


class IpfsBlobStore:
    """Blobs as raw blocks of the IPFS node whose RPC API listens at ``api_url`` (``http://127.0.0.1:5001``)."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url.rstrip("/")
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"IpfsBlobStore({self.api_url!r})"

    def put(self, data: bytes) -> bytes:
        """Store ``data`` as a pinned raw block and return its reference; checks the CID the node assigned."""
        ref = blob_ref(data)
        params = {"cid-codec": "raw", "mhtype": "sha2-256", "mhlen": "32", "pin": "true",
                  "allow-big-block": "true" if len(data) > MAX_BITSWAP_BLOCK_BYTES else "false"}
        answer = self._call("block/put", ref, params, files={"data": ("blob", data, "application/octet-stream")})
        try:
            key = json.loads(answer)["Key"]
        except (ValueError, KeyError, TypeError):
            raise StorageError(f"blob {ref_hex(ref)}: the IPFS node at {self.api_url} answered block/put with "
                               f"{answer[:200]!r}, not a block key") from None
        if key != cid_of(ref):
            raise StorageError(f"blob {ref_hex(ref)}: the IPFS node at {self.api_url} stored it as {key}, expected "
                               f"{cid_of(ref)} (a raw sha2-256 block)")
        return ref

    def get(self, ref: bytes) -> bytes:
        """Return the block of ``ref`` (fetched from the network if this node lacks it), verified."""
        data = self._call("block/get", ref, {"arg": cid_of(ref), "timeout": FETCH_TIMEOUT})
        verify_content(ref, data, self._where(ref))
        return data

    def has(self, ref: bytes) -> bool:
        """Whether this node holds the block (asked offline: the network is not searched)."""
        try:
            self._call("block/stat", ref, {"arg": cid_of(ref), "offline": "true"})
        except BlobNotFoundError:
            return False
        return True

    def _call(self, command: str, ref: bytes, params: dict[str, str], files: Any = None) -> bytes:
        url = f"{self.api_url}/api/v0/{command}"
        try:
            response = self._session.post(url, params=params, files=files, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as error:
            raise StorageError(f"blob {ref_hex(ref)}: no IPFS RPC API answers at {self.api_url} "
                               f"({type(error).__name__})") from None
        if response.ok:
            return response.content
        message = _error_message(response)
        if command != "block/put" and any(marker in message.lower() for marker in _MISSING_MARKERS):
            raise BlobNotFoundError(f"blob {ref_hex(ref)} not found at {self._where(ref)}: {message}")
        raise StorageError(f"blob {ref_hex(ref)}: {command} at {self.api_url} failed with HTTP "
                           f"{response.status_code}: {message}")

    def _where(self, ref: bytes) -> str:
        return f"ipfs {cid_of(ref)} via {self.api_url}"


def _error_message(response: requests.Response) -> str:
    """kubo answers errors as JSON ``{"Message": ..., "Code": ..., "Type": "error"}``."""
    try:
        return str(response.json()["Message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason
