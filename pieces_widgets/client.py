"""`AsyncPiecesClient` and `PiecesClient`: the Pieces OS model API over httpx and websockets.

Two thin twins on one base (`_BaseClient`); each REST method is one line over a pure builder
of `_wire` (device, usage, runtime and pushed changes: `_client_os` over `_wire_os`). The sync
twin sends REST with ``httpx.Client``, not through an event loop (an async request driven from
another thread costs ~2 ms more on a 1,000-model snapshot: most of the 1.3x budget against a
bare ``httpx.get``); its `watch_download` runs the async `_watch.DownloadWatcher` on the shared
loop thread of `_loop`. `list_models` reuses unchanged `Model` objects of the previous snapshot
(``reuse_models=False`` opts out).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from . import _http, _wire
from ._client_os import AsyncOsApi, SyncOsApi
from ._loop import LoopTasks
from ._models_stream import ModelsChange, PiecesStreamUnsupported
from ._watch import DownloadWatcher
from ._wire import ServerInfo, _Call
from .discovery import _explicit, adiscover, discover
from .errors import PiecesError, PiecesTimeout, PiecesUnavailable
from .models import Model
from .progress import DownloadProgress

__all__ = [
    "AsyncPiecesClient",
    "ModelsChange",
    "PiecesClient",
    "PiecesStreamUnsupported",
    "ServerInfo",
]

log = logging.getLogger("pieces_widgets")


class _BaseClient:
    """What both twins share: the URL rules, the HTTP client's settings, the snapshot parser."""

    _sync: bool  # which httpx client: Client (True) or AsyncClient

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        *,
        discover_timeout: float = 1.0,
        headers: dict[str, str] | None = None,
        reuse_models: bool = True,
    ) -> None:
        self.timeout = float(timeout)
        self.discover_timeout = discover_timeout
        self._explicit = _explicit(base_url, None)
        self._base_url: str | None = self._explicit or self._first_url()
        self._extra_headers = dict(headers or {})
        self._list_call = _wire.models(_wire.SnapshotParser(reuse_models))
        self._http: Any = _http.http_client(self._sync, self.timeout, headers)
        self._http_error = _http.http_error()
        self._closed = False
        self._ready()

    def _ready(self) -> None:
        """Subclasses set up their own state here (after the HTTP client exists)."""

    def _first_url(self) -> str | None:
        """The URL before the first call when none was given (None: discover on first use)."""
        return None

    def _request(self, call: _Call, base: str) -> tuple[tuple[str, str], dict[str, Any]]:
        return (call.method, base + call.path), {"content": call.body, "headers": call.headers}


