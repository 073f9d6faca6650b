"""httpx, imported on first use, and the settings every client of ours gives it.

Why lazily: importing httpx (with the click and rich it loads for its command line when they are
installed) was most of what `from pieces_widgets import ModelManager` cost over
`import anywidget`; the first client made pays it instead, once.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    import ssl

USER_AGENT = f"pieces-widgets/{__version__}"

# Drop idle connections before a server's usual 5 s keep-alive does: reusing one the server is
# closing at that very moment loses the request ("Server disconnected without sending a response").
_KEEPALIVE_EXPIRY = 2.0


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """httpx's default verified TLS context, built once per process.

    Why: loading the CA bundle costs tens of milliseconds of CPU, and httpx does it for every
    client (the widget makes one per connection, while downloads stream). Sharing one context
    keeps https verified exactly as before.
    """
    import httpx

    return httpx.create_ssl_context()


def http_client(sync: bool, timeout: float, headers: dict[str, str] | None) -> Any:
    """An ``httpx.Client`` (sync) or ``httpx.AsyncClient`` with our settings."""
    import httpx

    return (httpx.Client if sync else httpx.AsyncClient)(**http_options(timeout, headers))


def http_error() -> type[Exception]:
    """httpx's base exception, for the clients' ``except`` (httpx is imported on first use)."""
    import httpx

    return httpx.HTTPError


def http_options(timeout: float, headers: dict[str, str] | None) -> dict[str, Any]:
    """Settings for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""
    import httpx

    return {
        "verify": _tls_context(),
        "timeout": httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        "follow_redirects": False,
        "trust_env": False,  # a local server: never route it through an HTTP(S)_PROXY
        "headers": {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        "limits": httpx.Limits(keepalive_expiry=_KEEPALIVE_EXPIRY),
    }
