"""HTTP routes around the model API: device information, score increments, the Ollama runtime.

Kept apart from `app.py` so the 12 model routes stay readable; `app.EmulatorApp` dispatches every
route name listed in `ROUTES` here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from .scores import increment
from .wire import check_optional_object, dumps

if TYPE_CHECKING:
    from .state import EmulatorState

JSON = "application/json"
ID = None  # the `{model}` / `{identifier}` segment

ROUTES: list[tuple[tuple[str | None, ...], dict[str, str]]] = [
    (("os", "device", "information"), {"GET": "device"}),
    (("model", ID, "scores", "increment"), {"POST": "score"}),
    (("models", "stream", "identifiers"), {"WS": "identifiers"}),
    (("ollama", "status"), {"GET": "ollama_status"}),
    (("ollama", "status", "stream"), {"GET": "ollama_status_stream", "WS": "ollama_status_stream"}),
    (("ollama", "install"), {"POST": "ollama_install"}),
    (("ollama", "install", ID), {"GET": "ollama_install_get"}),
    (("ollama", "install", ID, "cancel"), {"POST": "ollama_install_cancel"}),
    (("ollama", "installs"), {"GET": "ollama_installs"}),
    (("ollama", "update"), {"POST": "ollama_update"}),
    (("ollama", "update", ID), {"GET": "ollama_update_get"}),
    (("ollama", "update", ID, "cancel"), {"POST": "ollama_update_cancel"}),
    (("ollama", "updates"), {"GET": "ollama_updates"}),
    (("ollama", "uninstall"), {"POST": "ollama_uninstall"}),
]
NAMES = frozenset(name for _, methods in ROUTES for name in methods.values())


async def handle(
    state: EmulatorState,
    device: dict[str, Any],
    route: str,
    ident: str | None,
    scope: Scope,
    receive: Receive,
    ok: Callable[..., Response],
) -> Response:
    rt = state.runtime
    if route == "device":
        return ok(200, dumps(device), JSON)
    if route == "score":
        increment(state, ident or "", await Request(scope, receive).body())
        return ok(204)
    if route in ("ollama_status", "ollama_status_stream"):
        return ok(200, rt.status_body(), JSON)
    if route == "ollama_install":
        return ok(200, rt.install(), JSON)
    if route in ("ollama_update", "ollama_uninstall"):
        check_optional_object(await Request(scope, receive).body(), "OllamaDeployment")
        return ok(200, rt.update() if route == "ollama_update" else rt.uninstall(), JSON)
    kind = "install" if route.startswith("ollama_install") else "update"
    if route in ("ollama_installs", "ollama_updates"):
        return ok(200, rt.history(kind), JSON)
    if route.endswith("_cancel"):
        return ok(200, rt.cancel(kind, ident or ""), JSON)
    return ok(200, dumps(rt.find(kind, ident or "", 410)), JSON)  # *_get