class AsyncPiecesClient(AsyncOsApi, _BaseClient):
    """Async client for the Pieces OS model API (the widget's engine; `async with` it).

    ``base_url=None`` means: ``PIECES_OS_URL`` if set, else discovery on first use (or on
    `resolve()` / ``async with``). A discovered URL that stops answering is forgotten, so the
    next call discovers again (Pieces OS may come back on another port).
    """

    _sync = False

    @property
    def base_url(self) -> str | None:
        """The resolved URL (no trailing slash), or None before discovery ran."""
        return self._base_url

    async def resolve(self) -> str:
        """Resolve (discover if needed) and return the base URL; `PiecesUnavailable` if none."""
        if self._base_url is None:
            self._base_url = await adiscover(timeout=self.discover_timeout)
        return self._base_url

    async def __aenter__(self) -> AsyncPiecesClient:
        await self.resolve()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        self._closed = True
        await self._http.aclose()

    async def _do(self, call: _Call) -> Any:
        if self._closed:
            raise PiecesError("this client is closed")
        base = await self.resolve()
        started = time.perf_counter()
        args, kwargs = self._request(call, base)
        try:
            response = await self._http.request(*args, **kwargs)
        except self._http_error as e:
            error = _wire.transport_error(e, call, base, self.timeout)
            if isinstance(error, PiecesUnavailable) and self._explicit is None:
                self._base_url = None  # rediscover next time
            raise error from e
        elapsed = (time.perf_counter() - started) * 1000
        log.debug("%s %s -> %d (%.1f ms)", call.method, call.path, response.status_code, elapsed)
        return _wire.interpret(call, response)

    async def _ws_connect(self, model_id: str) -> Any:
        return await self._ws_open(_wire.progress_path(model_id), model_id)

    # ----------------------------------------------------------------- API

    async def server_info(self) -> ServerInfo:
        """URL, version text and whether the server is the bundled emulator."""
        return await self._do(_wire.version(await self.resolve()))

    async def ping(self) -> bool:
        """True when ``/.well-known/health`` answers 2xx; False when unreachable. Never raises
        for connection problems (handy for a reconnect loop)."""
        try:
            return await self._do(_wire.HEALTH)
        except (PiecesUnavailable, PiecesTimeout):
            return False

    async def list_models(self) -> list[Model]:
        """Every model (``GET /models``), in server order; odd entries skipped with a warning."""
        return await self._do(self._list_call)

    async def get_model(self, model: Model | str) -> Model:
        """One model by id (`ModelNotFound` on 410)."""
        return await self._do(_wire.get(model))

    async def create_model(
        self,
        name: str,
        *,
        unique: str | None = None,
        version: str = "1",
        cloud: bool = False,
        description: str | None = None,
        parameters: float | None = None,
        quantization: str | None = None,
        max_tokens: int | None = None,
        foundation: str | None = None,
        provider: str | None = None,
        type: str = "BALANCED",
        usage: str = "CODE_CONVERSATION",
        **extra: Any,
    ) -> Model:
        """Register a custom model (``POST /models/create``); extra keys go on the wire as-is
        (``bytes``/``ram`` as int byte counts)."""
        fields = {k: v for k, v in locals().items() if k not in ("self", "name", "extra")}
        return await self._do(_wire.create(name, **fields, extra=extra))

    async def update_model(self, model: Model | dict[str, Any], **changes: Any) -> Model:
        """Send a full model with `changes` applied (``POST /model/update``, custom models only)."""
        return await self._do(_wire.update(model, changes))

    async def delete_model(self, model: Model | str) -> None:
        """Delete a custom model (``POST /models/{id}/delete``)."""
        await self._do(_wire.delete(model))

    async def delete_model_cache(self, model: Model | str) -> None:
        """Delete a model's downloaded files (``POST /models/{id}/delete/cache``)."""
        await self._do(_wire.delete_cache(model))

    async def unload_all(self) -> None:
        """Unload every loaded model (``POST /models/unload``)."""
        await self._do(_wire.UNLOAD_ALL)

    async def download(self, model: Model | str) -> Model:
        """Start a download; returns at once (watch it with `watch_download`)."""
        return await self._do(_wire.download(model))

    async def cancel_download(self, model: Model | str) -> Model:
        """Cancel a running download."""
        return await self._do(_wire.cancel_download(model))

    async def load(self, model: Model | str) -> Model:
        """Load a downloaded model into memory."""
        return await self._do(_wire.load(model))

    async def unload(self, model: Model | str) -> Model:
        """Unload a model from memory."""
        return await self._do(_wire.unload(model))

    async def watch_download(
        self,
        model: Model | str,
        *,
        stall_after: float | None = 10.0,
        reconnect: bool = True,
        max_reconnects: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        poll_interval: float = 0.5,
        start: bool = False,
    ) -> AsyncIterator[DownloadProgress]:
        """Yield `DownloadProgress` for one model's download until it ends (the last item is
        terminal); see `_watch.DownloadWatcher` for the rules: the socket first, then REST; one
        terminal item at once when no download runs; `stall_after` seconds without change
        yield ``stalled=True``; a dropped socket is reconnected with exponential `backoff` (at
        most `max_reconnects` failures in a row) and reconciled with REST; never going back.
        """
        options = {k: v for k, v in locals().items() if k not in ("self", "model")}
        stream = DownloadWatcher(self, model, **options).stream()
        try:
            async for progress in stream:
                yield progress
        finally:
            await stream.aclose()


