"""Turn Pieces OS's percent-only progress frames into bytes, speed, ETA and a stall flag.

The download-progress socket sends ``{"status": ..., "percentage": 0-100}`` and nothing else.
Users expect what Ollama shows (``35% 586 MB/1.7 GB 4.6 MB/s 3m56s``) and to be told when a
download silently stops. `ProgressTracker` derives all of that from the frames and the model's
size (``Model.bytes``). It is pure: no I/O, and time comes in as an argument (or an injected
clock), so it is tested with a fake clock.

Status rules:
- terminal: ``COMPLETED``, ``FAILED``, ``CANCELED`` (and the spelling ``CANCELLED``), ``RESET``;
- everything else is not terminal: ``INITIALIZED``, ``IN-PROGRESS``, ``UNKNOWN`` (the spec's
  "no information") and any status string a newer server invents (kept as it came);
- a frame without a usable status keeps the previous one; the first status is ``UNKNOWN``.

Percentages are clamped to 0-100 and never go back within one download; a frame whose
``percentage`` is missing, null, non-numeric or NaN changes nothing but the status. A new
``INITIALIZED``/``IN-PROGRESS`` after a terminal status starts a new download from zero.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .units import format_bytes

__all__ = ["TERMINAL_STATUSES", "DownloadProgress", "ProgressTracker", "format_bytes"]

#: Statuses after which a download is over (compared upper-cased).
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "CANCELLED", "RESET"})
_STARTS = frozenset({"INITIALIZED", "IN-PROGRESS", "IN_PROGRESS"})


def is_terminal(status: str | None) -> bool:
    """True for a status that ends a download (case-insensitive)."""
    return isinstance(status, str) and status.upper() in TERMINAL_STATUSES


def _format_eta(seconds: float) -> str:
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """One observation of a model download.

    ``percentage`` is 0-100; ``bytes_done``/``bytes_total`` are None when the model's size is
    unknown; ``speed`` is bytes/s averaged over the last few seconds (None until measurable, or
    when the size is unknown); ``eta`` is seconds left (None when unknown, 0 when completed);
    ``stalled`` means no change for the tracker's ``stall_after`` seconds; ``terminal`` means the
    download is over (see `TERMINAL_STATUSES`).
    """

    model_id: str
    status: str
    percentage: float = 0.0
    bytes_done: int | None = None
    bytes_total: int | None = None
    speed: float | None = None
    eta: float | None = None
    stalled: bool = False
    terminal: bool = False

    @property
    def completed(self) -> bool:
        """The download finished successfully."""
        return self.status.upper() == "COMPLETED"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready), e.g. for the widget's ``progress`` trait."""
        return asdict(self)

    def __str__(self) -> str:
        parts = [self.status, f"{self.percentage:.0f}%"]
        if self.bytes_total is not None:
            parts.append(f"{format_bytes(self.bytes_done)}/{format_bytes(self.bytes_total)}")
        if self.speed is not None and not self.terminal:
            parts.append(f"{format_bytes(self.speed)}/s")
        if self.eta is not None and not self.terminal:
            parts.append(f"ETA {_format_eta(self.eta)}")
        if self.stalled:
            parts.append("stalled")
        return " ".join(parts)


class ProgressTracker:
    """Accumulates frames of one model's download into `DownloadProgress` values.

    Speed is the average rate over a sliding ``window`` of seconds, evaluated at the time asked,
    so it decays towards 0 while nothing arrives (rather than freezing at its last value).
    """

    def __init__(
        self,
        model_id: str,
        bytes_total: int | None = None,
        stall_after: float | None = 10.0,
        *,
        window: float = 5.0,
        min_span: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        now: float | None = None,
    ) -> None:
        self.model_id = model_id
        self.bytes_total = bytes_total if isinstance(bytes_total, int) and bytes_total > 0 else None
        self.stall_after = stall_after
        self.window = window
        self.min_span = min_span
        self._clock = clock
        self.status = "UNKNOWN"
        self.percentage = 0.0
        self._last_change: float | None = now
        self._samples: deque[tuple[float, float]] = deque()
        self._last: DownloadProgress | None = None

    # ----------------------------------------------------------------- public API

    @property
    def terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def last(self) -> DownloadProgress:
        """The most recent progress (computed now if there is none yet)."""
        return self._last if self._last is not None else self.tick()

    def set_total(self, bytes_total: int | None) -> None:
        """Learn or correct the model's size (e.g. after a REST reconcile)."""
        if isinstance(bytes_total, int) and bytes_total > 0:
            self.bytes_total = bytes_total

    def update(self, frame: Any, now: float | None = None) -> DownloadProgress:
        """Apply one socket frame (a dict; anything else changes nothing) and report."""
        now = self._clock() if now is None else now
        if self._last_change is None:
            self._last_change = now
        status = frame.get("status") if isinstance(frame, dict) else None
        pct = frame.get("percentage") if isinstance(frame, dict) else None

        changed = False
        if isinstance(status, str) and status and status != self.status:
            if self.terminal and status.upper() in _STARTS:
                self._restart()  # a new download after the previous one ended
            self.status = status
            changed = True
        if isinstance(status, str) and status.upper() == "COMPLETED":
            pct = 100.0
        if type(pct) is int:  # not bool; may be too big for a float
            pct = 100.0 if pct > 100 else float(max(pct, 0))
        if type(pct) is float and pct == pct:  # NaN compares unequal
            pct = min(max(pct, 0.0), 100.0)
            if pct > self.percentage:
                self.percentage = pct
                changed = True
        if changed:
            self._last_change = now
            self._samples.append((now, self.percentage))
        return self._report(now)

    def tick(self, now: float | None = None) -> DownloadProgress:
        """Re-evaluate speed, ETA and the stall flag without a frame."""
        now = self._clock() if now is None else now
        if self._last_change is None:
            self._last_change = now
        return self._report(now)

    def finish(self, status: str, now: float | None = None) -> DownloadProgress:
        """Force a status learnt elsewhere (e.g. derived from ``GET /model/{id}``)."""
        return self.update({"status": status}, now)

    # ----------------------------------------------------------------- internals

    def _restart(self) -> None:
        self.percentage = 0.0
        self._samples.clear()

    def _rate(self, now: float) -> float | None:
        """Percent per second over the window, or None when not measurable yet."""
        samples = self._samples
        if not samples:
            return None
        horizon = now - self.window
        while len(samples) >= 2 and samples[1][0] <= horizon:
            samples.popleft()
        t0, p0 = samples[0]
        span = now - t0
        if span < self.min_span:
            return None
        return (self.percentage - p0) / span

    def _report(self, now: float) -> DownloadProgress:
        pct = self.percentage
        total = self.bytes_total
        terminal = self.terminal
        done = None if total is None else min(total, round(total * pct / 100.0))
        speed = eta = None
        if terminal:
            if self.status.upper() == "COMPLETED":
                eta = 0.0
        else:
            rate = self._rate(now)
            if rate is not None:
                if total is not None:
                    speed = rate / 100.0 * total
                if rate > 0:
                    eta = (100.0 - pct) / rate
                    if not math.isfinite(eta):
                        eta = None
        stalled = (
            not terminal
            and self.stall_after is not None
            and self._last_change is not None
            and now - self._last_change >= self.stall_after
        )
        self._last = DownloadProgress(
            model_id=self.model_id,
            status=self.status,
            percentage=pct,
            bytes_done=done,
            bytes_total=total,
            speed=speed,
            eta=eta,
            stalled=stalled,
            terminal=terminal,
        )
        return self._last
