"""The action registry's pure parts, pinned exactly: the derived tables, friendly(), route()
and form_fields().

route() needs a target: `Recorder` stands in for a ModelManager and only records which twin a
command reached with which arguments (the registry is what is under test, not the manager).
"""

from __future__ import annotations

import math

import pytest

from pieces_widgets._commands import (
    ACTION_LABELS,
    ACTIONS,
    BY_NAME,
    BY_WIRE,
    ID_LESS,
    WIRE_ACTIONS,
    Action,
    ActionError,
    ManagerClosed,
    form_fields,
    friendly,
    route,
)
from pieces_widgets.errors import (
    ModelNotFound,
    PiecesAPIError,
    PiecesError,
    PiecesTimeout,
    PiecesUnavailable,
)

NO = (False, False, None, False)  # needs_id, cancellable, form, bulk
# name, wire, label, twin, needs_id, cancellable, form, bulk, options
TABLE = [
    ("refresh", "refresh", "Refresh", "refresh", False, False, None, False, ()),
    ("retry", "retry", "Retry", "retry", False, False, None, False, ()),
    ("download", "download", "Download", "download", True, True, None, True, ("unload_first",)),
    ("cancel", "cancel", "Cancel", "cancel", True, False, None, True, ()),
    ("load", "load", "Load", "load", True, False, None, True, ("unload_first",)),
    ("unload", "unload", "Unload", "unload", True, False, None, True, ()),
    ("delete", "delete", "Delete", "delete", True, False, None, True, ()),
    ("delete_cache", "delete-cache", "Delete cache", "delete_cache", True, False, None, True, ()),
    ("unload_all", "unload-all", "Unload all", "unload_all", False, False, None, False, ()),
    ("create", "create", "Add model", "create_model", False, False, "create", False, ()),
    ("update", "update", "Edit", "update_model", True, False, "update", False, ()),
    ("dismiss_error", "dismiss-error", "Dismiss", "_dismiss_error", True, False, None, False, ()),
    ("install_runtime", "install-runtime", "Install runtime", "install_runtime", *NO, ()),
    ("update_runtime", "update-runtime", "Update runtime", "update_runtime", *NO, ()),
    ("plan_cleanup", "plan-cleanup", "Free space", "_plan_cleanup", *NO, ("free",)),
]


def test_every_action_is_exactly_as_registered():
    assert [Action(*row) for row in TABLE] == list(ACTIONS)


def test_the_derived_tables():
    assert {a.name: a for a in ACTIONS} == BY_NAME and list(BY_NAME) == [r[0] for r in TABLE]
    assert {a.wire: a for a in ACTIONS} == BY_WIRE and list(BY_WIRE) == [r[1] for r in TABLE]
    assert {r[0]: r[2] for r in TABLE} == ACTION_LABELS
    assert tuple(r[1] for r in TABLE) == WIRE_ACTIONS
    assert {
        "refresh", "retry", "unload-all", "create", "install-runtime", "update-runtime",
        "plan-cleanup",
    } == ID_LESS  # fmt: skip


def test_action_defaults():
    a = Action("n", "w", "L", "t", needs_id=False)
    assert (a.cancellable, a.form, a.bulk, a.options) == (False, None, False, ())


def test_errors_are_pieces_errors():
    assert issubclass(ActionError, PiecesError)
    assert issubclass(ManagerClosed, ActionError) and issubclass(ManagerClosed, RuntimeError)


# --- friendly -----------------------------------------------------------------------------


def test_friendly_sentences():
    assert friendly("delete", ModelNotFound("m1"), 10) == (
        "Delete failed: this model is no longer on the server (410). The list was refreshed."
    )
    assert friendly("load", PiecesTimeout("x"), 10.0) == (
        "Load failed: the server did not answer within 10 s. Try again."
    )
    assert friendly("load", PiecesTimeout("x"), 0.25) == (
        "Load failed: the server did not answer within 0.25 s. Try again."
    )
    assert friendly("retry", PiecesUnavailable(), 1) == (
        "Retry failed: lost the connection to Pieces OS."
    )
    assert friendly("download", PiecesAPIError(503, ""), 1) == (
        "Download failed: the server answered 503."
    )
    assert friendly("download", PiecesAPIError(503, "   \n "), 1) == (
        "Download failed: the server answered 503."
    )
    assert friendly("download", PiecesAPIError(400, " bad\tinput \n here "), 1) == (
        "Download failed: the server answered 400: bad input here"
    )


