"""The one way sync code drives async code here: a private loop in one daemon thread.

Why one loop for the whole process: sync entry points (scripts, and Jupyter cells, where the
kernel's loop already runs in the caller's thread so ``asyncio.run`` is refused) still need
websockets and concurrent port probes. The widget's `Runner` outside a kernel, `run_blocking`,
`discover()` and `PiecesClient.watch_download` all run on this loop: one thread however many
clients or widgets exist, nothing started at import, and the caller's own loop is never touched.
The thread is a daemon and is started on first use (again if its loop was closed), so a script
exits without closing anything. Work owned by one object (a `PiecesClient`) goes through a
`LoopTasks`, so closing that object cancels its own work and nobody else's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["LoopTasks", "background_loop", "iterate", "on_loop_thread", "run_blocking"]

THREAD_NAME = "pieces-widgets-loop"

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_lock = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    """The process-wide private loop, started on first use and restarted if it was closed."""
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed() or _thread is None or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            thread = threading.Thread(target=main, name=THREAD_NAME, daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
        return _loop


def on_loop_thread() -> bool:
    """True in the background loop's own thread (where blocking on it would deadlock)."""
    thread = _thread
    return thread is not None and threading.current_thread() is thread


def _submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    loop = background_loop()
    if on_loop_thread():
        coro.close()
        raise RuntimeError(
            "cannot block on the pieces-widgets loop from its own thread (it would wait for "
            "itself forever); await the coroutine there instead"
        )
    return asyncio.run_coroutine_threadsafe(coro, loop)


def _wait(future: concurrent.futures.Future[T], timeout: float | None) -> T:
    try:
        return future.result(timeout)
    except BaseException:  # timeout, Ctrl-C, or the caller's own failure: stop the work too
        future.cancel()
        raise


def run_blocking(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the background loop and wait for it, even inside a running kernel loop.

    The caller's thread (and its loop, if any) is blocked only for this call. A timeout
    (`concurrent.futures.TimeoutError`) or KeyboardInterrupt cancels the coroutine.
    Raises RuntimeError when called from the background loop's own thread.
    """
    return _wait(_submit(coro), timeout)


def iterate(
    agen: AsyncIterator[T], run: Callable[[Coroutine[Any, Any, Any]], Any] = run_blocking
) -> Iterator[T]:
    """Drive an async iterator from sync code, one item per `run`; closing this closes `agen`."""

    async def step() -> tuple[bool, Any]:
        try:
            return False, await agen.__anext__()
        except StopAsyncIteration:
            return True, None

    try:
        while True:
            done, item = run(step())
            if done:
                return
            yield item
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None and not on_loop_thread():
            with contextlib.suppress(Exception):  # best effort; a cancelled agen is already shut
                run_blocking(aclose(), timeout=10)


class LoopTasks:
    """The work one owner runs on the shared loop; `close()` cancels all of it (and only it).

    `closed_error` makes the exception raised by calls after (or cut short by) `close()`.
    """

    def __init__(self, closed_error: Callable[[], BaseException]) -> None:
        self._closed_error = closed_error
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()
        self.closed = False

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """`run_blocking`, tracked: cancelled by `close()` (then raises `closed_error()`)."""
        with self._lock:
            if self.closed:
                coro.close()
                raise self._closed_error()
            future = _submit(coro)
            self._futures.add(future)
        try:
            return _wait(future, timeout)
        except concurrent.futures.CancelledError:
            if self.closed:
                raise self._closed_error() from None
            raise
        finally:
            with self._lock:
                self._futures.discard(future)

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        """`iterate`, tracked."""
        return iterate(agen, self.run)

    def close(self, last: Coroutine[Any, Any, Any] | None = None, timeout: float = 5.0) -> None:
        """Refuse new work and cancel what still runs (without waiting for it to end).

        `last` (e.g. closing the owner's connections) then runs on the loop: waited for up to
        `timeout` seconds, or only scheduled when called from the loop's own thread.
        """
        with self._lock:
            self.closed = True
            futures, self._futures = self._futures, set()
        for future in futures:
            future.cancel()
        if last is None:
            return
        if on_loop_thread():
            asyncio.get_running_loop().create_task(last)
        else:
            with contextlib.suppress(Exception):  # best effort: the owner is going away
                run_blocking(last, timeout)
