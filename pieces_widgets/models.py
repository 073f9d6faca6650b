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
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import _fields
from ._fields import DT_GET, INT64_MAX, Warn, short, timestamp

__all__ = ["Model", "loads", "parse_model", "parse_snapshot"]

log = logging.getLogger("pieces_widgets")


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


def _msgspec_decoder() -> Callable[[Any], Any] | None:
    try:
        from msgspec.json import Decoder
    except ImportError:
        return None
    return Decoder().decode


#: msgspec's decode, None without msgspec, ``...`` until first use (its import costs start-up).
_decode: Any = ...


def loads(body: bytes | str) -> Any:
    """Decode a JSON body exactly as ``json.loads`` would, faster when msgspec is installed.

    msgspec decodes a 1,000-model snapshot about twice as fast as ``json``. It refuses a few
    things ``json`` accepts (NaN, Infinity, 1e400, lone surrogates, a BOM or UTF-16 body, very
    deep nesting); those go to ``json``, which then accepts or raises as before. (Not orjson:
    it turns integers beyond 64 bits into floats, which would change values.)
    """
    global _decode
    if _decode is ...:
        _decode = _msgspec_decoder()
    if _decode is not None:
        try:
            return _decode(body)
        except (ValueError, RecursionError):
            pass
    return json.loads(body)


# --------------------------------------------------------------------------- public parsers


class _Unfrozen:
    """Same slot layout as `Model`, without the frozen ``__setattr__``.

    Why: a frozen dataclass ``__init__`` routes each of its 23 fields through
    ``object.__setattr__`` (about 4 µs per model); plain stores into this twin, then switching
    ``__class__``, build an identical `Model` about 5x faster.
    """

    __slots__ = Model.__slots__


_new = object.__new__


def _fast_model(obj: dict[str, Any]) -> Model | None:
    """The common case: every field absent, null or exactly the expected JSON type.

    Returns None at the first value that needs a decision (a wrong type, a float count, a
    timestamp that does not parse, a bad id...); the caller then runs `_tolerant_model`, which
    decides and warns. So this path never changes a result, it only skips work: the same
    checks as the per-field parsers, inline, with no warning plumbing.
    """
    g = obj.get
    mid = g("id")
    name = g("name")
    unique = g("unique")
    cloud = g("cloud")
    downloaded = g("downloaded")
    downloading = g("downloading")
    loaded = g("loaded")
    custom = g("custom")
    cpu = g("cpu")
    denied = g("denied")
    foundation = g("foundation")
    provider = g("provider")
    type_ = g("type")
    usage = g("usage")
    version = g("version")
    description = g("description")
    quantization = g("quantization")
    if not (
        type(mid) is str
        and mid
        and (type(name) is str or name is None)
        and (type(unique) is str or unique is None)
        and (cloud is False or cloud is True or cloud is None)
        and (downloaded is False or downloaded is True or downloaded is None)
        and (downloading is False or downloading is True or downloading is None)
        and (loaded is False or loaded is True or loaded is None)
        and (custom is False or custom is True or custom is None)
        and (cpu is False or cpu is True or cpu is None)
        and (denied is False or denied is True or denied is None)
        and (type(foundation) is str or foundation is None)
        and (type(provider) is str or provider is None)
        and (type(type_) is str or type_ is None)
        and (type(usage) is str or usage is None)
        and (type(version) is str or version is None)
        and (type(description) is str or description is None)
        and (type(quantization) is str or quantization is None)
    ):
        return None
    created = g("created")
    if created is not None:
        if type(created) is not dict or type(s := created.get("value")) is not str:
            return None
        created = DT_GET(s) or timestamp(s)
        if created is None:
            return None
    size = g("bytes")
    if size is not None and (
        type(size) is not dict
        or type(size := size.get("value")) is not int
        or not 0 <= size <= INT64_MAX
    ):
        return None
    ram = g("ram")
    if ram is not None and (
        type(ram) is not dict
        or type(ram := ram.get("value")) is not int
        or not 0 <= ram <= INT64_MAX
    ):
        return None
    tokens = g("maxTokens")
    if tokens is not None and (
        type(tokens) is not dict
        or type(tokens := tokens.get("total")) is not int
        or not 0 <= tokens <= INT64_MAX
    ):
        return None
    params = g("parameters")
    if params is not None and (type(params) is not float or params - params != 0.0):
        return None  # an int, inf or NaN: the tolerant path converts or warns

    m = _new(_Unfrozen)
    m.id = mid
    m.name = name
    m.unique = unique
    m.cloud = cloud
    m.downloaded = downloaded
    m.downloading = downloading
    m.loaded = loaded
    m.custom = custom
    m.cpu = cpu
    m.denied = denied
    m.foundation = foundation
    m.provider = provider
    m.type = type_
    m.usage = usage
    m.version = version
    m.description = description
    m.created = created
    m.bytes = size
    m.ram = ram
    m.parameters = params
    m.quantization = quantization
    m.max_tokens = tokens
    m.raw = obj
    m.__class__ = Model  # type: ignore[assignment]
    return m  # type: ignore[return-value]


