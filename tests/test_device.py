"""Device information: tolerant parsing, the unit of memory, and what a model can use."""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pieces_widgets.device import (
    DEFAULT_USABLE_FRACTION,
    DeviceInfo,
    GPUInfo,
    local_memory,
    memory_pool,
    parse_device_info,
    usable_memory,
)

GiB = 2**30
MiB = 2**20

SPEC_EXAMPLE = {
    "name": "studio",
    "version": "11.2.0",
    "hardware": {
        "cpus": [{"name": "cpu", "cores": 8, "clock_cycle_speed": 3.2, "shared_memory": False}],
        "gpus": [
            {
                "name": "RTX 4070",
                "memory": 8589934592,
                "shared_memory": False,
                "capabilities": {"llm": True},
            }
        ],
        "ram": {"memory": 17179869184, "speed": 4800, "type": "DDR5"},
    },
    "dependencies": {"vulkan": True},
}


def ram_body(memory: Any) -> dict[str, Any]:
    return {"hardware": {"ram": {"memory": memory}}}


def gpu_body(ram: Any, *gpus: dict[str, Any]) -> dict[str, Any]:
    return {"hardware": {"ram": {"memory": ram}, "gpus": list(gpus)}}


# --------------------------------------------------------------------------- parsing


def test_spec_example_parses_completely() -> None:
    info = parse_device_info(SPEC_EXAMPLE)
    assert info == DeviceInfo(
        name="studio",
        version="11.2.0",
        ram=16 * GiB,
        ram_raw=17179869184,
        ram_unit="bytes",
        gpus=(
            GPUInfo(
                name="RTX 4070",
                memory=8 * GiB,
                memory_raw=8589934592,
                memory_unit="bytes",
                shared_memory=False,
                llm=True,
            ),
        ),
        warnings=(),
    )
    assert info.unified is False


def test_clean_body_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        parse_device_info(SPEC_EXAMPLE)
    assert caplog.records == []


def test_problems_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        info = parse_device_info({"name": 3, "hardware": {"ram": {"memory": "16 GB"}}})
    assert len(info.warnings) == 2
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage() == f"device information: {'; '.join(info.warnings)}"


@pytest.mark.parametrize(
    ("raw", "ram", "unit"),
    [
        (4, 4 * GiB, "GB"),
        (16, 16 * GiB, "GB"),
        (15.5, int(15.5 * GiB), "GB"),
        (2048, 2048 * GiB, "GB"),
        (4096, 4 * GiB, "MB"),
        (16384, 16 * GiB, "MB"),
        (2_097_152, 2048 * GiB, "MB"),
        (4 * 10**9, 4 * 10**9, "bytes"),
        (17179869184, 16 * GiB, "bytes"),
        (22 * 10**11, 22 * 10**11, "bytes"),
        (17179869184.0, 16 * GiB, "bytes"),
    ],
)
def test_unit_by_magnitude(raw: float, ram: int, unit: str) -> None:
    info = parse_device_info(ram_body(raw))
    assert (info.ram, info.ram_raw, info.ram_unit, info.warnings) == (ram, raw, unit, ())
    assert type(info.ram) is int


@pytest.mark.parametrize(
    "raw", [3.99, 2048.5, 2049, 4095, 2_097_153, 4 * 10**9 - 1, 22 * 10**11 + 1, 1e-9, 1]
)
def test_implausible_magnitude_is_unknown_but_kept_raw(raw: float) -> None:
    info = parse_device_info(ram_body(raw))
    assert (info.ram, info.ram_raw, info.ram_unit) == (None, raw, None)
    assert info.warnings == (f"RAM {raw} is not a plausible size in GB, MB or bytes; ignored",)


@pytest.mark.parametrize(
    "raw", ["16", "16 GB", True, False, 0, -16, 0.0, math.nan, math.inf, -math.inf, [16], {"v": 1}]
)
def test_malformed_memory_is_none_with_a_warning(raw: Any) -> None:
    info = parse_device_info(ram_body(raw))
    assert (info.ram, info.ram_raw, info.ram_unit) == (None, None, None)
    assert info.warnings == (f"RAM should be a positive number, got {raw!r}; ignored",)


