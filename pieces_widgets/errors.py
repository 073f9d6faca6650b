"""Errors raised by the Pieces client.

One base class (`PiecesError`) so callers can catch everything from this package in one place;
subclasses also derive from the matching builtin (`ConnectionError`, `TimeoutError`) so generic
handlers keep working. Messages are short and say what to do next.
"""

from __future__ import annotations

__all__ = [
    "ModelNotFound",
    "PiecesAPIError",
    "PiecesError",
    "PiecesProtocolError",
    "PiecesTimeout",
    "PiecesUnavailable",
]

_HINT = (
    "Start Pieces OS (or `pieces-emulator` for a demo), "
    "or set PIECES_OS_URL to its address, e.g. http://127.0.0.1:39300."
)


def _excerpt(text: str, limit: int = 200) -> str:
    """First `limit` characters of `text` on one line, marked when cut."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PiecesError(Exception):
    """Base class of every error raised by pieces_widgets."""


class PiecesUnavailable(PiecesError, ConnectionError):
    """No Pieces OS answered at any of the URLs tried.

    `tried` lists every URL, in the order they were tried, so a UI can show them.
    """

    def __init__(self, tried: list[str] | tuple[str, ...] = (), detail: str | None = None) -> None:
        self.tried: list[str] = list(tried)
        self.detail = detail
        if not self.tried:
            head = "Pieces OS is not reachable."
        elif len(self.tried) == 1:
            head = f"Pieces OS is not reachable at {self.tried[0]}."
        else:
            head = f"Pieces OS is not reachable. Tried {', '.join(self.tried)}."
        if detail:
            head = f"{head} ({detail})"
        super().__init__(f"{head}\n{_HINT}")

    def __reduce__(self):  # keep pickling (e.g. across processes) working with our __init__
        return (type(self), (self.tried, self.detail))


class PiecesAPIError(PiecesError):
    """The server answered with an error status; `text` is its (plain-text) body."""

    def __init__(self, status: int, text: str = "", method: str = "", path: str = "") -> None:
        self.status = status
        self.text = text
        self.method = method
        self.path = path
        where = f" on {method} {path}".rstrip() if (method or path) else ""
        body = _excerpt(text) if text else "no message"
        super().__init__(f"Pieces OS returned HTTP {status}{where}: {body}")

    def __reduce__(self):
        return (type(self), (self.status, self.text, self.method, self.path))


class ModelNotFound(PiecesAPIError, LookupError):
    """No model with this id (HTTP 410 from Pieces OS)."""

    def __init__(
        self,
        model_id: str,
        text: str = "model was not found.",
        method: str = "",
        path: str = "",
        status: int = 410,
    ) -> None:
        self.model_id = model_id
        super().__init__(status, text, method, path)
        # A friendlier message than the generic API error, but keep the server's words.
        self.args = (f"No model with id {model_id!r} on Pieces OS ({_excerpt(text, 80)}).",)

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return (type(self), (self.model_id, self.text, self.method, self.path, self.status))


class PiecesTimeout(PiecesError, TimeoutError):
    """Pieces OS did not answer in time (distinct from "not running")."""


class PiecesProtocolError(PiecesError):
    """Pieces OS answered with something that is not what the API promises."""

    @classmethod
    def unexpected(cls, what: str, got: str | bytes) -> PiecesProtocolError:
        """Build "expected X, got: <first 200 chars>" so the user sees what came instead."""
        if isinstance(got, (bytes, bytearray)):
            got = bytes(got[:400]).decode("utf-8", "replace")
        shown = _excerpt(got) if got else "an empty body"
        return cls(f"{what}; got: {shown!s}")
