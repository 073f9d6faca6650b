"""WebSocket `/models/stream/identifiers`: the ids of models that changed, pushed as they change.

The hook is `ModelStore.listener`, which every mutation goes through (REST commands, downloads
starting/ending, `emu.add_model`/`remove_model`, score increments), so no source of change can be
missed. Changes made in one loop tick are batched into one frame (`unload_all` of ten loaded
models is one frame of ten ids); each id appears once per frame, with its last state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .subs import CLOSE, Subscriber
from .wire import dumps

if TYPE_CHECKING:
    from .state import ModelStore

ROUTE = "identifiers"


def identifiers_frame(items: Iterable[tuple[str, bool]]) -> str:
    """A `StreamedIdentifiers` text frame: `{"iterable": [{"model": {"id"}, "deleted"}]}`."""
    body = {"iterable": [{"model": {"id": mid}, "deleted": gone} for mid, gone in items]}
    return dumps(body).decode()


class IdentifierHub:
    """The sockets of the identifiers stream and the ids changed since the last frame."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.subscribers: set[Subscriber] = set()
        self.frames_sent = 0  # frames queued (one per flush, whatever the number of sockets)
        self._pending: dict[str, bool] = {}
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        store.listener = self.changed

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self) -> Subscriber:
        """A new socket: its first frame is the whole catalogue (the SDK's "first shot")."""
        sub = Subscriber(None, asyncio.Queue(), route=ROUTE)
        sub.queue.put_nowait(identifiers_frame((mid, False) for mid in self.store.ids()))
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def changed(self, model_id: str, deleted: bool) -> None:
        """Store listener: remember the id; one flush per loop tick sends the frame."""
        if not self.subscribers:
            return
        self._pending.pop(model_id, None)  # keep the order of the latest change
        self._pending[model_id] = deleted
        if self._scheduled:
            return
        self._scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self._flush)
        except RuntimeError:  # a white-box change from another thread
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        text = identifiers_frame(self._pending.items())
        self._pending = {}
        self.frames_sent += 1
        for sub in self.subscribers:
            sub.queue.put_nowait(text)

    def close_all(self) -> list[Subscriber]:
        subs = list(self.subscribers)
        for sub in subs:
            sub.queue.put_nowait(CLOSE)
        return subs
