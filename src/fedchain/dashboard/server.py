"""`fedchain dashboard`: a read-only web page that follows one task as the chain moves.

A Starlette app served by uvicorn. ``/`` is the page: static HTML, CSS and plain JavaScript shipped with the
package (no build step, nothing fetched from elsewhere), which asks ``/api/state`` for the state it shows
(`fedchain.dashboard.state`) every second and redraws what changed, without a reload. One background task
reads the chain every ``poll`` seconds, whatever the number of open pages; a failed read (the node is away, say)
keeps the last state and is shown on the page until a read succeeds again. No key is ever loaded: the chain
connection is read-only, and the server listens on the loopback address unless told otherwise.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import anyio
import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from web3.exceptions import Web3Exception

from fedchain.chain.coordinator import CoordinatorClient
from fedchain.dashboard.state import Follower
from fedchain.errors import FedchainError

SHUTDOWN_GRACE_S = 5


class DashboardError(FedchainError):
    """The dashboard cannot be served (its address is taken, say)."""


class Dashboard:
    """The latest state of the task ``follower`` follows, and what went wrong reading the chain since, if anything."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.state = follower.read()
        self.error: str | None = None

    def refresh(self) -> None:
        """Read the chain again (blocking); a failure is kept in :attr:`error`, the last state stays."""
        try:
            self.state = self.follower.read()
            self.error = None
        except (FedchainError, Web3Exception) as error:
            self.error = f"reading the chain failed, showing block {self.state['task']['block']}: {error}"

    def as_json(self) -> dict[str, Any]:
        """The state the page shows, with the error of the last read (None if it succeeded)."""
        return {**self.state, "error": self.error}


def create_app(dashboard: Dashboard, *, poll: float) -> Starlette:
    """The web app serving ``dashboard``: the page, its static files and ``/api/state``, refreshed every ``poll``
    seconds while the app runs."""
    page = (files("fedchain.dashboard") / "static" / "index.html").read_text(encoding="utf-8")

    async def follow() -> None:
        while True:
            await anyio.sleep(poll)
            await anyio.to_thread.run_sync(dashboard.refresh)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            group.start_soon(follow)
            yield
            group.cancel_scope.cancel()

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(dashboard.as_json(), headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/", index), Route("/api/state", state),
                             Mount("/static", StaticFiles(packages=[("fedchain.dashboard", "static")]))],
                     lifespan=lifespan)


class DashboardServer:
    """The dashboard of task ``task_id`` on ``coordinator`` (``dashboard``), its web app bound to ``host``:``port``
    (0: any free port) and ready to :meth:`serve` (``server``). The task is read once first, so an unknown task
    fails here, before anything listens."""

    def __init__(self, coordinator: CoordinatorClient, task_id: int, *, host: str, port: int, poll: float) -> None:
        self.dashboard = Dashboard(Follower(coordinator, task_id))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self.socket = socket.create_server((host, port), family=family)
        except OSError as error:
            raise DashboardError(f"cannot listen on {host} port {port}: {error.strerror or error}") from None
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.dashboard, poll=poll), ws="none", lifespan="on",
                                                    log_level="warning", access_log=False,
                                                    timeout_graceful_shutdown=SHUTDOWN_GRACE_S))

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def serve(self) -> None:
        """Serve the page until SIGINT (Ctrl-C) or SIGTERM (or until ``server.should_exit`` is set, from another
        thread). uvicorn shuts down gracefully, then raises the signal again: SIGTERM ends the process as it
        would have; Ctrl-C is the usual way out, not an error."""
        try:
            with contextlib.suppress(KeyboardInterrupt):
                self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()