def _tolerant_model(obj: Any, warn: Warn) -> Model | None:
    """Every field through its parser: unusable values become None with one warning each."""
    if not isinstance(obj, dict):
        if warn is not None:
            warn(f"skipped an entry that is not an object: {short(obj)}")
        return None
    if type(obj) is not dict:
        obj = dict(obj)
    g = obj.get
    mid = g("id")
    if type(mid) is not str or not mid:
        if warn is not None:
            name = g("name")
            label = f" (name {short(name)})" if isinstance(name, str) else ""
            warn(f"skipped a model without a string id{label}: id={short(mid)}")
        return None
    return Model(
        id=mid,
        name=_fields.text(g("name"), "name", mid, warn),
        unique=_fields.text(g("unique"), "unique", mid, warn),
        cloud=_fields.flag(g("cloud"), "cloud", mid, warn),
        downloaded=_fields.flag(g("downloaded"), "downloaded", mid, warn),
        downloading=_fields.flag(g("downloading"), "downloading", mid, warn),
        loaded=_fields.flag(g("loaded"), "loaded", mid, warn),
        custom=_fields.flag(g("custom"), "custom", mid, warn),
        cpu=_fields.flag(g("cpu"), "cpu", mid, warn),
        denied=_fields.flag(g("denied"), "denied", mid, warn),
        foundation=_fields.text(g("foundation"), "foundation", mid, warn),
        provider=_fields.text(g("provider"), "provider", mid, warn),
        type=_fields.text(g("type"), "type", mid, warn),
        usage=_fields.text(g("usage"), "usage", mid, warn),
        version=_fields.text(g("version"), "version", mid, warn),
        description=_fields.text(g("description"), "description", mid, warn),
        created=_fields.created(g("created"), mid, warn),
        bytes=_fields.count(g("bytes"), "bytes", mid, warn, "value"),
        ram=_fields.count(g("ram"), "ram", mid, warn, "value"),
        parameters=_fields.number(g("parameters"), "parameters", mid, warn),
        quantization=_fields.text(g("quantization"), "quantization", mid, warn),
        max_tokens=_fields.count(g("maxTokens"), "maxTokens", mid, warn, "total"),
        raw=obj,
    )


def parse_model(obj: Any, warnings: list[str] | None = None) -> Model | None:
    """Parse one wire model. Never raises.

    Returns None (and appends a warning) when ``obj`` is not an object with a non-empty string
    ``id``; otherwise a `Model`, with unusable fields set to None and one warning each.
    """
    if type(obj) is dict:
        model = _fast_model(obj)
        if model is not None:
            return model
    return _tolerant_model(obj, warnings.append if warnings is not None else None)


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
            warnings.append(f"snapshot has no 'iterable' list (got {short(entries)})")
            entries = []
    elif isinstance(body, list):
        entries = body
    else:
        warnings.append(f"snapshot is not an object: {short(body)}")
        entries = []

    models: list[Model] = []
    append = models.append
    warn = warnings.append
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
            model = _fast_model(entry) if type(entry) is dict else None
            if model is None:
                model = _tolerant_model(entry, warn)
            if model is not None:
                append(model)
    else:
        fast = _fast_model
        for entry in entries:
            model = fast(entry) if type(entry) is dict else None
            if model is None:
                model = _tolerant_model(entry, warn)
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
