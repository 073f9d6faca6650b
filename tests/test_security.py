"""Security (issue 7): loopback-only emulator, http(s)-only client URLs, no redirects, no
request bodies in logs, a frontend that never evaluates server data, escaped static HTML.

Each check and what it shows is listed in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import html.parser
import logging
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pieces_widgets import AsyncPiecesClient, ModelManager, PiecesClient
from pieces_widgets.emulator import Emulator
from pieces_widgets.emulator.__main__ import main as emulator_main
from pieces_widgets.errors import PiecesAPIError, PiecesError

ROOT = pathlib.Path(__file__).resolve().parents[1]
WAIT = 20


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except OSError:
        return True


# --------------------------------------------------------------------------- emulator: loopback


def test_emulator_binds_loopback_by_default():
    with Emulator() as emu:
        assert emu.host == "127.0.0.1" and emu.url.startswith("http://127.0.0.1:")
        assert emu._sock is not None and emu._sock.getsockname()[0] == "127.0.0.1"
        assert httpx.get(f"{emu.url}/.well-known/health", trust_env=False).status_code == 200
        # Bound to 127.0.0.1 only (asserted above): tests never send traffic to this machine's
        # other addresses (private ranges are off limits here), so the bind is the proof.


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.10", "example.com", "localhost.example.com"]
)
def test_emulator_refuses_non_loopback_hosts(host):
    with pytest.raises(ValueError, match="allow_remote"):
        Emulator(host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "::1"])
def test_emulator_accepts_loopback_hosts(host):
    Emulator(host=host)  # constructing binds nothing yet


def test_emulator_binds_elsewhere_only_when_told():
    emu = Emulator(host="0.0.0.0", allow_remote=True)  # explicit opt-in: accepted
    assert emu.host == "0.0.0.0" and not emu.running


def test_emulator_cli_refuses_a_non_loopback_host(capsys):
    port = free_port()
    assert emulator_main(["--host", "0.0.0.0", "--port", str(port), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on non-loopback host" in err and "--allow-remote" in err
    with socket.socket() as s:  # nothing was bound
        s.bind(("0.0.0.0", port))


def test_emulator_cli_listens_on_loopback_by_default():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pieces_widgets.emulator", "--port", str(port), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert f"listening on http://127.0.0.1:{port}" in line, line
        assert not refused("127.0.0.1", port)
    finally:
        proc.terminate()
        proc.wait(10)


# --------------------------------------------------------------------------- client: URLs

BAD_URLS = [
    "ftp://127.0.0.1:39300",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "ws://127.0.0.1:39300",
    "gopher://127.0.0.1:70",
    "data:text/plain,hi",
    "127.0.0.1:39300",
    "//127.0.0.1:39300",
    "http://",
    "http://127.0.0.1:notaport",
    "http://127.0.0.1:39300/?next=http://evil",
    "",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_client_accepts_only_http_and_https_urls(url):
    with pytest.raises(ValueError, match="base_url"):
        PiecesClient(url)
    with pytest.raises(ValueError, match="base_url"):
        AsyncPiecesClient(url)


def test_pieces_os_url_is_validated_too(monkeypatch):
    monkeypatch.setenv("PIECES_OS_URL", "file:///etc/passwd")
    with pytest.raises(ValueError, match="PIECES_OS_URL"):
        PiecesClient()


def test_widget_refuses_a_non_http_url():
    with pytest.raises(ValueError, match="http:// or https://"):
        ModelManager("file:///etc/passwd", poll_interval=None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:39300", "https://127.0.0.1:39300/pieces/"])
def test_client_accepts_http_and_https(url):
    with PiecesClient(url) as client:
        assert client.base_url == url.rstrip("/")


# --------------------------------------------------------------------------- client: redirects


class Recorder:
    """A TCP listener that records each connection and closes it at once (the 'other host')."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    self.hits.append(conn.recv(4096))

    def close(self) -> None:
        self.sock.close()


class Redirector:
    """A tiny http.server on 127.0.0.1 answering every request with `status` + Location."""

    def __init__(self, status: int, location: str) -> None:
        seen: list[tuple[str, str, bytes]] = []
        self.requests = seen

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # what websockets insists on, too

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen.append((self.command, self.path, body))
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other_host() -> Iterator[Recorder]:
    """The redirect target: on 127.0.0.2 (another host, as far as URLs go) when possible."""
    try:
        target = Recorder("127.0.0.2")
    except OSError:  # pragma: no cover - a loopback without 127.0.0.2
        target = Recorder("127.0.0.1")
    yield target
    target.close()


@pytest.fixture
def redirector(other_host: Recorder) -> Iterator[Any]:
    made: list[Redirector] = []

    def make(status: int = 302, location: str | None = None) -> Redirector:
        target = location or f"http://{other_host.host}:{other_host.port}/models"
        made.append(Redirector(status, target))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_client_does_not_follow_redirects_to_another_host(status, redirector, other_host):
    server = redirector(status)
    with PiecesClient(server.url, timeout=2) as client:
        with pytest.raises(PiecesAPIError) as err:
            client.list_models()
        assert err.value.status == status and "not followed" in str(err.value)
        with pytest.raises(PiecesAPIError, match="redirect"):  # a POST with a body, too
            client.create_model("Secret model", description="keep me home")
    time.sleep(0.1)
    assert other_host.hits == [], "a request reached the redirect target"
    assert [(m, p) for m, p, _ in server.requests] == [
        ("GET", "/models"),
        ("POST", "/models/create"),
    ]


