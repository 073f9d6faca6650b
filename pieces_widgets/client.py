"""`AsyncPiecesClient` and `PiecesClient`: the Pieces OS model API over httpx and websockets.

Design:
- Every REST method is described once as a `_Call` (method, encoded path, body, how to read the
  answer). The async client sends it with ``httpx.AsyncClient``, the sync one with
  ``httpx.Client``; status mapping, JSON checks and parsing are shared. The sync client does
  not hop through an event loop for REST: measured on a 1,000-model snapshot, an async request
  driven from another thread costs ~2 ms more than a sync one, which alone would eat most of
  the 1.3x budget against a bare ``httpx.get``.
- `watch_download` is async (a websocket plus timers); `PiecesClient.watch_download` runs it on a
  private event loop in a daemon thread, so it works in scripts and inside a running Jupyter
  kernel loop alike.
- `list_models` reuses the previous snapshot's `Model` objects for entries whose wire dict did
  not change (one C-level dict comparison instead of a parse); ``reuse_models=False`` opts out.
- Ids travel as ONE percent-encoded path segment (``a/b`` -> ``a%2Fb``).
- Errors: 410 -> `ModelNotFound`, other non-2xx -> `PiecesAPIError` (with the server's text),
  redirects -> `PiecesAPIError` (never followed), refused/unreachable -> `PiecesUnavailable`,
  slow -> `PiecesTimeout`, malformed answers -> `PiecesProtocolError`. Request bodies are never
  logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx

from ._loop import LoopTasks, on_loop_thread, run_blocking
from .discovery import _explicit, adiscover, discover
from .errors import (
    ModelNotFound,
    PiecesAPIError,
    PiecesError,
    PiecesProtocolError,
    PiecesTimeout,
    PiecesUnavailable,
)
from .models import Model, parse_model, parse_snapshot
from .progress import DownloadProgress, ProgressTracker
from .units import format_bytes

__all__ = ["AsyncPiecesClient", "PiecesClient", "ServerInfo"]

log = logging.getLogger("pieces_widgets")

_SCHEMA = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
_EMULATOR_HEADER = "x-pieces-emulator"
_JSON_HEADERS = {"Content-Type": "application/json"}


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        return f"pieces-widgets/{version('pieces-widgets')}"
    except Exception:  # pragma: no cover - bare checkout
        return "pieces-widgets"


_USER_AGENT = _user_agent()


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Where we are connected: ``url``, the server's ``version`` text (None if it has no
    version endpoint) and whether it is the bundled emulator (``x-pieces-emulator`` header)."""

    url: str
    version: str | None
    emulated: bool


# --------------------------------------------------------------------------- request model


@dataclass(frozen=True, slots=True)
class _Call:
    """One REST request and how to interpret its answer (shared by both clients)."""

    method: str
    path: str  # already percent-encoded
    expect: str = "json"  # "json", "empty" or "raw" (the httpx.Response, no status check)
    body: bytes | None = None
    model_id: str | None = None  # a 410 on this call means ModelNotFound(model_id)
    finish: Callable[[Any, _Call], Any] | None = None


def _segment(model: Model | str) -> tuple[str, str]:
    """(id, encoded path segment) for a Model or an id string."""
    model_id = model.id if isinstance(model, Model) else model
    if not isinstance(model_id, str) or not model_id:
        raise ValueError(f"a model id must be a non-empty string, got {model_id!r}")
    segment = quote(model_id, safe="")
    if segment in (".", ".."):  # URL normalisation would drop a literal dot segment
        segment = segment.replace(".", "%2E")
    return model_id, segment


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class _SnapshotParser:
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


def _preview(data: Any) -> str:
    try:
        return json.dumps(data)[:300]
    except (TypeError, ValueError):  # pragma: no cover - data came from json.loads
        return repr(data)[:300]


def _model_call(
    method: str, model: Model | str, suffix: str = "", prefix: str = "/model/"
) -> _Call:
    model_id, seg = _segment(model)
    return _Call(method, f"{prefix}{seg}{suffix}", model_id=model_id, finish=_finish_model)


# --------------------------------------------------------------------------- wire builders


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


