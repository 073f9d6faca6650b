"""The Pieces OS REST API as data: pure request builders and the reading of answers.

Why a module of its own: both clients (async and sync) send the same requests and read the same
answers; only the sending differs. Each endpoint is a builder returning a `_Call` (method,
percent-encoded path, body, how to read the answer), so a client method is one line,
``self._do(_wire.load(model))``, and status mapping, JSON checks and parsing live here once.
Nothing here does I/O.

- Ids travel as ONE percent-encoded path segment (``a/b`` -> ``a%2Fb``).
- Errors: 410 -> `ModelNotFound`, other non-2xx -> `PiecesAPIError` (with the server's text),
  redirects -> `PiecesAPIError` (never followed), refused/unreachable -> `PiecesUnavailable`,
  slow -> `PiecesTimeout`, malformed answers -> `PiecesProtocolError`. Request bodies are never
  logged.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import (
    ModelNotFound,
    PiecesAPIError,
    PiecesError,
    PiecesProtocolError,
    PiecesTimeout,
    PiecesUnavailable,
)
from .models import Model, loads, parse_model, parse_snapshot
from .units import format_bytes

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("pieces_widgets")

SCHEMA = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
EMULATOR_HEADER = "x-pieces-emulator"
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Where we are connected: ``url``, the server's ``version`` text (None if it has no
    version endpoint) and whether it is the bundled emulator (``x-pieces-emulator`` header)."""

    url: str
    version: str | None
    emulated: bool


@dataclass(frozen=True, slots=True)
class _Call:
    """One REST request and how to interpret its answer (shared by both clients)."""

    method: str
    path: str  # already percent-encoded
    expect: str = "json"  # "json", "empty" or "raw" (the httpx.Response, no status check)
    body: bytes | None = None
    model_id: str | None = None  # a 410 on this call means ModelNotFound(model_id)
    finish: Callable[[Any, _Call], Any] | None = None

    @property
    def headers(self) -> dict[str, str] | None:
        return JSON_HEADERS if self.body is not None else None


def segment(model: Model | str) -> tuple[str, str]:
    """(id, encoded path segment) for a Model or an id string; ValueError for a bad id."""
    model_id = model.id if isinstance(model, Model) else model
    if not isinstance(model_id, str) or not model_id:
        raise ValueError(f"a model id must be a non-empty string, got {model_id!r}")
    encoded = quote(model_id, safe="")
    if encoded in (".", ".."):  # URL normalisation would drop a literal dot segment
        encoded = encoded.replace(".", "%2E")
    return model_id, encoded


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _preview(data: Any) -> str:
    try:
        return json.dumps(data)[:300]
    except (TypeError, ValueError):  # pragma: no cover - data came from json.loads
        return repr(data)[:300]


# --------------------------------------------------------------------------- reading answers


class SnapshotParser:
    """Parses ``GET /models`` answers, reusing unchanged `Model` objects of the previous one.

    Why: the widget polls; most models do not change between polls, and comparing a wire dict
    with the previous one (C code) costs about half of parsing it. Unchanged models keep their
    identity, which also makes "what changed?" cheap for callers.
    """

    def __init__(self, reuse: bool = True) -> None:
        self.reuse = reuse
        self._previous: dict[str, Model] = {}

    def __call__(self, data: Any, call: _Call) -> list[Model]:
        if not (isinstance(data, list) or (isinstance(data, dict) and "iterable" in data)):
            raise PiecesProtocolError.unexpected(
                f"{call.method} {call.path} should return {{'iterable': [...]}}", _preview(data)
            )
        # warnings are logged by parse_snapshot
        models, _warnings = parse_snapshot(data, self._previous if self.reuse else None)
        if self.reuse:
            self._previous = {m.id: m for m in models}
        return models