def test_missing_fields_are_none_without_warnings() -> None:
    for body in ({}, None, {"hardware": {}}, {"hardware": {"ram": {}}}, ram_body(None)):
        assert parse_device_info(body) == DeviceInfo()


@pytest.mark.parametrize(
    ("body", "warning"),
    [
        ("junk", "device information should be an object, got 'junk'; ignored"),
        ([1], "device information should be an object, got [1]; ignored"),
        ({"hardware": 5}, "hardware should be an object, got 5; ignored"),
        ({"hardware": {"ram": 16}}, "hardware.ram should be an object, got 16; ignored"),
        ({"hardware": {"gpus": {}}}, "hardware.gpus should be a list, got {}; ignored"),
        ({"hardware": {"gpus": [7]}}, "gpus[0] should be an object, got 7; skipped"),
        ({"name": 3}, "name should be str, got 3; ignored"),
        ({"version": 1.5}, "version should be str, got 1.5; ignored"),
    ],
)
def test_malformed_structure_warns_and_degrades(body: Any, warning: str) -> None:
    info = parse_device_info(body)
    assert info.warnings == (warning,)
    assert (info.ram, info.gpus, info.name, info.version) == (None, (), None, None)


def test_long_junk_is_shortened_in_warnings() -> None:
    exactly_40 = ["x" * 36]  # repr adds brackets and quotes: 40 characters, kept whole
    assert len(repr(exactly_40)) == 40
    assert parse_device_info({"name": exactly_40}).warnings == (
        f"name should be str, got {exactly_40!r}; ignored",
    )
    just_over = ["x" * 37]  # 41 characters: shortened to 39 and an ellipsis
    assert parse_device_info({"name": just_over}).warnings == (
        f"name should be str, got {repr(just_over)[:39]}…; ignored",
    )
    too_long = ["y" * 50]
    (warning,) = parse_device_info({"name": too_long}).warnings
    assert warning == f"name should be str, got {repr(too_long)[:39]}…; ignored"


def test_gpu_fields_and_bad_gpu_fields() -> None:
    body = gpu_body(
        16,
        {"name": 1, "memory": 8, "shared_memory": 1, "capabilities": {"llm": "yes"}},
        "not a gpu",
        {"name": "iGPU", "capabilities": []},
        {"memory": -1, "shared_memory": True, "capabilities": {"llm": False}},
    )
    info = parse_device_info(body)
    assert info.gpus == (
        GPUInfo(name=None, memory=8 * GiB, memory_raw=8, memory_unit="GB"),
        GPUInfo(name="iGPU"),
        GPUInfo(shared_memory=True, llm=False),
    )
    assert info.warnings == (
        "gpus[0].name should be str, got 1; ignored",
        "gpus[0].shared_memory should be bool, got 1; ignored",
        "gpus[0].capabilities.llm should be bool, got 'yes'; ignored",
        "gpus[1] should be an object, got 'not a gpu'; skipped",
        "gpus[2].capabilities should be an object, got []; ignored",
        "gpus[3].memory should be a positive number, got -1; ignored",
    )
    assert info.unified is True


@pytest.mark.parametrize(
    ("ram", "gpu", "memory", "unit"),
    [
        (16, 8, 8 * GiB, "GB"),  # same unit as the RAM
        (16, 2, 2 * GiB, "GB"),  # below the magnitude range, read like the RAM
        (16, 0.25, 256 * MiB, "GB"),  # the smallest plausible GPU in the RAM's unit
        (16, 2048, 2048 * GiB, "GB"),  # the largest one
        (16, 8192, 8 * GiB, "MB"),  # 8 TB as GB is implausible: the magnitude says MB
        (16384, 2048, 2 * GiB, "MB"),  # RAM in MB: 2048 is 2 GB, not 2 TB
        (16384, 256, 256 * MiB, "MB"),
        (17179869184, 2**28, 2**28, "bytes"),
        (17179869184, 8, 8 * GiB, "GB"),  # 8 bytes is implausible: magnitude
        (None, 8, 8 * GiB, "GB"),  # no RAM unit: magnitude
        (None, 8192, 8 * GiB, "MB"),
    ],
)
def test_gpu_unit(ram: Any, gpu: float, memory: int, unit: str) -> None:
    info = parse_device_info(gpu_body(ram, {"memory": gpu}))
    assert (info.gpus[0].memory, info.gpus[0].memory_raw, info.gpus[0].memory_unit) == (
        memory,
        gpu,
        unit,
    )
    assert info.warnings == ()


