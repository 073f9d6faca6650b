"""Discovery: URL validation (pure) and scans against real emulators on chosen ports."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from urllib.parse import urlsplit

import pytest

from pieces_widgets.discovery import (
    DEFAULT_PORTS,
    ENV_VAR,
    LEGACY_URLS,
    adiscover,
    candidate_urls,
    discover,
    normalize_url,
    probe,
)
from pieces_widgets.errors import PiecesError, PiecesUnavailable


def dead_ports(n: int) -> list[int]:
    """Ports that were free a moment ago (bound, then closed)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def port_of(url: str) -> int:
    return urlsplit(url).port or 0


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


# ----------------------------------------------------------------- URL validation (pure)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:39300", "http://127.0.0.1:39300"),
        ("http://127.0.0.1:39300/", "http://127.0.0.1:39300"),
        ("  HTTP://localhost:1000//  ", "http://localhost:1000"),
        ("https://pieces.example.com/api/", "https://pieces.example.com/api"),
        ("http://[::1]:39301", "http://[::1]:39301"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "127.0.0.1:39300",
        "ftp://127.0.0.1:39300",
        "ws://127.0.0.1:39300",
        "http://",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:39300?x=1",
        "http://127.0.0.1:39300#frag",
        None,
        39300,
    ],
)
def test_normalize_url_rejects(url):
    with pytest.raises(ValueError, match="base_url"):
        normalize_url(url)  # type: ignore[arg-type]


def test_candidates_in_priority_order():
    urls = candidate_urls()
    assert len(urls) == len(DEFAULT_PORTS) + 2
    assert urls[0] == "http://127.0.0.1:39300" and urls[33] == "http://127.0.0.1:39333"
    assert urls[34:] == list(LEGACY_URLS)


def test_explicit_url_is_the_only_candidate(emulator):
    assert discover(emulator.url + "/") == emulator.url
    url = f"http://127.0.0.1:{dead_ports(1)[0]}"
    with pytest.raises(PiecesUnavailable) as info:
        discover(url + "/")
    assert info.value.tried == [url]


def test_env_var_wins_over_scan(emulator, emulator_factory, monkeypatch):
    monkeypatch.setenv(ENV_VAR, emulator.url + "/")
    assert discover() == emulator.url
    other = emulator_factory()
    assert discover(other.url) == other.url  # explicit beats env
    dead = f"http://127.0.0.1:{dead_ports(1)[0]}"
    monkeypatch.setenv(ENV_VAR, dead)
    with pytest.raises(PiecesUnavailable, match=dead):  # named, not silently replaced by a scan
        discover()


def test_bad_env_var_names_it(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "localhost:39300")
    with pytest.raises(ValueError, match=ENV_VAR):
        discover()


# ----------------------------------------------------------------- scans over real sockets


def test_lowest_answering_port_wins_not_the_first(emulator_factory):
    low, high = sorted(dead_ports(2))
    emu_low = emulator_factory(port=low)
    emulator_factory(port=high)
    emu_low.faults.latency(0.3, route="health")  # the higher port answers first
    dead = dead_ports(3)
    url = discover(ports=sorted([*dead, low, high]), legacy=())
    assert url == f"http://127.0.0.1:{low}"


def test_non_200_and_silent_listeners_are_skipped(emulator_factory):
    sick = emulator_factory()
    sick.faults.http_error("health", status=503)
    good = emulator_factory()
    silent = socket.socket()  # accepts connections (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        ports = [sick.port, silent.getsockname()[1], good.port]
        start = time.perf_counter()
        url = discover(ports=ports, legacy=(), timeout=0.3)
        assert url == good.url
        assert time.perf_counter() - start < 2.0
    finally:
        silent.close()


def test_legacy_urls_are_the_fallback(emulator):
    url = discover(ports=dead_ports(3), legacy=("http://localhost:9", emulator.url))
    assert url == emulator.url


def test_unavailable_is_fast_and_lists_every_url():
    ports = dead_ports(34)
    start = time.perf_counter()
    with pytest.raises(PiecesUnavailable) as info:
        discover(ports=ports, legacy=(f"http://localhost:{dead_ports(1)[0]}",))
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed
    err = info.value
    assert isinstance(err, PiecesError) and isinstance(err, ConnectionError)
    assert len(err.tried) == 35
    for url in err.tried:
        assert url in str(err)
    assert ENV_VAR in str(err) and "Start Pieces OS" in str(err)


def test_default_range_scan_finds_an_emulator_in_range(emulator_factory):
    free = []
    for port in DEFAULT_PORTS:
        with contextlib.suppress(OSError), socket.socket() as s:
            s.bind(("127.0.0.1", port))
            free.append(port)
    emu = None
    for port in reversed(free):  # another process may grab a port meanwhile: try the next
        with contextlib.suppress(OSError, RuntimeError):
            emu = emulator_factory(port=port)
            break
    if emu is None:
        pytest.skip("no free port in 39300-39333")
    start = time.perf_counter()
    url = discover()
    assert time.perf_counter() - start < 1.5
    # another server (a real Pieces OS, a parallel test) may answer on a lower port: fine
    assert port_of(url) <= emu.port and port_of(url) in DEFAULT_PORTS