def _finish_model(data: Any, call: _Call) -> Model:
    warnings: list[str] = []
    model = parse_model(data, warnings)
    if model is None:
        raise PiecesProtocolError.unexpected(
            f"{call.method} {call.path} did not return a model", _preview(data)
        )
    for w in warnings:
        log.warning("%s %s: %s", call.method, call.path, w)
    return model


def _finish_none(data: Any, call: _Call) -> None:
    return None


def interpret(call: _Call, response: httpx.Response) -> Any:
    """Status mapping and body decoding shared by both clients."""
    if call.expect == "raw":
        return call.finish(response, call) if call.finish else response
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("location", "?")
        raise PiecesAPIError(
            status, f"unexpected redirect to {where} (not followed)", call.method, call.path
        )
    if status < 200 or status >= 300:
        text = response.text
        if status == 410 and call.model_id is not None:
            raise ModelNotFound(call.model_id, text, call.method, call.path)
        raise PiecesAPIError(status, text, call.method, call.path)
    if call.expect == "empty":
        return call.finish(None, call) if call.finish else None
    content = response.content
    ctype = response.headers.get("content-type", "")
    if ctype and "json" not in ctype.lower():
        raise PiecesProtocolError.unexpected(
            f"{call.method} {call.path} should answer JSON but sent {ctype.split(';')[0]}", content
        )
    try:
        data = loads(content)
    except ValueError:
        raise PiecesProtocolError.unexpected(
            f"{call.method} {call.path} answered malformed JSON", content
        ) from None
    return call.finish(data, call) if call.finish else data


def transport_error(exc: Exception, call: _Call, base_url: str, timeout: float) -> PiecesError:
    """Translate an httpx exception into ours, naming the URL."""
    import httpx

    where = f"{call.method} {base_url}{call.path}"
    if isinstance(exc, httpx.ConnectTimeout):
        return PiecesUnavailable([base_url], "connection timed out")
    if isinstance(exc, httpx.TimeoutException):
        return PiecesTimeout(f"Pieces OS did not answer {where} within {timeout:g} s.")
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "without sending" in text and "body" not in text:
            return PiecesUnavailable([base_url], "the server closed the connection")
        return PiecesProtocolError(f"{where}: truncated or malformed HTTP answer ({text}).")
    if isinstance(exc, httpx.DecodingError):
        return PiecesProtocolError(f"{where}: the body could not be decoded ({exc}).")
    if isinstance(exc, (httpx.ConnectError, httpx.NetworkError)):
        reason = str(exc) or type(exc).__name__
        return PiecesUnavailable([base_url], reason[:120])
    return PiecesError(f"{where} failed: {exc}")


