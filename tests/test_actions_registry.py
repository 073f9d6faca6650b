"""The one action registry (pieces_widgets/_commands.py) agrees with the frontend and routes.

The frontend's `WIRE_ACTIONS` in js/src/actions.js is the list of commands it may send; the
Python registry is the list the widget understands. They are compared here, as text, so adding an
action on one side only fails this test instead of a click in a notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pieces_widgets import ModelManager
from pieces_widgets._commands import (
    ACTION_LABELS,
    ACTIONS,
    BY_WIRE,
    ID_LESS,
    WIRE_ACTIONS,
    ActionError,
    friendly,
    route,
)
from pieces_widgets.errors import ModelNotFound, PiecesAPIError, PiecesTimeout, PiecesUnavailable

ROOT = Path(__file__).resolve().parent.parent
ACTIONS_JS = ROOT / "js" / "src" / "actions.js"
LITERAL = re.compile(r"export\s+const\s+WIRE_ACTIONS\s*=\s*(\[[^\]]*\])\s*;")


def frontend_wire_actions() -> list[str]:
    match = LITERAL.search(ACTIONS_JS.read_text(encoding="utf-8"))
    assert match, "js/src/actions.js has no `export const WIRE_ACTIONS = [...]` literal"
    return json.loads(match.group(1))  # a list of double-quoted strings is valid JSON


@pytest.mark.skipif(
    not ACTIONS_JS.parent.is_dir(), reason="js/src is not part of this installation"
)
def test_frontend_sends_exactly_the_actions_python_routes():
    assert frontend_wire_actions() == list(WIRE_ACTIONS)


def test_registry_is_consistent():
    names = [a.name for a in ACTIONS]
    wires = [a.wire for a in ACTIONS]
    assert len(set(names)) == len(names) and len(set(wires)) == len(wires)
    for action in ACTIONS:
        assert action.wire == action.name.replace("_", "-")
        twin = getattr(ModelManager, action.twin)
        assert callable(twin), action
        assert ACTION_LABELS[action.name] == action.label
    assert sorted(ID_LESS) == [
        "create", "install-runtime", "plan-cleanup", "refresh", "retry", "unload-all",
        "update-runtime",
    ]  # fmt: skip
    assert [a.wire for a in ACTIONS if a.cancellable] == ["download"]
    # Labels the buttons and the error sentences have always used.
    assert (
        ACTION_LABELS["delete_cache"] == "Delete cache" and ACTION_LABELS["create"] == "Add model"
    )
    assert ACTION_LABELS["update"] == "Edit" and ACTION_LABELS["unload_all"] == "Unload all"


def test_friendly_reads_labels_from_the_registry():
    assert friendly("delete_cache", PiecesTimeout("slow"), 2.5) == (
        "Delete cache failed: the server did not answer within 2.5 s. Try again."
    )
    assert friendly("update", ModelNotFound("m1"), 10) == (
        "Edit failed: this model is no longer on the server (410). The list was refreshed."
    )
    assert friendly("load", PiecesAPIError(500, "GPU\n on   fire"), 10) == (
        "Load failed: the server answered 500: GPU on fire"
    )
    assert friendly("unload_all", PiecesUnavailable(), 10) == (
        "Unload all failed: lost the connection to Pieces OS."
    )
    assert friendly("mystery", ValueError("x"), 10) == "mystery failed: unexpected ValueError: x"


class Recorder:
    """Stands in for a ModelManager: records which twin a command reached, with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str):
        def twin(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return name

        return twin


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.wire)
def test_each_command_reaches_its_twin(action):
    rec = Recorder()
    content = {"type": "action", "action": action.wire, "id": "m1", "fields": {"name": " N "}}
    route(rec, content)
    expected_args: tuple = ("m1",) if action.needs_id else ()
    expected_kwargs = {"name": "N"} if action.form == "update" else {}
    if action.form == "create":
        expected_args = ("N",)
    assert rec.calls == [(action.twin, expected_args, expected_kwargs)]


def test_routing_refuses_bad_commands():
    rec = Recorder()
    assert route(rec, {"type": "other", "action": "load"}) is None
    assert route(rec, "load") is None
    with pytest.raises(ActionError, match="unknown action 'explode'"):
        route(rec, {"type": "action", "action": "explode"})
    for wire in sorted(set(BY_WIRE) - ID_LESS):
        with pytest.raises(ActionError, match="needs a model id"):
            route(rec, {"type": "action", "action": wire, "id": 7})
    with pytest.raises(ActionError, match="needs a name"):
        route(rec, {"type": "action", "action": "create", "fields": {"name": "  "}})
    assert rec.calls == []
    route(rec, {"type": "action", "action": "update", "id": "m1", "fields": {"unique": ""}})
    assert rec.calls == [("update_model", ("m1",), {"unique": None})]


def test_bulk_ids_unload_first_and_free_reach_the_twins():
    rec = Recorder()
    route(rec, {"type": "action", "action": "delete-cache", "ids": ["a", "b"]})
    route(rec, {"type": "action", "action": "download", "ids": ["a"], "unload_first": False})
    route(rec, {"type": "action", "action": "unload", "ids": []})
    route(rec, {"type": "action", "action": "load", "id": "m1", "unload_first": True})
    route(rec, {"type": "action", "action": "plan-cleanup", "free": "10 GB"})
    assert rec.calls == [
        ("delete_cache", (["a", "b"],), {}),
        ("download", (["a"],), {"unload_first": False}),
        ("unload", ([],), {}),
        ("load", ("m1",), {"unload_first": True}),
        ("_plan_cleanup", (), {"free": "10 GB"}),
    ]
    assert [a.wire for a in ACTIONS if a.bulk] == [
        "download", "cancel", "load", "unload", "delete", "delete-cache",
    ]  # fmt: skip
    for bad in ("a", [1], {"a": 1}):
        with pytest.raises(ActionError, match="needs `ids` as a list"):
            route(rec, {"type": "action", "action": "unload", "ids": bad})
    with pytest.raises(ActionError, match="needs a model id"):  # `ids` only where bulk works
        route(rec, {"type": "action", "action": "update", "ids": ["a"]})
    assert len(rec.calls) == 5


def test_runtime_commands_have_their_labels_and_take_no_id():
    assert ACTION_LABELS["install_runtime"] == "Install runtime"
    assert ACTION_LABELS["update_runtime"] == "Update runtime"
    assert list(WIRE_ACTIONS[-3:]) == ["install-runtime", "update-runtime", "plan-cleanup"]
    rec = Recorder()
    route(rec, {"type": "action", "action": "install-runtime", "id": "ignored"})
    route(rec, {"type": "action", "action": "update-runtime"})
    assert rec.calls == [("install_runtime", (), {}), ("update_runtime", (), {})]
    assert friendly("install_runtime", PiecesUnavailable(), 10) == (
        "Install runtime failed: lost the connection to Pieces OS."
    )
