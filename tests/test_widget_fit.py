"""Fit and budget in the widget, over the emulator's real sockets: rows, `mm.fit`, the DataFrame's
`fit`/`used` columns, the "fits" filter, and the machine's memory from the server, in MB, missing,
malformed, refused, or (only on this machine) from this machine."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _support
import pandas as pd
import pytest

from pieces_widgets import ModelManager, _budget
from pieces_widgets.device import local_memory, parse_device_info
from pieces_widgets.emulator import load_catalog
from pieces_widgets.fit import FitReport

GIB = 1 << 30
WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


def machine(memory: float, gpus: list | None = None) -> dict:
    """A device body with `memory` as the RAM figure (any unit) and no GPU unless given."""
    return {"name": "test", "hardware": {"ram": {"memory": memory}, "gpus": gpus or []}}


def by_name(mm: ModelManager) -> dict[str, dict]:
    return {r["name"]: r for r in mm.models}


def open_mm(emu, **kwargs) -> ModelManager:
    mm = ModelManager(emu.url, poll_interval=None, **kwargs)
    return mm


def settled(mm: ModelManager, source: str) -> dict:
    """The budget once the device information has been applied (fetched after connecting)."""
    return eventually(lambda: mm.budget.get("source") == source and mm.budget, what=source)


@pytest.fixture
def managers():
    opened: list[ModelManager] = []

    def make(emu, **kwargs) -> ModelManager:
        mm = open_mm(emu, **kwargs)
        opened.append(mm)
        return mm

    yield make
    for mm in opened:
        mm.close()


USABLE_16 = int(16 * GIB * 0.8)  # 13743895347: what a 16 GiB machine gives a model at 0.8
EXPECTED_16 = {
    "Llama 3.2 3B": "fits",  # loaded: running
    "Llama 3 8B": "fits",  # 6 GiB <= 12.8 - 3.06 GiB free
    "Gemma 2 9B": "fits",  # 8 GiB
    "Phi-4 14B": "unload",  # 12 GiB: only after unloading Llama 3.2 3B
    "Mixtral 8 7B": "too-large",  # 32 GiB > 12.8 GiB
    "GPT-4o Chat Model": None,  # cloud: no fit
}


def check_16(mm: ModelManager) -> None:
    rows = by_name(mm)
    assert {name: rows[name]["fit"] for name in EXPECTED_16} == EXPECTED_16
    phi = rows["Phi-4 14B"]
    assert phi["fit_unload"] == [rows["Llama 3.2 3B"]["id"]]
    assert "unload Llama 3.2 3B (3.22 GB) first" in phi["fit_text"]
    assert (
        rows["Mixtral 8 7B"]["fit_unload"] == [] and rows["GPT-4o Chat Model"]["fit_text"] is None
    )


def test_rows_carry_fits_of_a_16_gib_machine_in_bytes(emulator_factory, managers):
    emu = emulator_factory(device=machine(16 * GIB))
    mm = managers(emu)
    budget = settled(mm, "server")
    assert budget["total"] == 16 * GIB and budget["usable"] == USABLE_16
    assert "17.18 GB" in budget["note"] and "bytes" in budget["note"] and "80 %" in budget["note"]
    local = [m for m in mm.snapshot if not m.cloud]
    assert budget["disk_catalog"] == sum(m.bytes for m in local)
    assert budget["disk_models"] == sum(bool(m.downloaded) for m in local)
    assert budget["ram_used"] == 3 * GIB + 64 * 2**20 and budget["ram_models"] == 2
    check_16(mm)


def test_a_machine_in_mb_gives_the_same_fits_as_in_bytes(emulator_factory, managers):
    emu = emulator_factory(device=machine(16 * 1024))  # 16384: MB
    mm = managers(emu)
    budget = settled(mm, "server")
    assert budget["usable"] == USABLE_16 and "MB" in budget["note"]
    check_16(mm)


def test_fit_report_and_frame_columns(emulator_factory, managers):
    emu = emulator_factory(device=machine(16 * GIB))
    mm = managers(emu)
    settled(mm, "server")
    rows = by_name(mm)
    report = mm.fit(rows["Phi-4 14B"]["id"])
    assert isinstance(report, FitReport) and report.status == "unload"
    assert report.needed == 12 * GIB and report.usable == USABLE_16
    assert str(report) == rows["Phi-4 14B"]["fit_text"]
    assert mm.fit(rows["GPT-4o Chat Model"]["id"]) is None
    with pytest.raises(KeyError):
        mm.fit("no-such-model")

    df = mm.to_dataframe()
    assert list(df.columns[-2:]) == ["fit", "used"]
    assert df["fit"].dtype == "string" and df["used"].dtype == "Int64"
    assert df.loc[rows["Mixtral 8 7B"]["id"], "fit"] == "too-large"
    assert pd.isna(df.loc[rows["GPT-4o Chat Model"]["id"], "fit"])
    assert df["used"].isna().all()  # the packaged catalogue carries no scores
    fitting = mm.to_dataframe(filter="fits")
    assert set(fitting["fit"]) == {"fits"} and "Llama 3.2 3B" in set(fitting["name"])
    assert "Phi-4 14B" not in set(fitting["name"])  # the "unload" fit needs a loaded model gone
    assert list(mm.to_dataframe(filter="fits", search="llama")["name"]) == [
        "Llama 3.2 3B",
        "Llama 3.2 1B",
        "Llama 3 8B",
        "Team Llama 3 8B (fine-tuned)",
    ]


def test_fits_follow_a_load_and_the_used_counts(emulator_factory, managers):
    catalog = load_catalog(None)
    for entry in catalog:
        if entry["name"] == "Gemma 2 9B":
            entry["downloaded"] = True
            entry["score"] = {"manual": 0, "automatic": 2, "reuse": 3}
    emu = emulator_factory(device=machine(16 * GIB), catalog=catalog)
    mm = managers(emu)
    settled(mm, "server")
    rows = by_name(mm)
    gemma = rows["Gemma 2 9B"]["id"]
    assert rows["Gemma 2 9B"]["used"] == 5 and mm.to_dataframe().loc[gemma, "used"] == 5
    mm.load(gemma).wait(WAIT)
    rows = by_name(mm)  # 12.8 - 3.06 - 8 GiB free now: 6 GiB models need an unload
    assert rows["Gemma 2 9B"]["fit"] == "fits" and rows["Gemma 2 9B"]["loaded"]
    assert rows["Llama 3 8B"]["fit"] == "unload"
    assert rows["Llama 3 8B"]["fit_unload"] == [gemma]
    assert mm.budget["ram_used"] == 11 * GIB + 64 * 2**20 and mm.budget["ram_models"] == 3


def test_usable_fraction_is_checked_and_used(emulator_factory, managers):
    emu = emulator_factory(device=machine(16 * GIB))
    for bad in (0, 1.5, float("nan"), "0.8", True):
        with pytest.raises(ValueError, match="usable_fraction"):
            ModelManager(emu.url, poll_interval=None, usable_fraction=bad)
    mm = managers(emu, usable_fraction=0.5)
    assert settled(mm, "server")["usable"] == 8 * GIB and "50 %" in mm.budget["note"]
    assert by_name(mm)["Gemma 2 9B"]["fit"] == "unload"  # 8 GiB > 8 - 3.06 GiB free


@pytest.mark.parametrize(
    "how", ["empty body", "malformed memory", "refused"], ids=lambda h: h.replace(" ", "-")
)
def test_missing_device_information_falls_back_to_this_machine_on_loopback(
    how, emulator_factory, managers
):
    device = {} if how == "empty body" else machine("sixteen gigs")
    emu = emulator_factory(device=device)
    if how == "refused":
        emu.faults.http_error("device", status=500)
    mm = managers(emu)
    total = local_memory()
    assert total, "this machine's memory is readable here"
    budget = settled(mm, "local")
    assert budget["total"] == total and budget["usable"] == int(total * 0.8)
    assert "this machine's figure" in budget["note"]
    # Every fit agrees with this machine's memory: never a "fits" the memory cannot hold.
    free = budget["usable"] - budget["ram_used"]
    for model in mm.snapshot:
        fit = by_name(mm)[model.name]["fit"]
        if model.cloud:
            assert fit is None
        elif model.loaded:
            assert fit == "fits"
        elif fit == "fits":
            assert model.ram <= free
        else:
            assert fit in ("unload", "too-large") and model.ram > free


def test_a_remote_server_without_device_information_gives_unknown_not_fits(
    emulator_factory, managers, monkeypatch
):
    # Every test server stays on loopback: "remote" is the manager's verdict on the URL (the
    # verdict itself is tested on URLs in test_client_extra.py), so this machine's memory is off.
    monkeypatch.setattr(_budget, "is_loopback", lambda url: False)
    emu = emulator_factory(device={})
    mm = managers(emu)
    eventually(lambda: mm.connection == "connected", what="connected")
    time.sleep(0.5)  # the device request has had time to land (and found nothing)
    budget = settled(mm, "unknown")
    assert budget["usable"] is None and budget["total"] is None
    assert "unknown" in budget["note"]
    fits = {r["fit"] for r in mm.models if not r["cloud"]}
    assert fits == {"unknown", "fits"}  # "fits" only for the loaded (running) models
    assert all(r["fit"] == "unknown" for r in mm.models if not r["cloud"] and not r["loaded"])
    assert mm.to_dataframe(filter="fits")["loaded"].all()
    # Device information arriving later (the Supervisor's contract) re-measures every row.
    mm._device = parse_device_info(machine(16 * GIB))
    mm._device_changed()
    settled(mm, "server")
    check_16(mm)
