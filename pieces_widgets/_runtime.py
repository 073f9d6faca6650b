"""The widget's side of on-device models: the local runtime (Ollama), and counting a model's use.

Why: a local download fails on the server while Pieces OS has no runtime, for a reason the user
was never told; a load of a local model fails the same way. So the `runtime` trait says what the
runtime is doing (fetched on connect, and followed while an install or update runs), `blocks`
says why local downloads and loads are unavailable, and both refuse early with that text.
Install and Update are twins like the other buttons: they POST, then poll ``GET /ollama/status``
every `poll` seconds (percentages on the handle and the trait) until the attempt ends. A FAILED
or CANCELED attempt fails the handle with a clear text kept in ``runtime["error"]``; calling the
twin again retries.

Loading a model from the widget also counts one use (``reuse``), as Pieces' own clients do; a
refused count is logged at debug level and never fails the load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ._commands import ActionError
from .errors import PiecesError
from .handles import ActionHandle
from .runtime import RuntimeStatus, attempt_error

log = logging.getLogger("pieces_widgets")

Work = Callable[[ActionHandle], Awaitable[Any]]

UNKNOWN: dict[str, Any] = {
    "state": "unknown",
    "version": None,
    "percentage": None,
    "error": None,
    "blocks": None,
}
BLOCKS = {
    "missing": "Install the local runtime (Ollama) to download or load on-device models.",
    "installing": (
        "The local runtime (Ollama) is being installed: on-device models can be downloaded "
        "or loaded once it is done."
    ),
}


def runtime_value(status: RuntimeStatus | None, error: str | None = None) -> dict[str, Any]:
    """The `runtime` trait for a status (None: unknown, e.g. an older server); `error` wins."""
    if status is None:
        return {**UNKNOWN, "error": error}
    state = status.state
    return {
        "state": state,
        "version": status.version,
        "percentage": status.percentage,
        "error": error or status.error,
        "blocks": BLOCKS.get(state),
    }


class RuntimeFollower:
    """The `runtime` trait of one ModelManager, and the work of its runtime twins."""

    poll = 0.25  # seconds between status reads while an install or update runs
    give_up_after = 5  # failed status reads in a row before a follow stops

    def __init__(self, manager: Any) -> None:
        self._mm = manager
        self._batch = manager._batch
        self._error: str | None = None  # our last install/update failure (until it succeeds)
        self._following: asyncio.Task[Any] | None = None
        self._last_pct: float | None = None  # how far the running attempt got

    @property
    def value(self) -> dict[str, Any]:
        return self._batch.get("runtime")

    def _show(self, status: RuntimeStatus | None) -> None:
        if status is not None and status.error is None and status.state in ("installed",):
            self._error = None  # a later success clears an old failure
        self._batch.stage("runtime", runtime_value(status, self._error))

    # -- reading the status ----------------------------------------------------------------------
    async def refresh(self) -> RuntimeStatus | None:
        """Read the status now (on connect): unknown when the server cannot say."""
        try:
            status = await (await self._mm._api()).runtime_status()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an older Pieces OS (404), a fault: nothing is blocked
            log.debug("runtime status unavailable: %s", exc)
            status = None
        self._show(status)
        if status is not None and status.state in ("installing", "updating"):
            self._follow_in_background()
        return status

    def _follow_in_background(self) -> None:
        """An install or update started elsewhere (or before we connected): show its progress."""
        if self._following is None or self._following.done():
            self._following = self._mm._runner.spawn(self._quiet_follow())

    async def _quiet_follow(self) -> None:
        try:
            await self._follow(None, None)
        except PiecesError as exc:
            log.debug("runtime progress: %s", exc)

    async def _follow(self, handle: ActionHandle | None, what: str | None) -> RuntimeStatus:
        """Poll the status until no install/update runs; the handle gets each percentage."""
        api = await self._mm._api()
        failures = 0
        last_pct: float | None = None
        while True:
            try:
                status = await api.runtime_status()
                failures = 0
            except PiecesError:
                failures += 1
                if failures >= self.give_up_after:
                    raise
                await asyncio.sleep(self.poll)
                continue
            self._show(status)
            if status.state not in ("installing", "updating"):
                return status
            pct = status.percentage
            self._last_pct = pct if pct is not None else self._last_pct
            if handle is not None and pct is not None and pct != last_pct:
                handle._emit(pct)
            last_pct = pct
            await asyncio.sleep(self.poll)

    # -- the twins' work -------------------------------------------------------------------------
    async def install(self, handle: ActionHandle) -> RuntimeStatus:
        """The work of `ModelManager.install_runtime`."""
        return await self._attempt(handle, "install")

    async def update(self, handle: ActionHandle) -> RuntimeStatus:
        """The work of `ModelManager.update_runtime`."""
        return await self._attempt(handle, "update")

    async def _attempt(self, handle: ActionHandle, what: str) -> RuntimeStatus:
        api = await self._mm._api()
        self._error = self._last_pct = None
        try:
            start = api.install_runtime if what == "install" else api.update_runtime
            deployment = await start()
            if deployment.running:
                handle._emit(deployment.percentage or 0)
                running = "installing" if what == "install" else "updating"
                self._batch.stage(
                    "runtime",
                    {**self.value, "state": running, "error": None, "blocks": BLOCKS.get(running)}
                    | {"percentage": deployment.percentage or 0},
                )
            status = await self._follow(handle, what)
        except PiecesError as exc:
            self._error = f"The runtime {what} could not start: {exc}".splitlines()[0]
            self._batch.stage("runtime", {**self.value, "error": self._error})
            raise
        attempt = status.installing if what == "install" else status.updating
        if attempt is not None and attempt.ended_badly:
            self._error = attempt_error(what, attempt, self._last_pct)
            self._show(status)
            raise ActionError(self._error + " Press the button again to retry.")
        if what == "install" and not status.installed:
            self._error = "The runtime install ended, but the server reports no runtime."
            self._show(status)
            raise ActionError(self._error)
        done = "Installed" if what == "install" else "Updated"
        version = f" {status.version}" if status.version else ""
        self._mm._announce(f"{done} the local runtime (Ollama){version}.")
        return status

    # -- what the runtime gates ------------------------------------------------------------------
    def refusal(self, model_id: str | None, *, load: bool) -> str | None:
        """Why this download / load must not reach the server now (None: let it go)."""
        blocks = self.value.get("blocks")
        model = self._mm._snapshot.find(model_id) if model_id else None
        if not blocks or model is None or model.cloud is not False:
            return None
        # A download of an already downloaded model asks nothing of the runtime.
        return blocks if load or not model.downloaded else None

    def guard(self, work: Work) -> Work:
        """`work` (a download) refused early, with the reason, while local downloads are blocked."""

        async def run(handle: ActionHandle) -> Any:
            # No await before `work`: a Cancel right after the click must find the download
            # queued (before the first status read, the server's own refusal says the same).
            reason = self.refusal(handle.model_id, load=False)
            if reason:
                raise ActionError(reason)
            return await work(handle)

        return run

    def counted(self, work: Work) -> Work:
        """`work` (a load): refused early while the runtime blocks local loads (the server would
        refuse it after the call), else done, then one use of the model counted (never failing
        the load)."""

        async def run(handle: ActionHandle) -> Any:
            reason = self.refusal(handle.model_id, load=True)
            if reason:
                raise ActionError(reason)
            result = await work(handle)
            if handle.model_id is not None:
                self._mm._runner.spawn(self._count_use(handle.model_id))
            return result

        return run

    async def _count_use(self, model_id: str) -> None:
        try:
            await (await self._mm._api()).increment_score(model_id, "reuse")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a refused count must not turn a done load into a failure
            log.debug("counting a use of %s failed (ignored): %s", model_id, exc)
