"""Supervisor: finds Pieces OS, keeps the widget connected, and owns its HTTP client.

The widget must show a table at once, follow changes made elsewhere and survive the server
going away. So the first probe runs synchronously in the constructor; afterwards one task
reconnects with backoff (1 s doubling to 30 s) while not connected. While connected, changes
are pushed: the task follows ``/models/stream/identifiers`` (`_catalogue.CatalogueFollower`,
silent reconnects, a full re-read after each) and polls every `poll_interval` only while that
stream is refused (an older Pieces OS) or down. Each (re)connect also fetches the machine's
device information (``manager._device``, None when the server cannot say) and the local
runtime's status. The `connection` and `server` traits change only here, so every transition
(connected, connecting, unreachable; pushed or polling) has one place to look at.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ._catalogue import CatalogueFollower
from ._loop import run_blocking
from .client import AsyncPiecesClient
from .discovery import adiscover
from .errors import PiecesError, PiecesTimeout, PiecesUnavailable

log = logging.getLogger("pieces_widgets")


class Supervisor:
    """Connection state of one ModelManager: probe, poll, backoff reconnect, the API client."""

    backoff_first = 1.0  # seconds before the first automatic reconnect
    backoff_max = 30.0

    def __init__(self, manager: Any, base_url: str | None, client: AsyncPiecesClient | None):
        self._mm = manager
        self._batch = manager._batch
        self._runner = manager._runner
        self.base_url = base_url or (client.base_url if client is not None else None)
        self.client = client
        self.own_client = client is None
        self._wake: asyncio.Event | None = None
        self._generation = 0  # one per connection; the followers start once per generation
        self._started = 0
        self.catalogue = CatalogueFollower(manager, self)

    # -- the API client ------------------------------------------------------------------------
    async def api(self) -> AsyncPiecesClient:
        """The widget's long-lived client, made on first use for the server last connected to."""
        if self._mm._closed:
            raise PiecesError("this ModelManager is closed")
        if self.client is None:
            url = self._batch.get("server").get("url") or self.base_url
            if not url:
                raise PiecesUnavailable(detail="not connected yet")
            self.client = AsyncPiecesClient(url, timeout=self._mm._timeout)
        return self.client

    def close(self) -> None:
        """Close the client we made (never one the caller passed in); never blocks."""
        if self.client is not None and self.own_client:
            client, self.client = self.client, None
            self._runner.call_soon(lambda: self._runner.spawn(client.aclose()))

    # -- probing -------------------------------------------------------------------------------
    def connect_now(self) -> None:
        """First contact, synchronously: the snapshot is there when the constructor returns."""
        timeout = self._mm._timeout
        try:
            asked = self._mm._snapshot.ask()
            url, info, models = run_blocking(self._probe(), timeout=timeout + 5)
        except PiecesError as exc:
            self.set_unreachable(exc)
        except TimeoutError:
            self.set_unreachable(PiecesTimeout("the server did not answer in time"))
        else:
            self.set_connected(url, info)
            self._mm._snapshot.apply(models, asked)

    async def _probe(self) -> tuple[str, Any, list[Any]]:
        """Find the server and read its version and snapshot with a short-lived client."""
        url = self.base_url or await adiscover()
        async with AsyncPiecesClient(url, timeout=self._mm._timeout) as probe:
            info = await probe.server_info()
            models = await probe.list_models()
        return url, info, models

    async def reconnect(self) -> bool:
        """Probe now; True when connected (the snapshot is applied and announced)."""
        self._batch.stage("connection", "connecting")
        try:
            asked = self._mm._snapshot.ask()
            url, info, models = await self._probe()
        except PiecesError as exc:
            self.set_unreachable(exc)
            return False
        self.set_connected(url, info)
        self._mm._snapshot.apply(models, asked)
        self._mm._announce(f"Connected to Pieces OS at {url}.")
        return True

    # -- transitions ---------------------------------------------------------------------------
    def set_connected(self, url: str, info: Any) -> None:
        if self.client is not None and self.own_client and self.client.base_url != url:
            old, self.client = self.client, None
            self._runner.spawn(old.aclose())
        server = {"url": url, "version": getattr(info, "version", None)}
        server |= {"emulated": bool(getattr(info, "emulated", False)), "tried": [], "message": ""}
        server |= self.catalogue.reset("connecting")
        self._batch.stage("server", {**server, "retry_in": None})
        self._batch.stage("connection", "connected")
        self._generation += 1
        self._poke()

    def set_unreachable(self, exc: BaseException, retry_in: float | None = None) -> None:
        server = self._batch.get("server")
        tried = list(getattr(exc, "tried", None) or [])
        if not tried and (server.get("url") or self.base_url):
            tried = [server.get("url") or self.base_url]
        message = (str(exc) or type(exc).__name__).splitlines()[0]
        server = {**server, "tried": tried, "message": message, "retry_in": retry_in}
        self._batch.stage("server", server | self.catalogue.reset("connecting"))
        self._batch.stage("connection", "unreachable")
        self._poke()

    def stage_server(self, **changes: Any) -> None:
        """Change keys of the `server` trait (the stream's badge text), keeping the others."""
        self._batch.stage("server", {**self._batch.get("server"), **changes})

    def _poke(self) -> None:
        """Wake the supervising task: the connection state changed under it."""
        if self._wake is not None:
            self._runner.call_soon(self._wake.set)

    # -- the supervising task ------------------------------------------------------------------
    async def run(self) -> None:
        """Follow pushed changes (polling while they are not pushed) while connected; reconnect
        with backoff while not."""
        self._wake = asyncio.Event()
        backoff = self.backoff_first
        while not self._mm._closed:
            try:
                if self._batch.get("connection") == "connected":
                    backoff = self.backoff_first
                    if self._started != self._generation:
                        self._started = self._generation
                        self._on_connected()
                    if await self._sleep(self.catalogue.poll_seconds()):
                        continue  # woken: the connection or the stream changed
                    await self.catalogue.tick()
                else:
                    retry = {"retry_in": backoff, "retry_at": time.time() + backoff}
                    self._batch.stage("server", {**self._batch.get("server"), **retry})
                    await self._sleep(backoff)  # woken early when the state changes
                    if self._batch.get("connection") == "connected":
                        continue  # a Retry connected meanwhile: no second probe
                    ok = await self.reconnect()
                    backoff = self.backoff_first if ok else min(backoff * 2, self.backoff_max)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the supervisor must outlive any surprise
                log.exception("pieces_widgets supervisor")
                self._mm._announce(f"Internal error while polling: {exc}", level="error")
                await asyncio.sleep(1.0)

    def _on_connected(self) -> None:
        """Per connection: the change stream, the machine's memory, the runtime's status."""
        self.catalogue.start()
        self._runner.spawn(self._fetch_device())
        self._runner.spawn(self._mm._runtime.refresh())

    async def _fetch_device(self) -> None:
        """``manager._device`` = the server's DeviceInfo, or None when it cannot say."""
        try:
            device = await (await self.api()).device_info()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an older server, a fault, a malformed body: fit from local
            log.debug("device information unavailable: %s", exc)
            device = None
        self._mm._device = device
        changed = getattr(self._mm, "_device_changed", None)
        if callable(changed):
            changed()

    async def _sleep(self, seconds: float | None) -> bool:
        """Sleep, or wake early when told; True when woken."""
        assert self._wake is not None
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False
