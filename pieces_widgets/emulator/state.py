"""Catalogue, model state machine and simulated downloads: everything except HTTP.

All mutation happens on the server's event loop thread (the `Emulator` marshals calls from other
threads), so there are no locks here. REST flags are always updated *before* the matching frame
is queued, so a client that reacts to a frame by calling `GET /model/{id}` sees agreeing flags.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .faults import Faults
from .runtime import NOT_INSTALLED, Runtime
from .streams import IdentifierHub
from .subs import CLOSE, Subscriber
from .wire import NOT_FOUND, SCHEMA, SCHEMA_JSON, ApiError, clean_model, dumps, frame

DEFAULT_SPEED = 100_000_000  # bytes/s: a 2 GB model downloads in about 20 s
DEFAULT_SIZE = 1_000_000_000  # assumed size of a model without `bytes`


class ModelStore:
    """Models in server order, with per-model serialized JSON and a cached `GET /models` body.

    A request for the snapshot costs O(1) when nothing changed and one O(n) join after a
    change; each model is re-serialized only when it changes. `serializations` and
    `body_builds` count that work so tests can prove it.
    """

    def __init__(self, models: Iterable[dict[str, Any]]) -> None:
        self._models: dict[str, dict[str, Any]] = {m["id"]: m for m in models}
        self._parts: dict[str, bytes] = {}
        self._body: bytes | None = None
        self.serializations = 0
        self.body_builds = 0
        # called as listener(model_id, deleted) after every change (the identifiers stream)
        self.listener: Callable[[str, bool], None] | None = None

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models

    def __len__(self) -> int:
        return len(self._models)

    def ids(self) -> list[str]:
        return list(self._models)

    def values(self) -> Iterable[dict[str, Any]]:
        return self._models.values()

    def get(self, model_id: str) -> dict[str, Any]:
        """The stored dict (do not mutate it outside this class); KeyError if unknown."""
        return self._models[model_id]

    def part(self, model_id: str) -> bytes:
        part = self._parts.get(model_id)
        if part is None:
            part = self._parts[model_id] = dumps(self._models[model_id])
            self.serializations += 1
        return part

    def copy(self, model_id: str) -> dict[str, Any]:
        return json.loads(self.part(model_id))

    def body(self) -> bytes:
        if self._body is None:
            parts = b",".join(self.part(mid) for mid in self._models)
            self._body = b'{"iterable":[' + parts + b'],"schema":' + SCHEMA_JSON.encode() + b"}"
            self.body_builds += 1
        return self._body

    def put(self, model: dict[str, Any]) -> None:
        """Insert (at the end) or replace (in place) by id."""
        self._models[model["id"]] = model
        self._invalidate(model["id"])

    def set(self, model_id: str, **fields: Any) -> None:
        m = self._models[model_id]
        if any(m.get(k) != v for k, v in fields.items()):
            m.update(fields)
            self._invalidate(model_id)

    def remove(self, model_id: str) -> None:
        del self._models[model_id]
        self._invalidate(model_id, deleted=True)

    def _invalidate(self, model_id: str, deleted: bool = False) -> None:
        self._parts.pop(model_id, None)
        self._body = None
        if self.listener is not None:
            self.listener(model_id, deleted)


@dataclass(eq=False)
class Download:
    model_id: str
    steps: int
    task: asyncio.Task[None] | None = None


class EmulatorState:
    """The model state machine behind the 12 endpoints and the progress socket."""

    def __init__(
        self,
        models: Iterable[dict[str, Any]],
        faults: Faults,
        *,
        download_seconds: float | None = None,
        download_speed: float = DEFAULT_SPEED,
        frame_interval: float = 0.05,
        resume_downloads: bool = True,
        ollama: str = "installed",
        runtime_seconds: float = 2.0,
    ) -> None:
        if download_seconds is not None and download_seconds < 0:
            raise ValueError("download_seconds must be >= 0")
        if download_speed <= 0:
            raise ValueError("download_speed must be > 0")
        if frame_interval <= 0:
            raise ValueError("frame_interval must be > 0")
        self.store = ModelStore(models)
        self.faults = faults
        self.download_seconds = download_seconds
        self.download_speed = download_speed
        self.frame_interval = frame_interval
        self.resume_downloads = resume_downloads
        self.downloads: dict[str, Download] = {}
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.last_frame: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.identifiers = IdentifierHub(self.store)
        self.runtime = Runtime(
            ollama, faults, seconds=runtime_seconds, frame_interval=frame_interval
        )
        self.runtime.on_uninstall = self.unload_all  # nothing runs without the runtime

    # --- lifecycle --------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called on the server loop when it starts: resume downloads the catalogue marks."""
        self._loop = loop
        self.identifiers.attach(loop)
        for model in list(self.store.values()):
            if model.get("downloading"):
                if self.resume_downloads and not model.get("cloud"):
                    self._start(model["id"])
                else:
                    self.store.set(model["id"], downloading=False)

    async def shutdown(self) -> None:
        """Die like a server process: downloads stop (no frame), sockets close with 1000."""
        for dl in list(self.downloads.values()):
            self._stop_download(dl)
        self.last_frame.clear()
        subs = [s for group in self.subscribers.values() for s in group]
        for sub in subs:
            sub.queue.put_nowait(CLOSE)
        self.identifiers.close_all()
        self.runtime.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        while (
            any(self.subscribers.values())
            or self.identifiers.subscribers
            or self.runtime.subscribers
        ) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        self._loop = None

    # --- queries ----------------------------------------------------------------------------

    def require(self, model_id: str, status: int = 500) -> dict[str, Any]:
        try:
            return self.store.get(model_id)
        except KeyError:
            raise ApiError(status, NOT_FOUND) from None

    def progress_body(self, model_id: str) -> str:
        """What a plain GET on the progress path answers: the last frame, or UNKNOWN."""
        self.require(model_id, 410)
        return self.last_frame.get(model_id) or frame("UNKNOWN")

    # --- commands (one per endpoint) --------------------------------------------------------

    def create(self, body: Any) -> bytes:
        try:
            model = clean_model(body, seeded=True)
        except ValueError as e:
            raise ApiError(500, f"invalid SeededModel: {e}") from None
        for other in self.store.values():
            same_unique = model.get("unique") and other.get("unique") == model["unique"]
            same_name = (
                other.get("name") == model["name"] and other.get("version") == model["version"]
            )
            if same_unique or same_name:
                raise ApiError(
                    500, f"model already exists (same unique or name+version): {other['id']}"
                )
        model = {
            "id": str(uuid.uuid4()),
            **model,
            "custom": True,
            "downloading": False,
            "loaded": False,
        }
        model.setdefault("downloaded", False)
        self.store.put(model)
        return self.store.part(model["id"])

    def update(self, body: Any) -> bytes:
        try:
            model = clean_model(body, seeded=False)
        except ValueError as e:
            raise ApiError(500, f"invalid Model: {e}") from None
        current = self.require(model["id"])
        if not current.get("custom"):
            raise ApiError(500, "only custom models can be updated.")
        # Server-owned state is computed, not taken from the client's copy.
        for key in ("downloaded", "downloading", "loaded"):
            model[key] = bool(current.get(key))
        model["custom"] = True
        self.store.put(model)
        return self.store.part(model["id"])

    def delete(self, model_id: str) -> None:
        model = self.require(model_id)
        if not model.get("custom"):
            raise ApiError(500, "only custom models can be deleted.")
        self.remove(model_id)

    def remove(self, model_id: str) -> None:
        """Drop a model (API delete or `emu.remove_model`): its download stops, sockets close."""
        if model_id in self.downloads:
            self._stop_download(self.downloads[model_id])
        self.store.remove(model_id)
        self.last_frame.pop(model_id, None)
        for sub in self.subscribers.get(model_id, ()):
            sub.queue.put_nowait(CLOSE)

    def delete_cache(self, model_id: str) -> bytes:
        self.require(model_id)
        if model_id in self.downloads:
            self._stop_download(self.downloads[model_id])
        self.store.set(model_id, downloaded=False, downloading=False, loaded=False)
        self._emit(model_id, frame("RESET"))
        return dumps({"model": {"id": model_id, "schema": SCHEMA}, "schema": SCHEMA})

    def unload_all(self) -> None:
        for model in list(self.store.values()):
            if model.get("loaded"):
                self.store.set(model["id"], loaded=False)

    def download(self, model_id: str) -> bytes:
        model = self.require(model_id)
        if model.get("cloud"):
            raise ApiError(500, "cloud models cannot be downloaded.")
        if not model.get("downloaded") and model_id not in self.downloads:
            self._require_runtime("downloaded")
            self._start(model_id)
        return self.store.part(model_id)

    def cancel(self, model_id: str) -> bytes:
        model = self.require(model_id)
        dl = self.downloads.get(model_id)
        if dl is not None:
            self._stop_download(dl)
            self._emit(model_id, frame("CANCELED"))
        elif model.get("downloading"):  # flagged but not running (server not started yet)
            self.store.set(model_id, downloading=False)
        return self.store.part(model_id)

    def load(self, model_id: str) -> bytes:
        model = self.require(model_id)
        if model.get("cloud"):
            raise ApiError(500, "cloud models cannot be loaded.")
        if not model.get("downloaded"):
            raise ApiError(500, "model is not downloaded; download it before loading.")
        self._require_runtime("loaded")
        self.store.set(model_id, loaded=True)
        return self.store.part(model_id)

    def _require_runtime(self, verb: str) -> None:
        """Local models run on Ollama: while it is missing, nothing local starts."""
        if not self.runtime.present:
            raise ApiError(500, f"local models cannot be {verb}: {NOT_INSTALLED}")

    def unload(self, model_id: str) -> bytes:
        self.require(model_id)
        self.store.set(model_id, loaded=False)
        return self.store.part(model_id)

    # --- progress sockets -------------------------------------------------------------------

    def subscribe(self, model_id: str) -> Subscriber:
        """Register a socket; if a download is mid-way, its current IN-PROGRESS frame goes first."""
        sub = Subscriber(model_id, asyncio.Queue())
        current = self.last_frame.get(model_id)
        if model_id in self.downloads and current and '"IN-PROGRESS"' in current:
            sub.queue.put_nowait(current)
        self.subscribers.setdefault(model_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub.route != "progress":
            self.identifiers.unsubscribe(sub)
            self.runtime.unsubscribe(sub)
            return
        group = self.subscribers.get(sub.model_id)
        if group is not None:
            group.discard(sub)
            if not group:
                del self.subscribers[sub.model_id]

    def _emit(self, model_id: str, text: str) -> None:
        self.last_frame[model_id] = text
        for sub in self.subscribers.get(model_id, ()):
            sub.queue.put_nowait(text)

    # --- download simulation ----------------------------------------------------------------

    def _duration(self, model: dict[str, Any]) -> float:
        if self.download_seconds is not None:
            return self.download_seconds
        size = (model.get("bytes") or {}).get("value") or DEFAULT_SIZE
        return size / self.download_speed

    def _start(self, model_id: str) -> None:
        assert self._loop is not None, "downloads need a running server"
        steps = max(1, round(self._duration(self.store.get(model_id)) / self.frame_interval))
        dl = Download(model_id, steps)
        self.downloads[model_id] = dl
        self.store.set(model_id, downloading=True, downloaded=False, loaded=False)
        dl.task = self._loop.create_task(self._run(dl))

    def _stop_download(self, dl: Download) -> None:
        """End a download without a frame (callers emit CANCELED/RESET as appropriate)."""
        if dl.task is not None:
            dl.task.cancel()
        self.downloads.pop(dl.model_id, None)
        if dl.model_id in self.store:
            self.store.set(dl.model_id, downloading=False)

    def _fail(self, dl: Download) -> None:
        self.downloads.pop(dl.model_id, None)
        self.store.set(dl.model_id, downloading=False, downloaded=False)
        self._emit(dl.model_id, frame("FAILED"))

    async def _run(self, dl: Download) -> None:
        """INITIALIZED, IN-PROGRESS 0..100 every `frame_interval`, then COMPLETED.

        Deadlines are absolute, so the total time stays `steps * frame_interval` even when
        a frame is late; percentages depend only on the step, so runs are reproducible.
        """
        loop = asyncio.get_running_loop()
        mid, steps, interval, faults = dl.model_id, dl.steps, self.frame_interval, self.faults
        stalled: set[int] = set()
        self._emit(mid, frame("INITIALIZED"))
        deadline = loop.time()
        for k in range(steps + 1):
            if k:
                deadline += interval
                delay = deadline - loop.time()
                await asyncio.sleep(delay if delay > 0 else 0)
            pct = round(100 * k / steps, 2)
            fail_at = faults.fail_at(mid)
            if fail_at is not None and pct >= fail_at:
                self._fail(dl)
                return
            self._emit(mid, frame("IN-PROGRESS", pct))
            for stall in faults.stalls_for(mid):
                if pct >= stall.at_percentage and id(stall) not in stalled:
                    stalled.add(id(stall))
                    await asyncio.sleep(stall.seconds)
                    deadline = loop.time()
        self.downloads.pop(mid, None)
        self.store.set(mid, downloading=False, downloaded=True)
        self._emit(mid, frame("COMPLETED", 100))
