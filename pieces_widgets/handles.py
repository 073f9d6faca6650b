"""ActionHandle: what every Python twin of a button returns at once.

A cell must never block while a download runs, so an action returns a handle immediately. The
handle is awaitable in a notebook (`await h`), blocks with `h.wait()` in scripts (where no loop
runs in the caller's thread), can be cancelled, and reports progress to callbacks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import Runner

ProgressCallback = Callable[[Any], None]


class ActionHandle:
    """One running (or finished) action of a ModelManager."""

    def __init__(
        self,
        action: str,
        model_id: str | None,
        runner: Runner,
        on_callback_error: Callable[[BaseException], None] | None = None,
        canceller: Callable[[], Any] | None = None,
    ) -> None:
        self.action = action
        self.model_id = model_id
        self.started = time.time()
        self.finished: float | None = None
        self._runner = runner
        self._done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._task: asyncio.Task[Any] | None = None
        self._callbacks: list[ProgressCallback] = []
        self._on_callback_error = on_callback_error
        self._canceller = canceller  # how a cancellable action (a download) is called off
        self.last_progress: Any = None
        self.model_ids: tuple[str, ...] | None = None  # the ids of a bulk action (one handle)

    def __repr__(self) -> str:
        target = f" {self.model_id!r}" if self.model_id else ""
        if self.model_ids is not None:
            target = f" {len(self.model_ids)} model{'s' if len(self.model_ids) != 1 else ''}"
        return f"<ActionHandle {self.action}{target}: {self.status}>"

    # -- state -------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        if not self._done.done():
            return "running"
        if self._done.cancelled():
            return "cancelled"
        return "failed" if self._done.exception() is not None else "done"

    def done(self) -> bool:
        return self._done.done()

    def result(self) -> Any:
        """The action's result; raises its error (or CancelledError); must be done."""
        if not self._done.done():
            raise RuntimeError(f"{self!r} is still running: await it or call .wait()")
        return self._done.result()

    def exception(self) -> BaseException | None:
        if not self._done.done() or self._done.cancelled():
            return None
        return self._done.exception()

    # -- waiting -----------------------------------------------------------------------------
    def __await__(self) -> Generator[Any, None, Any]:
        return asyncio.wrap_future(self._done).__await__()

    def wait(self, timeout: float | None = None) -> Any:
        """Block until done and return the result (scripts and tests; in a notebook use `await`)."""
        if self._runner.kernel and self._runner.in_loop_thread():
            raise RuntimeError(
                "wait() would freeze the kernel, whose event loop runs this action; "
                "use `await handle` in a notebook cell instead"
            )
        try:
            return self._done.result(timeout)
        except concurrent.futures.TimeoutError:
            if self._done.done():  # the action's own timeout (a TimeoutError too): keep it
                raise
            raise TimeoutError(f"{self.action} did not finish within {timeout} s") from None

    def cancel(self) -> bool:
        """Call the action off; False when it had already ended.

        A download is cancelled the way the Cancel button does it: dropped if still queued (the
        handle ends cancelled), else cancelled on the server and confirmed (the handle ends with
        a CANCELED progress). Any other action stops its local work.
        """
        if self._done.done():
            return False
        if self._canceller is not None:
            try:
                self._canceller()
                return True
            except RuntimeError:  # the widget is closed or its loop stopped: stop locally
                pass
        return self._cancel_task()

    def _cancel_task(self) -> bool:
        """Cancel the local task only (the server is not told)."""
        if self._done.done():
            return False
        if self._task is not None:
            self._runner.call_soon(self._task.cancel)
        else:
            self._done.cancel()
        return True

    # -- progress ----------------------------------------------------------------------------
    def on_progress(self, callback: ProgressCallback) -> ActionHandle:
        """Call `callback(progress)` on each progress update; chainable."""
        self._callbacks.append(callback)
        if self.last_progress is not None:
            self._emit_to(callback, self.last_progress)
        return self

    def _emit(self, progress: Any) -> None:
        self.last_progress = progress
        if self._callbacks:  # per frame: nothing to copy or call when nobody listens
            for callback in tuple(self._callbacks):
                self._emit_to(callback, progress)

    def _emit_to(self, callback: ProgressCallback, progress: Any) -> None:
        try:
            callback(progress)
        except Exception as exc:  # a user's callback must not kill the download
            if self._on_callback_error is not None:
                self._on_callback_error(exc)

    # -- wiring (used by the widget) ---------------------------------------------------------
    def _attach(self, task: asyncio.Task[Any]) -> None:
        """Remember the task; `_finish` is its done-callback, added by `Runner.spawn`."""
        self._task = task

    def _finish(self, task: asyncio.Task[Any]) -> None:
        self.finished = time.time()
        if self._done.done():
            return
        if task.cancelled():
            self._done.cancel()
        elif task.exception() is not None:
            self._done.set_exception(task.exception())
        else:
            self._done.set_result(task.result())

    @property
    def duration(self) -> float | None:
        return None if self.finished is None else self.finished - self.started
