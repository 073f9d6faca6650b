"""The runtime (Ollama) status parser: tolerant reads, derived state and the error text.

Pure functions only (no server): the widget's badge and its early refusal of a local download
rest on `RuntimeStatus.state`, `percentage`, `attempt` and `error`, so each is pinned here.
"""

from __future__ import annotations

import logging
import math

import pytest

from pieces_widgets.runtime import (
    Deployment,
    RuntimeStatus,
    attempt_error,
    parse_deployment,
    parse_runtime_status,
)


def dep(status: str | None, pct: float | None = None, version: str | None = None) -> Deployment:
    return Deployment(version=version, status=status, percentage=pct)


# --- Deployment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "running", "bad"),
    [
        ("INITIALIZED", True, False),
        ("IN-PROGRESS", True, False),
        ("COMPLETED", False, False),
        ("FAILED", False, True),
        ("CANCELED", False, True),
        ("RESET", False, False),
        (None, False, False),
    ],
)
def test_deployment_running_and_ended_badly(status, running, bad):
    d = dep(status)
    assert d.running is running
    assert d.ended_badly is bad


def test_a_deployment_defaults_to_all_unknown():
    d = Deployment()
    assert (d.version, d.id, d.status, d.percentage, d.user_managed) == (None,) * 5


# --- parse_deployment ---------------------------------------------------------------------


def test_parse_deployment_reads_every_field_and_upper_cases_the_status():
    warnings: list[str] = []
    d = parse_deployment(
        {
            "version": "0.5.4",
            "id": "abc",
            "status": "in-progress",
            "percentage": 42.5,
            "userManaged": False,
        },
        warnings,
        "installing",
    )
    assert d == Deployment("0.5.4", "abc", "IN-PROGRESS", 42.5, False)
    assert warnings == []


def test_parse_deployment_accepts_an_int_percentage_and_the_bounds():
    assert parse_deployment({"percentage": 0}).percentage == 0
    assert parse_deployment({"percentage": 100}).percentage == 100
    assert parse_deployment({"percentage": 100.0}).percentage == 100.0


@pytest.mark.parametrize("pct", [-0.5, 100.5, 101, math.inf, -math.inf, math.nan])
def test_parse_deployment_drops_a_percentage_outside_0_100(pct):
    warnings: list[str] = []
    d = parse_deployment({"percentage": pct, "status": "IN-PROGRESS"}, warnings, "updating")
    assert d.percentage is None
    assert d.status == "IN-PROGRESS"
    assert warnings == [f"updating.percentage should be within 0-100, got {pct!r}; ignored"]


def test_parse_deployment_warns_per_field_of_the_wrong_type():
    warnings: list[str] = []
    d = parse_deployment(
        {"version": 5, "id": ["x"], "status": 3, "percentage": "40", "userManaged": "yes"},
        warnings,
        "installation",
    )
    assert d == Deployment()
    assert warnings == [
        "installation.percentage should be int, got '40'; ignored",
        "installation.status should be str, got 3; ignored",
        "installation.version should be str, got 5; ignored",
        "installation.id should be str, got ['x']; ignored",
        "installation.userManaged should be bool, got 'yes'; ignored",
    ]


def test_a_bool_is_no_percentage_and_an_int_is_no_bool():
    warnings: list[str] = []
    d = parse_deployment({"percentage": True, "userManaged": 1}, warnings)
    assert d.percentage is None and d.user_managed is None
    assert warnings == [
        "percentage should be int, got True; ignored",
        "userManaged should be bool, got 1; ignored",
    ]


def test_parse_deployment_of_a_non_object_gives_all_none():
    warnings: list[str] = []
    assert parse_deployment([1, 2], warnings, "updating") == Deployment()
    assert parse_deployment("x", warnings) == Deployment()
    assert warnings == [
        "updating should be an object, got [1, 2]; ignored",
        "deployment should be an object, got 'x'; ignored",
    ]


def test_parse_deployment_without_a_warnings_list_never_raises():
    assert parse_deployment(7) == Deployment()
    assert parse_deployment({"status": 1, "percentage": 500}) == Deployment()


def test_an_empty_status_is_unknown():
    assert parse_deployment({"status": ""}).status is None


def test_long_values_are_shortened_in_warnings():
    def warned(value):
        warnings: list[str] = []
        parse_deployment({"version": value}, warnings)
        return warnings[0].removeprefix("version should be str, got ").removesuffix("; ignored")

    forty, forty_one = 10**39, 10**40  # reprs of 40 and 41 characters
    assert warned(forty) == repr(forty)
    assert warned(forty_one) == repr(forty_one)[:39] + "…"
    assert warned(["v" * 100]) == repr(["v" * 100])[:39] + "…"


# --- parse_runtime_status -----------------------------------------------------------------


def test_parse_runtime_status_reads_every_part():
    s = parse_runtime_status(
        {
            "installation": {"version": "0.5.4", "status": "COMPLETED"},
            "installing": {"status": "FAILED", "percentage": 10},
            "updating": {"status": "INITIALIZED", "percentage": 0},
            "updateRequired": {"version": "0.6.0"},
            "recommendation": {"inference": True},
        }
    )
    assert s.installation == Deployment(version="0.5.4", status="COMPLETED")
    assert s.installing == Deployment(status="FAILED", percentage=10)
    assert s.updating == Deployment(status="INITIALIZED", percentage=0)
    assert s.update_required == Deployment(version="0.6.0")
    assert s.inference is True
    assert s.warnings == ()


