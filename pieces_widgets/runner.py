"""Where the widget's coroutines run.

Inside a Jupyter kernel a cell runs on the kernel's asyncio loop, so the widget's work must be
tasks on that loop (a blocking call there freezes every task). Outside a kernel (scripts, pytest)
no loop runs, so the work goes to one private loop in a daemon thread, shared by the process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ._loop import background_loop, run_blocking  # noqa: F401 - run_blocking is re-exported

T = TypeVar("T")


class Runner:
    """Spawns coroutines as strongly referenced tasks on one loop, from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, kernel: bool) -> None:
        self.loop = loop
        self.kernel = kernel  # True: the caller's own running loop (a kernel); False: background
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread_id: int | None = None if not kernel else threading.get_ident()

    @classmethod
    def for_caller(cls) -> Runner:
        """The caller's running loop if there is one (a kernel cell), else the background loop."""
        try:
            return cls(asyncio.get_running_loop(), kernel=True)
        except RuntimeError:
            return cls(background_loop(), kernel=False)

    def in_loop_thread(self) -> bool:
        if self.kernel:
            return threading.get_ident() == self._thread_id
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def spawn(
        self,
        coro: Coroutine[Any, Any, T],
        on_done: Callable[[asyncio.Task[T]], None] | None = None,
    ) -> asyncio.Task[T]:
        """Start `coro` on the runner's loop and keep a strong reference until it ends.

        `on_done` is attached on the loop's own thread before the task can run, so it never
        misses a task that ends at once (asyncio's callbacks are not thread-safe).
        """

        def create() -> asyncio.Task[T]:
            task = self._track(self.loop.create_task(coro))
            if on_done is not None:
                task.add_done_callback(on_done)
            return task

        if self.in_loop_thread():
            return create()
        if self.loop.is_closed() or not self.loop.is_running():
            coro.close()
            raise RuntimeError("the event loop that runs this widget's work has stopped")
        made: concurrent.futures.Future[asyncio.Task[T]] = concurrent.futures.Future()
        self.loop.call_soon_threadsafe(lambda: made.set_result(create()))
        return made.result(timeout=30)

    def _track(self, task: asyncio.Task[T]) -> asyncio.Task[T]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def call_soon(self, fn: Any, *args: Any) -> None:
        """Run a plain callable on the loop's thread (trait writes must happen there)."""
        if self.in_loop_thread():
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            self.call_soon(task.cancel)