def test_client_does_not_follow_redirects_at_all(redirector, other_host):
    server = redirector(302, "/models?page=2")  # same host, same port
    with PiecesClient(server.url, timeout=2) as client, pytest.raises(PiecesAPIError):
        client.list_models()

    async def run() -> None:
        async with AsyncPiecesClient(server.url, timeout=2) as aclient:
            with pytest.raises(PiecesAPIError, match="not followed"):
                await aclient.get_model("m1")

    asyncio.run(run())
    assert [p for _, p, _ in server.requests] == ["/models", "/model/m1"]  # one each, no hop


# Regression (bug found by this suite, now fixed): the progress WebSocket follows redirects
# (websockets' connect() follows up to 10, cross-host included), so a 302 on the upgrade sends
# the client to another host
def test_progress_socket_does_not_follow_redirects(redirector, other_host):
    server = redirector(302, f"ws://{other_host.host}:{other_host.port}/model/m1/download/progress")
    with PiecesClient(server.url, timeout=2) as client, pytest.raises(PiecesError):
        next(iter(client.watch_download("m1")))
    time.sleep(0.1)
    assert other_host.hits == [], "the progress socket followed the redirect"


def test_widget_on_a_redirecting_server_stays_put(redirector, other_host):
    server = redirector(302)
    mm = ModelManager(server.url, poll_interval=None, timeout=2)
    try:
        assert mm.connection == "unreachable"
        assert "redirect" in mm.server["message"] and "not followed" in mm.server["message"]
        assert mm.models == []
    finally:
        mm.close()
    assert other_host.hits == []


# --------------------------------------------------------------------------- logs: no bodies

SECRET = "s3cr3t-Do-Not-Log-7f3a"
LOGGERS = ["", "httpx", "httpcore", "pieces_widgets", "websockets", "uvicorn", "asyncio"]


def test_no_request_body_in_any_log(caplog, capfd):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    emulator_log: list[str] = []
    with Emulator(download_seconds=0.1, log=emulator_log.append) as emu:
        with PiecesClient(emu.url) as client:
            made = client.create_model("Log test", description=SECRET, unique="log:1")
            client.update_model(made, description=SECRET + "-2", quantization=SECRET)
            emu.faults.http_error("create", status=500, times=1)
            with pytest.raises(PiecesAPIError):
                client.create_model("Log test 2", description=SECRET)

        async def run() -> None:
            async with AsyncPiecesClient(emu.url) as aclient:
                await aclient.create_model("Async log test", description=SECRET)

        asyncio.run(run())
        mm = ModelManager(emu.url, poll_interval=None)
        try:
            fields = {"name": "Widget log test", "description": SECRET, "unique": "log:2"}
            mm._command({"type": "action", "action": "create", "fields": fields}).wait(WAIT)
            mid = next(r["id"] for r in mm.models if r["name"] == "Widget log test")
            mm.update_model(mid, description=SECRET + "-3").wait(WAIT)
        finally:
            mm.close()
    names = {r.name.split(".")[0] for r in caplog.records}
    assert {"httpcore", "httpx", "pieces_widgets"} <= names  # DEBUG capture really was on
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    for record in caplog.records:
        assert SECRET not in record.getMessage(), (record.name, record.getMessage())
        assert SECRET not in repr(record.args)
    assert all(SECRET not in line for line in emulator_log) and emulator_log
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err


# --------------------------------------------------------------------------- frontend: no eval

STATIC_JS = ROOT / "pieces_widgets" / "static" / "widget.js"
JS_SOURCES = sorted((ROOT / "js" / "src").glob("*.js"))

FORBIDDEN = {
    "eval(": r"\beval\s*\(",
    "new Function": r"\bnew\s+Function\b",
    "Function(...)": r"(?<![\w.$])Function\s*\(",
    "innerHTML": r"\binnerHTML\b",
    "outerHTML": r"\bouterHTML\b",
    "insertAdjacentHTML": r"\binsertAdjacentHTML\b",
    "document.write": r"\bdocument\.write(ln)?\b",
    "createContextualFragment": r"\bcreateContextualFragment\b",
    "DOMParser": r"\bDOMParser\b",
    "srcdoc": r"\bsrcdoc\b",
    "setTimeout/setInterval with a string": r"\bset(Timeout|Interval)\s*\(\s*['\"`]",
    "javascript: URL": r"javascript:",
    "dynamic import()": r"(?<![\w.$])import\s*\(",
    "script element": r"createElement\(\s*['\"`]script",
    "on* handler attribute": r"setAttribute\(\s*['\"`]on",
}


