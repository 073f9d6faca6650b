"""Narrow output areas (issue 12): a VS Code side panel, marimo's column, Colab split view, a phone.

The built bundle renders js/harness.html (the real catalogue snapshot, downloads in progress, a
busy row, a row error) in real Chromium with the output area 420, 640 or 880 CSS px wide (880: a
JupyterLab notebook beside its side bar) while the window stays 1,400 px wide: the layout must
follow the widget's own width (container queries), not the window's. Nothing may need sideways
scrolling; each row's name, state and actions stay in view; the folded columns' values show on
the name cell's meta line; the toolbar wraps.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import pathlib
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

ROOT = pathlib.Path(__file__).resolve().parents[2]
WINDOW = {"width": 1400, "height": 1000}

# Geometry of the widget, measured in the page. `host` is where the widget lives: the document,
# or a shadow root (?shadow=1, as marimo renders it).
MEASURE = """() => {
  const out = document.getElementById('out');
  const host = out.shadowRoot || document;
  const root = host.querySelector('.pieces-mm');
  const scroll = root.querySelector('.pmm-scroll');
  const table = root.querySelector('.pmm-table');
  const box = scroll.getBoundingClientRect();
  const shown = (n) =>
    !!n && getComputedStyle(n).display !== 'none' && n.getClientRects().length > 0;
  const inside = (r) => r.width > 0 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
  const rows = [...root.querySelectorAll('tr[data-model-id]')]
    .filter((tr) => {
      const r = tr.getBoundingClientRect();
      return r.bottom > box.top && r.top < box.bottom;
    })
    .map((tr) => {
      const part = (sel) => tr.querySelector(sel);
      const cells = {
        name: part('.pmm-c-name'), state: part('.pmm-c-state'), actions: part('.pmm-c-actions'),
      };
      const where = (c) => inside(c.getBoundingClientRect());
      const meta = part('[data-slot="meta"]');
      return {
        id: tr.getAttribute('data-model-id'),
        inside: Object.fromEntries(Object.entries(cells).map(([k, c]) => [k, where(c)])),
        nameWidth: part('.pmm-name').getBoundingClientRect().width,
        buttons: [...tr.querySelectorAll('.pmm-actions button')].map(where),
        meta: shown(meta)
          ? [...meta.children].filter(shown).map((s) => s.textContent.replace(/\u00a0/g, ' '))
          : null,
        overflow: tr.scrollWidth - tr.clientWidth,
      };
    });
  const toolbar = root.querySelector('.pmm-toolbar');
  const top = (c) => Math.round(c.getBoundingClientRect().top);
  const tops = new Set([...toolbar.children].filter(shown).map(top));
  const chipTops = new Set([...root.querySelectorAll('.pmm-chip')].map(top));
  const over = (n) => n.scrollWidth - n.clientWidth;
  const th = (key) => shown(root.querySelector(`th[data-column="${key}"]`));
  return {
    rootWidth: root.clientWidth,
    overflow: {
      root: over(root),
      scroll: over(scroll),
      table: over(table),
      toolbar: over(toolbar),
      head: over(root.querySelector('.pmm-head')),
    },
    rows,
    toolbarLines: tops.size,
    chipLines: chipTops.size,
    columns: Object.fromEntries(['name', 'provider', 'cloud', 'state', 'bytes', 'ram', 'parameters',
      'quantization', 'max_tokens'].map((k) => [k, th(k)])),
    actionsHeader: shown(root.querySelector('th.pmm-th-actions')),
  };
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The repository root over HTTP on 127.0.0.1 (the harness imports the built bundle)."""
    handler = functools.partial(_Quiet, directory=str(ROOT))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        with contextlib.suppress(Exception):
            httpd.shutdown()
        httpd.server_close()


def open_harness(page: Page, site: str, width: int, extra: str = "") -> dict[str, Any]:
    page.set_viewport_size(WINDOW)
    page.goto(f"{site}/js/harness.html?width={width}{extra}")
    page.wait_for_function(
        "() => { const o = document.getElementById('out');"
        " return (o.shadowRoot || document).querySelectorAll('tr[data-model-id]').length > 10; }"
    )
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.evaluate(MEASURE)


def check_narrow(m: dict[str, Any], width: int) -> None:
    assert m["rootWidth"] == width, m["rootWidth"]
    for part, px in m["overflow"].items():
        assert px <= 0, f"{part} needs sideways scrolling by {px}px at {width}px"
    assert len(m["rows"]) >= 4, m["rows"]
    for r in m["rows"]:
        assert r["overflow"] <= 0, r
        assert all(r["inside"].values()), f"name/state/actions of {r['id']} not all in view: {r}"
        assert all(r["buttons"]), f"a button of {r['id']} is outside the table box: {r}"
        assert r["nameWidth"] >= 60, f"name of {r['id']} squeezed to {r['nameWidth']}px"
    # The low-priority columns fold away; their values are on the name cell's meta line.
    cols = m["columns"]
    assert cols["name"] and cols["state"] and m["actionsHeader"], cols
    for key in ("provider", "ram", "parameters", "quantization", "max_tokens"):
        assert not cols[key], f"{key} column still shown at {width}px"
    metas = {r["id"]: r["meta"] for r in m["rows"]}
    assert all(meta is not None for meta in metas.values()), metas
    llama = next(r for r in m["rows"] if r["meta"] and "META" in " ".join(r["meta"]))
    assert re.search(r"\d GB RAM", " · ".join(llama["meta"])), llama
    assert re.search(r"\d+K context", " · ".join(llama["meta"])), llama
    # Toolbar and chips wrap instead of overflowing.
    if width <= 640:
        assert m["toolbarLines"] >= 2, m["toolbarLines"]


@pytest.mark.parametrize("width", [420, 640, 880])
def test_narrow_output_area(page: Page, site: str, artifacts: pathlib.Path, width: int) -> None:
    m = open_harness(page, site, width)
    check_narrow(m, width)
    cols = m["columns"]
    if width > 520:
        # Room for where and size: they stay as columns (not repeated on the meta line).
        assert cols["cloud"] and cols["bytes"], cols
        meta = " · ".join(t for r in m["rows"] for t in r["meta"])
        assert not re.search(r"GB(?! RAM)|local|cloud", meta), meta
    else:
        assert not cols["cloud"] and not cols["bytes"], cols
        assert m["chipLines"] >= 2, "chips wrap at 420px"
        assert all(re.match(r"(local|cloud)\b", r["meta"][0]) for r in m["rows"]), m["rows"]
    page.locator("#out").screenshot(path=str(artifacts / f"narrow-{width}.png"))


def test_narrow_in_a_shadow_root(page: Page, site: str, artifacts: pathlib.Path) -> None:
    """As marimo renders it: inside a shadow root, with the stylesheet linked in the root."""
    m = open_harness(page, site, 420, "&shadow=1")
    check_narrow(m, 420)
    # The widget still works in there: a filter chip re-renders the rows.
    page.locator("#out .pmm-chip[data-filter='loaded']").click()
    count = page.evaluate(
        "() => document.getElementById('out').shadowRoot"
        ".querySelectorAll('tr[data-model-id]:not([hidden])').length"
    )
    assert count == 2
    page.locator("#out").screenshot(path=str(artifacts / "narrow-420-shadow.png"))


def test_wide_layout_unfolded(page: Page, site: str, artifacts: pathlib.Path) -> None:
    """The same page 1,220 px wide: every column shown, no meta line, no sideways scrolling."""
    m = open_harness(page, site, 1220)
    assert all(m["columns"].values()), m["columns"]
    assert all(r["meta"] is None for r in m["rows"])
    for part, px in m["overflow"].items():
        assert px <= 0, f"{part} overflows by {px}px"
    page.locator("#out").screenshot(path=str(artifacts / "wide-1220.png"))


# Issue 11's parts, each measured against the widget's own box.
PARTS = """() => {
  const root = document.querySelector('#out .pieces-mm');
  const box = root.getBoundingClientRect();
  const part = (sel) => {
    const n = root.querySelector(sel);
    if (!n || n.hidden || n.getClientRects().length === 0) return null;
    const r = n.getBoundingClientRect();
    return { over: n.scrollWidth - n.clientWidth, left: r.left - box.left,
             right: box.right - r.right, text: n.textContent };
  };
  return {
    budget: part('.pmm-budget'), bulk: part('.pmm-bulk'), cleanup: part('.pmm-cleanup'),
    plan: part('.pmm-plan'), runtime: part('.pmm-runtime'), confirm: part('tr .pmm-confirm'),
    fitMeta: [...root.querySelectorAll('tr[data-model-id] [data-slot="meta"]')]
      .map((m) => m.textContent.replace(/\\u00a0/g, ' ')),
  };
}"""


def test_narrow_issue11_parts(page: Page, site: str, artifacts: pathlib.Path) -> None:
    """At 420 px: budget bars, bulk bar, Free space panel with a plan, runtime badge with its
    error and Retry, and a fit confirmation all fit the widget's width (no sideways scroll)."""
    m = open_harness(page, site, 420, "&select=3&runtime=failed&panel=cleanup")
    check_narrow(m, 420)
    page.locator("#out .pmm-picks button", has_text="10 GB").click()
    page.wait_for_selector("#out .pmm-plan [data-plan-id]")
    row = page.locator("#out tr[data-model-id]", has_text="Phi-4 14B").first
    row.scroll_into_view_if_needed()
    # The runtime blocks local downloads: Download is disabled and says why, within the row.
    assert row.locator("button[data-action='download']").is_disabled()
    blocked = row.locator(".pmm-blocked").bounding_box()
    table = page.locator("#out .pmm-scroll").bounding_box()
    assert blocked and table
    assert blocked["x"] + blocked["width"] <= table["x"] + table["width"] + 0.5
    parts = page.evaluate(PARTS)
    # The runtime installed (error kept, so the badge still shows it): Download of a model too
    # large for the machine asks first.
    page.evaluate(
        "() => { const m = window.harness.model;"
        " m.set('runtime', {...m.get('runtime'), state: 'update-required', blocks: null}); }"
    )
    row.locator("button[data-action='download']").click()
    parts["confirm"] = page.evaluate(PARTS)["confirm"]
    for name in ("budget", "bulk", "cleanup", "plan", "runtime", "confirm"):
        p = parts[name]
        assert p is not None, f"{name} not shown"
        assert p["over"] <= 0, f"{name} needs sideways scrolling by {p['over']}px: {p}"
        assert p["left"] >= -0.5 and p["right"] >= -0.5, f"{name} outside the widget: {p}"
    assert re.search(r"Disk.*RAM", parts["budget"]["text"]), parts["budget"]
    assert "3 selected" in parts["bulk"]["text"]
    assert "Retry" in parts["runtime"]["text"] and "failed" in parts["runtime"]["text"]
    assert "Download anyway" in parts["confirm"]["text"]
    # The fit answer stays visible at 420 px, on the meta line's first part.
    assert any(re.search(r"(fits|too large|unload \d+|unknown)\b", t) for t in parts["fitMeta"])
    overflow = page.evaluate(MEASURE)["overflow"]
    assert all(px <= 0 for px in overflow.values()), overflow
    page.locator("#out").screenshot(path=str(artifacts / "narrow-420-issue11.png"))


@pytest.mark.parametrize("width", [960, 1150])
def test_medium_width_fit_column_without_sideways_scrolling(
    page: Page, site: str, width: int
) -> None:
    """901-1200 px (JupyterLab beside its side bar): the fit column stays, the provider folds
    onto the meta line, and nothing needs sideways scrolling."""
    m = open_harness(page, site, width)
    assert m["rootWidth"] == width
    for part, px in m["overflow"].items():
        assert px <= 0, f"{part} needs sideways scrolling by {px}px at {width}px"
    fit_shown = page.evaluate(
        "() => getComputedStyle(document.querySelector('#out th[data-column=\"fit\"]')).display"
    )
    assert fit_shown != "none"
    cols = m["columns"]
    assert not cols["provider"], cols
    assert all(cols[k] for k in ("name", "cloud", "state", "bytes", "ram", "max_tokens")), cols
    assert any(r["meta"] and "META" in r["meta"] for r in m["rows"]), m["rows"]
    for r in m["rows"]:
        assert r["overflow"] <= 0 and all(r["inside"].values()) and all(r["buttons"]), r


def test_narrow_runtime_installing_reason_readable_in_full(
    page: Page, site: str, artifacts: pathlib.Path
) -> None:
    """At 420 px, while the runtime installs, local Download and Load are disabled and the note
    under each says the whole reason: wrapped, not clipped, inside the row."""
    m = open_harness(page, site, 420, "&runtime=installing")
    check_narrow(m, 420)
    reason = page.evaluate("() => window.harness.model.get('runtime').blocks")
    assert len(reason) > 80, reason  # the long text: more than two lines at this width
    notes = page.evaluate(
        """() => {
      const box = document.querySelector('#out .pmm-scroll').getBoundingClientRect();
      return [...document.querySelectorAll('#out tr[data-model-id] .pmm-blocked')]
        .filter((n) => n.getClientRects().length > 0)
        .map((n) => {
          const r = n.getBoundingClientRect();
          const tr = n.closest('tr').getBoundingClientRect();
          const btns = [...n.closest('td').querySelectorAll('button[data-action]')]
            .filter((b) => ['download', 'load'].includes(b.dataset.action));
          return { text: n.textContent, clipped: n.scrollHeight - n.clientHeight,
                   lines: Math.round(r.height / parseFloat(getComputedStyle(n).lineHeight)),
                   inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5
                     && r.bottom <= tr.bottom + 0.5,
                   gated: btns.map((b) => [b.dataset.action, b.disabled,
                     b.getAttribute('aria-describedby') === n.id]) };
        });
    }"""
    )
    actions = {a for n in notes for a, _, _ in n["gated"]}
    assert actions == {"download", "load"}, notes
    for n in notes:
        assert n["text"] == reason, n
        assert n["clipped"] <= 0 and n["inside"], n
        assert n["lines"] >= 3, n  # wrapped, all of it shown
        assert all(disabled and described for _, disabled, described in n["gated"]), n
    page.locator("#out").screenshot(path=str(artifacts / "narrow-420-runtime.png"))
