"""`GET /os/device/information`: the machine Pieces OS runs on (an `OSDeviceInformationReturnable`).

The unit of `memory` (RAM and GPU) is undocumented; the emulator's default machine states it in
**bytes** (the magnitude of the spec's example), so 16 GiB is 17179869184. A `device=` dict or
`--device FILE` is served verbatim, so tests can give any unit or a malformed body on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .wire import SCHEMA

GIB = 1 << 30

DeviceSource = dict[str, Any] | str | Path | None


def default_device() -> dict[str, Any]:
    """A plausible 16 GiB laptop with an 8 GiB LLM-capable GPU; memory in bytes."""
    return {
        "schema": dict(SCHEMA),
        "name": "emulated-workstation",
        "version": "Ubuntu 24.04.1 LTS",
        "hardware": {
            "cpus": [
                {
                    "name": "AMD Ryzen 7 7840HS",
                    "cores": 8,
                    "clock_cycle_speed": 3.8,
                    "l1_cache": 512,
                    "l2_cache": 8192,
                    "l3_cache": 16384,
                    "shared_memory": False,
                }
            ],
            "gpus": [
                {
                    "name": "NVIDIA GeForce RTX 4060 Laptop GPU",
                    "memory": 8 * GIB,
                    "shared_memory": False,
                    "capabilities": {"llm": True},
                }
            ],
            "ram": {"memory": 16 * GIB, "speed": 5600, "type": "DDR5"},
        },
        "dependencies": {"vulkan": True},
    }


def load_device(source: DeviceSource = None) -> dict[str, Any]:
    """A fresh copy of the device body: the default, a dict, or a JSON file holding an object."""
    if source is None:
        return default_device()
    if isinstance(source, (str, Path)):
        raw: Any = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        raw = json.loads(json.dumps(source))
    if not isinstance(raw, dict):
        raise ValueError("device information must be a JSON object")
    return raw
