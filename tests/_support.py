"""Helpers shared by the widget tests: waiting for a condition, and a click's comm message."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(
    check: Callable[[], Any], timeout: float = 20.0, what: str = "condition", step: float = 0.02
) -> Any:
    """`check()`'s first truthy value within `timeout` seconds (checked once more at the end)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(step)


def send(mm: Any, **content: Any) -> None:
    """What a click in the frontend does: a custom comm message, as `model.send` delivers it."""
    msg = {"content": {"data": {"method": "custom", "content": {"type": "action", **content}}}}
    mm._handle_msg({**msg, "buffers": []})
