"""Find Pieces OS: explicit URL, else ``PIECES_OS_URL``, else a port scan, then legacy ports.

Why a scan: Pieces OS 11+ listens on the first free port in 39300-39333 and tells nobody (the
port file is platform-specific and not read by the official Python SDK or CLI). The SDK scans
with 20 threads and takes whichever port answers first; we probe all ports concurrently on one
event loop and take the *lowest* answering port, so the answer is deterministic. On loopback a
closed port refuses the connection at once, so a scan that finds nothing takes milliseconds;
timeouts only matter for a port where something accepts and then stays silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from ._loop import run_blocking
from .errors import PiecesUnavailable

__all__ = [
    "DEFAULT_PORTS",
    "ENV_VAR",
    "LEGACY_URLS",
    "adiscover",
    "candidate_urls",
    "discover",
    "normalize_url",
    "probe",
]

ENV_VAR = "PIECES_OS_URL"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = range(39300, 39334)
#: Pieces OS <= 10 (macOS/Windows, Linux); still the SDK's default `Configuration()` hosts.
LEGACY_URLS = ("http://localhost:1000", "http://localhost:5323")
HEALTH_PATH = "/.well-known/health"


def normalize_url(url: str, source: str = "base_url") -> str:
    """Validate a Pieces OS base URL and return it without a trailing slash.

    Accepts ``http``/``https`` with a host (optionally a port and a path prefix); raises
    ValueError naming `source` (e.g. ``PIECES_OS_URL``) otherwise.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{source} must be a URL like http://127.0.0.1:39300, got {url!r}")
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(
            f"{source} must start with http:// or https:// "
            f"(e.g. http://127.0.0.1:39300), got {text!r}"
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1:
        raise ValueError(f"{source} needs a host and a valid port, got {text!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"{source} must not have a query or fragment, got {text!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def candidate_urls(
    ports: Iterable[int] = DEFAULT_PORTS,
    legacy: Iterable[str] = LEGACY_URLS,
    host: str = DEFAULT_HOST,
) -> list[str]:
    """The URLs a scan tries, in priority order."""
    return [f"http://{host}:{p}" for p in ports] + [normalize_url(u, "legacy URL") for u in legacy]


async def probe(url: str, timeout: float = 1.0, connect_timeout: float = 0.25) -> bool:
    """True when ``HEAD {url}/.well-known/health`` answers 200.

    A raw one-line HTTP/1.1 exchange on asyncio streams: no client setup cost and nothing to
    clean up, which matters when 36 of these run at once.
    """
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    host = parts.hostname or ""
    context = ssl.create_default_context() if https else None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context), connect_timeout
        )
    except (OSError, asyncio.TimeoutError, ValueError):
        return False
    try:
        request = (
            f"HEAD {parts.path}{HEALTH_PATH} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "User-Agent: pieces-widgets\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii", "replace"))
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (OSError, asyncio.TimeoutError, ValueError):
        return False
    finally:
        writer.transport.abort()
    fields = line.split()
    return len(fields) >= 2 and fields[0].startswith(b"HTTP/") and fields[1] == b"200"


def _explicit(base_url: str | None, env: Mapping[str, str] | None) -> str | None:
    if base_url is not None:
        return normalize_url(base_url)
    value = (os.environ if env is None else env).get(ENV_VAR, "")
    if value.strip():
        return normalize_url(value, ENV_VAR)
    return None


async def adiscover(
    base_url: str | None = None,
    *,
    timeout: float = 1.0,
    connect_timeout: float = 0.25,
    ports: Iterable[int] = DEFAULT_PORTS,
    legacy: Iterable[str] = LEGACY_URLS,
    host: str = DEFAULT_HOST,
    env: Mapping[str, str] | None = None,
) -> str:
    """Find a Pieces OS that answers, or raise `PiecesUnavailable` listing every URL tried.

    An explicit `base_url`, else ``PIECES_OS_URL``, is the only candidate when given (the user
    said where the server is; we do not silently pick another one). Otherwise all candidates
    are probed at once and the first in priority order that answers wins (ports ascending,
    then legacy); we stop as soon as every higher-priority probe has ended.
    (The clients do not probe an explicit URL: they take it as is and report on first use.)
    """
    explicit = _explicit(base_url, env)
    candidates = [explicit] if explicit is not None else candidate_urls(ports, legacy, host)
    tasks = [asyncio.ensure_future(probe(u, timeout, connect_timeout)) for u in candidates]
    try:
        for url, task in zip(candidates, tasks, strict=True):
            if await task:
                return url
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
    raise PiecesUnavailable(candidates)


def discover(
    base_url: str | None = None,
    *,
    timeout: float = 1.0,
    connect_timeout: float = 0.25,
    ports: Iterable[int] = DEFAULT_PORTS,
    legacy: Iterable[str] = LEGACY_URLS,
    host: str = DEFAULT_HOST,
    env: Mapping[str, str] | None = None,
) -> str:
    """Sync `adiscover`; safe to call where an event loop is already running (Jupyter).

    It runs on the shared background loop (see `_loop`), not on a new thread and loop per call.
    """
    return run_blocking(
        adiscover(
            base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            ports=list(ports),
            legacy=list(legacy),
            host=host,
            env=dict(os.environ if env is None else env),
        )
    )