def test_sync_discover_works_inside_a_running_loop(emulator):
    async def main() -> str:
        return discover(ports=[emulator.port], legacy=())

    assert asyncio.run(main()) == emulator.url


def test_async_discover_and_probe(emulator):
    async def main() -> tuple[str, bool, bool]:
        url = await adiscover(ports=[*dead_ports(2), emulator.port], legacy=())
        return url, await probe(emulator.url), await probe(f"http://127.0.0.1:{dead_ports(1)[0]}")

    assert asyncio.run(main()) == (emulator.url, True, False)


# ----------------------------------------------------------------- exact messages and requests


def test_rejections_say_what_is_wrong():
    with pytest.raises(ValueError) as info:
        normalize_url("", "SRC")
    assert str(info.value) == "SRC must be a URL like http://127.0.0.1:39300, got ''"
    with pytest.raises(ValueError) as info:
        normalize_url(" ftp://h:1 ")
    assert str(info.value) == (
        "base_url must start with http:// or https:// (e.g. http://127.0.0.1:39300), "
        "got 'ftp://h:1'"
    )
    with pytest.raises(ValueError) as info:
        normalize_url("http://h:70000")
    assert str(info.value) == "base_url needs a host and a valid port, got 'http://h:70000'"
    with pytest.raises(ValueError) as info:
        normalize_url("https://:5")
    assert str(info.value) == "base_url needs a host and a valid port, got 'https://:5'"
    with pytest.raises(ValueError) as info:
        normalize_url("http://h:1/p?q=1")
    assert str(info.value) == "base_url must not have a query or fragment, got 'http://h:1/p?q=1'"


def test_normalize_keeps_port_path_and_lowers_only_the_scheme():
    assert normalize_url("HTTPS://Pieces.Example:8443/A/b//") == "https://Pieces.Example:8443/A/b"
    assert normalize_url("http://h") == "http://h"
    assert normalize_url("http://h:0") == "http://h:0"


def test_candidates_take_host_ports_and_checked_legacy_urls():
    assert candidate_urls([5, 7], ["HTTP://h:1/"], host="10.0.0.1") == [
        "http://10.0.0.1:5",
        "http://10.0.0.1:7",
        "http://h:1",
    ]
    assert candidate_urls([])[-2:] == ["http://localhost:1000", "http://localhost:5323"]
    with pytest.raises(ValueError, match=r"^legacy URL must start with http"):
        candidate_urls([], ["h:1"])


class RawServer:
    """A loopback HTTP/1.1 stand-in that records each request and answers with `reply`."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.closed_by_client = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append(await reader.readuntil(b"\r\n\r\n"))
        if not self.reply:  # hang up at once
            writer.close()
            self.closed_by_client.set()
            return
        writer.write(self.reply)
        await writer.drain()
        with contextlib.suppress(OSError):
            await reader.read()  # until the prober hangs up
        self.closed_by_client.set()
        writer.close()

    async def probe(self, path: str = "", **kw: float) -> bool:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.netloc = f"127.0.0.1:{port}"
        async with server:
            return await probe(f"http://{self.netloc}{path}", **kw)


def run_probe(reply: bytes, path: str = "", **kw: float) -> tuple[bool, RawServer]:
    srv = RawServer(reply)

    async def main() -> bool:
        ok = await srv.probe(path, **kw)
        await asyncio.wait_for(srv.closed_by_client.wait(), 2.0)  # the probe hung up
        return ok

    return asyncio.run(main()), srv


def test_probe_sends_one_head_request_for_the_health_path():
    ok, srv = run_probe(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "/api/v1")
    assert ok
    assert srv.requests == [
        b"HEAD /api/v1/.well-known/health HTTP/1.1\r\nHost: " + srv.netloc.encode() + b"\r\n"
        b"User-Agent: pieces-widgets\r\nConnection: close\r\n\r\n"
    ]
    ok, srv = run_probe(b"HTTP/1.0 200\r\n\r\n")
    assert ok and srv.requests[0].startswith(b"HEAD /.well-known/health HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"XHTTP/1.1 200 OK\r\n\r\n",
        b"200 OK HTTP/1.1\r\n\r\n",
        b"HTTP/1.1\r\n\r\n",
        b"\r\n",
    ],
)
def test_probe_wants_an_http_200_status_line(reply):
    ok, srv = run_probe(reply)
    assert ok is False and len(srv.requests) == 1


def test_probe_of_a_server_that_closes_at_once_is_false():
    ok, _ = run_probe(b"")
    assert ok is False


def test_probe_waits_for_the_status_line_up_to_the_timeout():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        start = time.perf_counter()
        assert asyncio.run(probe(url, timeout=0.6)) is False
        assert time.perf_counter() - start >= 0.55
        start = time.perf_counter()
        assert asyncio.run(probe(url, timeout=0.05)) is False
        assert time.perf_counter() - start < 0.55
    finally:
        silent.close()


def test_sync_discover_passes_its_timeout_on():
    """A silent listener holds a scan exactly `timeout` (not the 1 s default) before failing."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        start = time.perf_counter()
        with pytest.raises(PiecesUnavailable) as info:
            discover(ports=[port], legacy=(), timeout=1.4)
        assert time.perf_counter() - start >= 1.35
        assert info.value.tried == [f"http://127.0.0.1:{port}"]
        start = time.perf_counter()
        with pytest.raises(PiecesUnavailable):
            discover(ports=[port], legacy=(), timeout=0.05)
        assert time.perf_counter() - start < 0.9
    finally:
        silent.close()