# --------------------------------------------------------------------------- request bodies


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _apply_changes(wire: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply snake_case (or wire camelCase) changes to a wire Model dict, in place.

    ``max_tokens`` sets ``maxTokens.total``; ``bytes``/``ram`` take an int byte count;
    ``created`` takes a datetime; None removes an optional field; other keys are wire names.
    """
    for key, value in changes.items():
        if key == "id":
            raise ValueError("the id identifies the model and cannot be changed")
        if key in ("max_tokens", "maxTokens") and not isinstance(value, dict):
            if value is None:
                wire.pop("maxTokens", None)
            else:
                current = wire.get("maxTokens")
                tokens = dict(current) if isinstance(current, dict) else {}
                tokens["total"] = value
                wire["maxTokens"] = tokens
        elif key in ("bytes", "ram") and isinstance(value, int) and not isinstance(value, bool):
            wire[key] = {"value": value, "readable": format_bytes(value)}
        elif key == "created" and isinstance(value, datetime):
            when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            wire[key] = {"value": when.isoformat(timespec="microseconds")}
        elif value is None:
            wire.pop(key, None)
        else:
            wire[key] = value
    return wire


# --------------------------------------------------------------------------- the endpoints


def models(parser: SnapshotParser) -> _Call:
    """``GET /models``, read by `parser` (which remembers the previous snapshot)."""
    return _Call("GET", "/models", finish=parser)


def version(base_url: str) -> _Call:
    """``GET /.well-known/version`` -> `ServerInfo` (a missing endpoint is version None)."""

    def finish(response: httpx.Response, call: _Call) -> ServerInfo:
        text = None
        if 200 <= response.status_code < 300:
            text = response.text.strip() or None
        return ServerInfo(base_url, text, EMULATOR_HEADER in response.headers)

    return _Call("GET", "/.well-known/version", expect="raw", finish=finish)


def _is_success(response: httpx.Response, call: _Call) -> bool:
    return response.is_success


HEALTH = _Call("HEAD", "/.well-known/health", expect="raw", finish=_is_success)
UNLOAD_ALL = _Call("POST", "/models/unload", expect="empty")


def _on_model(
    method: str, model: Model | str, suffix: str = "", *, prefix: str = "/model/", **kw: Any
) -> _Call:
    """A call on one model's path; it answers the model unless `kw` says otherwise."""
    model_id, encoded = segment(model)
    kw.setdefault("finish", _finish_model)
    return _Call(method, f"{prefix}{encoded}{suffix}", model_id=model_id, **kw)


def get(model: Model | str) -> _Call:
    return _on_model("GET", model)


def download(model: Model | str) -> _Call:
    return _on_model("POST", model, "/download")


def cancel_download(model: Model | str) -> _Call:
    return _on_model("POST", model, "/download/cancel")


def load(model: Model | str) -> _Call:
    return _on_model("POST", model, "/load")


def unload(model: Model | str) -> _Call:
    return _on_model("POST", model, "/unload")


def delete(model: Model | str) -> _Call:
    """``POST /models/{id}/delete``: no body, an empty answer."""
    return _on_model("POST", model, "/delete", prefix="/models/", expect="empty", finish=None)


def delete_cache(model: Model | str) -> _Call:
    """``POST /models/{id}/delete/cache``: a ``{}`` body; the answer is not used."""
    return _on_model(
        "POST", model, "/delete/cache", prefix="/models/", body=b"{}", finish=_finish_none
    )


def progress_path(model: Model | str) -> str:
    """The download-progress websocket's path."""
    return f"/model/{segment(model)[1]}/download/progress"


def create(
    name: str,
    *,
    unique: str | None,
    version: str,
    cloud: bool,
    description: str | None,
    parameters: float | None,
    quantization: str | None,
    max_tokens: int | None,
    foundation: str | None,
    provider: str | None,
    type: str,
    usage: str,
    extra: dict[str, Any],
) -> _Call:
    """``POST /models/create`` with a SeededModel body; unset optionals are omitted."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a model needs a non-empty name")
    wire: dict[str, Any] = {
        "schema": dict(SCHEMA),
        "name": name,
        "version": version,
        "cloud": cloud,
        "type": type,
        "usage": usage,
        "created": {"value": _now_iso()},
    }
    optional = {
        "unique": unique,
        "description": description,
        "parameters": parameters,
        "quantization": quantization,
        "foundation": foundation,
        "provider": provider,
        "max_tokens": max_tokens,
    }
    _apply_changes(wire, {k: v for k, v in optional.items() if v is not None})
    body = _apply_changes(wire, extra)
    return _Call("POST", "/models/create", body=_dumps(body), finish=_finish_model)


def update(model: Model | dict[str, Any], changes: dict[str, Any]) -> _Call:
    """``POST /model/update`` with the full model, `changes` applied."""
    if isinstance(model, Model):
        wire = model.to_wire()
    elif isinstance(model, dict):
        wire = copy.deepcopy(model)
    else:
        raise TypeError(f"update_model takes a Model or a wire dict, got {type(model).__name__}")
    if not isinstance(wire.get("id"), str) or not wire["id"]:
        raise ValueError("the model to update needs its string 'id'")
    body = _apply_changes(wire, changes)
    return _Call(
        "POST", "/model/update", body=_dumps(body), model_id=body["id"], finish=_finish_model
    )
