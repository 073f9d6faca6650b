"""ModelManager: the Jupyter widget that manages Pieces OS models from a notebook.

State flows one way: server -> client -> traits -> frontend. Buttons send commands back, which call
the same Python twins a user calls. Every twin returns an ActionHandle at once; the work runs as
tasks on the kernel's loop (or a private loop in scripts), so nothing blocks the kernel while a
download runs. This class holds the traits, the twins, the representations, the running of an
action and the applying of snapshots; the rest lives in modules named for their job:
`_staging` (batched trait writes), `_connection` (probe, poll, reconnect), `_snapshot` (rows and
their errors), `_downloads` (queue, phases, cancel) and `_commands` (the one table of actions,
frontend routing, error text).
"""

from __future__ import annotations

import asyncio
import itertools
import pathlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anywidget
import traitlets

from ._budget import Fitness
from ._bulk import Bulk
from ._commands import ACTION_LABELS, BY_NAME, ActionError, ManagerClosed, form_fields, friendly
from ._commands import route as _route
from ._connection import Supervisor
from ._downloads import DownloadQueue
from ._runtime import UNKNOWN, RuntimeFollower
from ._snapshot import Snapshot
from ._staging import TraitBatcher
from .client import AsyncPiecesClient
from .errors import PiecesError, PiecesUnavailable
from .handles import ActionHandle
from .rows import html_table, inert, select_models, summary_line, text_table
from .runner import Runner

__all__ = ["ACTION_LABELS", "ActionError", "ModelManager", "form_fields", "friendly"]