def test_friendly_clips_the_server_text_to_300_characters():
    text = friendly("delete", PiecesAPIError(500, "a b " * 200), 1)
    body = text.removeprefix("Delete failed: the server answered 500: ")
    assert len(body) == 300 and body == ("a b " * 200)[:300]


def test_friendly_for_other_pieces_errors_reads_the_first_line():
    assert friendly("refresh", PiecesError("first\nsecond"), 1) == "Refresh failed: first"
    assert friendly("refresh", PiecesError(""), 1) == "Refresh failed: PiecesError"
    assert friendly("cancel", ActionError("no"), 1) == "Cancel failed: no"


def test_friendly_for_anything_else_names_the_type():
    assert friendly("unload", KeyError("k"), 1) == "Unload failed: unexpected KeyError: 'k'"
    assert friendly("odd_one", RuntimeError("boom"), 1) == (
        "odd_one failed: unexpected RuntimeError: boom"
    )


# --- route --------------------------------------------------------------------------------


class Recorder:
    """Stands in for a ModelManager: records which twin a command reached, with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str):
        def twin(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return ("handle", name)

        return twin


def cmd(action: str, **kw) -> dict:
    return {"type": "action", "action": action, **kw}


def test_route_returns_the_twins_handle():
    rec = Recorder()
    assert route(rec, cmd("load", id="m1")) == ("handle", "load")
    assert route(rec, cmd("refresh")) == ("handle", "refresh")


def test_route_ignores_messages_that_are_not_commands():
    rec = Recorder()
    for content in (None, [], {"action": "load", "id": "m"}, {"type": "Action", "action": "load"}):
        assert route(rec, content) is None
    assert rec.calls == []


def test_route_names_an_unknown_or_missing_action():
    rec = Recorder()
    with pytest.raises(ActionError) as err:
        route(rec, {"type": "action"})
    assert str(err.value) == "unknown action None"
    with pytest.raises(ActionError) as err:
        route(rec, cmd("Load", id="m"))
    assert str(err.value) == "unknown action 'Load'"


def test_route_error_texts_are_exact():
    rec = Recorder()
    with pytest.raises(ActionError) as err:
        route(rec, cmd("delete"))
    assert str(err.value) == "delete needs a model id"
    with pytest.raises(ActionError) as err:
        route(rec, cmd("delete", ids="a"))
    assert str(err.value) == "delete needs `ids` as a list of model ids"
    with pytest.raises(ActionError) as err:
        route(rec, cmd("delete", ids=["a", 2]))
    assert str(err.value) == "delete needs `ids` as a list of model ids"
    with pytest.raises(ActionError) as err:
        route(rec, cmd("create", fields={}))
    assert str(err.value) == "a custom model needs a name"
    with pytest.raises(ActionError) as err:
        route(rec, cmd("create"))
    assert str(err.value) == "a custom model needs a name"
    assert rec.calls == []


def test_bulk_ids_win_over_id_and_id_is_used_without_ids():
    rec = Recorder()
    route(rec, cmd("unload", id="x", ids=["a", "b"]))
    route(rec, cmd("unload", id="x", ids=None))
    route(rec, cmd("cancel", id="x"))
    assert rec.calls == [
        ("unload", (["a", "b"],), {}),
        ("unload", ("x",), {}),
        ("cancel", ("x",), {}),
    ]


def test_options_are_passed_only_when_sent_and_only_where_declared():
    rec = Recorder()
    route(rec, cmd("download", id="m", unload_first=True, free="1 GB", extra=1))
    route(rec, cmd("download", id="m"))
    route(rec, cmd("unload", id="m", unload_first=True))
    route(rec, cmd("plan-cleanup", free=None))
    route(rec, cmd("plan-cleanup"))
    assert rec.calls == [
        ("download", ("m",), {"unload_first": True}),
        ("download", ("m",), {}),
        ("unload", ("m",), {}),
        ("_plan_cleanup", (), {"free": None}),
        ("_plan_cleanup", (), {}),
    ]


def test_create_and_update_clean_their_forms():
    rec = Recorder()
    route(
        rec,
        cmd(
            "create",
            fields={"name": " Mine ", "unique": " u ", "parameters": "7", "cloud": 1, "x": 2},
        ),
    )
    route(rec, cmd("update", id="m1", fields={"name": " New ", "description": None}))
    route(rec, cmd("update", id="m1", fields="not a dict"))
    assert rec.calls == [
        ("create_model", ("Mine",), {"unique": "u", "parameters": 7.0, "cloud": True}),
        ("update_model", ("m1",), {"name": "New", "description": None}),
        ("update_model", ("m1",), {}),
    ]
    with pytest.raises(ActionError, match="needs a name"):
        route(rec, cmd("create", fields="Mine"))


# --- form_fields --------------------------------------------------------------------------


def test_form_fields_strips_text_and_drops_blanks():
    assert form_fields(
        {
            "name": " N ",
            "version": " 2 ",
            "unique": "u",
            "description": " d ",
            "quantization": "Q4",
            "foundation": "F",
            "provider": " P ",
        }
    ) == {
        "name": "N",
        "version": "2",
        "unique": "u",
        "description": "d",
        "quantization": "Q4",
        "foundation": "F",
        "provider": "P",
    }
    assert form_fields({"name": "  ", "unique": "", "version": None, "provider": 5}) == {}
    assert form_fields({}) == {}


def test_form_fields_clears_only_optional_fields_sent_blank_with_allow_clear():
    sent = {
        "name": "",
        "version": "",
        "unique": "",
        "description": None,
        "quantization": "  ",
        "foundation": None,
        "provider": "",
    }
    assert form_fields(sent) == {}
    assert form_fields(sent, allow_clear=True) == {
        "unique": None,
        "description": None,
        "foundation": None,
        "provider": None,
    }  # "  " is truthy: neither kept (blank) nor cleared
    assert form_fields({"unique": 0}, allow_clear=True) == {"unique": None}
    assert form_fields({"unique": 5}, allow_clear=True) == {}
    assert form_fields({}, allow_clear=True) == {}


def test_form_fields_numbers():
    assert form_fields({"parameters": "1.5", "max_tokens": "4096"}) == {
        "parameters": 1.5,
        "max_tokens": 4096,
    }
    out = form_fields({"parameters": 3, "max_tokens": 2048.9})
    assert out == {"parameters": 3.0, "max_tokens": 2048}
    assert type(out["parameters"]) is float and type(out["max_tokens"]) is int
    assert form_fields({"parameters": "0", "max_tokens": 0}) == {"parameters": 0.0, "max_tokens": 0}
    assert form_fields({"parameters": None, "max_tokens": ""}) == {}
    assert form_fields({"parameters": None, "max_tokens": ""}, allow_clear=True) == {
        "parameters": None,
        "max_tokens": None,
    }
    assert form_fields({"parameters": "2"}, allow_clear=True) == {"parameters": 2.0}


@pytest.mark.parametrize(("key", "value"), [("parameters", "seven"), ("max_tokens", [1])])
def test_form_fields_refuses_non_numbers(key, value):
    with pytest.raises(ActionError) as err:
        form_fields({key: value})
    assert str(err.value) == f"{key} must be a number, not {value!r}"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("parameters", "-1"),
        ("max_tokens", -5),
        ("parameters", "inf"),
        ("parameters", math.nan),
        ("max_tokens", "inf"),  # was an OverflowError (int(inf)), not the friendly error
        ("max_tokens", "-inf"),
    ],
)
def test_form_fields_refuses_negative_or_infinite_numbers(key, value):
    with pytest.raises(ActionError) as err:
        form_fields({key: value})
    assert str(err.value) == f"{key} must be a positive number"


def test_form_fields_cloud_is_a_bool_when_sent():
    assert form_fields({"cloud": 0}) == {"cloud": False}
    assert form_fields({"cloud": "yes"}) == {"cloud": True}
    assert "cloud" not in form_fields({"name": "x"})
