"""End to end: real JupyterLab 4 / Notebook 7 + real kernel + real Chromium against the emulator.

What only a browser proves: the widget renders in a real notebook, its buttons reach the kernel, the
kernel's state reaches the page, and it reads well in the dark theme. The cheaper layers (JS units,
in-process widget tests) cover the logic.
"""

from __future__ import annotations

import re
import socket

import pytest
from notebook_driver import cell_output, open_notebook, run_cells, shoot, write_notebook
from playwright.sync_api import Page, expect

from pieces_widgets.emulator import Emulator

ROW = ".pieces-mm tr[data-model-id]"
VISIBLE = ROW + ":not([hidden])"
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">'
PROGRESS_ABOVE = """([id, v]) => Number(document.querySelector(
  `tr[data-model-id="${id}"] [role=progressbar]`)?.getAttribute('aria-valuenow')) >= v"""
RTL_NAME = "invoice \u202egpj.exe \u05e9\u05dc\u05d5\u05dd"
CONTROL_DESC = "bell\x07 escape\x1b[31m red \x00 nul"
HOSTILE_DESC = "<script>window.__pwned=2</script> and <b>bold</b>"


def show_manager(url: str, poll: float = 2.0) -> str:
    return (
        "from pieces_widgets import ModelManager\n"
        f"mm = ModelManager({url!r}, poll_interval={poll})\n"
        "mm"
    )


def row(page: Page, model_id: str):
    return page.locator(f'.pieces-mm tr[data-model-id="{model_id}"]')


def state_of(page: Page, model_id: str):
    return row(page, model_id).locator(".pmm-state")


def ids_by_name(emu: Emulator) -> dict[str, str]:
    return {m["name"]: m["id"] for m in emu.models()}


def start_widget(
    page: Page,
    server: dict,
    emu: Emulator,
    name: str,
    extra: list[str],
    app: str = "lab",
    poll: float = 2.0,
) -> None:
    write_notebook(server, name, [show_manager(emu.url, poll), *extra])
    open_notebook(page, server, name, app)
    run_cells(page, 0)
    expect(page.locator(".pieces-mm")).to_be_visible(timeout=60_000)
    expect(page.locator(ROW)).to_have_count(len(emu.models()), timeout=30_000)


def python_says(page: Page, index: int, pattern: str, attempts: int = 20) -> None:
    """Run a cell until its output matches: the frontend writes some traits after a debounce."""
    for _ in range(attempts):
        run_cells(page, index)
        out = cell_output(page, index)
        expect(out).to_be_visible(timeout=30_000)
        if re.search(pattern, out.inner_text()):
            return
        page.wait_for_timeout(500)
    expect(cell_output(page, index)).to_have_text(re.compile(pattern))


def test_table_renders_sorts_searches_filters_and_keeps_hostile_text_inert(
    lab, page, emulator_factory, artifacts
):
    emu = emulator_factory(download_seconds=1.0, resume_downloads=False)
    base = dict(emu.model(ids_by_name(emu)["Llama 3 8B"]))
    base.pop("unique", None)
    emu.add_model(
        {
            **base,
            "id": "hostile-1",
            "name": HOSTILE_NAME,
            "description": HOSTILE_DESC,
            "custom": True,
            "unique": "evil:" + "x" * 120,
        }
    )
    view_state = "print('PY', mm.sort['column'], mm.sort['descending'], mm.filter, repr(mm.search))"
    emu.add_model({**base, "id": "hostile-2", "name": RTL_NAME, "description": CONTROL_DESC,
                   "custom": True, "unique": "rtl:1"})  # fmt: skip
    start_widget(page, lab, emu, "table.ipynb", [view_state])

    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "connected")
    expect(page.locator(".pieces-mm")).to_contain_text("emulated")

    # sort by size on raw bytes, both ways; models with no size go last either way
    sizes = {m["id"]: (m.get("bytes") or {}).get("value") for m in emu.models()}
    with_size = [i for i, b in sizes.items() if b is not None]
    header = page.locator('th[data-column="bytes"]')
    header.locator("button").click()
    first = header.get_attribute("aria-sort")
    assert first in ("ascending", "descending")
    order = page.locator(VISIBLE).evaluate_all("rows => rows.map(r => r.dataset.modelId)")
    expected = sorted(with_size, key=lambda i: sizes[i], reverse=first == "descending")
    assert order[: len(expected)] == expected
    header.locator("button").click()
    flipped = "descending" if first == "ascending" else "ascending"
    expect(header).to_have_attribute("aria-sort", flipped)
    order = page.locator(VISIBLE).evaluate_all("rows => rows.map(r => r.dataset.modelId)")
    assert order[: len(expected)] == sorted(
        with_size, key=lambda i: sizes[i], reverse=first == "ascending"
    )

    # search narrows, chips filter, and Python sees the same view state
    search = page.locator('.pieces-mm input[type="search"]')
    search.fill("gemma")
    expect(page.locator(VISIBLE)).to_have_count(2)
    search.fill("")
    expect(page.locator(VISIBLE)).to_have_count(len(emu.models()))
    page.locator('.pieces-mm button[data-filter="cloud"]').click()
    expect(page.locator(VISIBLE)).to_have_count(sum(m["cloud"] for m in emu.models()))
    page.locator('.pieces-mm button[data-filter="loaded"]').click()
    expect(page.locator(VISIBLE)).to_have_count(sum(bool(m.get("loaded")) for m in emu.models()))
    page.locator('.pieces-mm button[data-filter="all"]').click()
    search.fill("llama")
    python_says(page, 1, r"PY bytes (True|False) all 'llama'")
    search.fill("")

    # hostile data: shown as the characters it is made of, nothing executed or injected
    hostile = row(page, "hostile-1")
    expect(hostile).to_contain_text(HOSTILE_NAME)
    assert hostile.locator("img, script, b").count() == 0
    assert page.evaluate("window.__pwned") is None
    rtl = row(page, "hostile-2")
    expect(rtl).to_contain_text("gpj.exe")  # shown, as the characters it is made of
    assert rtl.locator(".pmm-name").evaluate("el => el.children.length") == 0
    assert rtl.locator(".pmm-name").evaluate("el => el.textContent") == RTL_NAME
    name = hostile.locator(".pmm-name")
    assert name.get_attribute("title") and HOSTILE_NAME in name.get_attribute("title")
    shoot(page, artifacts, "lab-light", page.locator(".jp-Cell").first)


