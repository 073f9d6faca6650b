"""`Model` and the tolerant snapshot parser.

Why hand-written and not pydantic: the official SDK lost whole snapshots to one unexpected enum
value (pieces-os-client-sdk-for-python#21), and validation frameworks are slow on 1,000-model
snapshots. Here parsing is pure and total: any JSON value goes in, usable models and a list of
warnings come out, and nothing raises.

Rules (the widget and the DataFrame rely on them):
- an entry that is not an object, or has no non-empty string ``id``, is skipped with a warning;
- a field of the wrong type becomes None with a warning (a ``"true"`` string is not a bool);
  the only coercions are lossless: an integral float for an integer count, a bare number where a
  ``{"value": n}`` / ``{"total": n}`` wrapper was expected;
- enum fields (``type``, ``usage``, ``foundation``, ``provider``) keep whatever string came, known
  or not;
- ``created`` becomes an aware UTC datetime (``Z``, ``+00:00`` or naive-as-UTC), None when
  unparseable;
- the untouched wire dict is kept in ``raw`` (extra keys included), for `Model.to_wire()`.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["Model", "parse_model", "parse_snapshot"]

log = logging.getLogger("pieces_widgets")

_INT64_MAX = 2**63 - 1
_UTC = timezone.utc

#: Row states, in the priority order used by `Model.state`.
STATES = ("cloud", "downloading", "loaded", "downloaded", "available")


@dataclass(frozen=True, slots=True, repr=False)
class Model:
    """One Pieces OS model, snake_case, immutable.

    Missing optional fields are None. ``bytes``/``ram`` are byte counts (``bytes.value`` on the
    wire), ``max_tokens`` is ``maxTokens.total``, ``created`` is an aware UTC datetime.
    ``raw`` is the wire dict as received: treat it as read-only and use `to_wire()` for a copy.
    """

    id: str
    name: str | None = None
    unique: str | None = None
    cloud: bool | None = None
    downloaded: bool | None = None
    downloading: bool | None = None
    loaded: bool | None = None
    custom: bool | None = None
    cpu: bool | None = None
    denied: bool | None = None
    foundation: str | None = None
    provider: str | None = None
    type: str | None = None
    usage: str | None = None
    version: str | None = None
    description: str | None = None
    created: datetime | None = None
    bytes: int | None = None
    ram: int | None = None
    parameters: float | None = None
    quantization: str | None = None
    max_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def state(self) -> str:
        """One of ``cloud, downloading, loaded, downloaded, available`` (first match wins)."""
        if self.cloud:
            return "cloud"
        if self.downloading:
            return "downloading"
        if self.loaded:
            return "loaded"
        if self.downloaded:
            return "downloaded"
        return "available"

    @property
    def usable(self) -> bool:
        """Usable for chat right now: cloud or downloaded (what the SDK and CLI list)."""
        return bool(self.cloud or self.downloaded)

    def to_wire(self) -> dict[str, Any]:
        """A deep copy of the wire dict, ready to edit and send to ``POST /model/update``."""
        if self.raw:
            return copy.deepcopy(self.raw)
        return {"id": self.id}

    @classmethod
    def from_wire(cls, obj: Any) -> Model:
        """Parse one wire model; raise ValueError when it has no usable id (see `parse_model`)."""
        warnings: list[str] = []
        model = parse_model(obj, warnings)
        if model is None:
            raise ValueError(warnings[0] if warnings else "not a model")
        return model

    def __repr__(self) -> str:
        return (
            f"Model(id={self.id!r}, name={self.name!r}, unique={self.unique!r}, "
            f"state={self.state!r})"
        )


# --------------------------------------------------------------------------- field parsers
# Each takes (raw value, key, model id, warn) and returns the parsed value. `warn` may be None
# (no collection). They only warn for values that are present, non-null and unusable.

_Warn = Callable[[str], Any] | None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _bad(warn: _Warn, mid: str, key: str, value: Any, what: str) -> None:
    if warn is not None:
        warn(f"model {mid!r}: {key} should be {what}, got {_short(value)}; using None")


def _str(v: Any, key: str, mid: str, warn: _Warn) -> str | None:
    if v is None or isinstance(v, str):
        return v
    _bad(warn, mid, key, v, "a string")
    return None


def _flag(v: Any, key: str, mid: str, warn: _Warn) -> bool | None:
    if v is None or v is True or v is False:
        return v
    _bad(warn, mid, key, v, "true/false")
    return None


def _count(v: Any, key: str, mid: str, warn: _Warn, inner: str) -> int | None:
    """A non-negative int64 count, maybe wrapped as ``{inner: n}`` (ByteDescriptor, maxTokens)."""
    if v is None:
        return None
    n = v.get(inner) if type(v) is dict else v
    t = type(n)
    if t is int:
        if 0 <= n <= _INT64_MAX:
            return n
    elif t is float:
        if n.is_integer() and 0 <= n <= _INT64_MAX:
            return int(n)
    elif n is None and type(v) is dict and (inner == "total" or inner not in v):
        # maxTokens.total is declared nullable; a ByteDescriptor without value is just empty.
        return None
    _bad(warn, mid, key, v, "a non-negative integer")
    return None


def _number(v: Any, key: str, mid: str, warn: _Warn) -> float | None:
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


def _parse_datetime(s: str) -> datetime | None:
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
_DT_GET = _DT_CACHE.get


def _created(v: Any, mid: str, warn: _Warn) -> datetime | None:
    if v is None:
        return None
    s = v.get("value") if type(v) is dict else v
    if isinstance(s, str) and s:
        # Snapshots repeat timestamps a lot (seeded models share one); cache the parse.
        dt = _DT_CACHE.get(s)
        if dt is None:
            dt = _parse_datetime(s)
            if dt is not None:
                if len(_DT_CACHE) >= 4096:
                    _DT_CACHE.clear()
                _DT_CACHE[s] = dt
        if dt is not None:
            return dt
    _bad(warn, mid, "created", v, "an ISO-8601 timestamp")
    return None


# --------------------------------------------------------------------------- public parsers


class _Unfrozen:
    """Same slot layout as `Model`, without the frozen ``__setattr__``.

    Why: a frozen dataclass ``__init__`` routes each of its 23 fields through
    ``object.__setattr__`` (about 4 µs per model); filling this twin with plain attribute stores
    and then switching ``__class__`` builds an identical `Model` about 5x faster, which keeps
    `list_models` on 1,000 models close to the cost of ``json.loads`` alone.
    """

    __slots__ = Model.__slots__


_new = object.__new__


def parse_model(obj: Any, warnings: list[str] | None = None) -> Model | None:
    """Parse one wire model. Never raises.

    Returns None (and appends a warning) when ``obj`` is not an object with a non-empty string
    ``id``; otherwise a `Model`, with unusable fields set to None and one warning each.
    """
    warn = warnings.append if warnings is not None else None
    if type(obj) is not dict:
        if not isinstance(obj, dict):
            if warn is not None:
                warn(f"skipped an entry that is not an object: {_short(obj)}")
            return None
        obj = dict(obj)
    g = obj.get
    mid = g("id")
    if type(mid) is not str or not mid:
        if warn is not None:
            name = g("name")
            label = f" (name {_short(name)})" if isinstance(name, str) else ""
            warn(f"skipped a model without a string id{label}: id={_short(mid)}")
        return None

    m = _new(_Unfrozen)
    m.id = mid
    m.raw = obj
    # Fast path: plain checks inline; the helpers only run for values that need a decision.
    v = g("name")
    m.name = v if type(v) is str or v is None else _str(v, "name", mid, warn)
    v = g("unique")
    m.unique = v if type(v) is str or v is None else _str(v, "unique", mid, warn)
    v = g("cloud")
    m.cloud = v if v is True or v is False or v is None else _flag(v, "cloud", mid, warn)
    v = g("downloaded")
    m.downloaded = v if v is True or v is False or v is None else _flag(v, "downloaded", mid, warn)
    v = g("downloading")
    m.downloading = (
        v if v is True or v is False or v is None else _flag(v, "downloading", mid, warn)
    )
    v = g("loaded")
    m.loaded = v if v is True or v is False or v is None else _flag(v, "loaded", mid, warn)
    v = g("custom")
    m.custom = v if v is True or v is False or v is None else _flag(v, "custom", mid, warn)
    v = g("cpu")
    m.cpu = v if v is True or v is False or v is None else _flag(v, "cpu", mid, warn)
    v = g("denied")
    m.denied = v if v is True or v is False or v is None else _flag(v, "denied", mid, warn)
    v = g("foundation")
    m.foundation = v if type(v) is str or v is None else _str(v, "foundation", mid, warn)
    v = g("provider")
    m.provider = v if type(v) is str or v is None else _str(v, "provider", mid, warn)
    v = g("type")
    m.type = v if type(v) is str or v is None else _str(v, "type", mid, warn)
    v = g("usage")
    m.usage = v if type(v) is str or v is None else _str(v, "usage", mid, warn)
    v = g("version")
    m.version = v if type(v) is str or v is None else _str(v, "version", mid, warn)
    v = g("description")
    m.description = v if type(v) is str or v is None else _str(v, "description", mid, warn)
    v = g("created")
    if type(v) is dict and type(s := v.get("value")) is str and (dt := _DT_GET(s)) is not None:
        m.created = dt
    else:
        m.created = _created(v, mid, warn)
    v = g("bytes")
    if type(v) is dict and type(n := v.get("value")) is int and 0 <= n <= _INT64_MAX:
        m.bytes = n
    else:
        m.bytes = _count(v, "bytes", mid, warn, "value")
    v = g("ram")
    if type(v) is dict and type(n := v.get("value")) is int and 0 <= n <= _INT64_MAX:
        m.ram = n
    else:
        m.ram = _count(v, "ram", mid, warn, "value")
    v = g("parameters")
    m.parameters = v if type(v) is float and v - v == 0.0 else _number(v, "parameters", mid, warn)
    v = g("quantization")
    m.quantization = v if type(v) is str or v is None else _str(v, "quantization", mid, warn)
    v = g("maxTokens")
    if type(v) is dict and type(n := v.get("total")) is int and 0 <= n <= _INT64_MAX:
        m.max_tokens = n
    else:
        m.max_tokens = _count(v, "maxTokens", mid, warn, "total")
    m.__class__ = Model  # type: ignore[assignment]
    return m  # type: ignore[return-value]


def parse_snapshot(
    body: Any, previous: Mapping[str, Model] | None = None
) -> tuple[list[Model], list[str]]:
    """Parse a ``GET /models`` body (``{"iterable": [...]}``). Never raises.

    Returns the usable models in server order and the warnings (also logged once, as a summary,
    on the ``pieces_widgets`` logger). A bare list of models is accepted too.

    `previous` (id -> Model, e.g. the last snapshot) lets a poller skip work: an entry whose
    wire dict equals that model's ``raw`` reuses the Model object itself, so unchanged models
    keep their identity and cost one C-level dict comparison instead of a parse. (Equality is
    Python's, so ``1 == 1.0``; warnings are only produced for entries parsed this time.)
    """
    warnings: list[str] = []
    if isinstance(body, dict):
        entries = body.get("iterable")
        if not isinstance(entries, list):
            warnings.append(f"snapshot has no 'iterable' list (got {_short(entries)})")
            entries = []
    elif isinstance(body, list):
        entries = body
    else:
        warnings.append(f"snapshot is not an object: {_short(body)}")
        entries = []

    models: list[Model] = []
    append = models.append
    if previous:
        reuse = previous.get
        for entry in entries:
            if type(entry) is dict and type(mid := entry.get("id")) is str:
                old = reuse(mid)
                if old is not None:
                    try:
                        same = old.raw == entry
                    except RecursionError:  # absurdly deep JSON: just parse it
                        same = False
                    if same:
                        append(old)
                        continue
            model = parse_model(entry, warnings)
            if model is not None:
                append(model)
    else:
        for entry in entries:
            model = parse_model(entry, warnings)
            if model is not None:
                append(model)

    if len({m.id for m in models}) != len(models):
        seen: set[str] = set()
        for m in models:
            if m.id in seen:
                warnings.append(f"model id {m.id!r} appears more than once; kept every copy")
            seen.add(m.id)

    if warnings:
        for w in warnings:
            log.debug("snapshot: %s", w)
        more = f" (and {len(warnings) - 3} more)" if len(warnings) > 3 else ""
        log.warning(
            "%d problem(s) in the model snapshot, the rest is fine: %s%s",
            len(warnings),
            "; ".join(warnings[:3]),
            more,
        )
    return models, warnings
