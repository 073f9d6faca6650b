"""The one table of widget actions, and what is derived from it.

An action used to be named in four places (button labels, command routing, the actions that take
no model id, the frontend's list); adding one meant finding them all. `ACTIONS` is now the only
Python list: labels, routing, the id-less set and `friendly()` error text all read it, and
tests/test_actions_registry.py compares its wire names with `WIRE_ACTIONS` in js/src/actions.js.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import ModelNotFound, PiecesAPIError, PiecesError, PiecesTimeout, PiecesUnavailable

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "BY_NAME",
    "BY_WIRE",
    "ID_LESS",
    "WIRE_ACTIONS",
    "Action",
    "ActionError",
    "ManagerClosed",
    "form_fields",
    "friendly",
    "route",
]


class ActionError(PiecesError):
    """An action the widget refused or the server could not complete."""


class ManagerClosed(ActionError, RuntimeError):
    """An action asked of a closed ModelManager (a RuntimeError too, as it always was)."""


@dataclass(frozen=True)
class Action:
    """One action: what the frontend sends, the Python method behind it, and how it is shown."""

    name: str  # on handles, in `busy` and in `history`
    wire: str  # the `action` of the frontend's `{type: "action", ...}` command
    label: str  # the button's text, also the start of its error sentence
    twin: str  # the ModelManager method a command calls
    needs_id: bool  # the command must carry a model `id`
    cancellable: bool = False  # ActionHandle.cancel() asks the server, like the Cancel button
    form: str | None = None  # "create" / "update": `fields` are cleaned by `form_fields`
    bulk: bool = False  # the command may carry `ids: [...]` instead of `id` (one handle for all)
    options: tuple[str, ...] = ()  # command keys passed on to the twin as keyword arguments


ACTIONS: tuple[Action, ...] = (
    Action("refresh", "refresh", "Refresh", "refresh", needs_id=False),
    Action("retry", "retry", "Retry", "retry", needs_id=False),
    Action(
        "download",
        "download",
        "Download",
        "download",
        needs_id=True,
        cancellable=True,
        bulk=True,
        options=("unload_first",),
    ),
    Action("cancel", "cancel", "Cancel", "cancel", needs_id=True, bulk=True),
    Action("load", "load", "Load", "load", needs_id=True, bulk=True, options=("unload_first",)),
    Action("unload", "unload", "Unload", "unload", needs_id=True, bulk=True),
    Action("delete", "delete", "Delete", "delete", needs_id=True, bulk=True),
    Action(
        "delete_cache", "delete-cache", "Delete cache", "delete_cache", needs_id=True, bulk=True
    ),
    Action("unload_all", "unload-all", "Unload all", "unload_all", needs_id=False),
    Action("create", "create", "Add model", "create_model", needs_id=False, form="create"),
    Action("update", "update", "Edit", "update_model", needs_id=True, form="update"),
    Action("dismiss_error", "dismiss-error", "Dismiss", "_dismiss_error", needs_id=True),
    Action(
        "install_runtime", "install-runtime", "Install runtime", "install_runtime", needs_id=False
    ),
    Action("update_runtime", "update-runtime", "Update runtime", "update_runtime", needs_id=False),
    Action(
        "plan_cleanup",
        "plan-cleanup",
        "Free space",
        "_plan_cleanup",
        needs_id=False,
        options=("free",),
    ),
)
BY_NAME: dict[str, Action] = {a.name: a for a in ACTIONS}
BY_WIRE: dict[str, Action] = {a.wire: a for a in ACTIONS}
ACTION_LABELS: dict[str, str] = {a.name: a.label for a in ACTIONS}
WIRE_ACTIONS: tuple[str, ...] = tuple(a.wire for a in ACTIONS)
ID_LESS: frozenset[str] = frozenset(a.wire for a in ACTIONS if not a.needs_id)


def friendly(action: str, exc: BaseException, timeout: float) -> str:
    """One human sentence for a failed action; never a traceback."""
    label = ACTION_LABELS.get(action, action)
    if isinstance(exc, ModelNotFound):
        return (
            f"{label} failed: this model is no longer on the server (410). The list was refreshed."
        )
    if isinstance(exc, PiecesTimeout):
        return f"{label} failed: the server did not answer within {timeout:g} s. Try again."
    if isinstance(exc, PiecesUnavailable):
        return f"{label} failed: lost the connection to Pieces OS."
    if isinstance(exc, PiecesAPIError):
        text = " ".join(str(exc.text or "").split())[:300]
        return f"{label} failed: the server answered {exc.status}" + (f": {text}" if text else ".")
    if isinstance(exc, PiecesError):
        return f"{label} failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return f"{label} failed: unexpected {type(exc).__name__}: {exc}"


def route(manager: Any, content: Any) -> Any:
    """Run a frontend command on `manager` through the same twin a user calls.

    Returns the twin's ActionHandle (None for messages that are not commands, and for
    dismiss-error); raises ActionError for an unknown action, a missing id or bad form input.
    """
    if not isinstance(content, dict) or content.get("type") != "action":
        return None
    action = BY_WIRE.get(str(content.get("action")))
    if action is None:
        raise ActionError(f"unknown action {content.get('action')!r}")
    model_id = content.get("id")
    ids = content.get("ids")
    if action.bulk and ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ActionError(f"{action.wire} needs `ids` as a list of model ids")
        model_id = ids  # several models at once: the twin returns one handle for all
    elif action.needs_id and not isinstance(model_id, str):
        raise ActionError(f"{action.wire} needs a model id")
    args: list[Any] = [model_id] if action.needs_id else []
    kwargs: dict[str, Any] = {k: content[k] for k in action.options if k in content}
    fields = content.get("fields") if isinstance(content.get("fields"), dict) else {}
    if action.form == "create":
        kwargs = form_fields(fields)
        name = kwargs.pop("name", None)
        if not name:
            raise ActionError("a custom model needs a name")
        args = [name]
    elif action.form == "update":
        kwargs = form_fields(fields, allow_clear=True)
    return getattr(manager, action.twin)(*args, **kwargs)


def form_fields(fields: dict[str, Any], allow_clear: bool = False) -> dict[str, Any]:
    """Clean the Add/Edit form's values: strip text, numbers from strings, drop blanks.

    With `allow_clear` (Edit), a field sent as null or blank is cleared on the server.
    """
    out: dict[str, Any] = {}
    optional = ("unique", "description", "quantization", "foundation", "provider")
    for key in ("name", "version", *optional):
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = value.strip()
        elif allow_clear and key in optional and key in fields and not value:
            out[key] = None
    for key, kind in (("parameters", float), ("max_tokens", int)):
        value = fields.get(key)
        if value in (None, ""):
            if allow_clear and key in fields:
                out[key] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ActionError(f"{key} must be a number, not {value!r}") from None
        if not math.isfinite(number) or number < 0:  # before int(): int(inf) overflows
            raise ActionError(f"{key} must be a positive number")
        out[key] = kind(number)
    if "cloud" in fields:
        out["cloud"] = bool(fields["cloud"])
    return out
