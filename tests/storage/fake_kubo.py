"""A fake IPFS node that speaks the part of kubo's HTTP RPC API that IpfsBlobStore uses.

No real kubo can be installed here (its npm package downloads the binary at install time), so the IPFS
backend is tested against this server on loopback. It follows kubo's documented behaviour for the three
commands: POST only; ``block/put`` takes a multipart file, honours ``cid-codec``, ``mhtype``, ``mhlen``
and refuses blocks over 1 MiB without ``allow-big-block``, answering ``{"Key": cid, "Size": n}``;
``block/get`` answers the raw bytes; ``block/stat`` answers ``{"Key", "Size"}``; a missing block is HTTP
500 with ``{"Message": "block was not found locally (offline): ipld: could not find <cid>", "Code": 0,
"Type": "error"}``. The CID is computed here independently of fedchain (multibase base32 of CIDv1 raw
sha2-256). ``blocks`` is the node's blockstore, which tests may tamper with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

MAX_BLOCK_BYTES = 1024 * 1024
RAW_CODEC = 0x55
SHA2_256 = 0x12


def raw_cid(data: bytes) -> str:
    """CIDv1 of a raw block hashed with sha2-256, base32 lowercase with the multibase prefix 'b'."""
    binary = bytes([0x01, RAW_CODEC, SHA2_256, 32]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(binary).decode().lower().rstrip("=")


class FakeKubo:
    """The fake node; use as a context manager. ``api_url`` is what IpfsBlobStore is given."""

    def __init__(self) -> None:
        self.blocks: dict[str, bytes] = {}
        self.pinned: set[str] = set()
        self.requests: list[str] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                node.handle(self)

            def do_GET(self) -> None:
                self._answer(405, {"Message": "405 - Method Not Allowed", "Code": 0, "Type": "error"})

            def _answer(self, status: int, body: dict[str, object]) -> None:
                node.answer(self, status, json.dumps(body).encode(), "application/json")

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeKubo:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        """Dispatch one POST to the command in its path."""
        parts = urlsplit(request.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        command = parts.path.removeprefix("/api/v0/")
        self.requests.append(command)
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        if command == "block/put":
            self._put(request, query, body)
        elif command in ("block/get", "block/stat"):
            cid = query.get("arg", "")
            if cid not in self.blocks:
                self.error(request, f"block was not found locally (offline): ipld: could not find {cid}")
            elif command == "block/get":
                self.answer(request, 200, self.blocks[cid], "text/plain")
            else:
                self.json(request, {"Key": cid, "Size": len(self.blocks[cid])})
        else:
            self.answer(request, 404, b"404 page not found", "text/plain")

    def _put(self, request: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        if (query.get("cid-codec"), query.get("mhtype"), query.get("mhlen", "32")) != ("raw", "sha2-256", "32"):
            self.error(request, "this fake node only makes raw sha2-256 blocks")
            return
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        files = [part.get_payload(decode=True) for part in message.iter_parts()]
        if len(files) != 1 or not isinstance(files[0], bytes):
            self.error(request, "block/put takes exactly one file")
            return
        data = files[0]
        if len(data) > MAX_BLOCK_BYTES and query.get("allow-big-block") != "true":
            self.error(request, f"produced block is over 1MiB: big blocks can't be exchanged with other peers. "
                                f"consider using UnixFS for automatic chunking of bigger files, or pass "
                                f"--allow-big-block to override ({len(data)} bytes)")
            return
        cid = raw_cid(data)
        self.blocks.setdefault(cid, data)
        if query.get("pin") == "true":
            self.pinned.add(cid)
        self.json(request, {"Key": cid, "Size": len(data)})

    def json(self, request: BaseHTTPRequestHandler, body: dict[str, object]) -> None:
        """A 200 JSON answer."""
        self.answer(request, 200, json.dumps(body).encode(), "application/json")

    def error(self, request: BaseHTTPRequestHandler, message: str) -> None:
        """kubo's error answer."""
        body = json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode()
        self.answer(request, 500, body, "application/json")

    @staticmethod
    def answer(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        """Send one complete HTTP answer."""
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