@pytest.mark.parametrize(("ram", "gpu"), [(17179869184, 2**28 - 1), (16, 2049), (None, 2)])
def test_implausible_gpu_memory_is_unknown(ram: Any, gpu: float) -> None:
    info = parse_device_info(gpu_body(ram, {"memory": gpu}))
    assert (info.gpus[0].memory, info.gpus[0].memory_raw, info.gpus[0].memory_unit) == (
        None,
        gpu,
        None,
    )
    assert info.warnings == (
        f"gpus[0].memory {gpu} is not a plausible size in GB, MB or bytes; ignored",
    )


def test_gpu_memory_is_not_cross_checked_with_local_ram() -> None:
    info = parse_device_info(gpu_body(None, {"memory": 48}), local_total=16 * GiB)
    assert (info.gpus[0].memory, info.warnings) == (48 * GiB, ())


def test_unified_needs_a_shared_gpu() -> None:
    assert DeviceInfo(gpus=(GPUInfo(shared_memory=False), GPUInfo())).unified is False
    assert DeviceInfo().unified is False
    assert DeviceInfo(gpus=(GPUInfo(), GPUInfo(shared_memory=True))).unified is True


# --------------------------------------------------------------------------- local cross-check


@pytest.mark.parametrize(
    ("raw", "local"),
    [
        (16, 16 * GiB),
        (16, 8 * GiB),  # exactly 2x the local figure still agrees
        (16, 32 * GiB),  # exactly half still agrees
        (16384, 15 * GiB),
        (17179869184, 16 * GiB),
        (2048, 0),  # no local figure: no cross-check
        (2048, None),
    ],
)
def test_agreeing_magnitude_is_kept_silently(raw: float, local: int | None) -> None:
    plain = parse_device_info(ram_body(raw))
    checked = parse_device_info(ram_body(raw), local_total=local)
    assert checked == plain
    assert checked.warnings == ()


@pytest.mark.parametrize(("raw", "local"), [(16, 8 * GiB - 1), (16, 32 * GiB + 2)])
def test_disagreeing_magnitude_without_alternative_is_kept_with_a_warning(
    raw: float, local: int
) -> None:
    info = parse_device_info(ram_body(raw), local_total=local)
    assert (info.ram, info.ram_unit) == (16 * GiB, "GB")
    assert info.warnings == (f"RAM 16 GB is over 2x off this machine's {local} bytes; kept",)


@pytest.mark.parametrize(
    ("raw", "local", "ram", "unit", "instead"),
    [
        (2048, 2 * GiB, 2 * GiB, "MB", "GB"),  # 2 TB by magnitude, 2 GB here: MB
        (4096, 4 * 10**12, 4096 * GiB, "GB", "MB"),  # a 4 TB machine beyond the GB range
        (8192, 8 * 10**12, 8192 * GiB, "GB", "MB"),
        (3000, 3 * GiB, 3000 * MiB, "MB", "by magnitude"),  # in the gap between GB and MB
        (3.8, 4 * GiB, int(3.8 * GiB), "GB", "by magnitude"),  # below the GB range
        (3_900_000_000, 4 * GiB, 3_900_000_000, "bytes", "by magnitude"),
    ],
)
def test_local_figure_picks_the_agreeing_unit(
    raw: float, local: int, ram: int, unit: str, instead: str
) -> None:
    info = parse_device_info(ram_body(raw), local_total=local)
    assert (info.ram, info.ram_raw, info.ram_unit) == (ram, raw, unit)
    assert info.warnings == (
        f"RAM {raw} read as {unit}, not {instead}: only that agrees with this machine's "
        f"{local} bytes",
    )


def test_gap_value_without_agreement_stays_unknown() -> None:
    info = parse_device_info(ram_body(3000), local_total=100 * GiB)
    assert (info.ram, info.ram_raw, info.ram_unit) == (None, 3000, None)
    assert info.warnings == ("RAM 3000 is not a plausible size in GB, MB or bytes; ignored",)


