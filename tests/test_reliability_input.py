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
import hashlib
import json
import logging
import math
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

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

# --------------------------------------------------------------------------- generators
# Hypothesis costs about 1 ms per example here, plus ~0.15 ms per draw. To run >= 10,000
# examples in seconds, each example draws little: the *structure* (which damage, to which
# field, how many entries, what shape) is drawn by hypothesis, and the values come from a
# fast generator seeded by one drawn integer, over pools full of edge cases.

SCHEMA = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
INT64 = 2**63 - 1
TEXTS = [
    "", "a", "Llama 3.1 8B", "naïve 模型 🚀", "<img src=x onerror=alert(1)>", "\u202eevil",
    "x" * 300, "\x00\x1b[2J\x07", "0", "true", "null", "  padded  ", "ملف", "\ud7ff", "a\nb",
]  # fmt: skip
ENUMS = ["BALANCED", "SPEED", "ACCURACY", "CODE_CONVERSATION", "GPT_4", "META", "NEW_THING", ""]
IDS = ["m1", "m2", "m3", "a/b", "..", "naïve 模型", "%2F", "with space", "0"]
WRONG_VALUES: list[Any] = [
    "true", "false", 1, 0, -1, 1.5, float("nan"), float("inf"), -0.0, 2**70, -(2**70),
    [], {}, [1, "a"], {"value": "12"}, {"value": -1}, {"value": 1.5}, {"value": 2**70},
    {"value": None}, {"total": "x"}, {"total": -5}, "4 GB", "2024-13-45",
    {"value": "yesterday"}, {"value": 5}, True, False, "", {"readable": "4 GB"},
]  # fmt: skip
FIELDS = [
    "id", "name", "unique", "cloud", "downloaded", "downloading", "loaded", "custom", "cpu",
    "denied", "foundation", "provider", "type", "usage", "version", "description", "created",
    "bytes", "ram", "parameters", "quantization", "maxTokens",
]  # fmt: skip
OPS = ["drop", "wrong", "random", "null", "extra", "bad id", "not an object"]


def rand_json(r: random.Random, depth: int = 0) -> Any:
    """Any JSON value Python's json can produce (NaN and huge ints included)."""
    k = r.randrange(9 if depth < 3 else 6)
    if k == 0:
        return None
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return r.choice([0, -1, 7, 2**53 + 1, 2**64, -(2**70)])
    if k == 3:
        return r.choice([0.5, -2.25, 1e308, float("nan"), float("-inf"), -0.0])
    if k in (4, 5):
        return r.choice(TEXTS)
    if k == 6:
        return [rand_json(r, depth + 1) for _ in range(r.randrange(4))]
    return {r.choice(TEXTS + FIELDS): rand_json(r, depth + 1) for _ in range(r.randrange(4))}


def good_model(r: random.Random, model_id: str | None = None) -> dict[str, Any]:
    """A wire Model the spec allows: required fields, optional ones absent or valid."""
    m: dict[str, Any] = {
        "schema": SCHEMA,
        "id": model_id or r.choice(IDS + [f"id-{r.randrange(10**6)}"] * 4),
        "name": r.choice(TEXTS),
        "version": r.choice(["1", "", "2.0.1"]),
        "cloud": r.random() < 0.3,
        "type": r.choice(ENUMS),
        "usage": r.choice(ENUMS),
        "created": {"value": r.choice(["2024-05-01T12:00:00Z", "2023-01-01T00:00:00+00:00",
                                       "2025-06-30T23:59:59.123456", "1970-01-01T00:00:00Z"])},
    }  # fmt: skip
    n = r.randrange(2**63)
    optional: dict[str, Any] = {
        "unique": r.choice(TEXTS),
        "description": r.choice(TEXTS),
        "foundation": r.choice(ENUMS),
        "provider": r.choice(ENUMS),
        "quantization": r.choice(["q4_K_M", "", "fp16"]),
        "downloaded": r.random() < 0.5,
        "downloading": r.random() < 0.2,
        "loaded": r.random() < 0.2,
        "custom": r.random() < 0.2,
        "cpu": r.random() < 0.5,
        "denied": r.random() < 0.1,
        "bytes": {"value": r.choice([0, 1, n, INT64]), "readable": "x"},
        "ram": {"value": r.choice([0, n]), "readable": "x"},
        "parameters": r.choice([0, 1, 8.03, 0.5, 70.6, 1e6]),
        "maxTokens": r.choice([{"total": 8192}, {"total": None}, {"total": 0, "input": 1}]),
        "capabilities": {"images": r.random() < 0.5},
    }
    for key in r.sample(sorted(optional), r.randrange(len(optional) + 1)):
        m[key] = optional[key]
    return m


