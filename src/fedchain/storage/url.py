"""One way to name a blob store on a command line: :func:`open_store` parses a store URL.

- a plain path or ``file:///absolute/path``: :class:`~fedchain.storage.store.LocalBlobStore` (a local
  directory, or one on a shared file system such as NFS);
- ``s3://bucket/prefix?endpoint=http://host:port&region=name``:
  :class:`~fedchain.storage.s3.S3BlobStore` (``endpoint`` for servers other than AWS; credentials only
  from the standard AWS environment variables or profiles);
- ``ipfs+http://host:port`` (or ``ipfs+https://``): :class:`~fedchain.storage.ipfs.IpfsBlobStore` over
  that node's RPC API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from fedchain.storage.errors import StorageError
from fedchain.storage.ipfs import IpfsBlobStore
from fedchain.storage.s3 import S3BlobStore
from fedchain.storage.store import BlobStore, LocalBlobStore

S3_OPTIONS: Final = frozenset({"endpoint", "region"})
SCHEMES: Final = "a path, file:///path, s3://bucket/prefix?endpoint=URL or ipfs+http://host:port"


class StoreUrlError(StorageError):
    """A store URL that names no supported backend, or names one wrongly."""


def open_store(url: str) -> BlobStore:
    """The blob store ``url`` names; see the module docstring for the forms."""
    if not url:
        raise StoreUrlError(f"empty store URL: use {SCHEMES}")
    if "://" not in url:
        return LocalBlobStore(Path(url))
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise StoreUrlError(f"store URL {parts.scheme}://{parts.hostname}...: credentials do not belong in a URL; "
                            "set them in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3)")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise StoreUrlError(f"store URL {url!r}: a file URL is file:///absolute/path")
        return LocalBlobStore(Path(parts.path))
    if parts.scheme == "s3":
        return _s3_store(url, parts.netloc, parts.path, parts.query)
    if parts.scheme in ("ipfs+http", "ipfs+https"):
        if not parts.netloc or parts.path not in ("", "/") or parts.query:
            raise StoreUrlError(f"store URL {url!r}: an IPFS store is ipfs+http://host:port (the node's RPC API)")
        return IpfsBlobStore(f"{parts.scheme.removeprefix('ipfs+')}://{parts.netloc}")
    raise StoreUrlError(f"store URL scheme {parts.scheme!r} is not supported: use {SCHEMES}")


def _s3_store(url: str, bucket: str, path: str, query: str) -> S3BlobStore:
    if not bucket:
        raise StoreUrlError(f"store URL {url!r}: an S3 store is s3://bucket/prefix")
    options = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(options) - S3_OPTIONS)
    if unknown:
        raise StoreUrlError(f"store URL {url!r}: unknown S3 option {unknown[0]!r} (known: endpoint, region)")
    for name, values in options.items():
        if len(values) != 1 or not values[0]:
            raise StoreUrlError(f"store URL {url!r}: option {name!r} needs exactly one value")
    endpoint = options.get("endpoint", [None])[0]
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise StoreUrlError(f"store URL {url!r}: endpoint must be an http(s) URL")
    if endpoint is not None and (urlsplit(endpoint).username or urlsplit(endpoint).password):
        raise StoreUrlError(f"store URL s3://{bucket}/...: credentials do not belong in the endpoint; set "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
    prefix = path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3BlobStore(bucket, prefix=prefix, endpoint_url=endpoint, region=options.get("region", [None])[0])