def test_corrected_ram_unit_guides_the_gpu() -> None:
    info = parse_device_info(gpu_body(2048, {"memory": 1024}), local_total=2 * GiB)
    assert info.ram_unit == "MB"
    assert (info.gpus[0].memory, info.gpus[0].memory_unit) == (1 * GiB, "MB")


# --------------------------------------------------------------------------- local_memory


def test_local_memory_multiplies_pages_by_page_size() -> None:
    values = {"SC_PHYS_PAGES": 4_000_000, "SC_PAGE_SIZE": 4096}
    asked: list[str] = []

    def sysconf(name: str) -> int:
        asked.append(name)
        return values[name]

    assert local_memory(sysconf) == 4_000_000 * 4096
    assert sorted(asked) == ["SC_PAGE_SIZE", "SC_PHYS_PAGES"]


@pytest.mark.parametrize("error", [ValueError("unknown name"), OSError("unsupported")])
def test_local_memory_is_none_when_the_os_refuses(error: Exception) -> None:
    def sysconf(name: str) -> int:
        raise error

    assert local_memory(sysconf) is None


@pytest.mark.parametrize(
    ("pages", "size"), [(0, 4096), (100, 0), (-1, 4096), (100, -4096), (1.5, 4096), (100, "4k")]
)
def test_local_memory_is_none_for_nonsense(pages: Any, size: Any) -> None:
    values = {"SC_PHYS_PAGES": pages, "SC_PAGE_SIZE": size}
    assert local_memory(values.__getitem__) is None


def test_local_memory_of_this_machine() -> None:
    expected = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert local_memory() == expected
    assert expected > 0


def test_local_memory_on_one_page() -> None:
    values = {"SC_PHYS_PAGES": 1, "SC_PAGE_SIZE": 1}
    assert local_memory(values.__getitem__) == 1


# --------------------------------------------------------------------------- memory_pool


def gpu(memory: int | None, *, llm: bool | None = None, shared: bool | None = None) -> GPUInfo:
    return GPUInfo(memory=memory, llm=llm, shared_memory=shared)


def device(ram: int | None, *gpus: GPUInfo) -> DeviceInfo:
    return DeviceInfo(ram=ram, gpus=gpus)


@pytest.mark.parametrize(
    ("info", "local", "pool"),
    [
        (None, 16 * GiB, 16 * GiB),  # no device information: this machine
        (None, None, None),
        (None, 0, None),
        (device(None), 8 * GiB, 8 * GiB),  # malformed RAM: this machine
        (device(None), None, None),
        (device(32 * GiB), 8 * GiB, 32 * GiB),  # the server's figure wins
        (device(32 * GiB), None, 32 * GiB),
        # unified memory: one pool, the GPU is never added nor preferred
        (device(16 * GiB, gpu(12 * GiB, llm=True, shared=True)), None, 16 * GiB),
        (device(16 * GiB, gpu(64 * GiB, llm=True, shared=True)), None, 16 * GiB),
        (device(16 * GiB, gpu(64 * GiB, shared=True), gpu(80 * GiB, llm=True)), None, 16 * GiB),
        (device(None, gpu(12 * GiB, shared=True)), 8 * GiB, 8 * GiB),
        (device(None, gpu(12 * GiB, shared=True), gpu(24 * GiB, shared=True)), None, 24 * GiB),
        (device(None, gpu(None, shared=True), gpu(80 * GiB, llm=True)), None, None),
        # discrete GPUs: the larger of RAM and the largest LLM-capable GPU
        (device(16 * GiB, gpu(24 * GiB, llm=True, shared=False)), None, 24 * GiB),
        (device(16 * GiB, gpu(8 * GiB, llm=True)), None, 16 * GiB),
        (device(16 * GiB, gpu(16 * GiB, llm=True)), None, 16 * GiB),
        (device(16 * GiB, gpu(24 * GiB, llm=False)), None, 16 * GiB),
        (device(16 * GiB, gpu(24 * GiB)), None, 16 * GiB),
        (device(16 * GiB, gpu(None, llm=True)), None, 16 * GiB),
        (device(16 * GiB, gpu(24 * GiB, llm=True), gpu(48 * GiB, llm=True)), None, 48 * GiB),
        (device(16 * GiB, gpu(48 * GiB, llm=True), gpu(24 * GiB, llm=True)), None, 48 * GiB),
        (device(None, gpu(24 * GiB, llm=True)), 8 * GiB, 24 * GiB),
        (device(None, gpu(24 * GiB, llm=True)), None, 24 * GiB),
        (device(None, gpu(24 * GiB, llm=False)), None, None),
        (device(None, gpu(24 * GiB)), 0, None),
    ],
)
def test_memory_pool(info: DeviceInfo | None, local: int | None, pool: int | None) -> None:
    assert memory_pool(info, local) == pool


