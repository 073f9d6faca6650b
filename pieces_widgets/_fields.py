"""Per-field parsers of the tolerant model parser (`pieces_widgets.models`).

Each takes (raw value, key, model id, warn) and returns the parsed value or None; `warn` may be
None (no collection). They only warn for values that are present, non-null and unusable. The
rules they implement are listed in `pieces_widgets.models`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

INT64_MAX = 2**63 - 1
_UTC = timezone.utc


Warn = Callable[[str], Any] | None


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _bad(warn: Warn, mid: str, key: str, value: Any, what: str) -> None:
    if warn is not None:
        warn(f"model {mid!r}: {key} should be {what}, got {short(value)}; using None")


def text(v: Any, key: str, mid: str, warn: Warn) -> str | None:
    if v is None or isinstance(v, str):
        return v
    _bad(warn, mid, key, v, "a string")
    return None


def flag(v: Any, key: str, mid: str, warn: Warn) -> bool | None:
    if v is None or v is True or v is False:
        return v
    _bad(warn, mid, key, v, "true/false")
    return None


def count(v: Any, key: str, mid: str, warn: Warn, inner: str) -> int | None:
    """A non-negative int64 count, maybe wrapped as ``{inner: n}`` (ByteDescriptor, maxTokens)."""
    if v is None:
        return None
    n = v.get(inner) if type(v) is dict else v
    t = type(n)
    if t is int:
        if 0 <= n <= INT64_MAX:
            return n
    elif t is float:
        if n.is_integer() and 0 <= n <= INT64_MAX:
            return int(n)
    elif n is None and type(v) is dict and (inner == "total" or inner not in v):
        # maxTokens.total is declared nullable; a ByteDescriptor without value is just empty.
        return None
    _bad(warn, mid, key, v, "a non-negative integer")
    return None


def number(v: Any, key: str, mid: str, warn: Warn) -> float | None:
    t = type(v)
    if v is None:
        return None
    if t is float:
        if math.isfinite(v):
            return v
    elif t is int:
        try:
            return float(v)
        except OverflowError:
            pass
    _bad(warn, mid, key, v, "a finite number")
    return None


def parse_datetime(s: str) -> datetime | None:
    """ISO-8601 -> aware UTC datetime; None when unparseable or out of range."""
    if s[-1:] in ("Z", "z"):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
        if dt.tzinfo is None:
            return dt.replace(tzinfo=_UTC)
        return dt.astimezone(_UTC)
    except (ValueError, OverflowError, TypeError):
        return None


_DT_CACHE: dict[str, datetime] = {}
DT_GET = _DT_CACHE.get


def timestamp(s: str) -> datetime | None:
    """`parse_datetime` through a small cache: snapshots repeat timestamps a lot."""
    dt = DT_GET(s)
    if dt is None and s:
        dt = parse_datetime(s)
        if dt is not None:
            if len(_DT_CACHE) >= 4096:
                _DT_CACHE.clear()
            _DT_CACHE[s] = dt
    return dt


def created(v: Any, mid: str, warn: Warn) -> datetime | None:
    if v is None:
        return None
    s = v.get("value") if type(v) is dict else v
    if isinstance(s, str) and (dt := timestamp(s)) is not None:
        return dt
    _bad(warn, mid, "created", v, "an ISO-8601 timestamp")
    return None