def _seeded_model(
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
) -> dict[str, Any]:
    """A SeededModel wire dict (the body of ``POST /models/create``); unset optionals omitted."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a model needs a non-empty name")
    wire: dict[str, Any] = {
        "schema": dict(_SCHEMA),
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
    return _apply_changes(wire, extra)


def _update_body(model: Model | dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, Model):
        wire = model.to_wire()
    elif isinstance(model, dict):
        wire = copy.deepcopy(model)
    else:
        raise TypeError(f"update_model takes a Model or a wire dict, got {type(model).__name__}")
    if not isinstance(wire.get("id"), str) or not wire["id"]:
        raise ValueError("the model to update needs its string 'id'")
    return _apply_changes(wire, changes)


# --------------------------------------------------------------------------- response handling


def _interpret(call: _Call, response: httpx.Response) -> Any:
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
        data = json.loads(content)
    except ValueError:
        raise PiecesProtocolError.unexpected(
            f"{call.method} {call.path} answered malformed JSON", content
        ) from None
    return call.finish(data, call) if call.finish else data


def _transport_error(exc: Exception, call: _Call, base_url: str, timeout: float) -> PiecesError:
    """Translate an httpx exception into ours, naming the URL."""
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


# Drop idle connections before a server's usual 5 s keep-alive does: reusing one the server is
# closing at that very moment loses the request ("Server disconnected without sending a response").
_LIMITS = httpx.Limits(keepalive_expiry=2.0)


if sys.version_info >= (3, 11):

    async def _recv_within(ws: Any, seconds: float) -> Any:
        """One frame, or TimeoutError; cheaper than wait_for, which makes a task per call."""
        async with asyncio.timeout(seconds):
            return await ws.recv()

else:  # pragma: no cover - Python 3.10

    async def _recv_within(ws: Any, seconds: float) -> Any:
        return await asyncio.wait_for(ws.recv(), seconds)


def _timeout(timeout: float) -> httpx.Timeout:
    return httpx.Timeout(timeout, connect=min(timeout, 5.0))


# --------------------------------------------------------------------------- calls (pure)


def _list_call(parser: _SnapshotParser) -> _Call:
    return _Call("GET", "/models", finish=parser)


_UNLOAD_ALL = _Call("POST", "/models/unload", expect="empty")


def _version_call(base_url: str) -> _Call:
    def finish(response: httpx.Response, call: _Call) -> ServerInfo:
        version = None
        if 200 <= response.status_code < 300:
            version = response.text.strip() or None
        emulated = _EMULATOR_HEADER in response.headers
        return ServerInfo(base_url, version, emulated)

    return _Call("GET", "/.well-known/version", expect="raw", finish=finish)


def _health_call() -> _Call:
    return _Call("HEAD", "/.well-known/health", expect="raw", finish=lambda r, c: r.is_success)


# --------------------------------------------------------------------------- async client


class AsyncPiecesClient:
    """Async client for the Pieces OS model API (the widget's engine; `async with` it).

    ``base_url=None`` means: ``PIECES_OS_URL`` if set, else discovery on first use (or on
    `resolve()` / ``async with``). A discovered URL that stops answering is forgotten, so the
    next call discovers again (Pieces OS may come back on another port).
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        *,
        discover_timeout: float = 1.0,
        headers: dict[str, str] | None = None,
        reuse_models: bool = True,
    ) -> None:
        self.timeout = float(timeout)
        self.discover_timeout = discover_timeout
        self._explicit = _explicit(base_url, None)
        self._base_url = self._explicit
        self._list_call = _list_call(_SnapshotParser(reuse_models))
        self._headers = {"User-Agent": _USER_AGENT, "Accept": "application/json", **(headers or {})}
        self._http = httpx.AsyncClient(
            timeout=_timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,  # a local server: never route it through an HTTP(S)_PROXY
            headers=self._headers,
            limits=_LIMITS,
        )
        self._closed = False

    # ----------------------------------------------------------------- plumbing

    @property
    def base_url(self) -> str | None:
        """The resolved URL (no trailing slash), or None before discovery ran."""
        return self._base_url

    async def resolve(self) -> str:
        """Resolve (discover if needed) and return the base URL; `PiecesUnavailable` if none."""
        if self._base_url is None:
            self._base_url = await adiscover(timeout=self.discover_timeout)
        return self._base_url

    async def __aenter__(self) -> AsyncPiecesClient:
        await self.resolve()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        self._closed = True
        await self._http.aclose()

    async def _do(self, call: _Call) -> Any:
        if self._closed:
            raise PiecesError("this client is closed")
        base = await self.resolve()
        started = time.perf_counter()
        try:
            response = await self._http.request(
                call.method,
                base + call.path,
                content=call.body,
                headers=_JSON_HEADERS if call.body is not None else None,
            )
        except httpx.HTTPError as e:
            error = _transport_error(e, call, base, self.timeout)
            if isinstance(error, PiecesUnavailable) and self._explicit is None:
                self._base_url = None  # rediscover next time
            raise error from e
        log.debug(
            "%s %s -> %d (%.1f ms)",
            call.method,
            call.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return _interpret(call, response)

    # ----------------------------------------------------------------- API

    async def server_info(self) -> ServerInfo:
        """URL, version text and whether the server is the bundled emulator."""
        base = await self.resolve()
        return await self._do(_version_call(base))

    async def ping(self) -> bool:
        """True when ``/.well-known/health`` answers 2xx; False when unreachable. Never raises
        for connection problems (handy for a reconnect loop)."""
        try:
            return await self._do(_health_call())
        except (PiecesUnavailable, PiecesTimeout):
            return False

    async def list_models(self) -> list[Model]:
        """Every model (``GET /models``), in server order; odd entries skipped with a warning."""
        return await self._do(self._list_call)

    async def get_model(self, model: Model | str) -> Model:
        """One model by id (`ModelNotFound` on 410)."""
        return await self._do(_model_call("GET", model))

    async def create_model(
        self,
        name: str,
        *,
        unique: str | None = None,
        version: str = "1",
        cloud: bool = False,
        description: str | None = None,
        parameters: float | None = None,
        quantization: str | None = None,
        max_tokens: int | None = None,
        foundation: str | None = None,
        provider: str | None = None,
        type: str = "BALANCED",
        usage: str = "CODE_CONVERSATION",
        **extra: Any,
    ) -> Model:
        """Register a custom model (``POST /models/create``); extra keys go on the wire as-is
        (``bytes``/``ram`` as int byte counts)."""
        body = _seeded_model(
            name,
            unique=unique,
            version=version,
            cloud=cloud,
            description=description,
            parameters=parameters,
            quantization=quantization,
            max_tokens=max_tokens,
            foundation=foundation,
            provider=provider,
            type=type,
            usage=usage,
            extra=extra,
        )
        return await self._do(
            _Call("POST", "/models/create", body=_dumps(body), finish=_finish_model)
        )

    async def update_model(self, model: Model | dict[str, Any], **changes: Any) -> Model:
        """Send a full model with `changes` applied (``POST /model/update``, custom models only)."""
        body = _update_body(model, changes)
        call = _Call(
            "POST", "/model/update", body=_dumps(body), model_id=body["id"], finish=_finish_model
        )
        return await self._do(call)

    async def delete_model(self, model: Model | str) -> None:
        """Delete a custom model (``POST /models/{id}/delete``)."""
        call = _model_call("POST", model, "/delete", prefix="/models/")
        await self._do(_Call(call.method, call.path, "empty", model_id=call.model_id))

    async def delete_model_cache(self, model: Model | str) -> None:
        """Delete a model's downloaded files (``POST /models/{id}/delete/cache``)."""
        call = _model_call("POST", model, "/delete/cache", prefix="/models/")
        await self._do(
            _Call(call.method, call.path, body=b"{}", model_id=call.model_id, finish=_finish_none)
        )

    async def unload_all(self) -> None:
        """Unload every loaded model (``POST /models/unload``)."""
        await self._do(_UNLOAD_ALL)

    async def download(self, model: Model | str) -> Model:
        """Start a download; returns at once (watch it with `watch_download`)."""
        return await self._do(_model_call("POST", model, "/download"))

    async def cancel_download(self, model: Model | str) -> Model:
        """Cancel a running download."""
        return await self._do(_model_call("POST", model, "/download/cancel"))

    async def load(self, model: Model | str) -> Model:
        """Load a downloaded model into memory."""
        return await self._do(_model_call("POST", model, "/load"))

    async def unload(self, model: Model | str) -> Model:
        """Unload a model from memory."""
        return await self._do(_model_call("POST", model, "/unload"))

    # ----------------------------------------------------------------- progress

    async def _ws_connect(self, model_id: str) -> Any:
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        base = await self.resolve()
        path = f"/model/{_segment(model_id)[1]}/download/progress"
        url = "ws" + base[4:] + path  # http -> ws, https -> wss
        try:
            return await _no_redirect_connect()(
                url,
                open_timeout=self.timeout,
                compression=None,
                user_agent_header=_USER_AGENT,
                **_ws_options(),
            )
        except InvalidStatus as e:
            status = e.response.status_code
            text = bytes(e.response.body or b"").decode("utf-8", "replace")
            if status == 410:
                raise ModelNotFound(model_id, text or "model was not found.", "WS", path) from None
            raise PiecesAPIError(status, text, "WS", path) from None
        except (OSError, asyncio.TimeoutError, InvalidHandshake) as e:
            if self._explicit is None and isinstance(e, OSError):
                self._base_url = None
            raise PiecesUnavailable([base], f"progress socket: {e or type(e).__name__}") from e

    async def watch_download(
        self,
        model: Model | str,
        *,
        stall_after: float | None = 10.0,
        reconnect: bool = True,
        max_reconnects: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        poll_interval: float = 0.5,
        start: bool = False,
    ) -> AsyncIterator[DownloadProgress]:
        """Yield `DownloadProgress` for one model's download until it ends.

        The socket is connected *first*, then ``GET /model/{id}`` (or, with ``start=True``,
        ``POST .../download``) tells whether a download runs: if none does, one terminal
        progress derived from REST is yielded (``COMPLETED`` when downloaded, else
        ``CANCELED``: the download is not running and nothing is on disk) and the iterator
        ends, so nobody waits forever on an idle socket. While frames are missing the loop
        wakes every `poll_interval` seconds; after `stall_after` seconds without change it
        yields ``stalled=True`` and re-checks REST. A dropped socket is reconnected with
        exponential `backoff` (up to `max_reconnects` consecutive failures), then reconciled
        with REST. Percentages never go back. The last item is terminal, after a final REST
        reconcile.
        """
        from websockets.exceptions import ConnectionClosed

        model_id, _ = _segment(model)
        ws = await self._ws_connect(model_id)
        try:
            current = await (self.download(model_id) if start else self.get_model(model_id))
            tracker = ProgressTracker(model_id, current.bytes, stall_after)
            if not current.downloading:
                yield _settle(tracker, current)
                return
            # With no frame for this long, ask REST whether the download still runs (a lost
            # terminal frame or an unknown final status must not keep us waiting forever).
            idle_check = max(stall_after or 10.0, 1.0)
            failures = 0
            stall_reported = False
            last_frame = next_check = time.monotonic()
            while True:
                try:
                    message = await _recv_within(ws, poll_interval)
                except asyncio.TimeoutError:
                    progress = tracker.tick()
                    if progress.stalled and not stall_reported:
                        stall_reported = True
                        yield progress
                    now = time.monotonic()
                    if now - last_frame >= idle_check and now >= next_check:
                        next_check = now + idle_check
                        current = await self.get_model(model_id)
                        tracker.set_total(current.bytes)
                        if not current.downloading:
                            yield _settle(tracker, current)
                            return
                    continue
                except ConnectionClosed as closed:
                    with contextlib.suppress(Exception):
                        await ws.close()
                    ws = None
                    if not reconnect:
                        current = await self.get_model(model_id)
                        if not current.downloading:
                            yield _settle(tracker, current)
                            return
                        raise PiecesUnavailable(
                            [self._base_url or ""], "the progress socket closed mid-download"
                        ) from closed
                    ws, current, failures = await self._reconnect(
                        model_id, failures, max_reconnects, backoff, max_backoff
                    )
                    last_frame = time.monotonic()
                    tracker.set_total(current.bytes)
                    if not current.downloading:
                        yield _settle(tracker, current)
                        return
                    continue

                frame = _decode_frame(message, model_id)
                if frame is None:
                    continue
                failures = 0
                last_frame = time.monotonic()
                progress = tracker.update(frame)
                if progress.terminal:
                    with contextlib.suppress(PiecesError):  # reconcile; the frame stays the truth
                        tracker.set_total((await self.get_model(model_id)).bytes)
                        progress = tracker.tick()
                    yield progress
                    return
                stall_reported = progress.stalled
                yield progress
        finally:
            if ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2.0)

    async def _reconnect(
        self, model_id: str, failures: int, max_reconnects: int, backoff: float, max_backoff: float
    ) -> tuple[Any, Model, int]:
        """Reconnect the progress socket, then reconcile with REST; raise after too many tries.

        Returns (socket, model, consecutive failures so far); a frame resets the count.
        """
        last: PiecesError | None = None
        while failures < max_reconnects:
            await asyncio.sleep(min(backoff * 2**failures, max_backoff))
            failures += 1
            try:
                ws = await self._ws_connect(model_id)
            except (PiecesUnavailable, PiecesTimeout) as e:
                last = e
                continue
            try:
                return ws, await self.get_model(model_id), failures
            except (PiecesUnavailable, PiecesTimeout) as e:
                last = e
                with contextlib.suppress(Exception):
                    await ws.close()
        raise PiecesUnavailable(
            [self._base_url or ""], f"progress socket lost; gave up after {max_reconnects} tries"
        ) from last


