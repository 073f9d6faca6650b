"""The client methods around the model API: device, usage, the local runtime, pushed changes.

Mixed into `AsyncPiecesClient` and `PiecesClient` (client.py stays about the model endpoints and
under 400 lines). Each REST method is one line over a builder of `_wire_os`, sent with the
twin's own ``_do``; the sync `watch_models` runs the async watcher on the shared loop thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from . import _wire_os
from ._models_stream import ModelsChange, ModelsWatcher
from ._watch import connect_path
from .device import DeviceInfo, local_memory
from .errors import PiecesUnavailable
from .models import Model
from .runtime import Deployment, RuntimeStatus


def _local_total(base: str | None) -> int | None:
    """This machine's memory, only when the server runs on it (a loopback URL)."""
    return local_memory() if _wire_os.is_loopback(base) else None


class AsyncOsApi:
    """Device information, score increments, the Ollama runtime and `watch_models`."""

    _do: Any
    resolve: Any
    timeout: float
    _explicit: str | None
    _base_url: str | None

    async def device_info(self) -> DeviceInfo:
        """The machine Pieces OS runs on (RAM, GPUs; units decided and stated, raw kept).

        On a loopback URL this machine's own memory cross-checks the unit of the RAM figure.
        """
        base = await self.resolve()
        return await self._do(_wire_os.device_info(_local_total(base)))

    async def increment_score(self, model: Model | str, kind: str = "reuse") -> None:
        """Count one use of a model (``POST /model/{id}/scores/increment``, 204)."""
        await self._do(_wire_os.increment_score(model, kind))

    async def runtime_status(self) -> RuntimeStatus:
        """The local runtime (Ollama): installed, missing, update required, or in progress."""
        return await self._do(_wire_os.RUNTIME_STATUS)

    async def install_runtime(self) -> Deployment:
        """Start installing the local runtime; returns at once (follow `runtime_status`)."""
        return await self._do(_wire_os.INSTALL_RUNTIME)

    async def update_runtime(self) -> Deployment:
        """Start updating the local runtime; returns at once (follow `runtime_status`)."""
        return await self._do(_wire_os.UPDATE_RUNTIME)

    async def watch_models(
        self,
        *,
        reconnect: bool = True,
        max_reconnects: int | None = None,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> AsyncIterator[ModelsChange]:
        """Yield `ModelsChange` events pushed by the server until closed.

        The first is ``"catalogue"`` (every id), then ``"changed"`` (changed and deleted ids);
        after a dropped socket is reconnected (exponential `backoff`, at most `max_reconnects`
        failures in a row, None: forever) a ``"resync"`` says: re-read everything.
        `PiecesStreamUnsupported` when the server refuses the stream (fall back to polling).
        """
        options = {k: v for k, v in locals().items() if k != "self"}
        watcher = ModelsWatcher(self, **options, first_timeout=self.timeout)  # type: ignore[arg-type]
        stream = watcher.stream()
        try:
            async for change in stream:
                yield change
        finally:
            await stream.aclose()

    async def _ws_open(self, path: str, model_id: str | None = None) -> Any:
        """Open the websocket at `path`; a discovered URL that stopped answering is forgotten."""
        base = await self.resolve()
        try:
            return await connect_path(base, path, self.timeout, model_id)
        except PiecesUnavailable as e:
            if self._explicit is None and isinstance(e.__cause__, OSError):
                self._base_url = None  # nothing listens there any more: rediscover
            raise


class SyncOsApi:
    """Blocking twins of `AsyncOsApi` (same returns)."""

    _do: Any
    _tasks: Any
    _async_client: Any
    base_url: str

    def device_info(self) -> DeviceInfo:
        """The machine Pieces OS runs on (see `AsyncPiecesClient.device_info`)."""
        return self._do(_wire_os.device_info(_local_total(self.base_url)))

    def increment_score(self, model: Model | str, kind: str = "reuse") -> None:
        """Count one use of a model (204)."""
        self._do(_wire_os.increment_score(model, kind))

    def runtime_status(self) -> RuntimeStatus:
        """The local runtime (Ollama) status."""
        return self._do(_wire_os.RUNTIME_STATUS)

    def install_runtime(self) -> Deployment:
        """Start installing the local runtime; returns at once."""
        return self._do(_wire_os.INSTALL_RUNTIME)

    def update_runtime(self) -> Deployment:
        """Start updating the local runtime; returns at once."""
        return self._do(_wire_os.UPDATE_RUNTIME)

    def watch_models(
        self,
        *,
        reconnect: bool = True,
        max_reconnects: int | None = None,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> Iterator[ModelsChange]:
        """Iterator twin of `AsyncPiecesClient.watch_models` (same events and rules)."""
        options = {k: v for k, v in locals().items() if k != "self"}
        return self._tasks.iterate(self._async_client().watch_models(**options))
