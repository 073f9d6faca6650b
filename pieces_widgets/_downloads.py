"""DownloadQueue: at most `max_downloads` at once, each with one phase, and Cancel that works.

What Cancel must do depends on how far a download got, so each download of this widget has one
record whose phase only moves forward: `queued` (waiting for a slot: the server never heard of
it, so Cancel drops it locally), `starting` (the download POST is on its way: Cancel waits for the
`sent` event, else its own POST could overtake it) and `running` (Cancel asks the server and
confirms by polling `GET /model/{id}`). The record also remembers that the user cancelled, which
is how a CANCELED end is told apart from a download the server lost (in a restart, say).
All of it runs on the widget's loop, so a phase cannot change between a check and an action.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ._commands import ActionError
from ._watch import DownloadWatcher
from .errors import PiecesError
from .handles import ActionHandle

log = logging.getLogger("pieces_widgets")


@dataclass
class _Download:
    handle: ActionHandle
    phase: str = "queued"  # -> starting -> running
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # the download POST has ended
    cancelled: bool = False  # the user asked to cancel it


class DownloadQueue:
    """The downloads of one ModelManager, and the ones it only watches (started elsewhere)."""

    def __init__(self, manager: Any) -> None:
        self._mm = manager
        self._batch = manager._batch
        self._slots: asyncio.Semaphore | None = None
        self._downloads: dict[str, _Download] = {}
        self.watching: set[str] = set()  # models whose progress socket is open
        # Work to do once a download is queued but before it takes a slot (unloading what is in
        # its way): Cancel meanwhile finds it `queued` and drops it, like any queued download.
        self.before: dict[str, Callable[[], Awaitable[Any]]] = {}

    # -- a download of ours --------------------------------------------------------------------
    async def run(self, handle: ActionHandle) -> Any:
        """The work of `ModelManager.download`: wait for a slot, POST, stream progress."""
        model_id = handle.model_id
        assert model_id is not None
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._mm.max_downloads)  # read at first download
        record = self._downloads[model_id] = _Download(handle)
        self._mm._snapshot.set_row(model_id, busy="queued")
        try:
            before = self.before.pop(model_id, None)
            if before is not None:
                await before()
            async with self._slots:
                record.phase = "starting"  # no await before this: cancel sees it
                return await self._download(record, model_id)
        finally:
            record.sent.set()  # a cancel waiting for the POST must never wait forever
            if self._downloads.get(model_id) is record:
                del self._downloads[model_id]

    async def _download(self, record: _Download, model_id: str) -> Any:
        """Socket first, then the download POST (the watcher's `start`), then every frame.

        The POST's answer is the watcher's first REST look (no GET of its own), and the
        snapshot the widget re-reads once the action ends is its last (no reconcile GET after
        the terminal frame). Each frame goes to the handle (its callbacks see every frame) and,
        newest only, to the next flush.
        """
        api = await self._mm._api()
        self.watching.add(model_id)
        snapshot = self._mm._snapshot

        def started(model: Any) -> None:
            record.sent.set()
            record.phase = "running"
            snapshot.apply_model(model)
            snapshot.set_row(model_id, busy=None)  # Cancel stays usable while it runs

        watcher = DownloadWatcher(
            api,
            model_id,
            stall_after=self._mm.stall_after,
            start=True,
            on_start=started,
            reconcile_end=False,
        )
        emit, push = record.handle._emit, self._batch.push_progress
        final = None
        stream = watcher.stream()
        try:
            async for final in stream:
                emit(final)
                push(model_id, final)
            await self._batch.synced()  # the terminal state reaches the frontend before cleanup
        finally:
            record.sent.set()  # the POST failed (or never went): a cancel must not wait
            self.watching.discard(model_id)
            await stream.aclose()
        return self._outcome(record, model_id, final)

    def _outcome(self, record: _Download, model_id: str, final: Any) -> Any:
        """The final progress, announced; an error when the download did not end as asked."""
        name = self._mm._snapshot.name(model_id)
        status = getattr(final, "status", None)
        if status == "COMPLETED":
            self._mm._announce(f"Downloaded {name}.")
        elif status == "CANCELED" and record.cancelled:
            self._mm._announce(f"Download of {name} cancelled.")
        elif status == "CANCELED":  # nobody here cancelled it: the server dropped it (a restart?)
            raise ActionError(
                "the server stopped the download (did Pieces OS restart?). Downloads restart from "
                "zero: press Download to try again."
            )
        elif status == "FAILED":
            pct = getattr(final, "percentage", None)
            at = f" at {pct:.0f} %" if isinstance(pct, int | float) and math.isfinite(pct) else ""
            raise ActionError(
                f"the server reported the download failed{at}. Downloads restart from zero: "
                "press Download to try again."
            )
        return final

    # -- cancel --------------------------------------------------------------------------------
    async def cancel(self, handle: ActionHandle) -> Any:
        """The work of `ModelManager.cancel`, decided by the download's phase (see module doc)."""
        model_id = handle.model_id
        assert model_id is not None
        record = self._downloads.get(model_id)
        if record is not None and record.phase == "queued":
            record.handle._cancel_task()  # never reached the server: nothing to tell it
            return None
        if record is not None:
            record.cancelled = True
            await record.sent.wait()  # let the download POST land first
        return await self._cancel_on_server(model_id)

    async def _cancel_on_server(self, model_id: str) -> Any:
        api = await self._mm._api()
        model = await api.cancel_download(model_id)
        timeout = self._mm.cancel_timeout
        deadline = time.monotonic() + timeout
        while model.downloading:
            if time.monotonic() > deadline:
                raise ActionError(
                    f"the server still reports the download running {timeout:g} s "
                    "after the cancel request"
                )
            await asyncio.sleep(0.2)
            model = await api.get_model(model_id)
        return model

    # -- downloads started elsewhere -----------------------------------------------------------
    def watch_new(self, downloading: set[str]) -> None:
        """Follow every download the snapshot shows that nobody here watches yet."""
        for model_id in downloading - self.watching:
            self._mm._runner.spawn(self._watch_elsewhere(model_id))

    async def _watch_elsewhere(self, model_id: str) -> None:
        """Show progress of a download started by someone else (another widget, the CLI)."""
        if model_id in self.watching:
            return
        self.watching.add(model_id)
        try:
            api = await self._mm._api()
            async for progress in api.watch_download(model_id, stall_after=self._mm.stall_after):
                self._batch.push_progress(model_id, progress)
            await self._batch.synced()
        except PiecesError as exc:
            log.debug("watching %s ended: %s", model_id, exc)
        finally:
            self.watching.discard(model_id)
        await self._mm._refresh_quietly()