def _settle(tracker: ProgressTracker, model: Model) -> DownloadProgress:
    """Terminal progress derived from REST when no frame will tell us."""
    tracker.set_total(model.bytes)
    return tracker.finish("COMPLETED" if model.downloaded else "CANCELED")


def _decode_frame(message: Any, model_id: str) -> dict[str, Any] | None:
    try:
        frame = json.loads(message)
    except (TypeError, ValueError):
        frame = None
    if not isinstance(frame, dict):
        text = message if isinstance(message, str) else repr(message)
        log.warning(
            "download %s: ignored a progress frame that is not a JSON object: %.200s",
            model_id,
            text,
        )
        return None
    return frame


@functools.lru_cache(maxsize=1)
def _no_redirect_connect() -> Any:
    """websockets' connect(), minus its redirect following (up to 10, cross-host included)."""
    from websockets.asyncio.client import connect

    class NoRedirectConnect(connect):
        def process_redirect(self, exc: Exception) -> Exception | str:
            return exc  # a redirect answer surfaces as InvalidStatus: an error, not a new host

    return NoRedirectConnect


@functools.lru_cache(maxsize=1)
def _ws_options() -> dict[str, Any]:
    """Never route a loopback websocket through a system proxy (websockets >= 15 would)."""
    import inspect

    from websockets.asyncio.client import connect

    if "proxy" in inspect.signature(connect.__init__).parameters:
        return {"proxy": None}
    return {}


