"""The machine's memory: a tolerant `/os/device/information` parser and the memory a model can use.

Pure (no I/O) except `local_memory`, which asks this machine's OS through an injectable `sysconf`.

The unit of ``memory`` (RAM and GPU) is not documented, so it is decided by magnitude: a machine of
4-2048 GB reports 4-2048 as GB, 4,096-2,097,152 as MB, 4e9-2.2e12 as bytes. GB and MB are read
as binary multiples (2**30, 2**20): the spec's own example is 17179869184 bytes for a 16 GB
machine, and models' ``ram`` figures are binary too ("3.22 GB" = 3 GiB). Pieces OS runs on the
user's own machine, so this machine's total memory (``local_total``), when given, cross-checks
the RAM reading: if the magnitude reading is more than 2x away from it but another unit is within
2x, that unit wins and a warning says so. The raw value and the unit used are always kept.
A GPU's figure is read in the RAM's unit when that gives a plausible GPU, else by magnitude.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_USABLE_FRACTION",
    "DeviceInfo",
    "GPUInfo",
    "local_memory",
    "memory_pool",
    "parse_device_info",
    "usable_memory",
]

log = logging.getLogger("pieces_widgets")

#: Share of the machine's memory a model may take: the OS and other programs need the rest.
DEFAULT_USABLE_FRACTION = 0.8

#: Bytes per unit, and the magnitude range (inclusive) in which a raw figure is read in that unit.
_FACTORS = {"GB": 2**30, "MB": 2**20, "bytes": 1}
_RANGES = (("GB", 4, 2048), ("MB", 4096, 2_097_152), ("bytes", 4 * 10**9, 22 * 10**11))
#: A GPU figure read in the RAM's unit must land in this range (bytes, inclusive).
_GPU_MIN, _GPU_MAX = 2**28, 2**41


@dataclass(frozen=True, slots=True)
class GPUInfo:
    """One GPU. ``memory`` in bytes (None when unknown); ``memory_raw`` as sent."""

    name: str | None = None
    memory: int | None = None
    memory_raw: float | None = None
    memory_unit: str | None = None
    shared_memory: bool | None = None
    llm: bool | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What Pieces OS says about the machine. ``ram`` in bytes; None wherever unknown.

    ``ram_unit`` is the unit the raw figure was read in (``"GB"``, ``"MB"``, ``"bytes"``) or None.
    ``warnings`` lists every field that was ignored and every unit chosen against the magnitude.
    """

    name: str | None = None
    version: str | None = None
    ram: int | None = None
    ram_raw: float | None = None
    ram_unit: str | None = None
    gpus: tuple[GPUInfo, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def unified(self) -> bool:
        """True when a GPU shares the RAM (``shared_memory``, Apple silicon): one memory pool."""
        return any(g.shared_memory is True for g in self.gpus)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _magnitude_unit(value: float) -> str | None:
    for unit, low, high in _RANGES:
        if low <= value <= high:
            return unit
    return None


def _within_2x(candidate: float, reference: float) -> bool:
    return reference / 2 <= candidate <= reference * 2


def _read_memory(
    raw: Any,
    what: str,
    warn: Callable[[str], None],
    local_total: int | None = None,
    ram_unit: str | None = None,
) -> tuple[int | None, float | None, str | None]:
    """Return ``(bytes, raw, unit)`` for a ``memory`` figure; None parts when it is unusable.

    `local_total` cross-checks the unit (RAM only). `ram_unit` is set for a GPU: one server
    writes both figures in one unit, so the RAM's unit is used when it gives a plausible GPU
    (256 MiB to 2 TiB): with RAM in MB, a GPU's 2048 is 2 GB, not the 2 TB its magnitude says.
    Otherwise (no RAM unit, or an implausible result) the GPU's magnitude decides.
    """
    if raw is None:
        return None, None, None
    if type(raw) not in (int, float) or not math.isfinite(raw) or raw <= 0:
        warn(f"{what} should be a positive number, got {_short(raw)}; ignored")
        return None, None, None
    if ram_unit is not None and _GPU_MIN <= raw * _FACTORS[ram_unit] <= _GPU_MAX:
        return int(raw * _FACTORS[ram_unit]), raw, ram_unit
    unit = _magnitude_unit(raw)
    if local_total and (unit is None or not _within_2x(raw * _FACTORS[unit], local_total)):
        # At most one unit can agree: the units are 1024x apart, the window only 4x wide.
        agreeing = next((u for u in _FACTORS if _within_2x(raw * _FACTORS[u], local_total)), None)
        if agreeing is not None:
            warn(
                f"{what} {raw} read as {agreeing}, not {unit or 'by magnitude'}: "
                f"only that agrees with this machine's {local_total} bytes"
            )
            unit = agreeing
        elif unit is not None:
            warn(f"{what} {raw} {unit} is over 2x off this machine's {local_total} bytes; kept")
    if unit is None:
        warn(f"{what} {raw} is not a plausible size in GB, MB or bytes; ignored")
        return None, raw, None
    return int(raw * _FACTORS[unit]), raw, unit


def _dict(value: Any, what: str, warn: Callable[[str], None]) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    warn(f"{what} should be an object, got {_short(value)}; ignored")
    return {}


def _typed(value: Any, kind: type, what: str, warn: Callable[[str], None]) -> Any:
    if value is None or type(value) is kind:
        return value
    warn(f"{what} should be {kind.__name__}, got {_short(value)}; ignored")
    return None


def _gpu(obj: Any, i: int, ram_unit: str | None, warn: Callable[[str], None]) -> GPUInfo | None:
    what = f"gpus[{i}]"
    if not isinstance(obj, dict):
        warn(f"{what} should be an object, got {_short(obj)}; skipped")
        return None
    caps = _dict(obj.get("capabilities"), f"{what}.capabilities", warn)
    memory, raw, unit = _read_memory(obj.get("memory"), f"{what}.memory", warn, None, ram_unit)
    return GPUInfo(
        name=_typed(obj.get("name"), str, f"{what}.name", warn),
        memory=memory,
        memory_raw=raw,
        memory_unit=unit,
        shared_memory=_typed(obj.get("shared_memory"), bool, f"{what}.shared_memory", warn),
        llm=_typed(caps.get("llm"), bool, f"{what}.capabilities.llm", warn),
    )


def parse_device_info(body: Any, local_total: int | None = None) -> DeviceInfo:
    """Parse a ``GET /os/device/information`` body. Never raises.

    Any missing or malformed field becomes None (a GPU that is not an object is skipped), with a
    warning in ``DeviceInfo.warnings`` and one summary on the ``pieces_widgets`` logger.
    `local_total` is this machine's total memory in bytes (see `local_memory`); pass it only when
    Pieces OS runs on this machine (a loopback URL).
    """
    warnings: list[str] = []
    warn = warnings.append
    top = _dict(body, "device information", warn)
    hardware = _dict(top.get("hardware"), "hardware", warn)
    ram_obj = _dict(hardware.get("ram"), "hardware.ram", warn)
    ram, ram_raw, ram_unit = _read_memory(ram_obj.get("memory"), "RAM", warn, local_total)
    gpus_raw = hardware.get("gpus")
    if not isinstance(gpus_raw, list):
        if gpus_raw is not None:
            warn(f"hardware.gpus should be a list, got {_short(gpus_raw)}; ignored")
        gpus_raw = []
    gpus = [_gpu(g, i, ram_unit, warn) for i, g in enumerate(gpus_raw)]
    info = DeviceInfo(
        name=_typed(top.get("name"), str, "name", warn),
        version=_typed(top.get("version"), str, "version", warn),
        ram=ram,
        ram_raw=ram_raw,
        ram_unit=ram_unit,
        gpus=tuple(g for g in gpus if g is not None),
        warnings=tuple(warnings),
    )
    if warnings:
        log.warning("device information: %s", "; ".join(warnings))
    return info


def local_memory(sysconf: Callable[[str], int] | None = None) -> int | None:
    """This machine's total physical memory in bytes, or None where the OS does not say.

    `sysconf` defaults to `os.sysconf` (absent on Windows: None); tests inject their own.
    """
    if sysconf is None:
        if not hasattr(os, "sysconf"):  # pragma: no cover - Windows
            return None
        sysconf = os.sysconf
    try:
        pages = sysconf("SC_PHYS_PAGES")
        page_size = sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None
    if type(pages) is not int or type(page_size) is not int or pages <= 0 or page_size <= 0:
        return None
    return pages * page_size


def memory_pool(device: DeviceInfo | None, local_total: int | None = None) -> int | None:
    """The memory a model can be loaded into, in bytes, before the usable fraction.

    - RAM is the server's figure, else `local_total` (this machine's memory: Pieces OS runs on it).
    - Unified memory (a GPU with ``shared_memory``): RAM and VRAM are one pool, so the GPU figure
      is never added; it stands in for the RAM only when no RAM figure is known.
    - A discrete GPU that can run LLMs (``capabilities.llm``): the pool is the larger of RAM and
      that GPU's memory (the largest such GPU). Ollama can split a model between VRAM and RAM, but
      not the whole of both (the OS, the KV cache, and the slow split), so adding them would
      overstate; the larger one is what a model can surely fill. GPUs without ``llm: true`` or
      without a memory figure do not count.
    """
    ram = device.ram if device is not None and device.ram is not None else local_total
    if device is None:
        return ram or None
    if device.unified:
        shared = [g.memory for g in device.gpus if g.shared_memory is True and g.memory]
        return ram or max(shared, default=None)
    vram = [g.memory for g in device.gpus if g.llm is True and g.memory]
    return max([ram or 0, *vram]) or None


def usable_memory(
    device: DeviceInfo | None,
    usable_fraction: float = DEFAULT_USABLE_FRACTION,
    local_total: int | None = None,
) -> int | None:
    """What the machine can give a model, in bytes: `memory_pool` x `usable_fraction` (rounded
    down, never overstating). None when no figure is known.

    Raises ValueError unless ``0 < usable_fraction <= 1``.
    """
    if (
        type(usable_fraction) not in (int, float)
        or not math.isfinite(usable_fraction)
        or not 0 < usable_fraction <= 1
    ):
        raise ValueError(f"usable_fraction must be in (0, 1], got {usable_fraction!r}")
    pool = memory_pool(device, local_total)
    if pool is None:
        return None
    return math.floor(pool * usable_fraction)
