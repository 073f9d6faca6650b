"""Following one model's download: the progress websocket, reconnects and REST reconciles.

Why a class: the rules (socket first, then REST; never wait forever on an idle socket; stalls
reported once; reconnect with backoff; reconcile with REST after every reconnect and at the end;
percentages never go back) need state that lives across frames. `DownloadWatcher` keeps it as
attributes, and `stream()` reads as the rules do.

Why the receive is hand-rolled: at thousands of frames a second, an ``asyncio.timeout`` per
frame (a timer armed and cancelled each time) was the largest cost we control. Here one timer
is armed per `poll_interval` and only interrupts a receive that has really waited that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from . import _http, _wire
from .errors import ModelNotFound, PiecesAPIError, PiecesError, PiecesTimeout, PiecesUnavailable
from .models import Model
from .progress import DownloadProgress, ProgressTracker

log = logging.getLogger("pieces_widgets")
_current_task = asyncio.current_task


class _Api(Protocol):  # what the watcher needs from AsyncPiecesClient
    @property
    def base_url(self) -> str | None: ...
    async def get_model(self, model: Model | str) -> Model: ...
    async def download(self, model: Model | str) -> Model: ...
    async def _ws_connect(self, model_id: str) -> Any: ...


class DownloadWatcher:
    """Yields `DownloadProgress` for one download until it ends (see `stream`)."""

    def __init__(
        self,
        api: _Api,
        model: Model | str,
        *,
        stall_after: float | None = 10.0,
        reconnect: bool = True,
        max_reconnects: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        poll_interval: float = 0.5,
        start: bool = False,
        on_start: Callable[[Model], None] | None = None,
        reconcile_end: bool = True,
    ) -> None:
        self.model_id, _ = _wire.segment(model)
        self.api = api
        self.stall_after = stall_after
        self.reconnect = reconnect
        self.max_reconnects = max_reconnects
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.start = start
        # Called with the download POST's answer (`start=True` only), before any frame: the
        # caller learns the model's new state without a GET of its own.
        self.on_start = on_start
        # The GET after the terminal frame (the size, as REST says); a caller that re-reads
        # the whole catalogue once the download ended (the widget) turns it off.
        self.reconcile_end = reconcile_end
        # With no frame for this long, ask REST whether the download still runs (a lost
        # terminal frame or an unknown final status must not keep us waiting forever).
        self.idle_check = max(stall_after or 10.0, 1.0)
        self.tracker = ProgressTracker(self.model_id, None, stall_after)
        self._ws: Any = None
        self._failures = 0  # consecutive failed reconnects; a frame resets it
        self._stall_reported = False
        self._last_frame = self._next_check = 0.0
        # the receive's wake-up timer (see _recv)
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._waiting = False
        self._interrupted = False
        self._active = 0.0

    async def stream(self) -> AsyncIterator[DownloadProgress]:
        """The socket first, then REST; frames until a terminal one (see `watch_download`)."""
        from websockets.exceptions import ConnectionClosed

        model_id, tracker = self.model_id, self.tracker
        self._ws = await self.api._ws_connect(model_id)
        try:
            api = self.api
            if self.start:
                current = await api.download(model_id)
                if self.on_start is not None:
                    self.on_start(current)
            else:
                current = await api.get_model(model_id)
            tracker.set_total(current.bytes)
            if not current.downloading:
                yield self._settle(current)
                return
            self._last_frame = self._next_check = time.monotonic()
            while True:
                try:
                    message = await self._recv()
                except TimeoutError:
                    for progress in await self._idle():
                        yield progress
                        if progress.terminal:
                            return
                    continue
                except ConnectionClosed as closed:
                    settled = await self._reconnect_or_settle(closed)
                    if settled is not None:
                        yield settled
                        return
                    continue
                frame = _decode_frame(message, model_id)
                if frame is None:
                    continue
                self._failures = 0
                self._last_frame = now = self._active  # when _recv returned
                progress = tracker.update(frame, now)
                if progress._terminal:
                    if not self.reconcile_end:
                        yield progress
                        return
                    with contextlib.suppress(PiecesError):  # reconcile; the frame stays the truth
                        tracker.set_total((await api.get_model(model_id)).bytes)
                        progress = tracker.tick()
                    yield progress
                    return
                self._stall_reported = progress._stalled
                yield progress
        finally:
            self._disarm()
            if self._ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._ws.close(), 2.0)

    # ----------------------------------------------------------------- no frame for a while

    async def _idle(self) -> list[DownloadProgress]:
        """A stall (reported once) and, after `idle_check` s without a frame, a REST check."""
        out = []
        progress = self.tracker.tick()
        if progress.stalled and not self._stall_reported:
            self._stall_reported = True
            out.append(progress)
        now = time.monotonic()
        if now - self._last_frame >= self.idle_check and now >= self._next_check:
            self._next_check = now + self.idle_check
            current = await self.api.get_model(self.model_id)
            self.tracker.set_total(current.bytes)
            if not current.downloading:
                out.append(self._settle(current))
        return out

    def _settle(self, model: Model) -> DownloadProgress:
        """Terminal progress derived from REST when no frame will tell us."""
        self.tracker.set_total(model.bytes)
        return self.tracker.finish("COMPLETED" if model.downloaded else "CANCELED")

    # ----------------------------------------------------------------- a dropped socket

    async def _reconnect_or_settle(self, closed: Exception) -> DownloadProgress | None:
        """Reconnect (or, without `reconnect`, ask REST); a terminal progress if it ended."""
        self._disarm()
        with contextlib.suppress(Exception):
            await self._ws.close()
        self._ws = None
        if not self.reconnect:
            current = await self.api.get_model(self.model_id)
            if not current.downloading:
                return self._settle(current)
            raise PiecesUnavailable(
                [self.api.base_url or ""], "the progress socket closed mid-download"
            ) from closed
        current = await self._reconnect()
        self._last_frame = time.monotonic()
        self.tracker.set_total(current.bytes)
        return None if current.downloading else self._settle(current)

    async def _reconnect(self) -> Model:
        """Reconnect the progress socket, then reconcile with REST; raise after too many tries."""
        last: PiecesError | None = None
        while self._failures < self.max_reconnects:
            await asyncio.sleep(min(self.backoff * 2**self._failures, self.max_backoff))
            self._failures += 1
            try:
                ws = await self.api._ws_connect(self.model_id)
            except (PiecesUnavailable, PiecesTimeout) as e:
                last = e
                continue
            try:
                current = await self.api.get_model(self.model_id)
            except (PiecesUnavailable, PiecesTimeout) as e:
                last = e
                with contextlib.suppress(Exception):
                    await ws.close()
                continue
            self._ws = ws
            return current
        raise PiecesUnavailable(
            [self.api.base_url or ""],
            f"progress socket lost; gave up after {self.max_reconnects} tries",
        ) from last

    # ----------------------------------------------------------------- receiving

    async def _recv(self) -> Any:
        """The next message, or TimeoutError once no message came for `poll_interval` s.

        The wake-up timer is re-armed only when it fires, not per frame; when it finds the
        receive waiting for that long it cancels it (websockets' recv is safe to cancel: the
        message stays queued), exactly what ``asyncio.timeout`` would do at every frame.
        """
        self._task = _current_task()  # the consumer's (the sync twin uses one per item)
        if self._timer is None:
            self._active = time.monotonic()
            self._timer = asyncio.get_running_loop().call_later(self.poll_interval, self._wake)
        self._waiting = True
        try:
            return await self._ws.recv()
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
            self._interrupted = False
            uncancel = getattr(self._task, "uncancel", None)  # Python >= 3.11
            if uncancel is not None and uncancel() > 0:
                raise  # cancelled from outside as well
            raise TimeoutError from None
        finally:
            self._waiting = False
            self._active = time.monotonic()

    def _wake(self) -> None:
        self._timer = None
        idle = time.monotonic() - self._active
        if idle < self.poll_interval:  # a message came meanwhile: sleep again
            delay = self.poll_interval - idle
            self._timer = asyncio.get_running_loop().call_later(delay, self._wake)
        elif self._waiting and self._task is not None:
            self._interrupted = True
            self._task.cancel()
        # else: the consumer holds the stream; the next _recv arms a fresh timer

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._interrupted = False


_scan = json.JSONDecoder().scan_once


def _decode_frame(message: Any, model_id: str) -> dict[str, Any] | None:
    """A frame's JSON object, or None (logged) for anything else.

    The C scanner alone for the usual compact text frame; `json.loads` for the rest (bytes,
    surrounding whitespace, errors), so the result is what `json.loads` says.
    """
    frame: Any = None
    try:
        if type(message) is str:
            try:
                frame, end = _scan(message, 0)
                if end != len(message):
                    frame = json.loads(message)
            except StopIteration:
                frame = json.loads(message)
        else:
            frame = json.loads(message)
    except (TypeError, ValueError):
        frame = None
    if type(frame) is not dict:
        text = message if isinstance(message, str) else repr(message)
        log.warning(
            "download %s: ignored a progress frame that is not a JSON object: %.200s",
            model_id,
            text,
        )
        return None
    return frame


# --------------------------------------------------------------------------- the websocket


@functools.lru_cache(maxsize=1)
def _no_redirect_connect() -> Any:
    """websockets' connect(), minus its redirect following (up to 10, cross-host included)."""
    from websockets.asyncio.client import connect

    class NoRedirectConnect(connect):
        def process_redirect(self, exc: Exception) -> Exception | str:
            return exc  # a redirect answer surfaces as InvalidStatus: an error, not a new host

    return NoRedirectConnect


