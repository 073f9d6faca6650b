"""Starting the front ends' servers for browser tests: one process each, shared per module."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_tool(module: str) -> None:
    """A front end under test must be installed; in CI its absence fails instead of skipping."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the {module} tests, but {module} is not installed")
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


def serve(
    cmd: list[str], ready: str, log_path: pathlib.Path, timeout: float = 90, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until `ready` (a URL) answers; terminate it after the yield."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(ready, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                raise RuntimeError(f"{cmd[:3]} did not start:\n{log_path.read_text()}") from None
            time.sleep(0.2)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
