"""`Model.score` counting for `POST /model/{model}/scores/increment` (spec: inferred rules).

Each key of the `SeededScore` under `"model"` that is `true` adds 1 to the same key of the
model's `Score` (`{"model": {"reuse": true}}` -> `score.reuse += 1`); `manual` and `automatic`
(required by the SDK) are kept, or start at 0 when the model had no score.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .wire import ApiError

if TYPE_CHECKING:
    from .state import EmulatorState

COUNTED = ("priority", "reference", "reuse", "searched", "update")


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_increment(body: bytes) -> dict[str, bool]:
    """The `model` part of a SeededScoreIncrement body (empty body or no `model`: {})."""
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError as e:
        raise ApiError(500, f"request body is not valid JSON: {e}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ApiError(500, "SeededScoreIncrement body must be a JSON object")
    seeded = parsed.get("model")
    if seeded is None:
        return {}
    if not isinstance(seeded, dict):
        raise ApiError(500, "'model' must be a SeededScore object")
    out: dict[str, bool] = {}
    for key in COUNTED:
        flag = seeded.get(key)
        if flag is None:
            continue
        if not isinstance(flag, bool):
            raise ApiError(500, f"'model.{key}' must be a boolean (true/false)")
        out[key] = flag
    return out


def increment(state: EmulatorState, model_id: str, body: bytes) -> None:
    """Validate first (so a bad body changes nothing), then count the `true` keys."""
    model = state.require(model_id)
    flags = parse_increment(body)
    if not any(flags.values()):
        return
    old = model.get("score") if isinstance(model.get("score"), dict) else {}
    score = {**old, "manual": _count(old.get("manual")), "automatic": _count(old.get("automatic"))}
    for key, flag in flags.items():
        if flag:
            score[key] = _count(old.get(key)) + 1
    state.store.set(model_id, score=score)
