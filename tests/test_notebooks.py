"""The notebooks run top to bottom in a real kernel (nbclient), so they cannot rot."""

from __future__ import annotations

import importlib.util
import os
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
MARIMO_QUICKSTART = NOTEBOOKS / "quickstart_marimo.py"


def run(name: str, tmp_path: pathlib.Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def text_of(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


def test_quickstart_runs_against_the_emulator(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("PIECES_OS_URL", emulator.url)
    nb = run("quickstart.ipynb", tmp_path)
    out = text_of(nb)
    assert "COMPLETED" in out  # the download ran in the kernel and finished
    assert "'state': 'loaded'" in out
    assert "loaded now: 0" in out
    widget_views = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widget_views, "the manager did not display as a widget"


def test_teaching_runs_on_the_embedded_emulator(tmp_path, monkeypatch):
    monkeypatch.delenv("PIECES_OS_URL", raising=False)
    nb = run("teaching.ipynb", tmp_path)
    out = text_of(nb)
    assert "COMPLETED after" in out
    assert "models still loaded: 0" in out
    assert any(o.get("data", {}).get("image/png") for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("name", ["quickstart.ipynb", "teaching.ipynb"])
def test_committed_notebooks_carry_no_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def _marimo_app():
    """The marimo quickstart's `app`, imported from its file (marimo notebooks are modules)."""
    if importlib.util.find_spec("marimo") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the marimo notebook, but marimo is not installed")
        pytest.skip("marimo is not installed")
    spec = importlib.util.spec_from_file_location("quickstart_marimo", MARIMO_QUICKSTART)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


@pytest.mark.parametrize("server", ["found", "none"])
def test_marimo_quickstart_runs_as_a_script(server, emulator, monkeypatch):
    """Every cell runs; with no Pieces OS it starts its own emulator instead of failing."""
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    monkeypatch.setenv("PIECES_OS_URL", emulator.url if server == "found" else dead)
    _, defs = _marimo_app().run()
    mm, own = defs["mm"], defs["emulator"]
    try:
        assert (own is None) == (server == "found")
        assert defs["url"] == (emulator.url if server == "found" else own.url)
        assert mm.connection == "connected" and mm.server["emulated"] is True
        assert len(mm.to_dataframe()) == len(emulator.models())
    finally:
        mm.close()
        if own is not None:
            own.stop()
