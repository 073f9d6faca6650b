"""Following the catalogue the server pushes: WS ``/models/stream/identifiers``.

Why: changes made elsewhere (the Pieces desktop app, another notebook) should show at once, not
at the next poll. The stream carries ids only: the first frame after connecting is the whole
catalogue, later frames the ids that changed (``deleted: true`` when gone). A dropped socket is
reconnected with backoff, and the first frame after a reconnect is reported as a ``"resync"``:
changes made while the socket was down were never sent, so the consumer re-reads everything.
A refused upgrade (an older Pieces OS answers 404) raises `PiecesStreamUnsupported`, so the
consumer can fall back to polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import PiecesAPIError, PiecesError, PiecesTimeout, PiecesUnavailable

__all__ = ["ModelsChange", "ModelsWatcher", "PiecesStreamUnsupported", "parse_identifiers"]

log = logging.getLogger("pieces_widgets")


class PiecesStreamUnsupported(PiecesAPIError):
    """The server refused the websocket upgrade (HTTP 4xx/5xx): it does not push changes."""


@dataclass(frozen=True, slots=True)
class ModelsChange:
    """One event of `watch_models`.

    ``kind`` is ``"catalogue"`` (the first frame: `ids` is every model), ``"resync"`` (the
    first frame after a reconnect: `ids` is every model, and anything may have changed, so
    re-read everything) or ``"changed"`` (`ids` changed or appeared; `deleted` are gone).
    """

    kind: str
    ids: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def full(self) -> bool:
        """True for the events that list the whole catalogue (re-read everything)."""
        return self.kind != "changed"


class _Api(Protocol):  # what the watcher needs from AsyncPiecesClient
    @property
    def base_url(self) -> str | None: ...
    async def _ws_open(self, path: str) -> Any: ...


def parse_identifiers(message: Any) -> tuple[list[str], list[str]] | None:
    """(ids, deleted ids) of a ``StreamedIdentifiers`` frame; None (logged) when unreadable.

    Tolerant: items without a string ``model.id`` are skipped; an id seen twice keeps its
    last ``deleted`` flag.
    """
    try:
        frame = json.loads(message)
    except (TypeError, ValueError):
        frame = None
    items = frame.get("iterable") if isinstance(frame, dict) else None
    if not isinstance(items, list):
        text = message if isinstance(message, str) else repr(message)
        log.warning(
            "identifiers stream: ignored a frame that is not StreamedIdentifiers: %.200s", text
        )
        return None
    flags: dict[str, bool] = {}
    for item in items:
        model = item.get("model") if isinstance(item, dict) else None
        model_id = model.get("id") if isinstance(model, dict) else None
        if isinstance(model_id, str) and model_id:
            flags.pop(model_id, None)
            flags[model_id] = item.get("deleted") is True
    ids = [k for k, gone in flags.items() if not gone]
    return ids, [k for k, gone in flags.items() if gone]


class ModelsWatcher:
    """Yields `ModelsChange` events until closed (see the module doc and `stream`)."""

    def __init__(
        self,
        api: _Api,
        *,
        reconnect: bool = True,
        max_reconnects: int | None = None,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        first_timeout: float = 10.0,
    ) -> None:
        self.api = api
        self.first_timeout = first_timeout  # a socket that never sends its catalogue is down
        self.reconnect = reconnect
        self.max_reconnects = max_reconnects
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.reconnects = 0  # successful reconnects so far (for callers and tests)

    async def _open(self) -> Any:
        from ._wire_os import IDENTIFIERS_PATH

        try:
            return await self.api._ws_open(IDENTIFIERS_PATH)
        except PiecesStreamUnsupported:
            raise
        except PiecesAPIError as e:
            raise PiecesStreamUnsupported(e.status, e.text, "WS", IDENTIFIERS_PATH) from None

    async def stream(self) -> AsyncIterator[ModelsChange]:
        """The catalogue first, then changes; a ``resync`` after each reconnect."""
        from websockets.exceptions import ConnectionClosed

        ws = await self._open()
        kind = "catalogue"
        try:
            while True:
                try:
                    if kind == "changed":
                        message = await ws.recv()
                    else:  # websockets' recv is safe to cancel: nothing is lost
                        message = await asyncio.wait_for(ws.recv(), self.first_timeout)
                except asyncio.TimeoutError:
                    raise PiecesTimeout(
                        f"the identifiers stream sent no catalogue within {self.first_timeout:g} s"
                    ) from None
                except ConnectionClosed as closed:
                    with contextlib.suppress(Exception):
                        await ws.close()
                    ws = None
                    if not self.reconnect:
                        raise PiecesUnavailable(
                            [self.api.base_url or ""], "the identifiers stream closed"
                        ) from closed
                    ws = await self._reconnect(closed)
                    kind = "resync"
                    continue
                parsed = parse_identifiers(message)
                if parsed is None:
                    continue
                ids, deleted = parsed
                if kind != "changed":
                    yield ModelsChange(kind, tuple(ids))
                    kind = "changed"
                elif ids or deleted:
                    yield ModelsChange("changed", tuple(ids), tuple(deleted))
        finally:
            if ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2.0)

    async def _reconnect(self, closed: BaseException) -> Any:
        """Open the socket again with exponential backoff; raise after `max_reconnects`."""
        failures = 0
        last: PiecesError | None = None
        while self.max_reconnects is None or failures < self.max_reconnects:
            await asyncio.sleep(min(self.backoff * 2**failures, self.max_backoff))
            failures += 1
            try:
                ws = await self._open()
            except (PiecesUnavailable, PiecesTimeout) as e:
                last = e
                log.debug("identifiers stream: reconnect %d failed: %s", failures, e)
                continue
            self.reconnects += 1
            log.debug("identifiers stream: reconnected after %d tries", failures)
            return ws
        raise PiecesUnavailable(
            [self.api.base_url or ""],
            f"identifiers stream lost; gave up after {self.max_reconnects} tries",
        ) from (last or closed)
