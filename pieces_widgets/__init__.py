"""pieces-widgets: manage the AI models of Pieces OS from a notebook.

Names are imported lazily so `import pieces_widgets` stays fast and never pulls in pandas, Starlette
or the widget's JavaScript until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ModelManager": "widget",
    "ActionHandle": "handles",
    "PiecesClient": "client",
    "AsyncPiecesClient": "client",
    "ServerInfo": "client",
    "Model": "models",
    "DownloadProgress": "progress",
    "models_dataframe": "frame",
    "discover": "discovery",
    "PiecesError": "errors",
    "PiecesUnavailable": "errors",
    "ModelNotFound": "errors",
    "PiecesAPIError": "errors",
    "PiecesTimeout": "errors",
    "PiecesProtocolError": "errors",
}

__all__ = [  # noqa: RUF022 - grouped as in _EXPORTS
    "__version__",
    "ModelManager",
    "ActionHandle",
    "PiecesClient",
    "AsyncPiecesClient",
    "ServerInfo",
    "Model",
    "DownloadProgress",
    "models_dataframe",
    "discover",
    "PiecesError",
    "PiecesUnavailable",
    "ModelNotFound",
    "PiecesAPIError",
    "PiecesTimeout",
    "PiecesProtocolError",
]

if TYPE_CHECKING:  # pragma: no cover
    from .client import AsyncPiecesClient, PiecesClient, ServerInfo
    from .discovery import discover
    from .errors import (
        ModelNotFound,
        PiecesAPIError,
        PiecesError,
        PiecesProtocolError,
        PiecesTimeout,
        PiecesUnavailable,
    )
    from .frame import models_dataframe
    from .handles import ActionHandle
    from .models import Model
    from .progress import DownloadProgress
    from .widget import ModelManager


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pieces_widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
