"""ModelManager: the Jupyter widget that manages Pieces OS models from a notebook.

State flows one way: server -> client -> traits -> frontend. Buttons send commands back, which call
the same Python twins a user calls. Every twin returns an ActionHandle at once; the work runs as
tasks on the kernel's loop (or a private loop in scripts), so nothing blocks the kernel while a
download runs.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import pathlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import anywidget
import traitlets

from .client import AsyncPiecesClient
from .discovery import adiscover
from .errors import ModelNotFound, PiecesAPIError, PiecesError, PiecesTimeout, PiecesUnavailable
from .handles import ActionHandle
from .rows import (
    Throttle,
    html_table,
    inert,
    merge_progress,
    model_rows,
    progress_entry,
    select_models,
    summary_line,
    text_table,
)
from .runner import Runner, run_blocking

log = logging.getLogger("pieces_widgets")
_STATIC = pathlib.Path(__file__).parent / "static"

ACTION_LABELS = {
    "download": "Download", "cancel": "Cancel", "load": "Load", "unload": "Unload",
    "delete": "Delete", "delete_cache": "Delete cache", "unload_all": "Unload all",
    "create": "Add model", "update": "Edit", "refresh": "Refresh",
}  # fmt: skip


class ActionError(PiecesError):
    """An action the widget refused or the server could not complete."""


def friendly(action: str, exc: BaseException, timeout: float) -> str:
    """One human sentence for a failed action; never a traceback."""
    label = ACTION_LABELS.get(action, action)
    if isinstance(exc, ModelNotFound):
        return (
            f"{label} failed: this model is no longer on the server (410). The list was refreshed."
        )
    if isinstance(exc, PiecesTimeout):
        return f"{label} failed: the server did not answer within {timeout:g} s. Try again."
    if isinstance(exc, PiecesUnavailable):
        return f"{label} failed: lost the connection to Pieces OS."
    if isinstance(exc, PiecesAPIError):
        text = " ".join(str(exc.text or "").split())[:300]
        return f"{label} failed: the server answered {exc.status}" + (f": {text}" if text else ".")
    if isinstance(exc, PiecesError):
        return f"{label} failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return f"{label} failed: unexpected {type(exc).__name__}: {exc}"


class ModelManager(anywidget.AnyWidget):
    """A live table of the models of Pieces OS, with actions and download progress."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    progress = traitlets.Dict().tag(sync=True)
    busy = traitlets.Dict().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)
    connection = traitlets.Unicode("connecting").tag(sync=True)
    server = traitlets.Dict().tag(sync=True)
    last_refresh = traitlets.Float(0.0).tag(sync=True)
    notice = traitlets.Dict().tag(sync=True)
    sort = traitlets.Dict({"column": "name", "descending": False}).tag(sync=True)
    filter = traitlets.Unicode("all").tag(sync=True)
    search = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        base_url: str | None = None,
        client: AsyncPiecesClient | None = None,
        *,
        max_downloads: int = 2,
        poll_interval: float | None = 15.0,
        stall_after: float = 10.0,
        progress_interval: float = 0.125,
        timeout: float = 10.0,
        cancel_timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_downloads < 1:
            raise ValueError("max_downloads must be at least 1")
        self._base_url = base_url or (client.base_url if client is not None else None)
        self._client = client
        self._own_client = client is None
        self._timeout = timeout
        self.max_downloads = max_downloads
        self.poll_interval = poll_interval
        self.stall_after = stall_after
        self.cancel_timeout = cancel_timeout
        self._runner = Runner.for_caller()
        self._models: list[Any] = []
        self._active: dict[tuple[str, str | None], ActionHandle] = {}
        self._active_lock = threading.Lock()
        self._watching: set[str] = set()
        self._phase: dict[str, str] = {}  # model id -> queued | starting | running (downloads)
        self._cancelling: set[str] = set()  # downloads the user asked to cancel
        self._error_base: dict[str, str] = {}  # model id -> its state when its error was seen
        self._error_asked: dict[str, int] = {}  # model id -> snapshots asked when its error came
        self._snapshots_asked = 0
        self._slots: asyncio.Semaphore | None = None
        self._wake: asyncio.Event | None = None
        self._staged: dict[str, Any] = {}
        self._latest: dict[str, Any] = {}  # newest DownloadProgress per model, not yet sent
        self._synced_waiters: list[asyncio.Future[None]] = []
        self._direct = True  # the constructor writes traits at once; afterwards they are batched
        self._throttle = Throttle(progress_interval)
        self._flush_timer: asyncio.TimerHandle | None = None
        self._notice_seq = itertools.count(1)
        self._history: list[dict[str, Any]] = []
        self._closed = False
        self.on_msg(self._on_msg)
        self._connect_now()
        self._direct = False
        self._supervisor = self._runner.spawn(self._supervise())

    # ------------------------------------------------------------------ public Python twins
    def refresh(self) -> ActionHandle:
        """Fetch the server's snapshot now."""
        return self._start("refresh", None, self._do_refresh)

    def retry(self) -> ActionHandle:
        """Reconnect now (the Retry button) instead of waiting for the next backoff step."""
        return self._start("refresh", None, self._do_retry)

    def download(self, model_id: str) -> ActionHandle:
        """Queue a download (at most `max_downloads` run at once); the handle reports progress."""
        return self._start("download", model_id, self._do_download)

    def cancel(self, model_id: str) -> ActionHandle:
        """Cancel a queued or running download, confirmed against the server's state."""
        return self._start("cancel", model_id, self._do_cancel)

    def load(self, model_id: str) -> ActionHandle:
        return self._start("load", model_id, self._simple("load"))

    def unload(self, model_id: str) -> ActionHandle:
        return self._start("unload", model_id, self._simple("unload"))

    def delete(self, model_id: str) -> ActionHandle:
        """Delete a custom model (the API allows deleting no other kind)."""
        return self._start("delete", model_id, self._do_delete)

    def delete_cache(self, model_id: str) -> ActionHandle:
        """Delete a downloaded model's files; it stays in the catalogue, ready to download again."""
        return self._start("delete_cache", model_id, self._simple("delete_model_cache"))

    def unload_all(self) -> ActionHandle:
        return self._start("unload_all", None, self._simple("unload_all"))

    def create_model(self, name: str, **fields: Any) -> ActionHandle:
        """Add a custom model (`unique`, `version`, `description`, `parameters`, ...)."""

        async def run(handle: ActionHandle) -> Any:
            model = await (await self._api()).create_model(name, **fields)
            self._announce(f"Added custom model {model.name}.")
            return model

        return self._start("create", None, run)

    def update_model(self, model_id: str, **fields: Any) -> ActionHandle:
        """Change fields of a custom model."""

        async def run(handle: ActionHandle) -> Any:
            api = await self._api()
            current = await api.get_model(model_id)
            if not current.custom:
                raise ActionError("only custom models can be edited")
            return await api.update_model(current, **fields)

        return self._start("update", model_id, run)

    # ------------------------------------------------------------------ data access
    def to_dataframe(self, filter: str = "all", search: str = "") -> Any:
        """The last snapshot as a pandas DataFrame indexed by model id (empty when unreachable)."""
        from .frame import models_dataframe

        return models_dataframe(select_models(self._models, filter, search))

    @property
    def snapshot(self) -> list[Any]:
        """The last snapshot as `Model` objects."""
        return list(self._models)

    @property
    def history(self) -> Any:
        """Every action so far: time, model, action, duration, outcome, error (a DataFrame)."""
        import pandas as pd

        columns = ["time", "model_id", "action", "duration", "outcome", "error"]
        frame = pd.DataFrame(self._history, columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
        return frame

    def close(self) -> None:
        """Stop polling and every running task, and close the HTTP client (never blocks)."""
        if not getattr(self, "_closed", True):  # also safe from __del__ of a half-built widget
            self._closed = True
            loop = self._runner.loop
            if not loop.is_closed() and (loop.is_running() or self._runner.in_loop_thread()):
                self._runner.cancel_all()
                if self._client is not None and self._own_client:
                    client, self._client = self._client, None
                    self._runner.call_soon(lambda: self._runner.spawn(client.aclose()))
        super().close()

    # ------------------------------------------------------------------ representations
    def __repr__(self) -> str:
        where = self.server.get("url") or "no server"
        return f"ModelManager({where}, {self.connection}, {summary_line(self._models)})"

    def _status_line(self) -> str:
        url = self.server.get("url") or "no server found"
        flags = " (emulated)" if self.server.get("emulated") else ""
        if self.connection == "unreachable":
            return f"Pieces OS unreachable{flags}: {self.server.get('message', '')}"
        return f"Pieces OS at {url}{flags} · {summary_line(self._models)}"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget view, plus text and static HTML for places with no widget frontend."""
        result = super()._repr_mimebundle_(**kwargs)
        data, metadata = result if isinstance(result, tuple) else (result or {}, {})
        data = dict(data)
        data["text/plain"] = inert(self._status_line()) + "\n" + text_table(self._models)
        data["text/html"] = html_table(self._models, self._status_line())
        return data, metadata

    # ------------------------------------------------------------------ connection
    def _connect_now(self) -> None:
        """First contact, synchronously: the snapshot is there when the constructor returns."""
        try:
            asked = self._ask_snapshot()
            url, info, models = run_blocking(self._probe(), timeout=self._timeout + 5)
        except PiecesError as exc:
            self._set_unreachable(exc)
        except TimeoutError:
            self._set_unreachable(PiecesTimeout("the server did not answer in time"))
        else:
            self._set_connected(url, info)
            self._apply_snapshot(models, asked)

    async def _probe(self) -> tuple[str, Any, list[Any]]:
        """Find the server and read its version and snapshot with a short-lived client."""
        url = self._base_url or await adiscover()
        async with AsyncPiecesClient(url, timeout=self._timeout) as probe:
            info = await probe.server_info()
            models = await probe.list_models()
        return url, info, models

    async def _api(self) -> AsyncPiecesClient:
        if self._closed:
            raise PiecesError("this ModelManager is closed")
        if self._client is None:
            url = self._get("server").get("url") or self._base_url
            if not url:
                raise PiecesUnavailable(detail="not connected yet")
            self._client = AsyncPiecesClient(url, timeout=self._timeout)
        return self._client

    def _set_connected(self, url: str, info: Any) -> None:
        if self._client is not None and self._own_client and self._client.base_url != url:
            old, self._client = self._client, None
            self._runner.spawn(old.aclose())
        self._stage(
            "server",
            {
                "url": url,
                "version": getattr(info, "version", None),
                "emulated": bool(getattr(info, "emulated", False)),
                "tried": [],
                "message": "",
                "retry_in": None,
            },
        )
        self._stage("connection", "connected")

    def _set_unreachable(self, exc: BaseException, retry_in: float | None = None) -> None:
        server = self._get("server")
        tried = list(getattr(exc, "tried", None) or [])
        if not tried and (server.get("url") or self._base_url):
            tried = [server.get("url") or self._base_url]
        self._stage(
            "server",
            {
                **server,
                "tried": tried,
                "message": (str(exc) or type(exc).__name__).splitlines()[0],
                "retry_in": retry_in,
            },
        )
        self._stage("connection", "unreachable")
        if self._wake is not None:
            self._runner.call_soon(self._wake.set)

    async def _supervise(self) -> None:
        """Poll while connected; reconnect with backoff (1 s doubling to 30 s) while not."""
        self._wake = asyncio.Event()
        backoff = 1.0
        while not self._closed:
            try:
                if self._get("connection") == "connected":
                    if await self._sleep(self.poll_interval):
                        continue  # woken: the connection state changed
                    await self._refresh_quietly()
                else:
                    retry = {"retry_in": backoff, "retry_at": time.time() + backoff}
                    self._stage("server", {**self._get("server"), **retry})
                    await self._sleep(backoff)
                    backoff = 1.0 if await self._reconnect() else min(backoff * 2, 30.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the supervisor must outlive any surprise
                log.exception("pieces_widgets supervisor")
                self._announce(f"Internal error while polling: {exc}", level="error")
                await asyncio.sleep(1.0)

    async def _sleep(self, seconds: float | None) -> bool:
        """Sleep, or wake early when told; True when woken."""
        assert self._wake is not None
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), None if seconds is None else seconds)
            return True
        except asyncio.TimeoutError:
            return False

    async def _reconnect(self) -> bool:
        self._stage("connection", "connecting")
        try:
            asked = self._ask_snapshot()
            url, info, models = await self._probe()
        except PiecesError as exc:
            self._set_unreachable(exc)
            return False
        self._set_connected(url, info)
        self._apply_snapshot(models, asked)
        self._announce(f"Connected to Pieces OS at {url}.")
        return True

    # ------------------------------------------------------------------ snapshot
    async def _refresh(self) -> list[Any]:
        api = await self._api()
        asked = self._ask_snapshot()
        models = await api.list_models()
        self._stage("connection", "connected")
        self._apply_snapshot(models, asked)
        return models

    def _ask_snapshot(self) -> int:
        """Number a snapshot request, so an answer can be told apart from an older request's."""
        self._snapshots_asked += 1
        return self._snapshots_asked

    async def _refresh_quietly(self) -> None:
        try:
            await self._refresh()
        except PiecesUnavailable as exc:
            self._set_unreachable(exc)
        except PiecesError as exc:
            self._announce(f"Refresh failed: {exc}", level="error")

    def _apply_snapshot(self, models: list[Any], asked: int) -> None:
        """Replace the snapshot. A row's error stays until the row's state changes after it.

        Only snapshots asked for after the error count: an older request that lands later still
        describes the world before the failure.
        """
        self._models = list(models)
        states = {m.id: m.state for m in models}
        self._stage("models", model_rows(models))
        errors = {}
        for model_id, message in self._get("errors").items():
            if model_id not in states:
                continue  # the model is gone; its error went out as a notice
            if asked <= self._error_asked.get(model_id, 0):
                errors[model_id] = message
                continue
            base = self._error_base.setdefault(model_id, states[model_id])
            if base == states[model_id]:
                errors[model_id] = message
        self._stage("errors", errors)
        downloading = {m.id for m in models if m.downloading}
        keep = downloading | self._watching
        self._stage("progress", {k: v for k, v in self._get("progress").items() if k in keep})
        self._latest = {k: v for k, v in self._latest.items() if k in keep}
        self._stage("busy", {k: v for k, v in self._get("busy").items() if k in states})
        self._stage("last_refresh", time.time())
        for model_id in downloading - self._watching:
            self._runner.spawn(self._watch_elsewhere(model_id))

    def _apply_model(self, model: Any) -> None:
        """Show one model's new state at once (before the follow-up snapshot)."""
        if model is None or not hasattr(model, "id"):
            return
        models = [model if m.id == model.id else m for m in self._models]
        if any(m.id == model.id for m in self._models):
            self._models = models
            self._stage("models", model_rows(models))

    # ------------------------------------------------------------------ actions
    def _start(
        self,
        action: str,
        model_id: str | None,
        work: Callable[[ActionHandle], Awaitable[Any]],
    ) -> ActionHandle:
        """One handle per (action, model) at a time: a double click sends one request."""
        if self._closed:
            raise RuntimeError("this ModelManager is closed; create a new one")
        key = (action, model_id)
        with self._active_lock:
            existing = self._active.get(key)
            if existing is not None and not existing.done():
                return existing
            handle = ActionHandle(action, model_id, self._runner, self._callback_failed)
            self._active[key] = handle
        handle._attach(self._runner.spawn(self._run(handle, work), on_done=handle._finish))
        return handle

    async def _run(
        self, handle: ActionHandle, work: Callable[[ActionHandle], Awaitable[Any]]
    ) -> Any:
        model_id, outcome, message = handle.model_id, "done", None
        if model_id is not None:
            self._set_row(model_id, busy=handle.action, error=None)
        try:
            result = await work(handle)
            self._apply_model(result)
            return result
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:
            outcome, message = "failed", friendly(handle.action, exc, self._timeout)
            if isinstance(exc, PiecesUnavailable):
                self._set_unreachable(exc)
            if model_id is not None:
                self._set_row(model_id, error=message)
            self._announce(message, level="error")
            raise
        finally:
            if model_id is not None:
                self._set_row(model_id, busy=None)
            self._history.append(
                {
                    "time": handle.started,
                    "model_id": model_id,
                    "action": handle.action,
                    "duration": time.time() - handle.started,
                    "outcome": outcome,
                    "error": message,
                }
            )
            if handle.action != "refresh" and self._get("connection") == "connected":
                if outcome == "cancelled":
                    self._runner.spawn(self._refresh_quietly())
                else:
                    await self._refresh_quietly()
            if outcome != "cancelled":
                await self._synced()  # the frontend has the result when the handle completes

    def _simple(self, method: str) -> Callable[[ActionHandle], Awaitable[Any]]:
        async def run(handle: ActionHandle) -> Any:
            api = await self._api()
            call = getattr(api, method)
            return await (call(handle.model_id) if handle.model_id is not None else call())

        return run

    async def _do_refresh(self, handle: ActionHandle) -> list[Any]:
        return await self._refresh()

    async def _do_retry(self, handle: ActionHandle) -> list[Any]:
        if not await self._reconnect():
            raise PiecesUnavailable(self._get("server").get("tried") or [])
        return self._models

    async def _do_delete(self, handle: ActionHandle) -> None:
        model = next((m for m in self._models if m.id == handle.model_id), None)
        if model is not None and not model.custom:
            raise ActionError("only custom models can be deleted (the API allows no other)")
        await (await self._api()).delete_model(handle.model_id)
        self._announce(f"Deleted {model.name if model else handle.model_id}.")

    async def _do_download(self, handle: ActionHandle) -> Any:
        model_id = handle.model_id
        assert model_id is not None
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_downloads)
        self._set_row(model_id, busy="queued")
        self._phase[model_id] = "queued"
        try:
            async with self._slots:
                self._phase[model_id] = "starting"  # no await before this: cancel sees it
                return await self._download_now(handle, model_id)
        finally:
            self._phase.pop(model_id, None)

    async def _download_now(self, handle: ActionHandle, model_id: str) -> Any:
        api = await self._api()
        self._watching.add(model_id)
        final = None
        try:
            self._apply_model(await api.download(model_id))
            self._phase[model_id] = "running"
            self._set_row(model_id, busy=None)  # Cancel stays usable while it runs
            async for progress in api.watch_download(model_id, stall_after=self.stall_after):
                final = progress
                handle._emit(progress)
                self._push_progress(model_id, progress)
            await self._synced()  # the terminal state reaches the frontend before cleanup
        finally:
            self._watching.discard(model_id)
        return self._finish_download(model_id, final)

    def _finish_download(self, model_id: str, final: Any) -> Any:
        name = next((m.name for m in self._models if m.id == model_id), model_id)
        status = getattr(final, "status", None)
        if status == "COMPLETED":
            self._announce(f"Downloaded {name}.")
        elif status == "CANCELED" and model_id in self._cancelling:
            self._announce(f"Download of {name} cancelled.")
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

    async def _watch_elsewhere(self, model_id: str) -> None:
        """Show progress of a download started by someone else (another widget, the CLI)."""
        if model_id in self._watching:
            return
        self._watching.add(model_id)
        try:
            api = await self._api()
            async for progress in api.watch_download(model_id, stall_after=self.stall_after):
                self._push_progress(model_id, progress)
            await self._synced()
        except PiecesError as exc:
            log.debug("watching %s ended: %s", model_id, exc)
        finally:
            self._watching.discard(model_id)
        await self._refresh_quietly()

    async def _do_cancel(self, handle: ActionHandle) -> Any:
        """Runs on the loop, so its view of the download's phase cannot change under it."""
        model_id = handle.model_id
        assert model_id is not None
        download = self._active.get(("download", model_id))
        if self._phase.get(model_id) == "queued" and download is not None:
            download.cancel()  # never reached the server: nothing to tell it
            return None
        self._cancelling.add(model_id)
        try:
            while self._phase.get(model_id) == "starting":  # let the download POST land first
                await asyncio.sleep(0.02)
            return await self._cancel_on_server(model_id)
        finally:
            self._runner.loop.call_later(5.0, self._cancelling.discard, model_id)

    async def _cancel_on_server(self, model_id: str) -> Any:
        api = await self._api()
        model = await api.cancel_download(model_id)
        deadline = time.monotonic() + self.cancel_timeout
        while model.downloading:
            if time.monotonic() > deadline:
                raise ActionError(
                    f"the server still reports the download running {self.cancel_timeout:g} s "
                    "after the cancel request"
                )
            await asyncio.sleep(0.2)
            model = await api.get_model(model_id)
        return model

    # ------------------------------------------------------------------ state writes
    def _set_row(self, model_id: str, **changes: Any) -> None:
        """Set or clear (None) a row's busy/error entry, replacing the dict so it syncs."""
        for trait, value in changes.items():
            name = {"busy": "busy", "error": "errors"}[trait]
            current = self._get(name)
            if value is None and model_id not in current:
                continue
            updated = {k: v for k, v in current.items() if k != model_id}
            if value is not None:
                updated[model_id] = value
            if name == "errors":  # measured from the next snapshot on (see _apply_snapshot)
                self._error_base.pop(model_id, None)
                self._error_asked[model_id] = self._snapshots_asked
            self._stage(name, updated)

    # Every trait write is staged and all staged values go out together, in one comm message, at
    # most once per `progress_interval` (125 ms): at most 8 messages a second per widget, whatever
    # the frame rate or the number of downloads. Nothing is dropped: only the newest value of each
    # trait is sent, and a terminal state waits at most one interval.

    def _get(self, name: str) -> Any:
        """A trait's value as the frontend will see it after the next flush."""
        return self._staged[name] if name in self._staged else getattr(self, name)

    def _stage(self, name: str, value: Any) -> None:
        if self._direct:
            if getattr(self, name) != value:
                setattr(self, name, value)
            return
        self._staged[name] = value
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._runner.in_loop_thread():
            self._runner.call_soon(self._schedule_flush)
            return
        if self._flush_timer is not None:
            return
        loop = self._runner.loop
        self._flush_timer = loop.call_later(self._throttle.delay(loop.time()), self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        if self._latest:
            progress = dict(self._get("progress"))
            for model_id, latest in self._latest.items():
                progress[model_id] = merge_progress(progress.get(model_id), progress_entry(latest))
            self._latest = {}
            self._staged["progress"] = progress
        staged, self._staged = self._staged, {}
        changed = {k: v for k, v in staged.items() if getattr(self, k) != v}
        if changed:
            with self.hold_sync():
                for name, value in changed.items():
                    setattr(self, name, value)
            self._throttle.mark(self._runner.loop.time())
        waiters, self._synced_waiters = self._synced_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _synced(self) -> None:
        """Wait until everything staged so far has reached the traits (at most one interval)."""
        if not self._staged and not self._latest:
            return
        waiter = self._runner.loop.create_future()
        self._synced_waiters.append(waiter)
        self._schedule_flush()
        await waiter

    def _push_progress(self, model_id: str, progress: Any) -> None:
        """Keep only the newest frame per model; the flush turns it into the row's entry."""
        self._latest[model_id] = progress
        self._schedule_flush()

    def _announce(self, text: str, level: str = "info") -> None:
        self._stage("notice", {"seq": next(self._notice_seq), "level": level, "text": text})

    def _callback_failed(self, exc: BaseException) -> None:
        self._announce(f"A progress callback raised {type(exc).__name__}: {exc}", level="error")

    # ------------------------------------------------------------------ frontend commands
    _COMMANDS: ClassVar[dict[str, str]] = {
        "refresh": "refresh", "retry": "retry", "download": "download", "cancel": "cancel",
        "load": "load", "unload": "unload", "delete": "delete", "delete-cache": "delete_cache",
        "unload-all": "unload_all",
    }  # fmt: skip

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            self._command(content)
        except Exception as exc:  # never let a click raise inside the comm handler
            self._announce(f"Could not run that action: {exc}", level="error")

    def _command(self, content: Any) -> ActionHandle | None:
        if not isinstance(content, dict) or content.get("type") != "action":
            return None
        action, model_id = content.get("action"), content.get("id")
        fields = content.get("fields") if isinstance(content.get("fields"), dict) else {}
        if action == "create":
            clean = form_fields(fields)
            name = clean.pop("name", None)
            if not name:
                raise ActionError("a custom model needs a name")
            return self.create_model(name, **clean)
        if action == "update" and isinstance(model_id, str):
            return self.update_model(model_id, **form_fields(fields, allow_clear=True))
        if action == "dismiss-error" and isinstance(model_id, str):
            self._runner.call_soon(lambda: self._set_row(model_id, error=None))
            return None
        method = self._COMMANDS.get(str(action))
        if method is None:
            raise ActionError(f"unknown action {action!r}")
        twin = getattr(self, method)
        if method in ("refresh", "retry", "unload_all"):
            return twin()
        if not isinstance(model_id, str):
            raise ActionError(f"{action} needs a model id")
        return twin(model_id)


def form_fields(fields: dict[str, Any], allow_clear: bool = False) -> dict[str, Any]:
    """Clean the Add/Edit form's values: strip text, numbers from strings, drop blanks.

    With `allow_clear` (Edit), a field sent as null or blank is cleared on the server.
    """
    out: dict[str, Any] = {}
    optional = ("unique", "description", "quantization", "foundation", "provider")
    for key in ("name", "version", *optional):
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = value.strip()
        elif allow_clear and key in optional and key in fields and not value:
            out[key] = None
    for key, kind in (("parameters", float), ("max_tokens", int)):
        value = fields.get(key)
        if value in (None, ""):
            if allow_clear and key in fields:
                out[key] = None
            continue
        try:
            number = kind(float(value))
        except (TypeError, ValueError):
            raise ActionError(f"{key} must be a number, not {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise ActionError(f"{key} must be a positive number")
        out[key] = number
    if "cloud" in fields:
        out["cloud"] = bool(fields["cloud"])
    return out
