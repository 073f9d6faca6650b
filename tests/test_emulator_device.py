"""`GET /os/device/information`: the default machine, a given description, live changes, faults."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pieces_widgets.emulator import Emulator

GIB = 1 << 30


def device(emu: Emulator) -> httpx.Response:
    return httpx.get(f"{emu.url}/os/device/information")


def test_default_is_a_plausible_16_gib_machine_in_bytes(emulator):
    r = device(emulator)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["hardware"]["ram"] == {"memory": 16 * GIB, "speed": 5600, "type": "DDR5"}
    gpu = body["hardware"]["gpus"][0]
    assert gpu["memory"] == 8 * GIB and gpu["capabilities"] == {"llm": True}
    assert gpu["shared_memory"] is False
    cpu = body["hardware"]["cpus"][0]
    assert cpu["cores"] == 8 and isinstance(cpu["clock_cycle_speed"], float)
    assert body["dependencies"] == {"vulkan": True}
    assert body["name"] and body["version"]
    assert emulator.device == body
    assert ("GET", "/os/device/information") in emulator.requests
    assert httpx.post(f"{emulator.url}/os/device/information").status_code == 405


def test_a_given_description_is_served_verbatim(emulator_factory):
    apple = {
        "name": "MacBook Pro",
        "hardware": {
            "gpus": [{"name": "Apple M3 Max", "memory": 65536, "shared_memory": True}],
            "ram": {"memory": 65536, "type": "UNKNOWN"},  # MB, as some builds might send
        },
        "dependencies": {"vulkan": False},
        "future": {"kept": 1},
    }
    emu = emulator_factory(device=apple)
    apple["name"] = "changed after construction"  # the emulator keeps its own copy
    body = device(emu).json()
    assert body["name"] == "MacBook Pro" and body["future"] == {"kept": 1}
    assert body["hardware"]["ram"]["memory"] == 65536
    assert "cpus" not in body["hardware"]


def test_a_file_and_a_live_replacement(emulator_factory, tmp_path: Path):
    path = tmp_path / "device.json"
    path.write_text(json.dumps({"dependencies": {"vulkan": True}}))
    emu = emulator_factory(device=path)
    assert device(emu).json() == {"dependencies": {"vulkan": True}}
    emu.device = {"hardware": {"ram": {"memory": 8 * GIB}}}  # e.g. a malformed body on purpose
    assert device(emu).json() == {"hardware": {"ram": {"memory": 8 * GIB}}}
    copy = emu.device
    copy["hardware"] = None
    assert emu.device["hardware"]["ram"]["memory"] == 8 * GIB


def test_a_non_object_is_refused_at_construction(tmp_path: Path):
    with pytest.raises(ValueError, match="JSON object"):
        Emulator(device=[1, 2])  # type: ignore[arg-type]
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(ValueError):
        Emulator(device=bad)


def test_missing_device_information_via_faults(emulator):
    emulator.faults.http_error("device", status=404, times=1, body="Not Found")
    r = device(emulator)
    assert r.status_code == 404 and r.text == "Not Found"
    emulator.faults.http_error("device", status=200, times=1, body="{not json")
    assert device(emulator).text == "{not json"
    assert device(emulator).json()["hardware"]["ram"]["memory"] == 16 * GIB
