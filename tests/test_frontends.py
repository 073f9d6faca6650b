"""Front ends that cannot be driven headless here (Colab, VS Code): safe by construction.

Colab is detected by anywidget through `google.colab.output` in `sys.modules`, the way anywidget's
own tests fake it: then it must switch on Colab's custom widget manager once and tag every display
with that manager's URL. VS Code and Colab get the widget's code only from the comm state (no
labextension, no import map) and style it with their own CSS variables or none at all.
"""

from __future__ import annotations

import html
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import MagicMock

import anywidget._util as anywidget_util
import pytest
from IPython.core.formatters import DisplayFormatter

from pieces_widgets import ModelManager

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
MANAGER_URL = "https://ssl.gstatic.com/colaboratory-static/widgets/colab-cdn-widget-manager/x.js"
STATIC = Path(__file__).resolve().parent.parent / "pieces_widgets" / "static"


def fake_colab(installed_url: str | None) -> types.ModuleType:
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = MagicMock()  # type: ignore[attr-defined]
    output._widgets = types.SimpleNamespace(_installed_url=installed_url)  # type: ignore[attr-defined]
    return output


@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A fake `google.colab.output`; anywidget's "enable once" cache is reset around the test."""
    output = fake_colab(MANAGER_URL)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    anywidget_util.enable_custom_widget_manager_once.cache_clear()
    yield output
    anywidget_util.enable_custom_widget_manager_once.cache_clear()


@pytest.fixture
def managers(emulator) -> Iterator[list[ModelManager]]:
    made: list[ModelManager] = []
    yield made
    for mm in made:
        mm.close()


def test_colab_gets_its_widget_manager_enabled_once(colab, emulator, managers):
    managers += [ModelManager(emulator.url), ModelManager(emulator.url)]
    colab.enable_custom_widget_manager.assert_called_once_with()


def test_colab_display_carries_the_widget_view_and_the_manager_url(colab, emulator, managers):
    mm = ModelManager(emulator.url)
    managers.append(mm)
    # what the kernel sends in display_data: IPython's formatter calls _repr_mimebundle_
    data, metadata = DisplayFormatter().format(mm)
    assert data[WIDGET_MIME]["model_id"] == mm.model_id
    assert data[WIDGET_MIME]["version_major"] == 2
    assert metadata[WIDGET_MIME] == {"colab": {"custom_widget_manager": {"url": MANAGER_URL}}}
    # where no widget manager runs (a viewer, a failed CDN load) the text and HTML still say it
    assert data["text/plain"].startswith(f"Pieces OS at {emulator.url} (emulated)")
    for m in emulator.models():
        assert html.escape(m["name"]) in data["text/html"]


def test_colab_without_an_installed_manager_url_sends_no_metadata(monkeypatch, emulator, managers):
    monkeypatch.setitem(sys.modules, "google.colab.output", fake_colab(None))
    anywidget_util.enable_custom_widget_manager_once.cache_clear()
    try:
        mm = ModelManager(emulator.url)
        managers.append(mm)
        data, metadata = mm._repr_mimebundle_()
    finally:
        anywidget_util.enable_custom_widget_manager_once.cache_clear()
    assert data[WIDGET_MIME]["model_id"] == mm.model_id
    assert metadata == {}


def test_outside_colab_nothing_colab_specific(monkeypatch, emulator, managers):
    monkeypatch.delitem(sys.modules, "google.colab.output", raising=False)
    mm = ModelManager(emulator.url)
    managers.append(mm)
    data, metadata = mm._repr_mimebundle_()
    assert data[WIDGET_MIME]["model_id"] == mm.model_id
    assert metadata == {}


def test_the_comm_state_carries_the_whole_self_contained_bundle(emulator, managers):
    """Colab and VS Code load anywidget from a CDN, then our ESM from this state, from a Blob."""
    mm = ModelManager(emulator.url)
    managers.append(mm)
    state = mm.get_state()
    js, css = (STATIC / "widget.js").read_text(), (STATIC / "widget.css").read_text()
    assert state["_esm"] == js and state["_css"] == css
    assert (state["_model_module"], state["_view_module"]) == ("anywidget", "anywidget")
    assert re.search(r"export\s*\{[^}]*\bas default\b|export default", js)
    # a Blob module has no import map and no base URL: only absolute URLs could be imported
    bare = re.findall(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']""", js)
    assert not [s for s in bare if not s.startswith(("https:", "data:"))], bare


def test_no_document_level_queries_or_styles():
    """In a shadow root (marimo) or an iframe (Colab), `document` is the wrong scope."""
    js = (STATIC / "widget.js").read_text()
    found = re.findall(
        r"\bdocument\s*\.\s*(querySelector\w*|getElement\w*|head|body|styleSheets|"
        r"adoptedStyleSheets|documentElement)",
        js,
    )
    assert not found, f"document-level access in the bundle: {found}"


def _var_calls(css: str, prefix: str) -> list[str]:
    """Every `var(--prefix...)` expression in `css`, with its balanced parentheses."""
    calls = []
    for m in re.finditer(re.escape(f"var(--{prefix}"), css):
        depth, i = 0, m.start() + 3
        while True:
            depth += {"(": 1, ")": -1}.get(css[i], 0)
            i += 1
            if depth == 0:
                break
        calls.append(css[m.start() : i])
    return calls


def test_every_jupyterlab_variable_has_a_vscode_variable_and_a_builtin_fallback():
    """VS Code sets `--vscode-*`; Colab's output iframe sets neither: it must still look right."""
    css = (STATIC / "widget.css").read_text()
    jp = _var_calls(css, "jp-")
    assert jp, "the stylesheet no longer follows JupyterLab's theme at all"
    for call in jp:
        assert re.match(r"var\(--jp-[\w-]+,\s*var\(--vscode-", call), call
    defined = set(re.findall(r"(--[\w-]+)\s*:", css))
    for call in jp + _var_calls(css, "vscode-"):
        innermost = _var_calls(call, "vscode-")[-1]  # the last link of the chain
        name, sep, fallback = innermost[4:-1].partition(",")
        fallback = fallback.strip()
        assert sep and fallback, f"no built-in fallback after {name}: {call}"
        own = re.match(r"var\((--[\w-]+)", fallback)
        if own:  # the widget's own light/dark default, which must exist
            assert own.group(1).startswith("--pmm-") and own.group(1) in defined, call