def damage(model: dict[str, Any], ops: list[tuple[str, str]], r: random.Random) -> tuple[Any, set]:
    """Apply damage ops to a copy of `model`; return (entry, fields touched)."""
    m = dict(model)  # damage only replaces top-level values: a shallow copy is enough
    touched: set[str] = set()
    for op, key in ops:
        if op == "drop":
            m.pop(key, None)
        elif op == "wrong":
            m[key] = r.choice(WRONG_VALUES)
        elif op == "random":
            m[key] = rand_json(r)
        elif op == "null":
            m[key] = None
        elif op == "extra":
            m[f"x-{r.choice(TEXTS)}"] = rand_json(r)
            continue
        elif op == "bad id":
            m["id"] = r.choice([None, "", 7, ["x"], {"id": "x"}, True, 1.5])
            key = "id"
        else:  # the whole entry is not an object
            return r.choice([None, 1, "m1", ["m1"], True, 2.5]), set(FIELDS)
        touched.add(key)
    return m, touched


seeds = st.integers(min_value=0, max_value=2**64)


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
        assert getattr(a, f) == getattr(b, f) or (getattr(a, f) != getattr(a, f)), f


def expected_models(entries: list[Any]) -> list[Model]:
    """What parsing each entry on its own gives (the snapshot must agree entry by entry)."""
    out = []
    for e in entries:
        m = parse_model(e)
        if m is not None:
            out.append(m)
    return out


# --------------------------------------------------------------------------- fuzz: one model

N_MODELS = 3500
N_SNAPSHOTS = 4000
N_CLIENT = 2600
FUZZ_COUNTS: dict[str, dict[str, int]] = {}


@pytest.fixture
def quiet_parser_log() -> Iterator[None]:
    """The parser logs a warning per odd snapshot (by design); thousands of them would only
    slow the fuzz down. Warnings are asserted on `parse_snapshot`'s return value instead."""
    logger = logging.getLogger("pieces_widgets")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def test_fuzz_generated_and_damaged_models():
    seen = Counter()

    @settings(FUZZ, max_examples=N_MODELS)
    @given(seed=seeds, op=st.sampled_from(OPS))
    def run(seed: int, op: str) -> None:
        r = random.Random(seed)
        model = good_model(r)
        ops = [(op, r.choice(FIELDS))] + [
            (r.choice(OPS), r.choice(FIELDS)) for _ in range(r.randrange(3))
        ]
        seen["examples"] += 1
        good = parse_model(model, warnings := [])
        assert good is not None and warnings == []  # a well-formed model: kept, no warning
        check_types(good)
        assert good.id == model["id"] and good.name == model["name"]
        assert good.raw is model  # the wire dict is kept, untouched
        entry, touched = damage(model, ops, r)
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


def make_snapshot(
    r: random.Random, n: int, damaged_mask: int, shape: str
) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    """(body, entries, well-formed entries): n models, those in `damaged_mask` damaged."""
    entries: list[Any] = []
    goods: list[dict[str, Any]] = []
    for i in range(n):
        model = good_model(r)
        if damaged_mask >> i & 1:
            ops = [(r.choice(OPS), r.choice(FIELDS)) for _ in range(r.randrange(1, 4))]
            entries.append(damage(model, ops, r)[0])
        else:
            entries.append(model)
            goods.append(model)
    if shape == "object":
        body: Any = {"iterable": entries, "schema": SCHEMA}
    elif shape == "list":
        body = entries
    elif shape == "extra keys":
        body = {"iterable": entries, "next": rand_json(r), "schema": "nope"}
    else:  # no usable iterable at all
        junk = rand_json(r)
        body = {"iterable": {"list": junk} if isinstance(junk, list) else junk}
        entries, goods = [], []
    return body, entries, goods


SHAPES = ["object", "object", "object", "list", "extra keys", "broken"]


