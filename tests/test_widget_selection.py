"""The `selection` trait over the emulator's real sockets: written by the frontend or Python,
catalogue ids only, and a model deleted while selected leaves it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _support
import pytest
import traitlets

from pieces_widgets import ModelManager, PiecesClient

WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


@pytest.fixture
def mm(emulator):
    manager = ModelManager(emulator.url, poll_interval=None)
    yield manager
    manager.close()


def test_selection_from_python_keeps_catalogue_ids_once(mm):
    a, b = (r["id"] for r in mm.models[:2])
    assert mm.selection == []
    mm.selection = [b, "no-such-model", a, b]
    assert mm.selection == [b, a]
    mm.selection = []
    assert mm.selection == []
    with pytest.raises(traitlets.TraitError):  # not a list of ids
        mm.selection = [1, 2]
    assert mm.selection == []


def test_selection_written_by_the_frontend(mm):
    a, b = (r["id"] for r in mm.models[:2])
    mm.set_state({"selection": [a, "stale-id", b]})  # what a comm update from JS does
    assert mm.selection == [a, b]
    state = mm.get_state("selection")
    assert state == {"selection": [a, b]}  # synced back as the frontend will see it


def test_a_model_deleted_while_selected_leaves_the_selection(mm, emulator):
    custom = mm.create_model("Selected then deleted", unique="sel-del").wait(WAIT)
    keep = mm.models[0]["id"]
    mm.selection = [keep, custom.id]
    assert mm.selection == [keep, custom.id]
    with PiecesClient(emulator.url) as other:  # deleted elsewhere (another notebook, the app)
        other.delete_model(custom.id)
    mm.refresh().wait(WAIT)
    eventually(lambda: mm.selection == [keep], what="the deleted id left the selection")
    assert all(r["id"] != custom.id for r in mm.models)


def test_deleting_selected_models_in_bulk_empties_the_selection(mm):
    made = [mm.create_model(f"Bulk {i}", unique=f"bulk-{i}").wait(WAIT).id for i in range(2)]
    mm.selection = made
    result = mm.delete(list(mm.selection)).wait(WAIT)
    assert list(result) == made and all(v is None for v in result.values())
    eventually(lambda: mm.selection == [], what="selection emptied")
    assert "Deleted 2 models" in mm.notice["text"]


def test_a_selected_model_deleted_elsewhere_leaves_without_a_refresh(mm, emulator):
    """The server pushes the deletion (identifiers stream): no refresh, no polling needed."""
    custom = mm.create_model("Pushed away", unique="pushed-away").wait(WAIT)
    mm.selection = [custom.id]
    eventually(lambda: mm.server.get("stream") == "pushed", what="the stream connected")
    with PiecesClient(emulator.url) as other:
        other.delete_model(custom.id)
    eventually(lambda: mm.selection == [], timeout=5, what="the pushed deletion left the selection")
