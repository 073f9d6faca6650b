"""The cleanup plan in the widget over the emulator's real sockets (`mm.cleanup_plan`, the
"plan-cleanup" command and its `cleanup` answer, confirming it as a bulk delete-cache), and the
issue's end-to-end question on a 16 GB machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _support
import pandas as pd
import pytest

from pieces_widgets import ModelManager
from pieces_widgets.emulator import load_catalog

GIB = 1 << 30
WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


send = _support.send

SIXTEEN_GIB = {"name": "laptop", "hardware": {"ram": {"memory": 16 * GIB}, "gpus": []}}
SIZES = {
    "Qwen 2.5 Coder 7B": 4457200640,
    "Mistral 7B": 4144753664,
    "Team Llama 3 8B (fine-tuned)": 4920739840,
    "Llama 3 8B": 4692669824,
}


def scored_catalog() -> list[dict]:
    """The packaged catalogue with use counts: Llama 3 8B used most, Mistral never, Qwen unknown."""
    catalog = load_catalog(None)
    scores = {
        "Llama 3 8B": {"manual": 0, "automatic": 4, "reuse": 6},
        "Mistral 7B": {"manual": 0, "automatic": 0},
        "Team Llama 3 8B (fine-tuned)": {"manual": 1, "automatic": 0, "reuse": 1},
    }
    for entry in catalog:
        if entry["name"] in scores:
            entry["score"] = scores[entry["name"]]
    return catalog


@pytest.fixture
def mm(emulator_factory):
    emu = emulator_factory(catalog=scored_catalog(), device=SIXTEEN_GIB)
    manager = ModelManager(emu.url, poll_interval=None)
    eventually(lambda: manager.budget.get("source") == "server", what="device information")
    yield manager
    manager.close()


PLAN_10GB = ["Qwen 2.5 Coder 7B", "Mistral 7B", "Team Llama 3 8B (fine-tuned)"]


def test_cleanup_plan_least_used_first_then_larger(mm):
    plan = mm.cleanup_plan("10 GB")
    assert list(plan.columns) == ["name", "bytes", "used", "freed"] and plan.index.name == "id"
    assert list(plan["name"]) == PLAN_10GB  # unused (0 and unknown) first, larger first
    assert plan["used"].tolist()[1:] == [0, 2] and pd.isna(plan["used"].iloc[0])
    assert plan["freed"].tolist() == list(pd.Series([SIZES[n] for n in PLAN_10GB]).cumsum())
    assert plan["freed"].iloc[-1] >= 10**9 * 10
    assert list(mm.cleanup_plan(SIZES["Qwen 2.5 Coder 7B"])["name"]) == PLAN_10GB[:1]
    everything = mm.cleanup_plan("1 TB")  # never enough: every candidate, loaded ones never
    assert set(everything["name"]) == set(SIZES)
    with pytest.raises(ValueError, match="cannot read"):
        mm.cleanup_plan("ten gigs")


def test_plan_cleanup_command_answers_in_the_cleanup_trait(mm):
    assert mm.cleanup == {}
    send(mm, action="plan-cleanup", free="10 GB")
    answer = eventually(lambda: mm.cleanup, what="a plan")
    total = sum(SIZES[n] for n in PLAN_10GB)
    assert answer["seq"] == 1 and answer["free"] == 10**10
    assert [r["name"] for r in answer["rows"]] == PLAN_10GB
    assert answer["rows"][1] == {
        "id": next(r["id"] for r in mm.models if r["name"] == "Mistral 7B"),
        "name": "Mistral 7B",
        "bytes": SIZES["Mistral 7B"],
        "used": 0,
        "freed": SIZES["Qwen 2.5 Coder 7B"] + SIZES["Mistral 7B"],
    }
    assert answer["total"] == total and answer["enough"] is True

    send(mm, action="plan-cleanup", free=10**13)  # a number of bytes; more than there is
    answer = eventually(lambda: mm.cleanup["seq"] == 2 and mm.cleanup, what="second plan")
    assert answer["enough"] is False and answer["total"] == sum(SIZES.values())

    for bad in ("lots", -5, None, True):
        send(mm, action="plan-cleanup", free=bad)
        notice = eventually(lambda: mm.notice.get("level") == "error" and mm.notice, what="bad")
        assert notice["text"].startswith("Free space: "), notice
        assert "Traceback" not in notice["text"]
        mm.notice = {}
    send(mm, action="plan-cleanup")  # no amount at all
    assert "say how much to free" in eventually(lambda: mm.notice.get("text"), what="notice")
    assert mm.cleanup["seq"] == 2  # a bad request leaves the last plan alone


def test_a_person_on_a_16_gb_machine_knows_before_clicking(mm):
    """Which models will run, what to unload, what to delete to free 10 GB, then frees it."""
    frame = mm.to_dataframe()
    runs = set(mm.to_dataframe(filter="fits")["name"])
    assert {"Llama 3.2 3B", "Llama 3 8B", "Gemma 2 9B", "Mistral 7B"} <= runs
    assert frame.set_index("name").loc["Mixtral 8 7B", "fit"] == "too-large"

    phi = frame.index[frame["name"] == "Phi-4 14B"][0]
    report = mm.fit(phi)
    assert report.status == "unload"
    assert str(report) == (
        "Phi-4 14B needs 12.88 GB but only 10.46 GB free of 13.74 GB usable: "
        "unload Llama 3.2 3B (3.22 GB) first."
    )

    send(mm, action="plan-cleanup", free="10 GB")
    answer = eventually(lambda: mm.cleanup, what="a plan")
    assert [r["name"] for r in answer["rows"]] == PLAN_10GB and answer["enough"]
    disk_before = mm.budget["disk_used"]
    send(mm, action="delete-cache", ids=[r["id"] for r in answer["rows"]])  # Confirm
    notice = eventually(
        lambda: mm.notice.get("text", "").startswith("Deleted the cache") and mm.notice,
        what="the batch's notice",
    )
    assert (
        notice["text"] == f"Deleted the cache of 3 models ({answer['total'] / 1e9:.2f} GB freed)."
    )
    assert mm.budget["disk_used"] == disk_before - answer["total"]
    assert list(mm.cleanup_plan("10 GB")["name"]) == ["Llama 3 8B"]  # only it is left to delete
