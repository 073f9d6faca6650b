"""`Model.score` from the catalogue and `POST /model/{id}/scores/increment` counting."""

from __future__ import annotations

import httpx
import pytest

from pieces_widgets.emulator import Emulator

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"
REUSE = {"model": {"reuse": True}}


def increment(emu: Emulator, model_id: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{emu.url}/model/{model_id}/scores/increment", **kwargs)


def test_increment_answers_204_and_counts(emulator):
    assert "score" not in emulator.model(LLAMA_8B)  # the packaged catalogue carries none
    r = increment(emulator, LLAMA_8B, json=REUSE)
    assert r.status_code == 204 and r.content == b""
    assert emulator.model(LLAMA_8B)["score"] == {"manual": 0, "automatic": 0, "reuse": 1}
    increment(emulator, LLAMA_8B, json=REUSE)
    increment(emulator, LLAMA_8B, json={"model": {"reuse": True, "searched": True}})
    expected = {"manual": 0, "automatic": 0, "reuse": 3, "searched": 1}
    assert emulator.model(LLAMA_8B)["score"] == expected
    assert httpx.get(f"{emulator.url}/model/{LLAMA_8B}").json()["score"] == expected
    listed = httpx.get(f"{emulator.url}/models").json()["iterable"]
    assert next(m for m in listed if m["id"] == LLAMA_8B)["score"] == expected


def test_catalogue_scores_are_kept_and_incremented(emulator_factory):
    emu0 = Emulator()
    model = {**emu0.model(LLAMA_1B), "score": {"manual": 4, "automatic": 2, "reuse": 7}}
    emu = emulator_factory(catalog=[model])
    assert httpx.get(f"{emu.url}/model/{LLAMA_1B}").json()["score"] == model["score"]
    increment(emu, LLAMA_1B, json={"model": {"reuse": True, "update": True}})
    assert emu.model(LLAMA_1B)["score"] == {"manual": 4, "automatic": 2, "reuse": 8, "update": 1}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"content": b"{}"},
        {"json": {"model": {"reuse": False}}},
        {"json": {"asset": {"reuse": True}}},
        {"content": b"null"},
    ],
)
def test_nothing_to_count_is_204_and_no_change(emulator, kwargs):
    r = increment(emulator, LLAMA_8B, **kwargs)
    assert r.status_code == 204
    assert "score" not in emulator.model(LLAMA_8B)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b'{"model": 3}', b'{"model": {"reuse": "yes"}}'],
)
def test_a_malformed_body_is_a_500_and_changes_nothing(emulator, body):
    r = increment(emulator, LLAMA_8B, content=body)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/plain") and r.text
    assert "score" not in emulator.model(LLAMA_8B)


def test_unknown_model_and_injected_refusal(emulator):
    r = increment(emulator, "no-such-model", json=REUSE)
    assert r.status_code == 500 and r.text == "model was not found."
    emulator.faults.http_error("score", status=500, times=1, body="refused")
    r = increment(emulator, LLAMA_8B, json=REUSE)
    assert r.status_code == 500 and r.text == "refused"
    assert "score" not in emulator.model(LLAMA_8B)
    assert increment(emulator, LLAMA_8B, json=REUSE).status_code == 204
    assert emulator.model(LLAMA_8B)["score"]["reuse"] == 1