def test_download_cancel_load_and_unload_all(lab, page, emulator_factory, artifacts):
    emu = emulator_factory(download_seconds=6.0, resume_downloads=False)
    ids = ids_by_name(emu)
    small, other, on_disk = ids["Llama 3.2 1B"], ids["Gemma 2 9B"], ids["Llama 3 8B"]
    start_widget(
        page,
        lab,
        emu,
        "actions.ipynb",
        [
            f"df = mm.to_dataframe(); print('DL', df.loc[{small!r}, 'downloaded'], "
            f"df.loc[{small!r}, 'state'])",
            "print('LOADED', int(mm.to_dataframe()['loaded'].sum()))",
        ],
    )

    # download: the bar appears, rises, and the row ends downloaded
    row(page, small).locator('button[data-action="download"]').click()
    bar = row(page, small).locator('[role="progressbar"]')
    expect(bar).to_be_visible(timeout=10_000)
    page.wait_for_function(PROGRESS_ABOVE, arg=[small, 20], timeout=15_000)
    first = float(bar.get_attribute("aria-valuenow"))
    shoot(page, artifacts, "lab-downloading", page.locator(".jp-Cell").first)
    page.wait_for_function(PROGRESS_ABOVE, arg=[small, first + 1], timeout=15_000)
    expect(state_of(page, small)).to_have_attribute("data-state", "downloaded", timeout=20_000)
    python_says(page, 1, r"DL True downloaded")

    # cancel mid-download returns the row to available
    row(page, other).locator('button[data-action="download"]').click()
    expect(row(page, other).locator('[role="progressbar"]')).to_be_visible(timeout=10_000)
    row(page, other).locator('button[data-action="cancel"]').click()
    expect(state_of(page, other)).to_have_attribute("data-state", "available", timeout=20_000)
    assert emu.model(other)["downloading"] is False

    # load, unload, unload all
    row(page, small).locator('button[data-action="load"]').click()
    expect(state_of(page, small)).to_have_attribute("data-state", "loaded", timeout=20_000)
    row(page, small).locator('button[data-action="unload"]').click()
    expect(state_of(page, small)).to_have_attribute("data-state", "downloaded", timeout=20_000)
    row(page, on_disk).locator('button[data-action="load"]').click()
    expect(state_of(page, on_disk)).to_have_attribute("data-state", "loaded", timeout=20_000)
    page.locator('.pieces-mm button[data-action="unload-all"]').click()
    loaded = page.locator('.pieces-mm .pmm-state[data-state="loaded"]')
    expect(loaded).to_have_count(0, timeout=20_000)
    expect(page.locator('.pieces-mm button[data-action="unload-all"]')).to_be_disabled()
    python_says(page, 2, r"LOADED 0")


