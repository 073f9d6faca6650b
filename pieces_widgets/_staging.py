"""TraitBatcher: every trait write of a ModelManager goes out in batches.

Every trait write is staged, and all staged values go out together, in one comm message, at most
once per `interval` (125 ms): at most 8 messages a second per widget, whatever the frame rate or
the number of downloads. Nothing is dropped: only the newest value of each trait is sent, and a
terminal state waits at most one interval. A progress frame only records the newest
`DownloadProgress` per model; the flush turns it into the row's entry, so frames superseded
before a flush cost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from .rows import Throttle, merge_progress, progress_entry
from .runner import Runner


class _Lazy:
    """A staged value made only when read or flushed (see `TraitBatcher.stage_lazy`)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


class TraitBatcher:
    """Stages trait values of `widget` and flushes them on `runner`'s loop, throttled."""

    def __init__(self, widget: Any, runner: Runner, interval: float) -> None:
        self._widget = widget
        self._runner = runner
        self._throttle = Throttle(interval)
        self._staged: dict[str, Any] = {}
        self._latest: dict[str, Any] = {}  # newest DownloadProgress per model, not yet sent
        self._waiters: list[asyncio.Future[None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self.direct = True  # the constructor writes traits at once; afterwards they are batched

    def get(self, name: str) -> Any:
        """A trait's value as the frontend will see it after the next flush."""
        if name not in self._staged:
            return getattr(self._widget, name)
        value = self._staged[name]
        if value.__class__ is _Lazy:
            value = self._staged[name] = value.make()
        return value

    def stage(self, name: str, value: Any) -> None:
        if self.direct:
            if getattr(self._widget, name) != value:
                setattr(self._widget, name, value)
            return
        self._staged[name] = value
        self._schedule()

    def stage_lazy(self, name: str, make: Callable[[], Any]) -> None:
        """Stage the value `make()` returns, made only when read (`get`) or flushed.

        For a costly value staged more often than it is sent (the rows, re-made at every
        snapshot or model answer): of several stagings between two flushes only the last is
        ever built. `make` must capture what it needs (it runs later, on the loop).
        """
        if self.direct:
            self.stage(name, make())
            return
        self._staged[name] = _Lazy(make)
        self._schedule()

    def push_progress(self, model_id: str, progress: Any) -> None:
        """Keep only the newest frame per model; the flush turns it into the row's entry."""
        self._latest[model_id] = progress
        if self._timer is None:  # per frame: a flush is usually pending already
            self._schedule()

    def keep_progress(self, keep: Iterable[str]) -> None:
        """Forget progress (sent and unsent) of every model not in `keep`."""
        keep = set(keep)
        self.stage("progress", {k: v for k, v in self.get("progress").items() if k in keep})
        self._latest = {k: v for k, v in self._latest.items() if k in keep}

    async def synced(self) -> None:
        """Wait until everything staged so far has reached the traits (at most one interval)."""
        if not self._staged and not self._latest:
            return
        waiter = self._runner.loop.create_future()
        self._waiters.append(waiter)
        self._schedule()
        await waiter

    def _schedule(self) -> None:
        if self._timer is not None:  # a flush is pending (cheap check first: runs per frame)
            return
        if not self._runner.in_loop_thread():
            self._runner.call_soon(self._schedule)
            return
        loop = self._runner.loop
        self._timer = loop.call_later(self._throttle.delay(loop.time()), self.flush)

    def flush(self) -> None:
        """Send everything staged in one message (`hold_sync`), then wake `synced()` waiters."""
        self._timer = None
        widget = self._widget
        if self._latest:
            progress = dict(self.get("progress"))
            for model_id, latest in self._latest.items():
                progress[model_id] = merge_progress(progress.get(model_id), progress_entry(latest))
            self._latest = {}
            self._staged["progress"] = progress
        staged, self._staged = self._staged, {}
        for name, value in staged.items():
            if value.__class__ is _Lazy:
                staged[name] = value.make()
        changed = {k: v for k, v in staged.items() if getattr(widget, k) != v}
        if changed:
            with widget.hold_sync():
                for name, value in changed.items():
                    setattr(widget, name, value)
            self._throttle.mark(self._runner.loop.time())
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