def test_https_probe_speaks_tls():
    """An https URL is probed with TLS: a plain-HTTP server at that port does not count."""
    reply = b"HTTP/1.1 200 OK\r\n\r\n"
    srv = RawServer(reply)

    async def main() -> tuple[bool, bool]:
        server = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            tls = await probe(f"https://127.0.0.1:{port}", timeout=0.5)
            plain = await probe(f"http://127.0.0.1:{port}", timeout=0.5)
        return tls, plain

    assert asyncio.run(main()) == (False, True)


def test_env_mapping_and_blank_env_value(emulator):
    assert discover(env={ENV_VAR: emulator.url + "/"}, ports=[], legacy=()) == emulator.url
    # a blank value means "not set": the scan runs (here over nothing) instead of a ValueError
    with pytest.raises(PiecesUnavailable) as info:
        discover(env={ENV_VAR: "  "}, ports=[], legacy=())
    assert info.value.tried == []

    async def main() -> str:
        return await adiscover(env={ENV_VAR: emulator.url}, ports=[], legacy=())

    assert asyncio.run(main()) == emulator.url


def test_os_environ_is_read_when_no_mapping_is_given(emulator, monkeypatch):
    monkeypatch.setenv(ENV_VAR, emulator.url)

    async def main() -> str:
        return await adiscover(ports=[], legacy=())

    assert asyncio.run(main()) == emulator.url


def test_scan_passes_host_and_stops_at_the_first_answer(emulator):
    dead = dead_ports(1)[0]
    assert discover(ports=[dead, emulator.port], legacy=(), host="127.0.0.1") == emulator.url
    with pytest.raises(PiecesUnavailable) as info:
        discover(ports=[emulator.port], legacy=(), host="127.0.0.2")
    assert info.value.tried == [f"http://127.0.0.2:{emulator.port}"]


def test_probe_replaces_non_ascii_in_the_request():
    ok, srv = run_probe(b"HTTP/1.1 200 OK\r\n\r\n", "/caf\u00e9")
    assert ok and srv.requests[0].startswith(b"HEAD /caf?/.well-known/health HTTP/1.1\r\n")


def test_trailing_slashes_only_are_stripped():
    assert normalize_url("http://h:1/apiX/") == "http://h:1/apiX"
    assert normalize_url("http://h:1/a/b") == "http://h:1/a/b"


def test_probe_without_a_port_uses_80():
    srv = RawServer(b"HTTP/1.1 200 OK\r\n\r\n")

    async def main() -> bool:
        try:
            server = await asyncio.start_server(srv.handle, "127.0.0.1", 80)
        except OSError:
            pytest.skip("port 80 is taken on this machine")
        async with server:
            return await probe("http://127.0.0.1", timeout=1.0)

    assert asyncio.run(main()) is True
    assert srv.requests[0].startswith(b"HEAD /.well-known/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")


def test_a_found_server_ends_the_scan_without_waiting_for_slower_probes(emulator):
    """Later candidates still probing are cancelled and cleaned up, not awaited or raised."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        start = time.perf_counter()
        url = discover(ports=[emulator.port, silent.getsockname()[1]], legacy=(), timeout=5.0)
        assert url == emulator.url
        assert time.perf_counter() - start < 4.0
    finally:
        silent.close()


def test_connect_timeout_reaches_the_probe_through_discover():
    """A TLS handshake nobody answers lasts exactly `connect_timeout` (1.5 s here, 0.25 s by
    default): the value given to `discover` is the one the probe waits."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"https://127.0.0.1:{silent.getsockname()[1]}"
    try:
        start = time.perf_counter()
        with pytest.raises(PiecesUnavailable):
            discover(url, connect_timeout=1.5, timeout=0.1)
        elapsed = time.perf_counter() - start
        assert 1.45 <= elapsed < 10.0, elapsed
    finally:
        silent.close()
