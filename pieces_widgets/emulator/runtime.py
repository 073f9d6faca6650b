"""The local runtime (Ollama) that Pieces OS installs and updates itself: `/ollama/*`.

State lives in four optional deployments, mirroring `OllamaStatus`: `installation` (present =
installed), `installing`, `updating` and `update_required`. Installs and updates run over time:
`INITIALIZED`, then `IN-PROGRESS` with a percentage every `frame_interval` for `seconds`, then
`COMPLETED`; each step is one frame on `/ollama/status/stream` and is visible to polling.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from typing import Any

from .faults import Faults
from .subs import CLOSE, Subscriber
from .wire import ApiError, dumps

STATES = ("installed", "missing", "update-required")
CURRENT_VERSION = "0.6.5"  # what an install or update brings
OLD_VERSION = "0.3.14"  # what is installed in the "update-required" state
RUNNING = ("INITIALIZED", "IN-PROGRESS")
ROUTE = "ollama_status_stream"
NOT_INSTALLED = (
    "the local runtime (Ollama) is not installed; install it first (POST /ollama/install)."
)
DEPLOYMENT_NOT_FOUND = "deployment was not found."


def _now() -> dict[str, str]:
    text = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {"value": text}


def _deployment(version: str, status: str, percentage: float | None = None) -> dict[str, Any]:
    dep: dict[str, Any] = {"id": str(uuid.uuid4()), "version": version, "status": status}
    if percentage is not None:
        dep["percentage"] = percentage
    dep["updated"] = _now()
    return dep


def _set(dep: dict[str, Any], status: str, percentage: float | None = None) -> None:
    dep["status"] = status
    if percentage is None:
        dep.pop("percentage", None)
    else:
        dep["percentage"] = int(percentage) if percentage == int(percentage) else percentage
    dep["updated"] = _now()


class Runtime:
    """The Ollama runtime state machine behind `/ollama/*` and its status stream."""

    def __init__(
        self, state: str, faults: Faults, *, seconds: float, frame_interval: float
    ) -> None:
        if state not in STATES:
            raise ValueError(f"ollama must be one of {', '.join(STATES)}; got {state!r}")
        if seconds < 0:
            raise ValueError("runtime_seconds must be >= 0")
        self.faults = faults
        self.seconds = seconds
        self.frame_interval = frame_interval
        self.subscribers: set[Subscriber] = set()
        self.on_uninstall: Any = None  # called after an uninstall (the state unloads models)
        self._task: asyncio.Task[None] | None = None
        self.reset(state)

    def reset(self, state: str) -> None:
        """Put the runtime in one of `STATES` (stops a running install/update, no frame)."""
        if state not in STATES:
            raise ValueError(f"ollama must be one of {', '.join(STATES)}; got {state!r}")
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.installing: dict[str, Any] | None = None
        self.updating: dict[str, Any] | None = None
        self.update_required: dict[str, Any] | None = None
        self.installation: dict[str, Any] | None = None
        self.installs: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        if state != "missing":
            version = CURRENT_VERSION if state == "installed" else OLD_VERSION
            self.installation = _deployment(version, "COMPLETED", 100)
            self.installs.append(self.installation)
        if state == "update-required":
            self.update_required = {**_deployment(CURRENT_VERSION, "UNKNOWN"), "userManaged": False}
        self._emit()

    # --- queries ----------------------------------------------------------------------------

    @property
    def present(self) -> bool:
        return self.installation is not None

    @property
    def state(self) -> str:
        """installed | missing | update-required | installing | updating."""
        if self.installing is not None and self.installing["status"] in RUNNING:
            return "installing"
        if self.updating is not None and self.updating["status"] in RUNNING:
            return "updating"
        if self.installation is None:
            return "missing"
        return "update-required" if self.update_required is not None else "installed"

    def status(self) -> dict[str, Any]:
        """The `OllamaStatus` body. A FAILED/CANCELED attempt stays in `installing`/`updating`
        (with that status) until the next attempt, so a client that polls learns why."""
        out: dict[str, Any] = {}
        for key, dep in (
            ("installation", self.installation),
            ("installing", self.installing),
            ("updating", self.updating),
            ("updateRequired", self.update_required),
        ):
            if dep is not None:
                out[key] = dep
        out["recommendation"] = {"inference": True}
        return out

    def status_body(self) -> bytes:
        return dumps(self.status())

    def find(self, kind: str, identifier: str, missing_status: int) -> dict[str, Any]:
        for dep in self.installs if kind == "install" else self.updates:
            if dep.get("id") == identifier:
                return dep
        raise ApiError(missing_status, DEPLOYMENT_NOT_FOUND)

    def history(self, kind: str) -> bytes:
        return dumps({"iterable": self.installs if kind == "install" else self.updates})

    # --- commands ---------------------------------------------------------------------------

    def install(self) -> bytes:
        """Start an install (returns at once); installed or installing: the current one."""
        if self.installation is not None:
            return dumps(self.installation)
        if self.installing is not None and self.installing["status"] in RUNNING:
            return dumps(self.installing)
        dep = _deployment(CURRENT_VERSION, "INITIALIZED", 0)
        self.installing = dep
        self.installs.append(dep)
        self._start(dep, "install")
        return dumps(dep)

    def update(self) -> bytes:
        """Start an update when one is required; otherwise the current deployment."""
        if self.installation is None:
            raise ApiError(500, NOT_INSTALLED)
        if self.updating is not None and self.updating["status"] in RUNNING:
            return dumps(self.updating)
        if self.update_required is None:
            return dumps(self.installation)
        dep = _deployment(self.update_required["version"], "INITIALIZED", 0)
        self.updating = dep
        self.updates.append(dep)
        self._start(dep, "update")
        return dumps(dep)

    def cancel(self, kind: str, identifier: str) -> bytes:
        """Cancel a running install/update (CANCELED); a finished one is returned unchanged."""
        dep = self.find(kind, identifier, 500)
        if dep["status"] in RUNNING:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            _set(dep, "CANCELED")
            self._emit()
        return dumps(dep)

    def uninstall(self) -> bytes:
        """Remove the runtime: the former installation is returned with status RESET."""
        if self.state in ("installing", "updating"):
            raise ApiError(500, f"cannot uninstall while {self.state}; cancel it first.")
        if self.installation is None:
            raise ApiError(500, NOT_INSTALLED)
        dep = self.installation
        _set(dep, "RESET")
        self.installation = self.update_required = None
        self.installing = self.updating = None
        self._emit()
        if self.on_uninstall is not None:
            self.on_uninstall()
        return dumps(dep)

    # --- status sockets ---------------------------------------------------------------------

    def subscribe(self) -> Subscriber:
        """A status socket: its first frame is the current status, then one per change."""
        sub = Subscriber(None, asyncio.Queue(), route=ROUTE)
        sub.queue.put_nowait(self.status_body().decode())
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def _emit(self) -> None:
        if not self.subscribers:
            return
        text = self.status_body().decode()
        for sub in self.subscribers:
            sub.queue.put_nowait(text)

    def shutdown(self) -> list[Subscriber]:
        """Die like a process: a running install/update is lost (its deployment FAILED)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for dep in (self.installing, self.updating):
            if dep is not None and dep["status"] in RUNNING:
                _set(dep, "FAILED")
        self.installing = self.updating = None
        subs = list(self.subscribers)
        for sub in subs:
            sub.queue.put_nowait(CLOSE)
        return subs

    # --- progress over time -----------------------------------------------------------------

    def _start(self, dep: dict[str, Any], kind: str) -> None:
        self._emit()
        self._task = asyncio.get_running_loop().create_task(self._run(dep, kind))

    async def _run(self, dep: dict[str, Any], kind: str) -> None:
        loop = asyncio.get_running_loop()
        steps = max(1, round(self.seconds / self.frame_interval))
        deadline = loop.time()
        for k in range(steps + 1):
            if k:
                deadline += self.frame_interval
                delay = deadline - loop.time()
                await asyncio.sleep(delay if delay > 0 else 0)
            pct = round(100 * k / steps, 2)
            end = self.faults.runtime_end()
            if end is not None and pct >= end[0]:
                _set(dep, end[1])
                self._task = None
                self._emit()
                return
            _set(dep, "IN-PROGRESS", pct)
            self._emit()
        _set(dep, "COMPLETED", 100)
        self._task = None
        self.installation = dep
        if kind == "install":
            self.installing = None
        else:
            self.updating = self.update_required = None
        self._emit()
