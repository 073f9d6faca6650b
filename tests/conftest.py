"""Shared fixtures: a real emulator on a free loopback port, one per test, plus socket helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from pieces_widgets.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started emulator with a 1 s download; stopped after the test."""
    emu = Emulator(download_seconds=1.0)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Call with Emulator kwargs to get a started emulator; all are stopped at teardown."""
    started: list[Emulator] = []

    def make(**kwargs: Any) -> Emulator:
        emu = Emulator(**kwargs)
        started.append(emu)
        emu.start()
        return emu

    yield make
    for emu in reversed(started):
        emu.stop()


class ProgressSocket:
    """A `websockets` sync client on `/model/{id}/download/progress` that decodes frames."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    def recv(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next frame as a dict, or None if nothing arrives within `timeout`."""
        try:
            return json.loads(self.conn.recv(timeout=timeout))
        except TimeoutError:
            return None

    def until(self, *statuses: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Frames up to and including the first whose status is in `statuses`."""
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(timeout=max(0.0, deadline - time.monotonic()))
            if frame is None:
                raise AssertionError(f"no {statuses} frame within {timeout} s; got {frames[-3:]}")
            frames.append(frame)
            if frame.get("status") in statuses:
                return frames

    def closed_within(self, timeout: float = 5.0) -> ConnectionClosed:
        """Wait for the server to end the connection; return the close exception."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.conn.recv(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
            except ConnectionClosed as e:
                return e
        raise AssertionError(f"socket still open after {timeout} s")

    def close(self) -> None:
        self.conn.close()


def progress_url(emu: Emulator, model_id: str) -> str:
    return f"{emu.ws_url}/model/{quote(model_id, safe='')}/download/progress"


@pytest.fixture
def progress_socket() -> Iterator[Callable[[Emulator, str], ProgressSocket]]:
    """Open progress sockets: `progress_socket(emu, model_id)`; all closed at teardown."""
    opened: list[ProgressSocket] = []

    def open_socket(emu: Emulator, model_id: str) -> ProgressSocket:
        conn = connect(
            progress_url(emu, model_id), proxy=None, compression=None, open_timeout=5, legacy=True
        )
        sock = ProgressSocket(conn)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        sock.close()
