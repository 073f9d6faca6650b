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
