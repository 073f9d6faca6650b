"""What every emulator socket shares: its queue of frames and the two control sentinels."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

CLOSE = object()  # queued to a socket: close it with code 1000
GONE = object()  # queued by the socket's reader: the client went away


@dataclass(eq=False)
class Subscriber:
    """One socket: frames are queued here and sent by that socket's own task."""

    model_id: str | None
    queue: asyncio.Queue[Any]
    route: str = "progress"  # or "identifiers", "ollama_status_stream" (their fault route)
