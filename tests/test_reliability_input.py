"""Bad input (issue 7): fuzzed and damaged models, malformed answers, huge snapshots, odd ids.

- Hypothesis fuzz (derandomized, no example database): generated *and damaged* models and
  snapshots through `parse_model`, `parse_snapshot` and the real client code path. Nothing
  raises out of the parser; the client raises nothing but `PiecesProtocolError` for a body
  that is not a snapshot; every well-formed entry survives with its values. Counts are asserted
  (and reported in docs/reliability.md).
- Malformed JSON, non-JSON bodies, wrong content types, truncated bodies and truncated or
  garbage WebSocket frames from a hand-written server on 127.0.0.1: each gives a clear
  `PiecesError` subclass (or, for a bad progress frame, a logged warning and nothing else).
- A 20,000-model snapshot through the client and the widget.
- Ids with `/`, `..`, `%`, spaces and non-ASCII reach the server as ONE encoded path segment,
  asserted on the raw paths the emulator received.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import logging
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pieces_widgets import AsyncPiecesClient, ModelManager, PiecesClient
from pieces_widgets.emulator import Emulator, synthetic_catalog
from pieces_widgets.errors import (
    PiecesAPIError,
    PiecesError,
    PiecesProtocolError,
    PiecesUnavailable,
)
from pieces_widgets.models import Model, parse_model, parse_snapshot

WAIT = 20

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)

# --------------------------------------------------------------------------- strategies

SCHEMA = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
ENUMS = ["BALANCED", "SPEED", "ACCURACY", "CODE_CONVERSATION", "GPT_4", "META", "NEW_THING"]
INT64 = 2**63 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
)
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
    max_leaves=5,
)
# A small id pool, so snapshots repeat ids (duplicates) and the client's reuse path is hit.
ids_ = st.sampled_from(["m1", "m2", "m3", "a/b", "..", "naïve 模型", "%2F"]) | st.text(
    min_size=1, max_size=6
)
timestamps = st.integers(min_value=0, max_value=4_000_000_000).map(
    lambda s: datetime.fromtimestamp(s).isoformat() + "Z"
)
counts = st.integers(min_value=0, max_value=INT64)


@st.composite
def good_models(draw: st.DrawFn, model_id: st.SearchStrategy[str] = ids_) -> dict[str, Any]:
    """A wire Model the spec allows: required fields, optional ones absent or valid."""
    m: dict[str, Any] = {
        "schema": SCHEMA,
        "id": draw(model_id),
        "name": draw(st.text(max_size=8)),
        "version": draw(st.text(max_size=4)),
        "cloud": draw(st.booleans()),
        "type": draw(st.sampled_from(ENUMS)),
        "usage": draw(st.sampled_from(ENUMS)),
        "created": {"value": draw(timestamps)},
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "unique": st.text(max_size=8),
        "description": st.text(max_size=8),
        "foundation": st.sampled_from(ENUMS),
        "provider": st.sampled_from(ENUMS),
        "quantization": st.text(max_size=6),
        "downloaded": st.booleans(),
        "downloading": st.booleans(),
        "loaded": st.booleans(),
        "custom": st.booleans(),
        "cpu": st.booleans(),
        "denied": st.booleans(),
        "bytes": counts.map(lambda v: {"value": v, "readable": f"{v} B"}),
        "ram": counts.map(lambda v: {"value": v, "readable": f"{v} B"}),
        "parameters": st.floats(min_value=0, max_value=1e6) | st.integers(0, 10**6),
        "maxTokens": st.fixed_dictionaries({"total": st.none() | counts}),
        "capabilities": st.fixed_dictionaries({"images": st.booleans()}),
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)))):
        m[key] = draw(optional[key])
    return m


FIELDS = [
    "id", "name", "unique", "cloud", "downloaded", "downloading", "loaded", "custom", "cpu",
    "denied", "foundation", "provider", "type", "usage", "version", "description", "created",
    "bytes", "ram", "parameters", "quantization", "maxTokens",
]  # fmt: skip
WRONG = {  # typical damage a newer or buggy server might send, per field
    "bool": st.sampled_from(["true", 1, 0, "false", [], {}]),
    "str": st.sampled_from([1, 2.5, True, [], {"value": "x"}]),
    "count": st.sampled_from(
        [{"value": "12"}, {"value": -1}, {"value": 1.5}, {"value": 2**70}, "4 GB", -3, True]
    ),
    "created": st.sampled_from([{"value": "yesterday"}, {"value": 5}, "2024-13-45", 17, {}]),
}
KIND = {
    "cloud": "bool", "downloaded": "bool", "downloading": "bool", "loaded": "bool",
    "custom": "bool", "cpu": "bool", "denied": "bool", "bytes": "count", "ram": "count",
    "maxTokens": "count", "created": "created", "parameters": "str",
}  # fmt: skip


@st.composite
def damaged(draw: st.DrawFn, model: dict[str, Any]) -> tuple[Any, set[str]]:
    """Damage a good model; return (damaged entry, names of the fields touched)."""
    m = copy.deepcopy(model)
    touched: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["drop", "wrong", "random", "null", "extra", "id", "entry"]))
        key = draw(st.sampled_from(FIELDS))
        if op == "drop":
            m.pop(key, None)
        elif op == "wrong":
            m[key] = draw(WRONG[KIND.get(key, "str")])
        elif op == "random":
            m[key] = draw(json_values)
        elif op == "null":
            m[key] = None
        elif op == "extra":
            m[draw(st.text(min_size=1, max_size=6))] = draw(json_values)
            key = ""
        elif op == "id":
            m["id"] = draw(st.sampled_from([None, "", 7, ["x"], {"id": "x"}, True]))
            key = "id"
        else:  # the whole entry is not an object
            return draw(json_values.filter(lambda v: not isinstance(v, dict))), set(FIELDS)
        touched.add(key)
    return m, touched


def check_types(model: Model) -> None:
    """Whatever came in, a parsed Model's fields have their documented types."""
    assert isinstance(model.id, str) and model.id
    for name in ("name", "unique", "foundation", "provider", "type", "usage", "version",
                 "description", "quantization"):  # fmt: skip
        assert getattr(model, name) is None or isinstance(getattr(model, name), str)
    for name in ("cloud", "downloaded", "downloading", "loaded", "custom", "cpu", "denied"):
        assert getattr(model, name) in (None, True, False)
    for name in ("bytes", "ram", "max_tokens"):
        v = getattr(model, name)
        assert v is None or (type(v) is int and 0 <= v <= INT64)
    assert model.parameters is None or (
        type(model.parameters) is float and math.isfinite(model.parameters)
    )
    assert model.created is None or model.created.tzinfo is not None
    assert model.state in ("cloud", "downloading", "loaded", "downloaded", "available")


