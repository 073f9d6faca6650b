"""`Emulator`: uvicorn on its own event loop in a daemon thread, for tests and notebooks.

The listening socket is created here (not by uvicorn) so that port 0 works, the port is known
before `start()` returns, and `stop()` + `start()` re-binds the very same port. The server loop
never touches the caller's loop, so it works in pytest and inside a running Jupyter kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

import uvicorn

from .app import EmulatorApp
from .catalog import CatalogSource, load_catalog
from .device import DeviceSource, load_device
from .faults import Faults
from .state import DEFAULT_SPEED, EmulatorState

T = TypeVar("T")


def package_version() -> str:
    try:
        return metadata.version("pieces-widgets")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """A Pieces OS model API on `self.url`; use as a context manager or via start()/stop()."""

    def __init__(
        self,
        catalog: CatalogSource = None,
        download_seconds: float | None = None,
        download_speed: float = DEFAULT_SPEED,
        frame_interval: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = "12.3.4",
        *,
        seed: int = 0,
        resume_downloads: bool = True,
        allow_remote: bool = False,
        log: Callable[[str], None] | None = None,
        device: DeviceSource = None,
        ollama: str = "installed",
        runtime_seconds: float = 2.0,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to bind non-loopback host {host!r} without allow_remote")
        self.host = host
        self.port = port
        self.version = version
        self.faults = Faults(seed=seed)
        self.requests: list[tuple[str, str]] = []
        self._state = EmulatorState(
            load_catalog(catalog),
            self.faults,
            download_seconds=download_seconds,
            download_speed=download_speed,
            frame_interval=frame_interval,
            resume_downloads=resume_downloads,
            ollama=ollama,
            runtime_seconds=runtime_seconds,
        )
        self._app = EmulatorApp(
            self._state,
            self.faults,
            version=version,
            server_header=f"pieces-widgets/{package_version()}",
            requests=self.requests,
            log=log,
            device=load_device(device),
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._sock: socket.socket | None = None
        self._lifecycle = threading.Lock()

    # --- public API -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[4:]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def store(self) -> Any:
        """The ModelStore (for white-box tests: `serializations`, `body_builds`)."""
        return self._state.store

    def start(self) -> Emulator:
        """Bind, serve in a background thread, and return once the server accepts requests."""
        with self._lifecycle:
            if self.running:
                return self
            sock = self._bind()
            self.port = sock.getsockname()[1]
            ready = threading.Event()
            errors: list[BaseException] = []
            self._sock = sock
            self._thread = threading.Thread(
                target=self._thread_main,
                args=(sock, ready, errors),
                name=f"pieces-emulator:{self.port}",
                daemon=True,
            )
            self._thread.start()
            ready.wait()
            if errors:
                self._thread.join()
                self._thread = None
                sock.close()
                raise RuntimeError("emulator failed to start") from errors[0]
            return self

    def stop(self) -> None:
        """Stop like a dying server: downloads end, sockets close, the port is released."""
        with self._lifecycle:
            thread, loop, event = self._thread, self._loop, self._stop_event
            if thread is None:
                return
            if loop is not None and event is not None and thread.is_alive():
                loop.call_soon_threadsafe(event.set)
            thread.join(timeout=10)
            self._thread = None
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Emulator {self.url} {state}, {len(self._state.store)} models>"

    def model(self, model_id: str) -> dict[str, Any]:
        """A copy of the current wire dict of one model (KeyError if unknown)."""
        return self._call(self._state.store.copy, model_id)

    def models(self) -> list[dict[str, Any]]:
        """Copies of all models, in server order."""
        return self._call(lambda: json.loads(self._state.store.body())["iterable"])

    @property
    def device(self) -> dict[str, Any]:
        """A copy of the `GET /os/device/information` body; assign a dict to replace it."""
        return json.loads(json.dumps(self._app.device))

    @device.setter
    def device(self, value: DeviceSource) -> None:
        self._app.device = load_device(value)

    @property
    def ollama(self) -> str:
        """The runtime state: installed | missing | update-required | installing | updating."""
        return self._call(lambda: self._state.runtime.state)

    def set_ollama(self, state: str) -> None:
        """Reset the runtime to installed | missing | update-required, as if changed elsewhere."""
        self._call(self._state.runtime.reset, state)

    def ollama_status(self) -> dict[str, Any]:
        """A copy of the current `GET /ollama/status` body."""
        return self._call(lambda: json.loads(self._state.runtime.status_body()))

    def add_model(self, model: dict[str, Any]) -> dict[str, Any]:
        """Add (or replace, by id) a model as if it changed elsewhere; returns the stored copy."""
        if not isinstance(model.get("id"), str) or not model["id"]:
            raise ValueError("model needs a string 'id'")
        stored = json.loads(json.dumps(model))
        self._call(self._state.store.put, stored)
        return self.model(stored["id"])

    def remove_model(self, model_id: str) -> None:
        """Remove a model as if deleted elsewhere (KeyError if unknown); its sockets close."""

        def remove() -> None:
            if model_id not in self._state.store:
                raise KeyError(model_id)
            self._state.remove(model_id)

        self._call(remove)

    # --- internals --------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP; without it, keep-alive responses stall ~40 ms on delayed ACKs.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on the server loop (where all state lives) when it is running."""
        loop = self._loop
        if loop is None or not self.running or _running_loop() is loop:
            return fn(*args)

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=10)

    def _thread_main(
        self, sock: socket.socket, ready: threading.Event, errors: list[BaseException]
    ) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock, ready))
        except BaseException as e:  # reported to start(), or logged if it happens later
            if not ready.is_set():
                errors.append(e)
            else:
                logging.getLogger(__name__).exception("emulator server crashed")
        finally:
            ready.set()
            self._loop = None
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            http="h11",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            log_level="warning",
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=1,
            # uvicorn adds these to every response it writes (and the 101 of an upgrade);
            # the app adds it only to upgrade refusals, which bypass the defaults.
            headers=[("x-pieces-emulator", self._app.server_header)],
            server_header=False,
        )
        server = uvicorn.Server(config)
        self._app.stopping = False
        config.load()
        server.lifespan = config.lifespan_class(config)
        self._stop_event = asyncio.Event()
        await server.startup(sockets=[sock])
        await server.on_tick(0)  # sets the default headers before the first request
        ticker = asyncio.ensure_future(server.main_loop())  # keeps the Date header fresh
        loop = asyncio.get_running_loop()
        self._state.attach(loop)
        ready.set()
        await self._stop_event.wait()
        ticker.cancel()
        self._app.stopping = True
        await self._state.shutdown()
        await _shutdown(server, loop)


async def _shutdown(server: uvicorn.Server, loop: asyncio.AbstractEventLoop) -> None:
    """uvicorn's own shutdown, minus its fixed sleeps: close listeners, then connections."""
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()
    deadline = loop.time() + 1.0
    while (server.server_state.connections or server.server_state.tasks) and loop.time() < deadline:
        await asyncio.sleep(0.005)
    # Whatever is still in flight (a latency fault, say) is cut like a killed process would.
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.abort()
    tasks = list(server.server_state.tasks)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=1.0)
    for listener in server.servers:
        with contextlib.suppress(asyncio.TimeoutError):  # a client that never lets go
            await asyncio.wait_for(listener.wait_closed(), timeout=1.0)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