def test_parse_runtime_status_of_an_empty_body():
    s = parse_runtime_status({})
    assert s == RuntimeStatus()
    assert s.state == "missing"


def test_parse_runtime_status_of_a_non_object_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        s = parse_runtime_status(["x"])
    assert s.installation is None and s.state == "missing"
    assert s.warnings == ("runtime status should be an object, got ['x']; ignored",)
    assert [r.getMessage() for r in caplog.records] == [
        "runtime status: runtime status should be an object, got ['x']; ignored"
    ]


def test_parse_runtime_status_drops_parts_that_are_not_objects(caplog):
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        s = parse_runtime_status(
            {"installation": "yes", "installing": 3, "updating": None, "updateRequired": []}
        )
    assert (s.installation, s.installing, s.updating, s.update_required) == (None,) * 4
    assert s.warnings == (
        "installation should be an object, got 'yes'; ignored",
        "installing should be an object, got 3; ignored",
        "updateRequired should be an object, got []; ignored",
    )
    assert caplog.records[0].getMessage() == "runtime status: " + "; ".join(s.warnings)


def test_a_well_formed_status_logs_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        parse_runtime_status({"installation": {"status": "COMPLETED"}})
    assert caplog.records == []


def test_field_warnings_name_their_part():
    s = parse_runtime_status({"updating": {"percentage": 300}})
    assert s.updating == Deployment()
    assert s.warnings == ("updating.percentage should be within 0-100, got 300; ignored",)


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        ({"inference": False}, False),
        ({"inference": 1}, None),
        ("x", None),
        (None, None),
        ({}, None),
    ],
)
def test_inference_is_a_bool_or_unknown(rec, expected):
    assert parse_runtime_status({"recommendation": rec}).inference is expected


# --- RuntimeStatus derived values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "installed"),
    [("COMPLETED", True), (None, True), ("FAILED", False), ("CANCELED", False), ("RESET", False)],
)
def test_installed_unless_the_installation_is_gone(status, installed):
    s = RuntimeStatus(installation=dep(status, version="1.0"))
    assert s.installed is installed
    assert s.state == ("installed" if installed else "missing")
    assert s.version == ("1.0" if installed else None)


def test_no_installation_is_missing():
    s = RuntimeStatus()
    assert s.installed is False and s.state == "missing" and s.version is None


def test_state_order_installing_before_updating_before_update_required():
    done = dep("COMPLETED", version="1")
    assert RuntimeStatus(installation=done, update_required=dep(None)).state == "update-required"
    assert (
        RuntimeStatus(installation=done, updating=dep("IN-PROGRESS"), update_required=dep(None))
    ).state == "updating"
    assert (
        RuntimeStatus(installing=dep("INITIALIZED"), updating=dep("IN-PROGRESS"))
    ).state == "installing"
    assert RuntimeStatus(updating=dep("IN-PROGRESS")).state == "updating"
    # attempts that ended do not count as running
    assert RuntimeStatus(installing=dep("FAILED")).state == "missing"
    assert RuntimeStatus(installation=done, updating=dep("COMPLETED")).state == "installed"
    assert RuntimeStatus(update_required=dep(None)).state == "missing"


def test_percentage_only_while_an_attempt_runs():
    assert RuntimeStatus(installing=dep("IN-PROGRESS", 40)).percentage == 40
    assert RuntimeStatus(updating=dep("INITIALIZED", 5)).percentage == 5
    assert RuntimeStatus(installing=dep("FAILED", 40)).percentage is None
    assert RuntimeStatus().percentage is None


def test_attempt_prefers_a_running_one_then_the_latest():
    inst, upd = dep("FAILED", 10), dep("IN-PROGRESS", 20)
    assert RuntimeStatus(installing=inst, updating=upd).attempt is upd
    running = dep("IN-PROGRESS", 30)
    assert RuntimeStatus(installing=running, updating=upd).attempt is running
    ended = dep("COMPLETED")
    assert RuntimeStatus(installing=inst, updating=ended).attempt is inst
    assert RuntimeStatus(updating=ended).attempt is ended
    assert RuntimeStatus().attempt is None


def test_error_names_the_attempt_that_ended_badly():
    assert RuntimeStatus(installing=dep("FAILED", 40)).error == (
        "The runtime install failed at 40 %."
    )
    assert RuntimeStatus(updating=dep("CANCELED")).error == "The runtime update was cancelled."
    both = RuntimeStatus(installing=dep("CANCELED", 3), updating=dep("FAILED"))
    assert both.error == "The runtime install was cancelled at 3 %."
    assert RuntimeStatus(installing=dep("IN-PROGRESS"), updating=dep("FAILED")).error == (
        "The runtime update failed."
    )
    assert RuntimeStatus(installing=dep("COMPLETED")).error is None
    assert RuntimeStatus().error is None


def test_attempt_error_uses_the_last_percentage_seen():
    assert attempt_error("install", dep("FAILED"), 55.4) == "The runtime install failed at 55 %."
    assert attempt_error("update", dep("FAILED", 20), 70) == "The runtime update failed at 20 %."
    assert attempt_error("update", dep("CANCELED"), 0) == "The runtime update was cancelled."
    assert attempt_error("install", dep("FAILED", 0.4)) == "The runtime install failed at 0 %."
    assert attempt_error("install", dep("FAILED", 0)) == "The runtime install failed."
    assert attempt_error("install", dep(None)) == "The runtime install failed."