def without_comments(code: str) -> str:
    """Drop /* ... */ and // comments (JSDoc says `import("./x.js")` in types)."""
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return re.sub(r"(?m)(^|[^:\\])//.*$", r"\1", code)


@pytest.mark.parametrize(
    "path", [STATIC_JS, *JS_SOURCES], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_frontend_never_evaluates_or_injects_markup(path):
    code = without_comments(path.read_text(encoding="utf-8"))
    found = {name: m.group(0) for name, rx in FORBIDDEN.items() if (m := re.search(rx, code))}
    assert found == {}, f"{path.name}: {found}"


def test_frontend_sets_only_literal_attribute_names():
    """Server data may become attribute *values* (inert: title, aria-label) but never attribute
    names, and never a URL-bearing or event attribute."""
    calls = 0
    for path in JS_SOURCES:
        code = path.read_text(encoding="utf-8")
        for m in re.finditer(r"\b(?:setAttr|setAttribute)\(\s*([^,()]+),\s*([^,()]+)", code):
            calls += 1
            target, name = m.group(1).strip(), m.group(2).strip()
            if path.name == "dom.js":  # the two helpers themselves: `name`/`k` are parameters
                continue
            if m.group(0).startswith("setAttribute"):
                name = target  # setAttribute(name, value)
            assert re.fullmatch(r"['\"][a-z-]+['\"]", name), f"{path.name}: {m.group(0)}"
            assert not re.match(r"['\"](on|href|src|style|action|formaction)", name)
    assert calls > 10  # the check looked at something
    dom = (ROOT / "js" / "src" / "dom.js").read_text(encoding="utf-8")
    assert "textContent" in dom and "createTextNode" in dom  # text goes in as text


# --------------------------------------------------------------------------- static HTML repr

HOSTILE = {
    "name": "<img src=x onerror=alert(1)>" + "N" * 300,
    "unique": '"><script>alert("u")</script>',
    "provider": "<svg onload=alert(2)>",
    "quantization": "q4</td></tr></table><b>broken</b>",
    "description": "<iframe src=javascript:alert(3)>",
    "version": "1' onmouseover='alert(4)",
}


class TagCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(markup: str) -> TagCollector:
    parser = TagCollector()
    parser.feed(markup)
    allowed = {"div", "p", "strong", "table", "thead", "tbody", "tr", "th", "td"}
    assert {t for t, _ in parser.tags} <= allowed, parser.tags
    for _, attrs in parser.tags:
        assert attrs in ([], [("class", "pieces-mm-static")]), attrs
    return parser


def test_html_repr_escapes_hostile_model_data(emulator):
    base = emulator.models()[0]
    emulator.add_model({**base, "id": "hostile", "cloud": False, **HOSTILE})
    mm = ModelManager(emulator.url, poll_interval=None)
    try:
        bundle, _ = mm._repr_mimebundle_()
    finally:
        mm.close()
    parser = assert_inert(bundle["text/html"])
    text = "".join(parser.text)
    for key in ("name", "unique", "provider", "quantization"):
        assert HOSTILE[key] in text  # readable: the full text, as characters
    assert "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]


def test_html_repr_escapes_a_hostile_server_message():
    """An unreachable server's error text lands in the status line: escaped too."""
    evil = b"<script>alert('status')</script>"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(evil)))
            self.end_headers()
            self.wfile.write(evil)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        mm = ModelManager(f"http://127.0.0.1:{server.server_address[1]}", poll_interval=None)
        try:
            assert mm.connection == "unreachable" and "<script>" in mm.server["message"]
            bundle, _ = mm._repr_mimebundle_()
        finally:
            mm.close()
    finally:
        server.shutdown()
        server.server_close()
    parser = assert_inert(bundle["text/html"])
    assert "<script>alert('status')</script>" in "".join(parser.text)


# Regression (bug found by this suite, now fixed): the text/plain repr passes terminal control
# sequences (ESC, BEL, C1) and bidi overrides from server data through to the terminal
def test_text_repr_neutralises_control_characters(emulator):
    base = emulator.models()[0]
    name = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202etxt.exe"
    emulator.add_model({**base, "id": "ctl", "cloud": False, "name": name})
    mm = ModelManager(emulator.url, poll_interval=None)
    try:
        text = mm._repr_mimebundle_()[0]["text/plain"]
    finally:
        mm.close()
    assert "evil" in text
    bad = [c for c in text if c != "\n" and (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F)]
    assert bad == [] and "\u202e" not in text


def test_text_repr_clips_long_names(emulator):
    base = emulator.models()[0]
    emulator.add_model({**base, "id": "long", "cloud": False, "name": "L" * 500})
    mm = ModelManager(emulator.url, poll_interval=None)
    try:
        text = mm._repr_mimebundle_()[0]["text/plain"]
        html_text = mm._repr_mimebundle_()[0]["text/html"]
    finally:
        mm.close()
    assert "L" * 35 + "…" in text and "L" * 36 not in text  # one column stays readable
    assert "L" * 500 in html_text  # the static HTML keeps the full name
