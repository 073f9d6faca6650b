"""Usage counts: the score read from the wire dict, their sum, and the increment body."""

from __future__ import annotations

from typing import Any

import pytest

from pieces_widgets.models import Model, parse_model
from pieces_widgets.usage import (
    SCORE_COUNTS,
    model_score,
    model_used,
    score_increment_body,
    used_column,
    used_count,
)


def scored(score: Any, mid: str = "m") -> Model:
    model = parse_model({"id": mid, "score": score})
    assert model is not None
    return model


def test_score_counts_are_the_wire_fields() -> None:
    assert SCORE_COUNTS == (
        "manual",
        "automatic",
        "priority",
        "reference",
        "reuse",
        "searched",
        "update",
    )


def test_used_count_sums_every_count() -> None:
    score = dict(zip(SCORE_COUNTS, (1, 2, 4, 8, 16, 32, 64), strict=True))
    assert used_count(score) == 127


@pytest.mark.parametrize(
    ("score", "used"),
    [
        ({"manual": 0, "automatic": 0}, 0),
        ({"manual": 3, "automatic": 4}, 7),
        ({"manual": 3, "automatic": 4, "reuse": 5}, 12),
        ({"reuse": 5}, 5),
        ({"manual": 2, "automatic": 1, "schema": {"v": 1}, "other": 100}, 3),
        ({"manual": "3", "automatic": 2}, 2),
        ({"manual": True, "automatic": 2}, 2),
        ({"manual": -1, "automatic": 2}, 2),
        ({"manual": 1.5, "automatic": 2}, 2),
        ({"manual": None, "automatic": 2}, 2),
    ],
)
def test_used_count(score: dict[str, Any], used: int) -> None:
    assert used_count(score) == used


@pytest.mark.parametrize(
    "score", [None, {}, {"schema": {}}, {"manual": "1"}, [1, 2], 5, "score", {"manual": -2}]
)
def test_used_count_is_none_without_a_usable_count(score: Any) -> None:
    assert used_count(score) is None


def test_model_score_reads_the_wire_dict() -> None:
    assert model_score(scored({"manual": 1, "automatic": 0})) == {"manual": 1, "automatic": 0}
    assert model_score(scored(None)) is None
    assert model_score(scored([1])) is None
    assert model_score(Model(id="bare")) is None
    assert model_score(parse_model({"id": "no score"})) is None  # type: ignore[arg-type]


def test_model_used_and_column() -> None:
    models = [scored({"manual": 1, "automatic": 2, "reuse": 3}, "a"), scored(None, "b")]
    assert model_used(models[0]) == 6
    assert model_used(models[1]) is None
    assert used_column(models) == [6, None]
    assert used_column([]) == []
    assert used_column(iter(models)) == [6, None]


def test_increment_body_for_a_load() -> None:
    assert score_increment_body("reuse") == {"model": {"reuse": True}}
    assert score_increment_body("reuse", "searched") == {"model": {"reuse": True, "searched": True}}
    for kind in ("priority", "reference", "reuse", "searched", "update"):
        assert score_increment_body(kind) == {"model": {kind: True}}


@pytest.mark.parametrize("kinds", [(), ("manual",), ("reuse", "automatic"), ("Reuse",)])
def test_increment_body_rejects_unknown_kinds(kinds: tuple[str, ...]) -> None:
    with pytest.raises(ValueError) as info:
        score_increment_body(*kinds)
    assert str(info.value) == (
        f"score increments are priority, reference, reuse, searched, update; got {list(kinds)!r}"
    )
