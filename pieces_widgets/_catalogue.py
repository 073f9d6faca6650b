"""CatalogueFollower: the widget's catalogue follows what the server pushes.

Why: with polling, a change made elsewhere (the Pieces desktop app, another notebook) showed up
to 15 s late. The server pushes the ids of changed models on ``/models/stream/identifiers``, so
while that stream runs a changed id is re-read (``GET /model/{id}``) and applied at once, a
deleted id leaves the table, a new id (or many at once) re-reads the snapshot, and so does every
(re)connect of the socket: what changed while it was down was never sent. Polling is the
fallback, used only while the stream is refused (an older Pieces OS: said in the badge's
tooltip, ``server["stream_message"]``) or down. Reconnects are silent: no notices, only the
badge's ``server["stream"]`` ("pushed" | "polling" | "connecting").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._models_stream import ModelsChange, PiecesStreamUnsupported
from ._wire_os import IDENTIFIERS_PATH
from .errors import ModelNotFound, PiecesError, PiecesUnavailable

log = logging.getLogger("pieces_widgets")

PUSHED = f"Changes are pushed by the server ({IDENTIFIERS_PATH})."
CONNECTING = "Connecting to the server's change stream…"
MANY = 32  # more changed ids than this in one frame: re-read the snapshot instead


class CatalogueFollower:
    """Follows the identifiers stream for one ModelManager; decides when polling is needed."""

    stream_retry = 30.0  # seconds before a down stream is tried again when polling is off
    reconnects = 4  # silent reconnects in a row (0.2 s doubling) before the stream counts as down

    def __init__(self, manager: Any, supervisor: Any) -> None:
        self._mm = manager
        self._sup = supervisor
        self._runner = manager._runner
        self.state = "connecting"
        self.refused = False
        self._task: asyncio.Task[Any] | None = None

    # -- state ------------------------------------------------------------------------------------
    def reset(self, state: str) -> dict[str, Any]:
        """A new connection, or none: stop following; returns the `server` keys to stage."""
        task, self._task = self._task, None
        if task is not None:
            self._runner.call_soon(task.cancel)
        self.state, self.refused = state, False
        return {"stream": state, "stream_message": CONNECTING}

    def _set(self, state: str, message: str) -> None:
        changed = state != self.state
        self.state = state
        self._sup.stage_server(stream=state, stream_message=message)
        if changed:
            self._sup._poke()  # the supervisor's sleep depends on it

    def _polling(self) -> str:
        seconds = self._mm.poll_interval
        if seconds:
            return f"polling every {seconds:g} s"
        return "polling is off (poll_interval=None): Refresh shows changes made elsewhere"

    def poll_seconds(self) -> float | None:
        """How long the supervisor sleeps between polls: forever while changes are pushed."""
        if self.state in ("pushed", "connecting"):
            return None
        if self.refused:
            return self._mm.poll_interval
        return self._mm.poll_interval or self.stream_retry

    async def tick(self) -> None:
        """The supervisor's sleep ran out: poll, and try a stream that was down again."""
        if self._mm.poll_interval is not None:
            await self._mm._refresh_quietly()
        connected = self._mm._batch.get("connection") == "connected"
        if connected and self.state == "polling" and not self.refused:
            self.start()

    # -- following --------------------------------------------------------------------------------
    def start(self) -> None:
        """(Re)start following the stream (once per connection, or after it was down)."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
        if self.state != "connecting":
            self._set("connecting", CONNECTING)
        self._task = self._runner.spawn(self._follow())

    async def _follow(self) -> None:
        api = None
        try:
            api = await self._sup.api()
            async for change in api.watch_models(max_reconnects=self.reconnects, max_backoff=2.0):
                if change.full:  # the first frame, or the first after a silent reconnect
                    if self.state != "pushed":
                        self._set("pushed", PUSHED)
                    await self._reread()
                else:
                    await self._apply(api, change)
        except asyncio.CancelledError:
            raise
        except PiecesStreamUnsupported as exc:
            self.refused = True
            log.debug("identifiers stream refused: %s", exc)
            self._set(
                "polling",
                f"This Pieces OS does not push changes ({IDENTIFIERS_PATH} refused with HTTP "
                f"{exc.status}): {self._polling()}.",
            )
        except PiecesUnavailable as exc:
            if api is None or not await self._alive(api):  # the server is gone: reconnect
                self._sup.set_unreachable(exc)
                return
            self._down(exc)
        except Exception as exc:  # never let a surprise stop the widget: poll instead
            self._down(exc)

    @staticmethod
    async def _alive(api: Any) -> bool:
        try:
            return await api.ping()
        except PiecesError:  # a closed client
            return False

    async def _reread(self) -> None:
        """Read the whole snapshot, silently: a failure here is no action of the user's (a lost
        server still shows as unreachable; anything else waits for the next change or poll)."""
        try:
            await self._mm._refresh()
        except PiecesUnavailable as exc:
            self._sup.set_unreachable(exc)
        except PiecesError as exc:
            log.debug("re-reading the snapshot failed: %s", exc)

    def _down(self, exc: BaseException) -> None:
        log.debug("identifiers stream down: %s", exc)
        reason = (str(exc) or type(exc).__name__).splitlines()[0][:120]
        self._set("polling", f"The change stream is down ({reason}): {self._polling()}.")

    async def reread_model(self, model_id: str) -> bool:
        """After an action on one model, while changes are pushed: re-read only that model
        (the stream brings any other change). False: not pushed, read the whole snapshot."""
        if self.state != "pushed":
            return False
        await self._apply(await self._sup.api(), ModelsChange("changed", (model_id,), ()))
        return True

    async def _apply(self, api: Any, change: ModelsChange) -> None:
        """Re-read the changed ids and apply them; drop the deleted ones."""
        snapshot = self._mm._snapshot
        known = {m.id for m in snapshot.models}
        if len(change.ids) > MANY or any(i not in known for i in change.ids):
            await self._reread()  # new models: their place is the server's order
            return
        asked = snapshot.ask()
        answers = await asyncio.gather(
            *(api.get_model(i) for i in change.ids), return_exceptions=True
        )
        fresh: dict[str, Any] = {}
        gone = set(change.deleted)
        for model_id, answer in zip(change.ids, answers, strict=True):
            if isinstance(answer, ModelNotFound):
                gone.add(model_id)
            elif isinstance(answer, PiecesError):  # could not re-read it: read everything
                log.debug("re-reading %s failed: %s", model_id, answer)
                await self._reread()
                return
            elif isinstance(answer, BaseException):
                raise answer
            else:
                fresh[model_id] = answer
        if not fresh and not (gone & known):
            return
        models = [fresh.get(m.id, m) for m in snapshot.models if m.id not in gone]
        snapshot.apply(models, asked)
