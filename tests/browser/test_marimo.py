"""End to end in marimo: `marimo run notebooks/quickstart_marimo.py` + real Chromium + the emulator.

marimo renders anywidgets inside a shadow root (Playwright's CSS locators pierce open ones) and
re-runs cells that read `mo.ui.anywidget(...).value` when the front end changes a trait: these tests
prove the widget renders, acts and reaches Python there, not only in Jupyter.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from notebook_driver import shoot
from playwright.sync_api import Page, expect
from servers import free_port, require_tool, serve

from pieces_widgets.emulator import Emulator

NOTEBOOK = "notebooks/quickstart_marimo.py"
ROW = ".pieces-mm tr[data-model-id]"
VISIBLE = ROW + ":not([hidden])"


@pytest.fixture(scope="module")
def marimo_emulator() -> Iterator[Emulator]:
    emu = Emulator(download_seconds=4.0, resume_downloads=False)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def marimo_app(
    marimo_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, request: Any
) -> Iterator[str]:
    """`marimo run` on the quickstart, headless, pointed at the test emulator; its base URL."""
    require_tool("marimo")
    root = request.config.rootpath
    port = free_port()
    home = tmp_path_factory.mktemp("marimo-home")
    env = {
        **os.environ,
        "PIECES_OS_URL": marimo_emulator.url,
        "HOME": str(home),  # marimo keeps its config and state there: none of the user's
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    cmd = [
        sys.executable, "-m", "marimo", "run", str(root / NOTEBOOK), "--headless", "--no-token",
        "--host", "127.0.0.1", "--port", str(port), "--no-sandbox", "--no-skew-protection",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in serve(cmd, f"{base}/health", home / "marimo.log", env=env, cwd=root):
        yield base


def open_app(page: Page, base: str, emu: Emulator) -> None:
    page.goto(base)
    expect(page.locator(".pieces-mm")).to_be_visible(timeout=90_000)
    expect(page.locator(ROW)).to_have_count(len(emu.models()), timeout=30_000)


def python_view(page: Page):
    """The output of the cell that reads the widget's traits and `mm.to_dataframe()`."""
    return page.locator("[id^='output-']").filter(has_text=re.compile(r"Python sees \d+ models"))


def row(page: Page, model_id: str):
    return page.locator(f'.pieces-mm tr[data-model-id="{model_id}"]')


def test_renders_sorts_searches_and_python_follows(marimo_app, marimo_emulator, page, artifacts):
    emu = marimo_emulator
    open_app(page, marimo_app, emu)
    host = page.locator(".pieces-mm").evaluate("el => el.getRootNode() instanceof ShadowRoot")
    assert host, "marimo is expected to mount the widget in a shadow root"
    expect(page.locator(".pieces-mm [data-connection]")).to_have_attribute(
        "data-connection", "connected"
    )
    expect(page.locator(".pieces-mm")).to_contain_text("emulated")
    view = python_view(page)
    expect(view).to_contain_text(f"Python sees {len(emu.models())} models", timeout=30_000)

    # sort by size on raw bytes
    sizes = {m["id"]: (m.get("bytes") or {}).get("value") for m in emu.models()}
    with_size = [i for i, b in sizes.items() if b is not None]
    header = page.locator('.pieces-mm th[data-column="bytes"]')
    header.locator("button").click()
    direction = header.get_attribute("aria-sort")
    assert direction in ("ascending", "descending")
    order = page.locator(VISIBLE).evaluate_all("rows => rows.map(r => r.dataset.modelId)")
    expected = sorted(with_size, key=lambda i: sizes[i], reverse=direction == "descending")
    assert order[: len(expected)] == expected
    expect(view).to_contain_text(f"sorted by 'bytes' ({direction})", timeout=30_000)

    # search narrows the table, and marimo re-runs the Python cell with the same filter
    page.locator('.pieces-mm input[type="search"]').fill("llama")
    llamas = [m for m in emu.models() if "llama" in m["name"].lower()]
    expect(page.locator(VISIBLE)).to_have_count(len(llamas))
    expect(view).to_contain_text("search 'llama'", timeout=30_000)
    expect(view).to_contain_text(re.compile(rf"Python sees {len(llamas)} models"))
    page.locator('.pieces-mm input[type="search"]').fill("")
    expect(page.locator(VISIBLE)).to_have_count(len(emu.models()))
    expect(view).to_contain_text("search ''", timeout=30_000)


def test_download_shows_live_progress_and_python_agrees(
    marimo_app, marimo_emulator, page, artifacts
):
    emu = marimo_emulator
    small = next(m["id"] for m in emu.models() if m["name"] == "Llama 3.2 1B")
    open_app(page, marimo_app, emu)
    view = python_view(page)
    expect(view).to_be_visible(timeout=30_000)
    expect(view).not_to_contain_text("Llama 3.2 1B")
    page.locator('.pieces-mm input[type="search"]').fill("llama")  # the screenshot's view
    expect(view).to_contain_text("search 'llama'", timeout=30_000)

    row(page, small).locator('button[data-action="download"]').click()
    bar = row(page, small).locator('[role="progressbar"]')
    expect(bar).to_be_visible(timeout=10_000)
    seen: list[float] = []
    for _ in range(100):  # the bar's value, sampled while the 4 s download runs
        now = bar.evaluate_all("bars => bars.map(b => b.getAttribute('aria-valuenow'))")
        if not now or now[0] is None:  # never waits: the bar goes when the download ends
            break
        seen.append(float(now[0]))
        if len(seen) == 6:
            shoot(page, artifacts, "marimo")  # the page: marimo's chrome, widget, Python cell
        page.wait_for_timeout(100)
    assert len(set(seen)) >= 3 and seen == sorted(seen), f"progress did not rise: {seen}"
    state = row(page, small).locator(".pmm-state")
    expect(state).to_have_attribute("data-state", "downloaded", timeout=20_000)
    assert emu.model(small)["downloaded"] is True

    page.get_by_role("button", name="Ask Python").click()
    expect(view).to_contain_text(re.compile(r"Llama 3\.2 1B\s+downloaded"), timeout=30_000)
    expect(view).to_contain_text("asked 1 times")


def test_the_python_twins_cell_awaits_a_download_in_marimo(marimo_app, marimo_emulator, page):
    """An async marimo cell awaits the handles while the widget above keeps updating."""
    emu = marimo_emulator
    open_app(page, marimo_app, emu)
    local = [m for m in emu.models() if not m["cloud"] and not m["downloaded"]]
    smallest = min(local, key=lambda m: m["bytes"]["value"])
    page.get_by_role("button", name="Download, load and unload the smallest model").click()
    expect(row(page, smallest["id"]).locator('[role="progressbar"]')).to_be_visible(timeout=15_000)
    out = page.locator("[id^='output-']").filter(has_text=re.compile(r"progress updates"))
    expect(out).to_contain_text(re.compile(r"COMPLETED after \d+ progress updates"), timeout=30_000)
    expect(out).to_contain_text("'state': 'loaded'")
    expect(out).to_contain_text("loaded now: 0")
    assert emu.model(smallest["id"])["downloaded"] is True
