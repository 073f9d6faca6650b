"""Fitness: the memory a model may use here, every row's fit, and the `budget` trait.

A fit is only as good as the machine's memory figure, so where it comes from is decided in one
place: the server's device information (`manager._device`, set by the Supervisor), else, only
when Pieces OS is on this machine (a loopback URL), this machine's own memory; else unknown.
A remote server without device information never borrows this machine's memory: that could
give a wrong "fits", which is worse than "unknown".
"""

from __future__ import annotations

import math
from typing import Any

from . import device as _device
from ._wire_os import is_loopback
from .fit import FitReport, budget, fit_model
from .units import format_bytes


def check_fraction(usable_fraction: Any) -> float:
    """The usable fraction, checked at construction (0 < f <= 1) so a typo fails at once."""
    if (
        isinstance(usable_fraction, bool)
        or not isinstance(usable_fraction, int | float)
        or not math.isfinite(usable_fraction)
        or not 0 < usable_fraction <= 1
    ):
        raise ValueError(f"usable_fraction must be in (0, 1], got {usable_fraction!r}")
    return float(usable_fraction)


class Fitness:
    """The machine's memory as one ModelManager sees it, and what follows from it."""

    def __init__(self, manager: Any, usable_fraction: float) -> None:
        self._mm = manager
        self.usable_fraction = check_fraction(usable_fraction)
        self._local: int | None = None
        self._local_read = False

    def _local_total(self) -> int | None:
        """This machine's memory, only when Pieces OS runs here (read once)."""
        server = self._mm._batch.get("server") or {}
        url = server.get("url") or self._mm._connection.base_url
        if not is_loopback(url):
            return None
        if not self._local_read:
            self._local, self._local_read = _device.local_memory(), True
        return self._local

    def figures(self) -> tuple[int | None, int | None, str]:
        """(total pool, usable bytes, source): source "server", "local" or "unknown"."""
        device = getattr(self._mm, "_device", None)
        if not isinstance(device, _device.DeviceInfo):
            device = None  # missing or not what the Supervisor should have set: ignore it
        local = self._local_total()
        from_server = _device.memory_pool(device, None)
        total = _device.memory_pool(device, local)
        usable = _device.usable_memory(device, self.usable_fraction, local_total=local)
        if from_server is not None and total == from_server:
            source = "server"
        else:
            source = "local" if total else "unknown"
        return total, usable, source

    @property
    def usable(self) -> int | None:
        return self.figures()[1]

    def report(self, model_id: str) -> FitReport | None:
        """`mm.fit`: the fit of one model of the current snapshot (None for a cloud model)."""
        models = self._mm._snapshot.models
        model = next((m for m in models if m.id == model_id), None)
        if model is None:
            raise KeyError(f"no model {model_id!r} in the current snapshot")
        return fit_model(model, models, self.usable)

    def budget(self, models: list[Any]) -> dict[str, Any]:
        """The `budget` trait: disk and RAM used, the machine's figures and a tooltip line."""
        total, usable, source = self.figures()
        used = budget(models, usable)
        catalog = sum(m.bytes for m in models if not m.cloud and m.bytes is not None)
        return {
            "disk_used": used.disk_used,
            "disk_models": used.disk_models,
            "disk_unknown": used.disk_unknown,
            "disk_catalog": catalog,
            "ram_used": used.ram_used,
            "ram_models": used.ram_models,
            "ram_unknown": used.ram_unknown,
            "usable": usable,
            "total": total,
            "source": source,
            "note": self._note(total, usable, source),
        }

    def _note(self, total: int | None, usable: int | None, source: str) -> str:
        if total is None or usable is None:
            return (
                "Machine memory unknown: Pieces OS gave no usable figure and it runs on another "
                "machine, so fits are unknown."
            )
        pct = f"{self.usable_fraction * 100:g} %"
        if source == "server":
            device = self._mm._device
            unit = f", reported in {device.ram_unit}" if device.ram_unit else ""
            gpu = "" if device.ram is not None and total == device.ram else " (an LLM GPU's memory)"
            origin = f"from Pieces OS{unit}{gpu}"
        else:
            origin = "this machine's figure: Pieces OS gave none"
        return (
            f"Machine memory {format_bytes(total)} ({origin}); models may use {pct} of it: "
            f"{format_bytes(usable)}."
        )