def test_custom_model_add_edit_and_delete_after_confirming(lab, page, emulator_factory, artifacts):
    emu = emulator_factory(resume_downloads=False)
    start_widget(
        page,
        lab,
        emu,
        "custom.ipynb",
        [
            "print('CUSTOM', sorted(mm.to_dataframe(filter='custom')['name']))",
        ],
    )
    page.locator('.pieces-mm button[data-action="add-model"]').click()
    form = page.locator(".pieces-mm form")
    form.locator('[name="name"]').fill("Classroom Llama")
    form.locator('[name="unique"]').fill("llama3.2:1b-class")
    form.locator('[name="parameters"]').fill("1.2")
    shoot(page, artifacts, "lab-add-model", page.locator(".jp-Cell").first)
    before = len(emu.models())
    form.locator('button[data-action="submit-form"]').click()
    expect(page.locator(ROW)).to_have_count(before + 1, timeout=20_000)
    created = next(m for m in emu.models() if m["name"] == "Classroom Llama")
    assert created["custom"] is True and created["parameters"] == 1.2

    row(page, created["id"]).locator('button[data-action="edit"]').click()
    form.locator('[name="name"]').fill("Classroom Llama v2")
    form.locator('button[data-action="submit-form"]').click()
    expect(row(page, created["id"])).to_contain_text("Classroom Llama v2", timeout=20_000)

    row(page, created["id"]).locator('button[data-action="delete"]').click()
    assert emu.model(created["id"])  # nothing happens before the confirmation
    row(page, created["id"]).locator('button[data-action="confirm"]').click()
    expect(row(page, created["id"])).to_have_count(0, timeout=20_000)
    python_says(page, 1, r"CUSTOM \['Team Llama 3 8B \(fine-tuned\)'\]")


def test_server_stopped_shows_retry_then_recovers_by_itself(lab, page, artifacts):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emu = Emulator(port=port, resume_downloads=False).start()
    try:
        start_widget(page, lab, emu, "outage.ipynb", [], poll=0.5)
        emu.stop()
        conn = page.locator(".pieces-mm [data-connection]")
        expect(conn).to_have_attribute("data-connection", "unreachable", timeout=20_000)
        expect(page.locator('.pieces-mm button[data-action="retry"]')).to_be_visible()
        expect(page.locator(".pieces-mm")).to_contain_text(str(port))
        shoot(page, artifacts, "lab-unreachable", page.locator(".jp-Cell").first)
        emu.start()
        expect(conn).to_have_attribute("data-connection", "connected", timeout=40_000)
        expect(page.locator('.pieces-mm button[data-action="retry"]')).to_be_hidden()
    finally:
        emu.stop()


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


BACKGROUND_JS = """el => {
  for (let n = el; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
}"""


def test_dark_theme_is_legible(dark_lab, page, emulator_factory, artifacts):
    emu = emulator_factory(download_seconds=30.0, resume_downloads=False)
    small = ids_by_name(emu)["Llama 3.2 1B"]
    start_widget(page, dark_lab, emu, "dark.ipynb", [])
    assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
    row(page, small).locator('button[data-action="download"]').click()
    expect(row(page, small).locator('[role="progressbar"]')).to_be_visible(timeout=10_000)
    page.wait_for_timeout(1500)
    checks = {
        "name": row(page, small).locator(".pmm-name"),
        "state": row(page, small).locator(".pmm-state"),
        "header": page.locator('th[data-column="name"] button'),
        "button": row(page, small).locator('button[data-action="cancel"]'),
    }
    for label, loc in checks.items():
        fg = loc.evaluate("el => getComputedStyle(el).color")
        bg = loc.evaluate(BACKGROUND_JS)
        assert _luminance(bg) < 0.2, f"{label}: background {bg} is not dark"
        assert contrast(fg, bg) >= 4.5, f"{label}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"
    fill = row(page, small).locator('[role="progressbar"] > *').first
    fill_bg = fill.evaluate("el => getComputedStyle(el).backgroundColor")
    track_bg = row(page, small).locator('[role="progressbar"]').evaluate(BACKGROUND_JS)
    assert contrast(fill_bg, track_bg) >= 1.5, f"bar {fill_bg} on {track_bg}"
    shoot(page, artifacts, "lab-dark", page.locator(".jp-Cell").first)
    row(page, small).locator('button[data-action="cancel"]').click()
    expect(state_of(page, small)).to_have_attribute("data-state", "available", timeout=20_000)


@pytest.mark.parametrize("app", ["notebook"])
def test_renders_and_works_in_notebook_7(notebook7, page, emulator_factory, artifacts, app):
    emu = emulator_factory(resume_downloads=False)
    on_disk = ids_by_name(emu)["Llama 3 8B"]
    start_widget(
        page,
        notebook7,
        emu,
        "nb7.ipynb",
        [f"print('NB7', mm.to_dataframe().loc[{on_disk!r}, 'loaded'])"],
        app=app,
    )
    row(page, on_disk).locator('button[data-action="load"]').click()
    expect(state_of(page, on_disk)).to_have_attribute("data-state", "loaded", timeout=20_000)
    python_says(page, 1, r"NB7 True")
    shoot(page, artifacts, "notebook7", page.locator(".jp-Cell").first)
