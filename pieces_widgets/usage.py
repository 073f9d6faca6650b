"""How much a model is used: ``Model.score`` counts, and the body that increments them. Pure.

`Model` has no ``score`` field: it is read from the wire dict (``model.raw["score"]``) here, in one
place, so the rest of the package can switch to a field later without changing callers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .models import Model

__all__ = [
    "SCORE_COUNTS",
    "model_score",
    "model_used",
    "score_increment_body",
    "used_column",
    "used_count",
]

#: The count fields of a wire ``Score`` (``manual`` and ``automatic`` are required by the SDK).
SCORE_COUNTS = ("manual", "automatic", "priority", "reference", "reuse", "searched", "update")

#: What ``POST /model/{id}/scores/increment`` can increment (keys of ``SeededScore``).
_INCREMENTS = frozenset({"priority", "reference", "reuse", "searched", "update"})


def model_score(model: Model) -> dict[str, Any] | None:
    """The model's wire ``score`` object, or None when absent or not an object."""
    score = model.raw.get("score")
    return score if isinstance(score, dict) else None


def used_count(score: Any) -> int | None:
    """The sum of a ``Score``'s counts; None when there is no score or no usable count in it.

    Counts that are not non-negative integers (``"3"``, ``true``, ``-1``, ``1.5``) are skipped,
    like the snapshot parser skips fields of the wrong type; other keys (``schema``) are ignored.
    """
    if not isinstance(score, dict):
        return None
    counts = [score.get(key) for key in SCORE_COUNTS]
    valid = [n for n in counts if type(n) is int and n >= 0]
    return sum(valid) if valid else None


def model_used(model: Model) -> int | None:
    """`used_count` of the model's score: how often Pieces counted it as used; None if unknown."""
    return used_count(model_score(model))


def used_column(models: Iterable[Model]) -> list[int | None]:
    """`model_used` for each model, in order: the DataFrame's nullable ``used`` column."""
    return [model_used(m) for m in models]


def score_increment_body(*kinds: str) -> dict[str, dict[str, bool]]:
    """The ``SeededScoreIncrement`` body for a model, e.g. ``{"model": {"reuse": True}}``.

    Loading a model from the widget sends ``reuse``, as Pieces' own clients do. Raises
    ValueError for no kind or an unknown one.
    """
    unknown = sorted(set(kinds) - _INCREMENTS)
    if unknown or not kinds:
        raise ValueError(
            f"score increments are {', '.join(sorted(_INCREMENTS))}; got {list(kinds)!r}"
        )
    return {"model": dict.fromkeys(kinds, True)}