_STATIC = pathlib.Path(__file__).parent / "static"
Work = Callable[[ActionHandle], Awaitable[Any]]


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
    budget = traitlets.Dict().tag(sync=True)
    selection = traitlets.List(traitlets.Unicode()).tag(sync=True)
    cleanup = traitlets.Dict().tag(sync=True)
    runtime = traitlets.Dict(UNKNOWN).tag(sync=True)  # the local runtime (Ollama): _runtime.py

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
        usable_fraction: float = 0.8,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_downloads < 1:
            raise ValueError("max_downloads must be at least 1")
        self._device: Any = None  # the server's DeviceInfo, set by the Supervisor on connect
        self._fitness = Fitness(self, usable_fraction)
        self._bulk = Bulk(self)
        self._timeout = timeout
        self.max_downloads = max_downloads
        self.poll_interval = poll_interval
        self.stall_after = stall_after
        self.cancel_timeout = cancel_timeout
        self._runner = Runner.for_caller()
        self._active: dict[tuple[str, str | None], ActionHandle] = {}
        self._active_lock = threading.Lock()
        self._notice_seq = itertools.count(1)
        self._history: list[dict[str, Any]] = []
        self._closed = False
        self._batch = TraitBatcher(self, self._runner, progress_interval)
        self._snapshot = Snapshot(self)
        self._runtime = RuntimeFollower(self)
        self._connection = Supervisor(self, base_url, client)
        self._downloads = DownloadQueue(self)
        self.on_msg(self._on_msg)
        self._connection.connect_now()
        self._batch.direct = False  # from here on, every trait write is batched
        self._runner.spawn(self._connection.run())

    # ------------------------------------------------------------------ public Python twins
    def refresh(self) -> ActionHandle:
        """Fetch the server's snapshot now."""
        return self._start("refresh", None, self._do_refresh)

    def retry(self) -> ActionHandle:
        """Reconnect now (the Retry button) instead of waiting for the next backoff step."""
        return self._start("refresh", None, self._do_retry)

    # Each per-model twin also takes a list of ids: ONE handle, result {id: outcome} (_bulk.py).
    def download(
        self, model_id: str | Iterable[str], *, unload_first: bool = False
    ) -> ActionHandle:
        """Queue a download (at most `max_downloads` run at once); the handle reports progress.

        `handle.cancel()` cancels it like the Cancel button (on the server once it started).
        `unload_first` unloads the models the fit names (`fit_unload`) before it starts.
        """
        return self._bulk.twin(
            "download", model_id, self._runtime.guard(self._downloads.run), unload_first
        )

    def cancel(self, model_id: str | Iterable[str]) -> ActionHandle:
        """Cancel a queued or running download, confirmed against the server's state."""
        return self._bulk.twin("cancel", model_id, self._downloads.cancel)

    def load(self, model_id: str | Iterable[str], *, unload_first: bool = False) -> ActionHandle:
        """Load a downloaded model; `unload_first` unloads what its fit names first."""
        return self._bulk.twin(
            "load", model_id, self._runtime.counted(self._simple("load")), unload_first
        )

    def unload(self, model_id: str | Iterable[str]) -> ActionHandle:
        return self._bulk.twin("unload", model_id, self._simple("unload"))

    def delete(self, model_id: str | Iterable[str]) -> ActionHandle:
        """Delete a custom model (the API allows deleting no other kind)."""
        return self._bulk.twin("delete", model_id, self._do_delete)

    def delete_cache(self, model_id: str | Iterable[str]) -> ActionHandle:
        """Delete a downloaded model's files; it stays in the catalogue, ready to download again."""
        return self._bulk.twin("delete_cache", model_id, self._simple("delete_model_cache"))

    def install_runtime(self) -> ActionHandle:
        """Install the local runtime (Ollama); the handle reports the percentage."""
        return self._start("install_runtime", None, self._runtime.install)

    def update_runtime(self) -> ActionHandle:
        """Update the local runtime (Ollama); the handle reports the percentage."""
        return self._start("update_runtime", None, self._runtime.update)

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
        """The last snapshot as a pandas DataFrame indexed by model id (empty when unreachable).

        With the `fit` of every model (NA for cloud) and `used` (its score counts); the filters
        are the chips' ("fits" too).
        """
        from .frame import models_dataframe

        models, usable = self._snapshot.models, self._fitness.usable
        shown = select_models(models, filter, search, usable)
        return models_dataframe(shown, with_fit=True, usable=usable, catalog=models)

    def fit(self, model_id: str) -> Any:
        """Will it run here? A `FitReport` (`.status`, readable `str()`); None for a cloud model."""
        return self._fitness.report(model_id)

    def cleanup_plan(self, free: int | float | str) -> Any:
        """What to delete to free `free` (bytes or "10 GB"): a DataFrame indexed by id, least
        used first, then larger first, with `bytes`, `used` and the cumulative `freed`."""
        from .cleanup import cleanup_plan

        return cleanup_plan(self._snapshot.models, free)

    def _plan_cleanup(self, free: Any = None) -> Any:  # "Free space...": answers in `cleanup`
        return self._bulk.plan_cleanup(free)

    def _device_changed(self) -> None:  # the Supervisor set `_device`: re-measure the fits
        self._snapshot.restage()

    @traitlets.validate("selection")
    def _valid_selection(self, proposal: Any) -> list[str]:  # catalogue ids only, each once
        return self._bulk.valid_selection(proposal["value"])

    @property
    def snapshot(self) -> list[Any]:
        """The last snapshot as `Model` objects."""
        return list(self._snapshot.models)

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
                self._connection.close()
        super().close()

    # ------------------------------------------------------------------ representations
    def __repr__(self) -> str:
        where = self.server.get("url") or "no server"
        return f"ModelManager({where}, {self.connection}, {summary_line(self._snapshot.models)})"

    def _status_line(self) -> str:
        url = self.server.get("url") or "no server found"
        flags = " (emulated)" if self.server.get("emulated") else ""
        if self.connection == "unreachable":
            return f"Pieces OS unreachable{flags}: {self.server.get('message', '')}"
        return f"Pieces OS at {url}{flags} · {summary_line(self._snapshot.models)}"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget view, plus text and static HTML for places with no widget frontend."""
        result = super()._repr_mimebundle_(**kwargs)
        data, metadata = result if isinstance(result, tuple) else (result or {}, {})
        data = dict(data)
        data["text/plain"] = inert(self._status_line()) + "\n" + text_table(self._snapshot.models)
        data["text/html"] = html_table(self._snapshot.models, self._status_line())
        return data, metadata

    # ------------------------------------------------------------------ the server's state
    async def _api(self) -> AsyncPiecesClient:
        return await self._connection.api()

    async def _refresh(self) -> list[Any]:
        api = await self._api()
        asked = self._snapshot.ask()
        models = await api.list_models()
        self._batch.stage("connection", "connected")
        self._snapshot.apply(models, asked)
        return models

    async def _refresh_quietly(self, model_id: str | None = None) -> None:
        """Re-read the server after an action: only `model_id` while changes are pushed."""
        try:
            if model_id is None or not await self._connection.catalogue.reread_model(model_id):
                await self._refresh()
        except PiecesUnavailable as exc:
            self._connection.set_unreachable(exc)
        except PiecesError as exc:
            self._announce(f"Refresh failed: {exc}", level="error")

    # ------------------------------------------------------------------ running actions
    def _start(self, action: str, model_id: str | None, work: Work) -> ActionHandle:
        """One handle per (action, model) at a time: a double click sends one request."""
        if self._closed:
            raise ManagerClosed("this ModelManager is closed; create a new one")
        key = (action, model_id)
        canceller = None
        if BY_NAME[action].cancellable and model_id is not None:
            canceller = lambda: self.cancel(model_id)  # noqa: E731 - the server is told too
        with self._active_lock:
            existing = self._active.get(key)
            if existing is not None and not existing.done():
                return existing
            handle = ActionHandle(action, model_id, self._runner, self._callback_failed, canceller)
            self._active[key] = handle
        handle._attach(self._runner.spawn(self._run(handle, work), on_done=handle._finish))
        return handle

    async def _run(self, handle: ActionHandle, work: Work) -> Any:
        outcome, message = "done", None
        if handle.model_id is not None:
            self._snapshot.set_row(handle.model_id, busy=handle.action, error=None)
        try:
            result = await work(handle)
            self._snapshot.apply_model(result)
            return result
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:
            outcome, message = "failed", self._failed(handle, exc)
            raise
        finally:
            await self._settle(handle, outcome, message)

    def _failed(self, handle: ActionHandle, exc: Exception) -> str:
        """Tell the user (row and notice) in one sentence; returns it for the history."""
        message = friendly(handle.action, exc, self._timeout)
        if isinstance(exc, PiecesUnavailable):
            self._connection.set_unreachable(exc)
        if handle.model_id is not None:
            self._snapshot.set_row(handle.model_id, error=message)
        self._announce(message, level="error")
        return message

    async def _settle(self, handle: ActionHandle, outcome: str, message: str | None) -> None:
        """After any action: free the row, record it, re-read the server, sync the frontend."""
        if handle.model_id is not None:
            self._snapshot.set_row(handle.model_id, busy=None)
        duration = time.time() - handle.started
        self._history.append(
            {"time": handle.started, "model_id": handle.model_id, "action": handle.action}
            | {"duration": duration, "outcome": outcome, "error": message}
        )
        if handle.action != "refresh" and self._batch.get("connection") == "connected":
            if outcome == "cancelled":  # a cancelled task must not await: refresh beside it
                self._runner.spawn(self._refresh_quietly())
            else:
                await self._refresh_quietly(handle.model_id)
        if outcome != "cancelled":
            await self._batch.synced()  # the frontend has the result when the handle completes

    def _simple(self, method: str) -> Work:
        async def run(handle: ActionHandle) -> Any:
            call = getattr(await self._api(), method)
            return await (call(handle.model_id) if handle.model_id is not None else call())

        return run

    async def _do_refresh(self, handle: ActionHandle) -> list[Any]:
        return await self._refresh()

    async def _do_retry(self, handle: ActionHandle) -> list[Any]:
        if not await self._connection.reconnect():
            raise PiecesUnavailable(self._batch.get("server").get("tried") or [])
        return self._snapshot.models

    async def _do_delete(self, handle: ActionHandle) -> None:
        model = self._snapshot.find(handle.model_id)
        if model is not None and not model.custom:
            raise ActionError("only custom models can be deleted (the API allows no other)")
        await (await self._api()).delete_model(handle.model_id)
        self._announce(f"Deleted {model.name if model else handle.model_id}.")

    # ------------------------------------------------------------------ notices
    def _announce(self, text: str, level: str = "info") -> None:
        self._batch.stage("notice", {"seq": next(self._notice_seq), "level": level, "text": text})

    def _callback_failed(self, exc: BaseException) -> None:
        self._announce(f"A progress callback raised {type(exc).__name__}: {exc}", level="error")

    # ------------------------------------------------------------------ frontend commands
    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            self._command(content)
        except Exception as exc:  # never let a click raise inside the comm handler
            self._announce(f"Could not run that action: {exc}", level="error")

    def _command(self, content: Any) -> ActionHandle | None:
        """Route a frontend command (`{type: "action", action, id?, fields?}`) to its twin."""
        return _route(self, content)

    def _dismiss_error(self, model_id: str) -> None:
        """The row's x on an error: the frontend stops showing it, so Python forgets it too."""
        self._runner.call_soon(lambda: self._snapshot.set_row(model_id, error=None))
