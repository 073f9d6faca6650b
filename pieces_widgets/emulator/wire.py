"""Wire-level helpers: JSON encoding, progress frames and body validation (spec §2, §4, §5).

Kept free of HTTP and asyncio so the state machine and the routes share one definition of
what a valid Model / SeededModel body is and what a frame looks like on the socket.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

SCHEMA: dict[str, Any] = {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}
SCHEMA_JSON = json.dumps(SCHEMA, separators=(",", ":"))

NOT_FOUND = "model was not found."


class ApiError(Exception):
    """An error answer: HTTP status plus the text/plain body the SDK exposes as `e.body`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as the real server (and the SDK parser) expect."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# --- progress frames ------------------------------------------------------------------------

_FRAME_PREFIX = '{"schema":' + SCHEMA_JSON + ',"status":"'


def frame(status: str, percentage: float | None = None) -> str:
    """One ModelDownloadProgress text frame; built by string concat because it is per-frame hot."""
    if percentage is None:
        return _FRAME_PREFIX + status + '"}'
    pct = str(int(percentage)) if percentage == int(percentage) else repr(percentage)
    return _FRAME_PREFIX + status + '","percentage":' + pct + "}"


UNKNOWN_FRAME = frame("UNKNOWN")


# --- body validation ------------------------------------------------------------------------

_STR_FIELDS = ("unique", "description", "foundation", "provider", "quantization")
_BOOL_FIELDS = ("downloaded", "downloading", "loaded", "cpu", "custom", "denied")
_REQUIRED_STR = ("name", "version", "type", "usage")
# Model fields the emulator stores; anything else in a body is ignored, like the SDK parser does.
MODEL_FIELDS = frozenset(
    {
        "id",
        "name",
        "cloud",
        "created",
        "type",
        "usage",
        "version",
        *_STR_FIELDS,
        *_BOOL_FIELDS,
        "bytes",
        "ram",
        "parameters",
        "maxTokens",
        "capabilities",
        "organization",
        "score",
        "schema",
    }
)
SEEDED_EXCLUDED = frozenset({"id", "downloading", "loaded", "score"})


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_timestamp(v: Any, where: str) -> None:
    if not isinstance(v, dict) or not isinstance(v.get("value"), str):
        raise ValueError(f"'{where}' must be an object with a string 'value'")
    text = v["value"]
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{where}.value' is not an ISO-8601 timestamp: {text!r}") from None
    if "readable" in v and v["readable"] is not None and not isinstance(v["readable"], str):
        raise ValueError(f"'{where}.readable' must be a string")


def _check_bytes(v: Any, where: str) -> None:
    if not isinstance(v, dict):
        raise ValueError(f"'{where}' must be an object")
    if not _is_int(v.get("value")) or v["value"] < 0:
        raise ValueError(f"'{where}.value' must be a non-negative integer")
    if not isinstance(v.get("readable"), str):
        raise ValueError(f"'{where}.readable' must be a string")


def clean_model(body: Any, *, seeded: bool) -> dict[str, Any]:
    """Validate a Model (update) or SeededModel (create) body; return only the stored fields.

    Raises ValueError with a message naming the offending field. Nulls on optional fields are
    dropped (the SDK re-sends `"parameters": null` for models built with `from_dict`).
    """
    kind = "SeededModel" if seeded else "Model"
    if not isinstance(body, dict):
        raise ValueError(f"{kind} body must be a JSON object")
    required = list(_REQUIRED_STR) + ([] if seeded else ["id"])
    for key in [*required, "cloud", "created"]:
        if body.get(key) is None:
            raise ValueError(f"missing required field '{key}'")
    for key in required:
        if not isinstance(body[key], str):
            raise ValueError(f"'{key}' must be a string")
    if not seeded and not body["id"]:
        raise ValueError("'id' must not be empty")
    if not body["name"].strip():
        raise ValueError("'name' must not be empty")
    if not isinstance(body["cloud"], bool):
        raise ValueError("'cloud' must be a boolean (true/false)")
    _check_timestamp(body["created"], "created")
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key not in MODEL_FIELDS or value is None or (seeded and key in SEEDED_EXCLUDED):
            continue
        if key in _STR_FIELDS and not isinstance(value, str):
            raise ValueError(f"'{key}' must be a string")
        if key in _BOOL_FIELDS and not isinstance(value, bool):
            raise ValueError(f"'{key}' must be a boolean (true/false)")
        if key in ("bytes", "ram"):
            _check_bytes(value, key)
        if key == "parameters" and not _is_number(value):
            raise ValueError("'parameters' must be a number or null")
        if key == "maxTokens":
            if not isinstance(value, dict):
                raise ValueError("'maxTokens' must be an object")
            for sub in ("total", "input", "output"):
                if value.get(sub) is not None and not _is_number(value[sub]):
                    raise ValueError(f"'maxTokens.{sub}' must be a number")
        if key == "capabilities":
            if not isinstance(value, dict):
                raise ValueError("'capabilities' must be an object")
            for sub, flag in value.items():
                if sub != "schema" and flag is not None and not isinstance(flag, bool):
                    raise ValueError(f"'capabilities.{sub}' must be a boolean")
        if key in ("schema", "organization", "score") and not isinstance(value, dict):
            raise ValueError(f"'{key}' must be an object")
        out[key] = value
    return out


def check_optional_object(body: bytes, kind: str) -> None:
    """An optional JSON object body (delete-cache input, an `OllamaDeployment`): read and
    checked, never needed; anything else is a 500 like the real server's."""
    if not body.strip():
        return
    try:
        parsed = json.loads(body)
    except ValueError as e:
        raise ApiError(500, f"request body is not valid JSON: {e}") from None
    if parsed is not None and not isinstance(parsed, dict):
        raise ApiError(500, f"{kind} body must be a JSON object")
