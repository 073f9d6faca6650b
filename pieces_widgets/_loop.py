"""A private asyncio loop in a daemon thread, for sync code that must drive async code.

Why: sync entry points (scripts, and Jupyter cells where a loop is already running in the
kernel's thread, so ``asyncio.run`` is not allowed) still need websockets and concurrent port
probes. Running those on our own loop thread works in both places and never touches the caller's
loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["LoopThread", "run_sync"]


class LoopThread:
    """An event loop running forever in a daemon thread until `close()`."""

    def __init__(self, name: str = "pieces-widgets-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()
        self._closed = False

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        try:
            self.loop.run_forever()
        finally:
            try:
                pending = asyncio.all_tasks(self.loop)
                for task in pending:
                    task.cancel()
                if pending:
                    self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                self.loop.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule `coro` on the loop; returns a concurrent Future."""
        if self._closed:
            coro.close()
            raise RuntimeError("this client is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait for its result (Ctrl-C cancels it)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("cannot block on the client's own loop thread")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        """Drive an async iterator from sync code; closing the generator closes `agen`."""

        async def step() -> tuple[bool, Any]:
            try:
                return False, await agen.__anext__()
            except StopAsyncIteration:
                return True, None

        try:
            while True:
                done, item = self.run(step())
                if done:
                    return
                yield item
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None and not self._closed:
                with contextlib.suppress(Exception):  # best-effort cleanup
                    self.run(aclose(), timeout=10)

    def close(self) -> None:
        """Stop the loop (cancelling what still runs) and join the thread."""
        if self._closed:
            return
        self._closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even if this thread runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as e:  # re-raised in the caller's thread
            error.append(e)

    thread = threading.Thread(target=target, name="pieces-widgets-run", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