# --------------------------------------------------------------------------- sync client


class PiecesClient:
    """Blocking twin of `AsyncPiecesClient` for scripts and notebook cells.

    Same methods, same returns, usable as ``with PiecesClient() as c:``. The constructor
    resolves the URL (discovery when ``base_url`` is None), so `base_url` is always set.
    Safe to call from inside a running event loop (Jupyter): REST uses a sync httpx client,
    and `watch_download` runs on a private loop thread started on first use.
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        *,
        discover_timeout: float = 1.0,
        headers: dict[str, str] | None = None,
        reuse_models: bool = True,
    ) -> None:
        self.timeout = float(timeout)
        self.discover_timeout = discover_timeout
        self._explicit = _explicit(base_url, None)
        self._base_url = self._explicit or discover(timeout=discover_timeout)
        self._list_call = _list_call(_SnapshotParser(reuse_models))
        self._extra_headers = dict(headers or {})
        self._http = httpx.Client(
            timeout=_timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,
            limits=_LIMITS,
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "application/json",
                **self._extra_headers,
            },
        )
        self._tasks = LoopTasks(lambda: PiecesError("this client is closed"))
        self._async: AsyncPiecesClient | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer = weakref.finalize(self, _close_quietly, self._http, self._tasks, None)

    @property
    def base_url(self) -> str:
        """The resolved URL, no trailing slash."""
        return self._base_url

    def __enter__(self) -> PiecesClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and cancel this client's watches on the shared loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._finalizer.detach()
            client, self._async = self._async, None
        _close_quietly(self._http, self._tasks, client)

    def _do(self, call: _Call) -> Any:
        if self._closed:
            raise PiecesError("this client is closed")
        base = self._base_url
        try:
            response = self._http.request(
                call.method,
                base + call.path,
                content=call.body,
                headers=_JSON_HEADERS if call.body is not None else None,
            )
        except httpx.HTTPError as e:
            raise _transport_error(e, call, base, self.timeout) from e
        log.debug("%s %s -> %d", call.method, call.path, response.status_code)
        return _interpret(call, response)

    def _async_client(self) -> AsyncPiecesClient:
        with self._lock:  # two threads may start watching at once: one async client only
            if self._closed:
                raise PiecesError("this client is closed")
            if self._async is None:
                self._async = AsyncPiecesClient(
                    self._base_url, self.timeout, headers=self._extra_headers
                )
                self._finalizer.detach()
                self._finalizer = weakref.finalize(
                    self, _close_quietly, self._http, self._tasks, self._async
                )
            return self._async

    # ----------------------------------------------------------------- API (see AsyncPiecesClient)

    def server_info(self) -> ServerInfo:
        """URL, version text and whether the server is the bundled emulator."""
        return self._do(_version_call(self._base_url))

    def ping(self) -> bool:
        """True when ``/.well-known/health`` answers 2xx; False when unreachable."""
        try:
            return self._do(_health_call())
        except (PiecesUnavailable, PiecesTimeout):
            return False

    def list_models(self) -> list[Model]:
        """Every model (``GET /models``), in server order; odd entries skipped with a warning."""
        return self._do(self._list_call)

    def get_model(self, model: Model | str) -> Model:
        """One model by id (`ModelNotFound` on 410)."""
        return self._do(_model_call("GET", model))

    def create_model(
        self,
        name: str,
        *,
        unique: str | None = None,
        version: str = "1",
        cloud: bool = False,
        description: str | None = None,
        parameters: float | None = None,
        quantization: str | None = None,
        max_tokens: int | None = None,
        foundation: str | None = None,
        provider: str | None = None,
        type: str = "BALANCED",
        usage: str = "CODE_CONVERSATION",
        **extra: Any,
    ) -> Model:
        """Register a custom model (``POST /models/create``)."""
        body = _seeded_model(
            name,
            unique=unique,
            version=version,
            cloud=cloud,
            description=description,
            parameters=parameters,
            quantization=quantization,
            max_tokens=max_tokens,
            foundation=foundation,
            provider=provider,
            type=type,
            usage=usage,
            extra=extra,
        )
        return self._do(_Call("POST", "/models/create", body=_dumps(body), finish=_finish_model))

    def update_model(self, model: Model | dict[str, Any], **changes: Any) -> Model:
        """Send a full model with `changes` applied (``POST /model/update``, custom models only)."""
        body = _update_body(model, changes)
        call = _Call(
            "POST", "/model/update", body=_dumps(body), model_id=body["id"], finish=_finish_model
        )
        return self._do(call)

    def delete_model(self, model: Model | str) -> None:
        """Delete a custom model."""
        call = _model_call("POST", model, "/delete", prefix="/models/")
        self._do(_Call(call.method, call.path, "empty", model_id=call.model_id))

    def delete_model_cache(self, model: Model | str) -> None:
        """Delete a model's downloaded files."""
        call = _model_call("POST", model, "/delete/cache", prefix="/models/")
        self._do(
            _Call(call.method, call.path, body=b"{}", model_id=call.model_id, finish=_finish_none)
        )

    def unload_all(self) -> None:
        """Unload every loaded model."""
        self._do(_UNLOAD_ALL)

    def download(self, model: Model | str) -> Model:
        """Start a download; returns at once."""
        return self._do(_model_call("POST", model, "/download"))

    def cancel_download(self, model: Model | str) -> Model:
        """Cancel a running download."""
        return self._do(_model_call("POST", model, "/download/cancel"))

    def load(self, model: Model | str) -> Model:
        """Load a downloaded model into memory."""
        return self._do(_model_call("POST", model, "/load"))

    def unload(self, model: Model | str) -> Model:
        """Unload a model from memory."""
        return self._do(_model_call("POST", model, "/unload"))

    def watch_download(
        self,
        model: Model | str,
        *,
        stall_after: float | None = 10.0,
        reconnect: bool = True,
        max_reconnects: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        poll_interval: float = 0.5,
        start: bool = False,
    ) -> Iterator[DownloadProgress]:
        """Iterator twin of `AsyncPiecesClient.watch_download` (same rules)."""
        _segment(model)  # fail fast on a bad id, before the generator starts
        agen = self._async_client().watch_download(
            model,
            stall_after=stall_after,
            reconnect=reconnect,
            max_reconnects=max_reconnects,
            backoff=backoff,
            max_backoff=max_backoff,
            poll_interval=poll_interval,
            start=start,
        )
        return self._tasks.iterate(agen)


def _close_quietly(http: httpx.Client, tasks: LoopTasks, client: AsyncPiecesClient | None) -> None:
    """Cancel the client's work on the shared loop, close its async twin there, close `http`."""
    tasks.close()
    if client is not None:
        if on_loop_thread():  # e.g. closed from a progress callback: cannot wait for the loop
            asyncio.get_running_loop().create_task(client.aclose())
        else:
            with contextlib.suppress(Exception):
                run_blocking(client.aclose(), timeout=5)
    with contextlib.suppress(Exception):
        http.close()