@functools.lru_cache(maxsize=1)
def _ws_options() -> dict[str, Any]:
    """Never route a loopback websocket through a system proxy (websockets >= 15 would)."""
    import inspect

    from websockets.asyncio.client import connect

    if "proxy" in inspect.signature(connect.__init__).parameters:
        return {"proxy": None}
    return {}


async def connect(base: str, model_id: str, timeout: float) -> Any:
    """Open a model's download-progress websocket; errors mapped like REST's.

    `PiecesUnavailable` wraps the original error as its ``__cause__`` (an OSError means the
    server is not there, so a discovered URL should be forgotten).
    """
    return await connect_path(base, _wire.progress_path(model_id), timeout, model_id)


async def connect_path(base: str, path: str, timeout: float, model_id: str | None = None) -> Any:
    """Open the websocket at `path` (already encoded): a refused upgrade is `PiecesAPIError`
    (`ModelNotFound` on 410 when `model_id` is given), no server `PiecesUnavailable`."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    url = "ws" + base[4:] + path  # http -> ws, https -> wss
    try:
        return await _no_redirect_connect()(
            url,
            open_timeout=timeout,
            compression=None,
            user_agent_header=_http.USER_AGENT,
            **_ws_options(),
        )
    except InvalidStatus as e:
        status = e.response.status_code
        text = bytes(e.response.body or b"").decode("utf-8", "replace")
        if status == 410 and model_id is not None:
            raise ModelNotFound(model_id, text or "model was not found.", "WS", path) from None
        raise PiecesAPIError(status, text, "WS", path) from None
    except (OSError, asyncio.TimeoutError, InvalidHandshake) as e:
        what = "progress socket" if model_id is not None else path
        raise PiecesUnavailable([base], f"{what}: {e or type(e).__name__}") from e