def test_memory_pool_from_parsed_bodies() -> None:
    assert memory_pool(parse_device_info(SPEC_EXAMPLE)) == 16 * GiB
    mac = gpu_body(32, {"memory": 32, "shared_memory": True, "capabilities": {"llm": True}})
    assert memory_pool(parse_device_info(mac)) == 32 * GiB
    rig = gpu_body(32, {"memory": 48, "capabilities": {"llm": True}})
    assert memory_pool(parse_device_info(rig)) == 48 * GiB
    assert memory_pool(parse_device_info("junk"), local_total=12 * GiB) == 12 * GiB


# --------------------------------------------------------------------------- usable_memory


def test_default_fraction_is_eight_tenths() -> None:
    assert DEFAULT_USABLE_FRACTION == 0.8
    assert usable_memory(device(16 * GiB)) == math.floor(16 * GiB * 0.8)
    assert usable_memory(device(10)) == 8


@pytest.mark.parametrize(
    ("pool", "fraction", "usable"),
    [(10, 1, 10), (10, 1.0, 10), (10, 0.55, 5), (7, 0.8, 5), (10, 0.5, 5), (1, 0.01, 0)],
)
def test_usable_is_rounded_down(pool: int, fraction: float, usable: int) -> None:
    assert usable_memory(device(pool), fraction) == usable


def test_usable_falls_back_to_this_machine() -> None:
    assert usable_memory(None, 0.5, local_total=16 * GiB) == 8 * GiB
    assert usable_memory(device(None), 0.5, 16 * GiB) == 8 * GiB
    assert usable_memory(None) is None
    assert usable_memory(device(None), 0.5) is None


@pytest.mark.parametrize(
    "fraction", [0, 0.0, -0.5, 1.0000001, 2, math.nan, math.inf, True, "0.8", None]
)
def test_usable_fraction_must_be_in_zero_one(fraction: Any) -> None:
    with pytest.raises(ValueError, match=r"usable_fraction must be in \(0, 1\], got"):
        usable_memory(device(16 * GiB), fraction)
    with pytest.raises(ValueError):
        usable_memory(None, fraction)  # checked even when nothing is known


def test_tiny_fraction_is_allowed() -> None:
    assert usable_memory(device(10**12), 1e-12) == 1


# --------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "hardware",
                    "ram",
                    "gpus",
                    "memory",
                    "name",
                    "capabilities",
                    "llm",
                    "shared_memory",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
PROPS = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FACTORS = {"GB": GiB, "MB": MiB, "bytes": 1}


@PROPS
@given(body=json_values, local=st.none() | st.integers(min_value=0, max_value=2**45))
def test_any_json_parses_without_raising(body: Any, local: int | None) -> None:
    info = parse_device_info(body, local_total=local)
    assert info.ram_unit in (None, "GB", "MB", "bytes")
    if info.ram is not None:
        assert info.ram > 0
        assert info.ram == int(info.ram_raw * FACTORS[info.ram_unit])
    pool = memory_pool(info, local)
    assert pool is None or pool > 0
    usable = usable_memory(info, 0.8, local)
    assert (usable is None) == (pool is None)


@PROPS
@given(
    raw=st.floats(min_value=1, max_value=3e12, allow_nan=False),
    local=st.integers(min_value=GiB, max_value=2**41),
)
def test_a_local_figure_is_honoured_when_a_unit_agrees(raw: float, local: int) -> None:
    info = parse_device_info(ram_body(raw), local_total=local)
    agreeing = [u for u, f in FACTORS.items() if local / 2 <= raw * f <= local * 2]
    if agreeing:
        assert info.ram_unit == agreeing[0]