def same_values(a: Model, b: Model, skip: set[str] = frozenset()) -> None:
    for f in Model.__slots__:
        if f in ("raw", "__weakref__") or f in skip or (f == "max_tokens" and "maxTokens" in skip):
            continue
        assert getattr(a, f) == getattr(b, f), f


# --------------------------------------------------------------------------- fuzz: one model

N_MODELS = 4500
N_SNAPSHOTS = 3500
N_CLIENT = 2200


def test_fuzz_generated_and_damaged_models():
    seen = Counter()

    @settings(FUZZ, max_examples=N_MODELS)
    @given(data=st.data(), model=good_models())
    def run(data: st.DataObject, model: dict[str, Any]) -> None:
        seen["examples"] += 1
        good = parse_model(model, warnings := [])
        assert good is not None and warnings == []  # a well-formed model: kept, no warning
        check_types(good)
        assert good.id == model["id"] and good.name == model["name"]
        assert good.to_wire() == model
        entry, touched = data.draw(damaged(model))
        seen["damaged"] += 1
        warnings = []
        parsed = parse_model(entry, warnings)  # never raises
        usable_id = isinstance(entry, dict) and type(entry.get("id")) is str and entry["id"]
        if not usable_id:
            assert parsed is None and len(warnings) == 1
            seen["skipped"] += 1
            return
        assert parsed is not None
        check_types(parsed)
        seen["kept"] += 1
        # Fields the damage did not touch keep exactly their good values.
        same_values(parsed, good, skip=touched | {"id"})

    run()
    assert seen["examples"] >= N_MODELS and seen["damaged"] >= N_MODELS
    assert seen["kept"] > N_MODELS // 3 and seen["skipped"] > N_MODELS // 20
    FUZZ_COUNTS["models"] = dict(seen)