class PiecesClient(SyncOsApi, _BaseClient):
    """Blocking twin of `AsyncPiecesClient` for scripts and notebook cells.

    Same methods, same returns, usable as ``with PiecesClient() as c:``. The constructor
    resolves the URL (discovery when ``base_url`` is None), so `base_url` is always set.
    Safe to call from inside a running event loop (Jupyter): REST uses a sync httpx client,
    and `watch_download` runs on the shared background loop thread.
    """

    _sync = True

    def _ready(self) -> None:
        self._tasks = LoopTasks(lambda: PiecesError("this client is closed"))
        self._async: AsyncPiecesClient | None = None
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_quietly, self._http, self._tasks, None)

    def _first_url(self) -> str:
        return discover(timeout=self.discover_timeout)

    @property
    def base_url(self) -> str:
        """The resolved URL, no trailing slash."""
        return self._base_url or ""

    def __enter__(self) -> PiecesClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and cancel this client's watches on the shared loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._finalizer.detach()
            client, self._async = self._async, None
        _close_quietly(self._http, self._tasks, client)

    def _do(self, call: _Call) -> Any:
        if self._closed:
            raise PiecesError("this client is closed")
        base = self.base_url
        args, kwargs = self._request(call, base)
        try:
            response = self._http.request(*args, **kwargs)
        except self._http_error as e:
            raise _wire.transport_error(e, call, base, self.timeout) from e
        log.debug("%s %s -> %d", call.method, call.path, response.status_code)
        return _wire.interpret(call, response)

    def _async_client(self) -> AsyncPiecesClient:
        with self._lock:  # two threads may start watching at once: one async client only
            if self._closed:
                raise PiecesError("this client is closed")
            if self._async is None:
                self._async = AsyncPiecesClient(
                    self._base_url, self.timeout, headers=self._extra_headers
                )
                self._finalizer.detach()
                self._finalizer = weakref.finalize(
                    self, _close_quietly, self._http, self._tasks, self._async
                )
            return self._async

    # ----------------------------------------------------------------- API (see AsyncPiecesClient)

    def server_info(self) -> ServerInfo:
        """URL, version text and whether the server is the bundled emulator."""
        return self._do(_wire.version(self.base_url))

    def ping(self) -> bool:
        """True when ``/.well-known/health`` answers 2xx; False when unreachable."""
        try:
            return self._do(_wire.HEALTH)
        except (PiecesUnavailable, PiecesTimeout):
            return False

    def list_models(self) -> list[Model]:
        """Every model (``GET /models``), in server order; odd entries skipped with a warning."""
        return self._do(self._list_call)

    def get_model(self, model: Model | str) -> Model:
        """One model by id (`ModelNotFound` on 410)."""
        return self._do(_wire.get(model))

    def create_model(
        self,
        name: str,
        *,
        unique: str | None = None,
        version: str = "1",
        cloud: bool = False,
        description: str | None = None,
        parameters: float | None = None,
        quantization: str | None = None,
        max_tokens: int | None = None,
        foundation: str | None = None,
        provider: str | None = None,
        type: str = "BALANCED",
        usage: str = "CODE_CONVERSATION",
        **extra: Any,
    ) -> Model:
        """Register a custom model (``POST /models/create``)."""
        fields = {k: v for k, v in locals().items() if k not in ("self", "name", "extra")}
        return self._do(_wire.create(name, **fields, extra=extra))

    def update_model(self, model: Model | dict[str, Any], **changes: Any) -> Model:
        """Send a full model with `changes` applied (``POST /model/update``, custom models only)."""
        return self._do(_wire.update(model, changes))

    def delete_model(self, model: Model | str) -> None:
        """Delete a custom model."""
        self._do(_wire.delete(model))

    def delete_model_cache(self, model: Model | str) -> None:
        """Delete a model's downloaded files."""
        self._do(_wire.delete_cache(model))

    def unload_all(self) -> None:
        """Unload every loaded model."""
        self._do(_wire.UNLOAD_ALL)

    def download(self, model: Model | str) -> Model:
        """Start a download; returns at once."""
        return self._do(_wire.download(model))

    def cancel_download(self, model: Model | str) -> Model:
        """Cancel a running download."""
        return self._do(_wire.cancel_download(model))

    def load(self, model: Model | str) -> Model:
        """Load a downloaded model into memory."""
        return self._do(_wire.load(model))

    def unload(self, model: Model | str) -> Model:
        """Unload a model from memory."""
        return self._do(_wire.unload(model))

    def watch_download(
        self,
        model: Model | str,
        *,
        stall_after: float | None = 10.0,
        reconnect: bool = True,
        max_reconnects: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        poll_interval: float = 0.5,
        start: bool = False,
    ) -> Iterator[DownloadProgress]:
        """Iterator twin of `AsyncPiecesClient.watch_download` (same rules)."""
        _wire.segment(model)  # fail fast on a bad id, before the generator starts
        options = {k: v for k, v in locals().items() if k not in ("self", "model")}
        return self._tasks.iterate(self._async_client().watch_download(model, **options))


def _close_quietly(http: Any, tasks: LoopTasks, client: AsyncPiecesClient | None) -> None:
    """Cancel the client's work on the shared loop, close its async twin there, close `http`."""
    tasks.close(client.aclose() if client is not None else None)
    with contextlib.suppress(Exception):
        http.close()