def test_fuzz_generated_and_damaged_snapshots(quiet_parser_log):
    seen = Counter()

    @settings(FUZZ, max_examples=N_SNAPSHOTS)
    @given(seed=seeds, shape=st.sampled_from(SHAPES))
    def run(seed: int, shape: str) -> None:
        r = random.Random(seed)
        n = r.randrange(10)
        body, entries, goods = make_snapshot(r, n, r.randrange(2**n), shape)
        seen["snapshots"] += 1
        seen["entries"] += len(entries)
        seen["well_formed"] += len(goods)
        seen["damaged"] += len(entries) - len(goods)
        models, warnings = parse_snapshot(body)  # never raises
        # Server order kept; every entry with a usable id kept, the rest skipped with a warning.
        expected = expected_models(entries)
        assert [m.id for m in models] == [m.id for m in expected]
        for m, e in zip(models, expected, strict=True):
            same_values(m, e)
            check_types(m)
        kept_goods = [m for m in models if any(m.raw is g for g in goods)]
        assert len(kept_goods) == len(goods)  # every well-formed entry survives, intact
        assert len(warnings) >= len(entries) - len(models)
        # The same snapshot again, reusing the previous Models (what a polling client does).
        again, _ = parse_snapshot(body, {m.id: m for m in models})
        assert [m.id for m in again] == [m.id for m in models]
        # Any JSON at all as the body: still no exception.
        parse_snapshot(rand_json(r))

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


BODY_KINDS = ["snapshot"] * 4 + ["truncated", "json", "binary", "html", "bom"]


def test_fuzz_bodies_through_the_client(quiet_parser_log):
    """One client across all examples, as a poller: the snapshot-reuse path sees ids repeat."""
    seen = Counter()
    current: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": current["ctype"]} if current["ctype"] else {}
        return httpx.Response(200, content=current["body"], headers=headers)

    client = _mock_client(handler)

    @settings(FUZZ, max_examples=N_CLIENT)
    @given(seed=seeds, kind=st.sampled_from(BODY_KINDS))
    def run(seed: int, kind: str) -> None:
        r = random.Random(seed)
        n = r.randrange(8)
        body_obj, _, goods = make_snapshot(r, n, r.randrange(2**n), r.choice(SHAPES))
        text = json.dumps(body_obj).encode()
        ctype: str | None = "application/json"
        if kind == "truncated":
            text = text[: r.randrange(max(len(text), 1))]
        elif kind == "json":
            text = json.dumps(rand_json(r)).encode()
        elif kind == "binary":
            text = r.randbytes(r.randrange(40))
            ctype = r.choice([None, "application/json"])
        elif kind == "html":
            text, ctype = b"<html><body>Bad gateway</body></html>", "text/html; charset=utf-8"
        elif kind == "bom":
            text = b"\xef\xbb\xbf" + text  # a UTF-8 byte order mark in front
        current.update(body=text, ctype=ctype)
        seen["bodies"] += 1
        seen["well_formed_models"] += len(goods) if kind in ("snapshot", "bom") else 0
        try:
            models = client.list_models()
        except PiecesProtocolError as exc:
            seen["protocol_error"] += 1
            assert kind != "snapshot" or not isinstance(body_obj, dict | list), exc
            assert str(exc).startswith("GET /models")  # says which call, and what came
            return
        # Any other exception fails the test: nothing but PiecesProtocolError gets out.
        seen["parsed"] += 1
        data = json.loads(text)
        entries = data.get("iterable") if isinstance(data, dict) else data
        entries = entries if isinstance(entries, list) else []
        assert [m.id for m in models] == [m.id for m in expected_models(entries)]
        for m in models:
            check_types(m)

    try:
        run()
    finally:
        client.close()
    assert seen["bodies"] >= N_CLIENT
    assert seen["parsed"] > N_CLIENT // 3 and seen["protocol_error"] > N_CLIENT // 10
    FUZZ_COUNTS["client"] = dict(seen)


def test_fuzz_total_is_at_least_10000():
    """The three fuzz tests run N_MODELS + N_SNAPSHOTS + N_CLIENT >= 10,000 examples
    (each asserts its own count); with -s, the measured counts are printed."""
    assert N_MODELS + N_SNAPSHOTS + N_CLIENT >= 10_000
    if FUZZ_COUNTS:
        print("\nfuzz counts:", json.dumps(FUZZ_COUNTS, indent=1))


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
        'GET /models answered malformed JSON; got: {"iterable"',
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
    with PiecesClient(bad_server.url, timeout=3) as client, pytest.raises(error) as err:
        client.list_models()
    assert isinstance(err.value, PiecesError)
    assert fragment in str(err.value), str(err.value)


