"""Pure request builders for the endpoints around the model API (device, scores, runtime).

Same shape as `_wire` (each builder returns a `_Call` the clients send with ``_do``), kept apart
so `_wire` stays about the 12 model endpoints and under 400 lines. Nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from ._wire import _Call, _dumps, _on_model
from .device import DeviceInfo, parse_device_info
from .models import Model
from .runtime import Deployment, RuntimeStatus, parse_deployment, parse_runtime_status
from .usage import score_increment_body

IDENTIFIERS_PATH = "/models/stream/identifiers"
RUNTIME_STREAM_PATH = "/ollama/status/stream"


def is_loopback(base_url: str | None) -> bool:
    """True when `base_url` names this machine (then its memory cross-checks the server's)."""
    host = (urlsplit(base_url or "").hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def device_info(local_total: int | None) -> _Call:
    """``GET /os/device/information`` -> `DeviceInfo` (units decided, raw figures kept)."""

    def finish(data: Any, call: _Call) -> DeviceInfo:
        return parse_device_info(data, local_total=local_total)

    return _Call("GET", "/os/device/information", finish=finish)


def _status(data: Any, call: _Call) -> RuntimeStatus:
    return parse_runtime_status(data)


def _deployment(data: Any, call: _Call) -> Deployment:
    return parse_deployment(data)


RUNTIME_STATUS = _Call("GET", "/ollama/status", finish=_status)
INSTALL_RUNTIME = _Call("POST", "/ollama/install", finish=_deployment)
UPDATE_RUNTIME = _Call("POST", "/ollama/update", finish=_deployment)


def increment_score(model: Model | str, kind: str = "reuse") -> _Call:
    """``POST /model/{id}/scores/increment`` with ``{"model": {kind: true}}``: 204, no body."""
    body = _dumps(score_increment_body(kind))
    return _on_model("POST", model, "/scores/increment", body=body, expect="empty", finish=None)
