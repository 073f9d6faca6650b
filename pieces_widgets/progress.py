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

Cost: a download can send hundreds of frames a second while the widget shows a few a second, so
a frame costs a few attribute writes and one small object. Speed, ETA and bytes done are worked
out only when someone reads them (`DownloadProgress` keeps the window's first sample and the
time it was made), so the values of frames superseded before the next flush are never computed.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .units import format_bytes

__all__ = ["TERMINAL_STATUSES", "DownloadProgress", "ProgressTracker", "format_bytes"]

#: Statuses after which a download is over (compared upper-cased).
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "CANCELLED", "RESET"})
_STARTS = frozenset({"INITIALIZED", "IN-PROGRESS", "IN_PROGRESS"})
_FIELDS = (
    "model_id", "status", "percentage", "bytes_done", "bytes_total", "speed", "eta", "stalled",
    "terminal",
)  # fmt: skip


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


def _read(name: str, doc: str) -> Any:
    def get(self: DownloadProgress) -> Any:
        if self._lazy:
            self._derive()
        return getattr(self, name)

    return property(get, doc=doc)


class DownloadProgress:
    """One observation of a model download (read-only attributes).

    ``percentage`` is 0-100; ``bytes_done``/``bytes_total`` are None when the model's size is
    unknown; ``speed`` is bytes/s averaged over the last few seconds (None until measurable, or
    when the size is unknown); ``eta`` is seconds left (None when unknown, 0 when completed);
    ``stalled`` means no change for the tracker's ``stall_after`` seconds; ``terminal`` means the
    download is over (see `TERMINAL_STATUSES`).
    """

    __slots__ = (
        "_at", "_bytes_done", "_bytes_total", "_eta", "_lazy", "_min_span", "_model_id", "_p0",
        "_percentage", "_speed", "_stalled", "_status", "_t0", "_terminal",
    )  # fmt: skip

    def __init__(
        self,
        model_id: str,
        status: str,
        percentage: float = 0.0,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        speed: float | None = None,
        eta: float | None = None,
        stalled: bool = False,
        terminal: bool = False,
    ) -> None:
        self._model_id = model_id
        self._status = status
        self._percentage = percentage
        self._bytes_done = bytes_done
        self._bytes_total = bytes_total
        self._speed = speed
        self._eta = eta
        self._stalled = stalled
        self._terminal = terminal
        self._lazy = False

    # read-only; attrgetter keeps a read as cheap as a plain attribute's
    model_id = property(attrgetter("_model_id"), doc="The model's id.")
    status = property(attrgetter("_status"), doc="The status as the server wrote it.")
    percentage = property(attrgetter("_percentage"), doc="0-100, never going back.")
    bytes_total = property(attrgetter("_bytes_total"), doc="The model's size, or None.")
    stalled = property(attrgetter("_stalled"), doc="No change for `stall_after` seconds.")
    terminal = property(attrgetter("_terminal"), doc="The download is over.")
    bytes_done = _read("_bytes_done", "Bytes downloaded (from the percentage), or None.")
    speed = _read("_speed", "Bytes/s over the tracker's window, or None.")
    eta = _read("_eta", "Seconds left, or None; 0 once completed.")

    def _derive(self) -> None:
        """Bytes done, speed and ETA from the window's first sample (on first read only)."""
        pct, total, t0 = self._percentage, self._bytes_total, self._t0
        self._bytes_done = None if total is None else min(total, round(total * pct / 100.0))
        speed = eta = None
        if self._terminal:
            if self._status.upper() == "COMPLETED":
                eta = 0.0
        elif t0 is not None and self._at - t0 >= self._min_span and self._at > t0:
            rate = (pct - self._p0) / (self._at - t0)  # percent per second
            if total is not None:
                speed = rate / 100.0 * total
            if rate > 0:
                eta = (100.0 - pct) / rate
                if not math.isfinite(eta):
                    eta = None
        self._speed, self._eta, self._lazy = speed, eta, False

    @property
    def completed(self) -> bool:
        """The download finished successfully."""
        return self._status.upper() == "COMPLETED"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready), e.g. for the widget's ``progress`` trait."""
        return {name: getattr(self, name) for name in _FIELDS}

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"DownloadProgress({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return DownloadProgress, self._values()

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


_new = object.__new__


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
        self._samples: deque[tuple[float, float]] = deque()  # (time, percentage) at each change
        self._last: DownloadProgress | None = None

    # ----------------------------------------------------------------- public API

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, status: str) -> None:
        self._status = status
        upper = status.upper()
        self._terminal = upper in TERMINAL_STATUSES
        self._completed = upper == "COMPLETED"

    @property
    def terminal(self) -> bool:
        return self._terminal

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
        if now is None:
            now = self._clock()
        if self._last_change is None:
            self._last_change = now
        if isinstance(frame, dict):
            status = frame.get("status")
            pct = frame.get("percentage")
        else:
            status = pct = None
        changed = False
        if isinstance(status, str) and status:
            if status != self._status:
                if self._terminal and status.upper() in _STARTS:
                    self._restart()  # a new download after the previous one ended
                self.status = status
                changed = True
            if self._completed:  # the frame's status (equal to ours by now) says COMPLETED
                pct = 100.0
        if type(pct) is int:  # not bool; may be too big for a float
            pct = 100.0 if pct > 100 else float(max(pct, 0))
        # Only a higher percentage counts (NaN and negatives never are), clamped to 100.
        if type(pct) is float and pct > self.percentage:
            self.percentage = pct if pct <= 100.0 else 100.0
            changed = True
        if changed:
            self._last_change = now
            self._samples.append((now, self.percentage))
        return self._report(now)

    def tick(self, now: float | None = None) -> DownloadProgress:
        """Re-evaluate speed, ETA and the stall flag without a frame."""
        if now is None:
            now = self._clock()
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

    def _report(self, now: float) -> DownloadProgress:
        """A `DownloadProgress` whose speed and ETA are derived when first read."""
        terminal = self._terminal
        samples = self._samples
        t0 = p0 = None
        if samples and not terminal:
            horizon = now - self.window
            while len(samples) >= 2 and samples[1][0] <= horizon:
                samples.popleft()
            t0, p0 = samples[0]
        stall_after = self.stall_after
        p = _new(DownloadProgress)
        p._model_id = self.model_id
        p._status = self._status
        p._percentage = self.percentage
        p._bytes_total = self.bytes_total
        p._stalled = (
            not terminal and stall_after is not None and now - self._last_change >= stall_after
        )
        p._terminal = terminal
        p._lazy = True
        p._t0, p._p0, p._at, p._min_span = t0, p0, now, self.min_span
        self._last = p
        return p