# Regression (bug found by this suite, now fixed): a body that fails to decode (e.g. Content-
# Encoding: gzip with garbage) raises the bare PiecesError base class instead of
# PiecesProtocolError
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
    with PiecesClient(bad_server.url, timeout=3) as client, pytest.raises(PiecesAPIError) as err:
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
# Regression (bug found by this suite, now fixed): quote() leaves '.' and '..' as they are and
# httpx then removes them as dot segments: get_model('..') requests GET /model/.. -> /,
# load('..') -> POST /load


def one_segment(raw_path: str, prefix: str, model_id: str, suffix: str = "") -> bool:
    """`raw_path` is prefix + ONE segment that decodes to `model_id` + suffix."""
    if not (raw_path.startswith(prefix) and raw_path.endswith(suffix)):
        return False
    segment = raw_path[len(prefix) : len(raw_path) - len(suffix)]
    return "/" not in segment and segment not in (".", "..") and unquote(segment) == model_id


def odd_model(emu: Emulator, model_id: str, **flags: Any) -> None:
    base = dict(MODEL, downloading=False, downloaded=True, custom=True, loaded=False)
    emu.add_model({**base, "id": model_id, "name": f"odd {model_id}", **flags})


def assert_one_segment(emu: Emulator, model_id: str, expected: list[tuple[str, str, str]]):
    for method, prefix, suffix in expected:
        assert any(
            m == method and one_segment(p, prefix, model_id, suffix) for m, p in emu.requests
        ), (model_id, method, prefix, suffix, emu.requests[-12:])
    assert all(p.isascii() for _, p in emu.requests)  # non-ASCII is percent-encoded


def client_round_trip(emu: Emulator, model_id: str) -> None:
    """Every id-carrying client call on `model_id`, then check the raw paths received."""
    odd_model(emu, model_id)
    with PiecesClient(emu.url) as client:
        emu.requests.clear()
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
    assert ("POST", "/model/update") in emu.requests  # the id travels in the body here
    assert_one_segment(
        emu,
        model_id,
        [
            ("GET", "/model/", ""),
            ("POST", "/model/", "/load"),
            ("POST", "/model/", "/unload"),
            ("POST", "/models/", "/delete/cache"),
            ("POST", "/model/", "/download"),
            ("WS", "/model/", "/download/progress"),
            ("POST", "/models/", "/delete"),
        ],
    )


def widget_round_trip(emu: Emulator, model_ids: list[str]) -> None:
    for model_id in model_ids:
        odd_model(emu, model_id, downloaded=False)
    mm = ModelManager(emu.url, poll_interval=None)
    try:
        for model_id in model_ids:
            emu.requests.clear()
            assert mm.download(model_id).wait(WAIT).status == "COMPLETED"
            mm.load(model_id).wait(WAIT)
            row = next(r for r in mm.models if r["id"] == model_id)
            assert row["state"] == "loaded" and mm.errors == {}
            mm.delete(model_id).wait(WAIT)
            assert all(r["id"] != model_id for r in mm.models)
            assert_one_segment(
                emu,
                model_id,
                [
                    ("POST", "/model/", "/download"),
                    ("WS", "/model/", "/download/progress"),
                    ("POST", "/model/", "/load"),
                    ("POST", "/models/", "/delete"),
                ],
            )
    finally:
        mm.close()


ODD = [v for v in ODD_IDS.values() if v not in (".", "..")]


def test_odd_ids_reach_the_server_as_one_segment_client(emulator_factory):
    emu = emulator_factory(download_seconds=0.1)
    for model_id in ODD:
        client_round_trip(emu, model_id)


def test_odd_ids_reach_the_server_as_one_segment_widget(emulator_factory):
    widget_round_trip(emulator_factory(download_seconds=0.1), ODD)


@pytest.mark.parametrize("model_id", [".", ".."])
def test_dot_ids_reach_the_server_as_one_segment_client(model_id, emulator_factory):
    client_round_trip(emulator_factory(download_seconds=0.1), model_id)


def test_dot_ids_reach_the_server_as_one_segment_widget(emulator_factory):
    widget_round_trip(emulator_factory(download_seconds=0.1), [".", ".."])