# --------------------------------------------------------------------------- fuzz: snapshots


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    """(body, entries, the well-formed entries) for a snapshot mixing good and damaged models."""
    entries: list[Any] = []
    goods: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 8))):
        model = draw(good_models())
        if draw(st.booleans()):
            entries.append(model)
            goods.append(model)
        else:
            entries.append(draw(damaged(model))[0])
    shape = draw(st.sampled_from(["object", "object", "object", "list", "extra"]))
    if shape == "object":
        body: Any = {"iterable": entries, "schema": SCHEMA}
    elif shape == "list":
        body = entries
    else:
        body = {"iterable": entries, draw(st.text(max_size=4)): draw(json_values)}
    return body, entries, goods


def expected_models(entries: list[Any]) -> list[Model]:
    out = []
    for e in entries:
        m = parse_model(e)
        if m is not None:
            out.append(m)
    return out


def test_fuzz_generated_and_damaged_snapshots():
    seen = Counter()

    @settings(FUZZ, max_examples=N_SNAPSHOTS)
    @given(snap=snapshots(), broken_body=json_values)
    def run(snap: tuple[Any, list[Any], list[dict[str, Any]]], broken_body: Any) -> None:
        body, entries, goods = snap
        seen["snapshots"] += 1
        seen["entries"] += len(entries)
        seen["well_formed"] += len(goods)
        models, warnings = parse_snapshot(body)  # never raises
        # Server order kept; every entry with a usable id kept, the rest skipped with a warning.
        expected = expected_models(entries)
        assert [m.id for m in models] == [m.id for m in expected]
        for m, e in zip(models, expected, strict=True):
            same_values(m, e)
        kept_goods = [m for m in models if any(m.raw is g for g in goods)]
        assert len(kept_goods) == len(goods)  # every well-formed entry survives, intact
        for m in models:
            check_types(m)
        assert len(warnings) >= len(entries) - len(models)
        # The same snapshot again, reusing the previous Models (what a polling client does).
        again, _ = parse_snapshot(body, {m.id: m for m in models})
        assert [m.id for m in again] == [m.id for m in models]
        # Any JSON at all as the body: still no exception.
        parse_snapshot(broken_body)
        seen["broken_bodies"] += 1

    run()
    assert seen["snapshots"] >= N_SNAPSHOTS
    assert seen["entries"] > 3 * N_SNAPSHOTS and seen["well_formed"] > N_SNAPSHOTS
    FUZZ_COUNTS["snapshots"] = dict(seen)


# --------------------------------------------------------------------------- fuzz: the client


def _mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> PiecesClient:
    """A real PiecesClient whose transport answers in-process (no sockets: fast enough for
    thousands of examples); status mapping, content-type checks and parsing are the real ones."""
    client = PiecesClient("http://127.0.0.1:9")
    client._http.close()
    client._http = httpx.Client(transport=httpx.MockTransport(handler), trust_env=False)
    return client


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str | None, bool]:
    """(raw body, content type, whether it is a JSON snapshot object)."""
    snap = draw(snapshots())[0]
    text = json.dumps(snap, allow_nan=True).encode()
    kind = draw(st.sampled_from(["snapshot"] * 4 + ["truncated", "json", "binary", "html"]))
    if kind == "snapshot":
        return text, "application/json", isinstance(snap, dict)
    if kind == "truncated":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))], "application/json", False
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), "application/json", False
    if kind == "binary":
        return draw(st.binary(max_size=40)), draw(st.sampled_from([None, "application/json"])), False
    return b"<html><body>Bad gateway</body></html>", "text/html; charset=utf-8", False


def test_fuzz_bodies_through_the_client():
    seen = Counter()
    current: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": current["ctype"]} if current["ctype"] else {}
        return httpx.Response(200, content=current["body"], headers=headers)

    client = _mock_client(handler)

    @settings(FUZZ, max_examples=N_CLIENT)
    @given(answer=bodies())
    def run(answer: tuple[bytes, str | None, bool]) -> None:
        body, ctype, is_snapshot = answer
        current.update(body=body, ctype=ctype)
        seen["bodies"] += 1
        try:
            models = client.list_models()
        except PiecesProtocolError as exc:
            seen["protocol_error"] += 1
            assert not is_snapshot, exc
            assert str(exc).startswith("GET /models")  # says which call, and what came
            return
        # Any other exception fails the test: nothing but PiecesProtocolError gets out.
        seen["parsed"] += 1
        data = json.loads(body)
        entries = data.get("iterable") if isinstance(data, dict) else data
        entries = entries if isinstance(entries, list) else []
        assert [m.id for m in models] == [m.id for m in expected_models(entries)]

    try:
        run()
    finally:
        client.close()
    assert seen["bodies"] >= N_CLIENT
    assert seen["parsed"] > N_CLIENT // 3 and seen["protocol_error"] > N_CLIENT // 10
    FUZZ_COUNTS["client"] = dict(seen)


