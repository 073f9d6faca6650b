"""The ASGI app: Starlette request/response/WebSocket objects behind a raw-path router.

Starlette's own router matches the *decoded* path, so `/model/a%2Fb/load` would look like four
segments. This router splits `scope["raw_path"]` first and percent-decodes each id once, which
is what the real server must do for the SDK's percent-encoded ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from . import extra
from .faults import Faults
from .state import EmulatorState
from .subs import CLOSE, GONE, Subscriber
from .wire import ApiError, check_optional_object

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
ID = None  # placeholder for the `{model}` segment in route patterns

# (pattern, {method: route name}); a WS upgrade uses method "WS".
ROUTES: list[tuple[tuple[str | None, ...], dict[str, str]]] = [
    (("models",), {"GET": "snapshot"}),
    (("models", "create"), {"POST": "create"}),
    (("models", "unload"), {"POST": "unload_all"}),
    (("models", ID, "delete"), {"POST": "delete"}),
    (("models", ID, "delete", "cache"), {"POST": "delete_cache"}),
    (("model", "update"), {"POST": "update"}),
    (("model", ID), {"GET": "get"}),
    (("model", ID, "download"), {"POST": "download"}),
    (("model", ID, "download", "cancel"), {"POST": "cancel"}),
    (("model", ID, "download", "progress"), {"GET": "progress", "WS": "progress"}),
    (("model", ID, "load"), {"POST": "load"}),
    (("model", ID, "unload"), {"POST": "unload"}),
    ((".well-known", "health"), {"GET": "health"}),
    ((".well-known", "version"), {"GET": "version"}),
    *extra.ROUTES,  # device information, score increments, identifiers stream, /ollama/*
]


def match(raw_path: bytes, method: str) -> tuple[str | None, str | None, bool]:
    """(route name, decoded model id, path known). Route None + known path means 405."""
    segments = raw_path.split(b"/")[1:] if raw_path.startswith(b"/") else []
    known = False
    lookup = "GET" if method == "HEAD" else method
    for pattern, methods in ROUTES:
        if len(pattern) != len(segments):
            continue
        model_id = None
        for want, got in zip(pattern, segments, strict=True):
            if want is None:
                model_id = unquote_to_bytes(got).decode("utf-8", "replace")
            elif want.encode() != got:
                break
        else:
            known = True
            if lookup in methods:
                return methods[lookup], model_id, True
    return None, None, known


class EmulatorApp:
    """ASGI callable. Records every request, applies faults, then runs the state command."""

    def __init__(
        self,
        state: EmulatorState,
        faults: Faults,
        *,
        version: str,
        server_header: str,
        requests: list[tuple[str, str]],
        log: Callable[[str], None] | None = None,
        device: dict[str, Any] | None = None,
    ) -> None:
        self.state = state
        self.device: dict[str, Any] = device or {}  # the GET /os/device/information body
        self.faults = faults
        self.version = version
        self.server_header = server_header
        self.stopping = False  # set while the Emulator shuts down: cancellations are expected
        self.requests = requests
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        method = "WS" if kind == "websocket" else scope["method"]
        self.requests.append((method, raw_path.decode("utf-8", "replace")))
        started = time.perf_counter()
        status_box = [0]

        async def tracking_send(message: dict[str, Any]) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                status_box[0] = message["status"]
            elif message["type"] == "websocket.accept":
                status_box[0] = 101
            await send(message)

        try:
            if kind == "websocket":
                await self._websocket(scope, receive, tracking_send, send, raw_path)
            else:
                await self._http(scope, receive, tracking_send, raw_path)
        except asyncio.CancelledError:
            if not self.stopping:
                raise
        finally:
            if self.log is not None:
                ms = (time.perf_counter() - started) * 1000
                line = f"{method} {raw_path.decode('utf-8', 'replace')} -> {status_box[0]}"
                self.log(f"{line} ({ms:.1f} ms)")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- HTTP -------------------------------------------------------------------------------

    @staticmethod
    def _response(status: int, body: bytes | str = b"", media: str = TEXT) -> Response:
        """uvicorn adds `x-pieces-emulator` (a default header set by the Emulator)."""
        if status == 204:
            return Response(status_code=204)
        return Response(body, status_code=status, media_type=media)

    async def _http(self, scope: Scope, receive: Receive, send: Send, raw_path: bytes) -> None:
        method = scope["method"]
        route, model_id, known = match(raw_path, method)
        if route is None:
            status, text = (405, "Method Not Allowed") if known else (404, "Not Found")
            response = self._response(status, text)
        else:
            response = await self._guarded(
                route, lambda: self._handle(route, model_id, scope, receive)
            )
        if method == "HEAD":
            response.body = b""
        await response(scope, receive, send)

    async def _guarded(self, route: str, handler: Callable[[], Awaitable[Response]]) -> Response:
        """Apply latency and injected errors, then run the handler; ApiError becomes text."""
        delay = self.faults.latency_for(route)
        if delay > 0:
            await asyncio.sleep(delay)
        rule = self.faults.take_http_error(route)
        if rule is not None:
            return self._response(rule.status, rule.body)
        try:
            return await handler()
        except ApiError as e:
            return self._response(e.status, e.message)

    async def _handle(
        self, route: str, model_id: str | None, scope: Scope, receive: Receive
    ) -> Response:
        st = self.state
        ok = self._response
        if route in extra.NAMES:
            return await extra.handle(st, self.device, route, model_id, scope, receive, ok)
        if route == "snapshot":
            return ok(200, st.store.body(), JSON)
        if route == "get":
            return ok(200, st.store.part(st.require(model_id, 410)["id"]), JSON)
        if route == "health":
            return ok(200, "OK")
        if route == "version":
            return ok(200, self.version)
        if route == "progress":
            return ok(200, st.progress_body(model_id), JSON)
        if route == "unload_all":
            st.unload_all()
            return ok(204)
        if route in ("create", "update", "delete_cache"):
            body = await Request(scope, receive).body()
            if route == "delete_cache":
                check_optional_object(body, "ModelDeleteCacheInput")
                return ok(200, st.delete_cache(model_id), JSON)
            try:
                parsed = json.loads(body) if body.strip() else None
            except ValueError as e:
                raise ApiError(500, f"request body is not valid JSON: {e}") from None
            return ok(200, st.create(parsed) if route == "create" else st.update(parsed), JSON)
        if route == "delete":
            st.delete(model_id)
            return ok(204)
        command = {
            "download": st.download,
            "cancel": st.cancel,
            "load": st.load,
            "unload": st.unload,
        }
        return ok(200, command[route](model_id), JSON)

    # --- WebSocket --------------------------------------------------------------------------

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, raw_send: Send, raw_path: bytes
    ) -> None:
        ws = WebSocket(scope, receive, send)
        route, model_id, _ = match(raw_path, "WS")
        if route is None:
            await self._deny(ws, 404, "Not Found")
            return
        delay = self.faults.latency_for(route)
        if delay > 0:
            await asyncio.sleep(delay)
        rule = self.faults.take_http_error(route)
        if rule is not None:
            await self._deny(ws, rule.status, rule.body)
            return
        if route == "progress":
            try:
                self.state.require(model_id, 410)
            except ApiError as e:
                await self._deny(ws, e.status, e.message)
                return
        await ws.accept()
        if route == "identifiers":
            sub = self.state.identifiers.subscribe()
        elif route == "ollama_status_stream":
            sub = self.state.runtime.subscribe()
        else:
            sub = self.state.subscribe(model_id or "")
        reader = asyncio.ensure_future(_watch_disconnect(receive, sub))
        try:
            await self._pump(sub, send, raw_send)
        finally:
            self.state.unsubscribe(sub)
            reader.cancel()

    async def _pump(self, sub: Subscriber, send: Send, raw_send: Send) -> None:
        sent = 0
        while True:
            item = await sub.queue.get()
            if item is GONE:
                return
            try:
                if item is CLOSE:
                    await send({"type": "websocket.close", "code": 1000, "reason": ""})
                    return
                await raw_send({"type": "websocket.send", "text": item})  # hot path: no wrapper
            except (OSError, RuntimeError):  # includes uvicorn's ClientDisconnected
                return
            sent += 1
            limit = self.faults.drop_after(sub.model_id, sub.route)
            if limit is not None and sent >= limit:
                await _abort(send, raw_send)
                return

    async def _deny(self, ws: WebSocket, status: int, text: str) -> None:
        """Refuse the upgrade with an HTTP answer, or close before accept if unsupported."""
        if "websocket.http.response" in ws.scope.get("extensions", {}):
            response = self._response(status, text)
            response.headers["x-pieces-emulator"] = self.server_header  # no defaults here
            await ws.send_denial_response(response)
        else:  # pragma: no cover - uvicorn's websockets stacks support the extension
            await ws.close(code=1008, reason=text[:120])


async def _watch_disconnect(receive: Receive, sub: Subscriber) -> None:
    """Clients send nothing; the only message that matters is the disconnect."""
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            sub.queue.put_nowait(GONE)
            return


async def _abort(send: Send, raw_send: Send) -> None:
    """Drop the TCP connection with no close frame (a crash or network cut, as clients see it).

    uvicorn's ASGI `send` is a bound method of the connection protocol, whose transport can be
    aborted. If a future server stack hides it, fall back to close code 1011.
    """
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        return
    with contextlib.suppress(OSError, RuntimeError):  # pragma: no cover - other ASGI servers
        await send({"type": "websocket.close", "code": 1011, "reason": "dropped"})