FUZZ_COUNTS: dict[str, dict[str, int]] = {}


def test_fuzz_total_is_at_least_10000():
    """The three fuzz tests together run >= 10,000 examples (asserted in each, summed here)."""
    assert N_MODELS + N_SNAPSHOTS + N_CLIENT >= 10_000


# --------------------------------------------------------------------------- a bad server


Answer = bytes | Callable[[socket.socket, dict[str, str]], None]


class BadServer:
    """A hand-written HTTP/1.1 + WebSocket server on 127.0.0.1 that says exactly the bytes
    we give it: `routes[(method, path)] = raw bytes | fn(sock, headers)`. One request per
    connection; unknown routes get a 404."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer] = {}
        self.requests: list[tuple[str, str]] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(32)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            head = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
            lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) < 2:
                return
            method, path = parts[0], parts[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:])
            }
            if headers.get("upgrade", "").lower() == "websocket":
                method = "WS"
            self.requests.append((method, path))
            answer = self.routes.get((method, path), response(404, b"Not Found", "text/plain"))
            with contextlib.suppress(OSError):
                if callable(answer):
                    answer(conn, headers)
                else:
                    conn.sendall(answer)

    def close(self) -> None:
        self._closed = True
        self._sock.close()


def response(status: int, body: bytes, ctype: str | None = "application/json", **extra) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    if ctype:
        head.append(f"Content-Type: {ctype}")
    head += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@pytest.fixture
def bad_server() -> Iterator[BadServer]:
    server = BadServer()
    yield server
    server.close()


MODEL = {
    "id": "m1", "name": "Model one", "version": "1", "cloud": False, "type": "BALANCED",
    "usage": "CODE_CONVERSATION", "created": {"value": "2024-05-01T00:00:00Z"},
    "downloading": True, "downloaded": False, "bytes": {"value": 1000, "readable": "1 KB"},
}  # fmt: skip


# (what the server sends for GET /models, the error class, a fragment of its message)
MALFORMED = {
    "malformed JSON": (
        response(200, b'{"iterable": [{"id": "m1",'),
        PiecesProtocolError,
        "GET /models answered malformed JSON; got: {\"iterable\"",
    ),
    "HTML with a JSON content type": (
        response(200, b"<html>Bad gateway</html>"),
        PiecesProtocolError,
        "malformed JSON; got: <html>Bad gateway</html>",
    ),
    "empty body": (response(200, b""), PiecesProtocolError, "got: an empty body"),
    "invalid UTF-8": (response(200, b'{"iterable": ["\xff\xfe"]}'), PiecesProtocolError, "JSON"),
    "wrong content type": (
        response(200, b"<html><h1>Router login</h1></html>", "text/html; charset=utf-8"),
        PiecesProtocolError,
        "GET /models should answer JSON but sent text/html; got: <html><h1>Router login",
    ),
    "JSON that is not a snapshot": (
        response(200, b'"service ready"'),
        PiecesProtocolError,
        "GET /models should return {'iterable': [...]}; got: \"service ready\"",
    ),
    "truncated body": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n"
        b'Connection: close\r\n\r\n{"iterable": [',
        PiecesProtocolError,
        "truncated or malformed HTTP answer",
    ),
    "garbage instead of HTTP": (
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        PiecesProtocolError,
        "truncated or malformed HTTP answer",
    ),
    "closed without an answer": (b"", PiecesUnavailable, "closed the connection"),
    "error status with an HTML page": (
        response(502, b"<html>upstream down</html>", "text/html"),
        PiecesAPIError,
        "HTTP 502 on GET /models: <html>upstream down</html>",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_client_malformed_answers_give_clear_errors(case, bad_server):
    raw, error, fragment = MALFORMED[case]
    bad_server.routes[("GET", "/models")] = raw
    with PiecesClient(bad_server.url, timeout=3) as client:
        with pytest.raises(error) as err:
            client.list_models()
    assert isinstance(err.value, PiecesError)
    assert fragment in str(err.value), str(err.value)


@pytest.mark.xfail(
    strict=True,
    reason="BUG: a body that fails to decode (e.g. Content-Encoding: gzip with garbage) raises "
    "the bare PiecesError base class instead of PiecesProtocolError",
)
def test_client_undecodable_body_is_a_protocol_error(bad_server):
    bad_server.routes[("GET", "/models")] = response(
        200, b"this is not gzip", content_encoding="gzip"
    )
    with PiecesClient(bad_server.url, timeout=3) as client, pytest.raises(PiecesProtocolError):
        client.list_models()


def test_client_get_model_answers_that_are_not_a_model(bad_server):
    bad_server.routes[("GET", "/model/m1")] = response(200, b"[1, 2, 3]")
    bad_server.routes[("GET", "/model/m2")] = response(200, b'{"name": "no id"}')
    with PiecesClient(bad_server.url, timeout=3) as client:
        with pytest.raises(PiecesProtocolError, match=r"GET /model/m1 did not return a model"):
            client.get_model("m1")
        with pytest.raises(PiecesProtocolError, match=r"did not return a model; got: \{"):
            client.get_model("m2")


def test_async_client_malformed_answer(bad_server):
    bad_server.routes[("GET", "/models")] = MALFORMED["wrong content type"][0]

    async def run() -> None:
        async with AsyncPiecesClient(bad_server.url, timeout=3) as client:
            with pytest.raises(PiecesProtocolError, match="should answer JSON"):
                await client.list_models()

    import asyncio

    asyncio.run(run())


def test_widget_on_a_server_that_answers_html(bad_server):
    bad_server.routes[("GET", "/.well-known/version")] = response(200, b"1.0", "text/plain")
    bad_server.routes[("GET", "/models")] = MALFORMED["wrong content type"][0]
    mm = ModelManager(bad_server.url, poll_interval=None, timeout=3)
    try:
        # No exception in the cell; the banner says what came instead of a model list.
        assert mm.connection == "unreachable"
        assert "should answer JSON but sent text/html" in mm.server["message"]
        assert mm.models == [] and mm.to_dataframe().empty
    finally:
        mm.close()


# --------------------------------------------------------------------------- WebSocket frames

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_accept(conn: socket.socket, headers: dict[str, str]) -> None:
    key = headers["sec-websocket-key"]
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )


def ws_frame(payload: bytes | str, opcode: int = 0x1) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    n = len(data)
    if n < 126:
        return bytes([0x80 | opcode, n]) + data
    return bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big") + data


def progress(status: str, pct: float | None = None) -> str:
    frame: dict[str, Any] = {"schema": SCHEMA, "status": status}
    if pct is not None:
        frame["percentage"] = pct
    return json.dumps(frame)


def ws_script(*chunks: bytes, linger: float = 0.05) -> Callable[[socket.socket, dict], None]:
    def run(conn: socket.socket, headers: dict[str, str]) -> None:
        ws_accept(conn, headers)
        for chunk in chunks:
            conn.sendall(chunk)
            time.sleep(0.01)
        time.sleep(linger)  # then drop the TCP connection: no close frame

    return run


def test_watch_ignores_garbage_and_truncated_json_frames(bad_server, caplog):
    bad_server.routes[("GET", "/model/m1")] = response(200, json.dumps(MODEL).encode())
    bad_server.routes[("WS", "/model/m1/download/progress")] = ws_script(
        ws_frame(progress("INITIALIZED")),
        ws_frame(progress("IN-PROGRESS", 10)),
        ws_frame('{"status": "IN-PROGRESS", "percen'),  # JSON cut short inside the frame
        ws_frame("not json at all"),
        ws_frame(b"\x00\xffbinary", opcode=0x2),
        ws_frame("[1, 2, 3]"),
        ws_frame('{"status": 42, "percentage": "lots"}'),  # wrong types: no change
        ws_frame(progress("IN-PROGRESS", 60)),
        ws_frame(progress("COMPLETED", 100)),
    )
    caplog.set_level(logging.WARNING, logger="pieces_widgets")
    with PiecesClient(bad_server.url, timeout=3) as client:
        seen = list(client.watch_download("m1", stall_after=None))
    assert [p.percentage for p in seen] == sorted(p.percentage for p in seen)
    assert seen[-1].status == "COMPLETED" and seen[-1].percentage == 100
    assert 10 in [p.percentage for p in seen] and 60 in [p.percentage for p in seen]
    ignored = [r.getMessage() for r in caplog.records if "ignored a progress frame" in r.message]
    assert len(ignored) == 4  # truncated JSON, not JSON, binary, a list: each one warned
    assert all("download m1" in text for text in ignored)


def test_watch_truncated_frame_then_reconnect_continues_without_going_back(bad_server):
    bad_server.routes[("GET", "/model/m1")] = response(200, json.dumps(MODEL).encode())
    first = ws_script(
        ws_frame(progress("IN-PROGRESS", 40)),
        bytes([0x81, 126, 0x01, 0x00]) + b'{"status": "IN-PR',  # a frame cut mid-payload
    )
    second = ws_script(
        ws_frame(progress("IN-PROGRESS", 30)),  # a server that restarts its count: not shown
        ws_frame(progress("IN-PROGRESS", 70)),
        ws_frame(progress("COMPLETED", 100)),
    )
    scripts = iter([first, second])
    bad_server.routes[("WS", "/model/m1/download/progress")] = lambda c, h: next(scripts)(c, h)
    with PiecesClient(bad_server.url, timeout=3) as client:
        seen = list(client.watch_download("m1", stall_after=None, backoff=0.01))
    pcts = [p.percentage for p in seen]
    assert pcts == sorted(pcts) and 30 not in pcts[1:]
    assert seen[-1].status == "COMPLETED"
    assert bad_server.requests.count(("WS", "/model/m1/download/progress")) == 2


def test_watch_gives_up_clearly_on_a_socket_that_always_truncates(bad_server):
    bad_server.routes[("GET", "/model/m1")] = response(200, json.dumps(MODEL).encode())
    bad_server.routes[("WS", "/model/m1/download/progress")] = ws_script(
        bytes([0x81, 126, 0x01, 0x00]) + b"{"
    )
    with PiecesClient(bad_server.url, timeout=3) as client:
        started = time.monotonic()
        with pytest.raises(PiecesUnavailable, match="progress socket lost; gave up after 3"):
            list(client.watch_download("m1", backoff=0.01, max_reconnects=3))
        assert time.monotonic() - started < 5


def test_watch_upgrade_refused_with_html(bad_server):
    bad_server.routes[("WS", "/model/m1/download/progress")] = response(
        503, b"<html>maintenance</html>", "text/html"
    )
    with PiecesClient(bad_server.url, timeout=3) as client:
        with pytest.raises(PiecesAPIError) as err:
            next(iter(client.watch_download("m1")))
    assert err.value.status == 503 and "maintenance" in str(err.value)


# --------------------------------------------------------------------------- 20,000 models


def test_20000_model_snapshot_through_client_and_widget():
    catalog = synthetic_catalog(20_000)
    with Emulator(catalog=catalog) as emu:
        started = time.monotonic()
        with PiecesClient(emu.url, timeout=30) as client:
            models = client.list_models()
            client_s = time.monotonic() - started
            assert len(models) == 20_000 and len({m.id for m in models}) == 20_000
            assert [m.id for m in models] == [m["id"] for m in catalog]
            again = client.list_models()  # a poll: unchanged models are reused
            assert all(a is b for a, b in zip(models, again, strict=True))
        started = time.monotonic()
        mm = ModelManager(emu.url, poll_interval=None, timeout=30)
        try:
            widget_s = time.monotonic() - started
            assert mm.connection == "connected" and len(mm.models) == 20_000
            assert mm.models[0]["id"] == catalog[0]["id"]
            frame = mm.to_dataframe()
            assert len(frame) == 20_000 and frame.index.is_unique
            bundle, _ = mm._repr_mimebundle_()
            assert "20000 models" in bundle["text/plain"] and "19800 more" in bundle["text/html"]
            local = next(m for m in catalog if not m.get("cloud") and m.get("downloaded"))
            mm.load(local["id"]).wait(WAIT)  # actions still work on a huge table
            assert next(r for r in mm.models if r["id"] == local["id"])["loaded"]
        finally:
            mm.close()
    # Generous bounds: this is a smoke test for pathologies, not a benchmark.
    assert client_s < 15 and widget_s < 15, (client_s, widget_s)


# --------------------------------------------------------------------------- odd ids

ODD_IDS = {
    "slash": "a/b",
    "slashes": "../../etc/passwd",
    "percent": "100%",
    "encoded slash": "%2F",
    "space": "with space",
    "non-ASCII": "naïve-模型-🚀",
    "query chars": "a?b#c&d=e",
    "plus and semicolon": "a+b;c",
    "dot-dot": "..",
    "dot": ".",
}
DOT_BUG = pytest.mark.xfail(
    strict=True,
    reason="BUG: quote() leaves '.' and '..' as they are and httpx then removes them as dot "
    "segments: get_model('..') requests GET /model/.. -> /, load('..') -> POST /load",
)


def odd_id_params() -> list[Any]:
    return [
        pytest.param(v, id=k, marks=DOT_BUG if v in (".", "..") else ())
        for k, v in ODD_IDS.items()
    ]


def one_segment(raw_path: str, prefix: str, model_id: str, suffix: str = "") -> bool:
    """`raw_path` is prefix + ONE segment that decodes to `model_id` + suffix."""
    if not (raw_path.startswith(prefix) and raw_path.endswith(suffix)):
        return False
    segment = raw_path[len(prefix) : len(raw_path) - len(suffix)]
    return "/" not in segment and segment not in (".", "..") and unquote(segment) == model_id


def odd_model(emu: Emulator, model_id: str, **flags: Any) -> None:
    base = dict(MODEL, downloading=False, downloaded=True, custom=True, loaded=False)
    emu.add_model({**base, "id": model_id, "name": f"odd {model_id}", **flags})


@pytest.mark.parametrize("model_id", odd_id_params())
def test_odd_ids_reach_the_server_as_one_segment_client(model_id, emulator_factory):
    emulator = emulator_factory(download_seconds=0.1)
    odd_model(emulator, model_id)
    with PiecesClient(emulator.url) as client:
        emulator.requests.clear()
        assert client.get_model(model_id).id == model_id
        assert client.load(model_id).loaded is True
        assert client.unload(model_id).loaded is False
        client.delete_model_cache(model_id)
        assert client.download(model_id).downloading is True
        final = list(client.watch_download(model_id, stall_after=None))[-1]
        assert final.status == "COMPLETED"
        model = client.update_model(client.get_model(model_id), description="still me")
        assert model.id == model_id and model.description == "still me"
        client.delete_model(model_id)
    expected = [
        ("GET", "/model/", ""),
        ("POST", "/model/", "/load"),
        ("POST", "/model/", "/unload"),
        ("POST", "/models/", "/delete/cache"),
        ("POST", "/model/", "/download"),
        ("WS", "/model/", "/download/progress"),
        ("POST", "/models/", "/delete"),
    ]
    for method, prefix, suffix in expected:
        assert any(
            m == method and one_segment(p, prefix, model_id, suffix)
            for m, p in emulator.requests
        ), (method, prefix, suffix, emulator.requests)
    assert ("POST", "/model/update") in emulator.requests  # the id travels in the body here
    assert all(p.isascii() for _, p in emulator.requests)  # non-ASCII is percent-encoded


@pytest.mark.parametrize("model_id", odd_id_params())
def test_odd_ids_reach_the_server_as_one_segment_widget(model_id, emulator_factory):
    emulator = emulator_factory(download_seconds=0.1)
    odd_model(emulator, model_id, downloaded=False)
    mm = ModelManager(emulator.url, poll_interval=None)
    try:
        emulator.requests.clear()
        assert mm.download(model_id).wait(WAIT).status == "COMPLETED"
        mm.load(model_id).wait(WAIT)
        row = next(r for r in mm.models if r["id"] == model_id)
        assert row["state"] == "loaded" and mm.errors == {}
        mm.delete(model_id).wait(WAIT)
        assert all(r["id"] != model_id for r in mm.models)
    finally:
        mm.close()
    for method, prefix, suffix in [
        ("POST", "/model/", "/download"),
        ("WS", "/model/", "/download/progress"),
        ("POST", "/model/", "/load"),
        ("POST", "/models/", "/delete"),
    ]:
        assert any(
            m == method and one_segment(p, prefix, model_id, suffix)
            for m, p in emulator.requests
        ), (method, prefix, suffix, emulator.requests)
