"""End to end in Voila: the teaching notebook served as a dashboard, driven in real Chromium.

Voila runs every cell top to bottom in a fresh kernel, then the page shows the outputs with live
widgets (no code, no Jupyter UI). The teaching notebook starts its own emulator in that kernel, so
the test reads the emulator's URL from the page and checks the table against its `GET /models`.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from notebook_driver import shoot
from playwright.sync_api import Page, expect
from servers import free_port, require_tool, serve

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "teaching.ipynb"
ROW = ".pieces-mm tr[data-model-id]"


def closes_its_widget(path: pathlib.Path) -> bool:
    """Voila shows the page after the last cell ran: a widget closed by then is "not found"."""
    nb = nbformat.read(path, as_version=4)
    return any(re.search(r"\bmm\.close\(\)", c.source) for c in nb.cells if c.cell_type == "code")


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`voila notebooks/teaching.ipynb` on a free loopback port, with throwaway Jupyter dirs."""
    require_tool("voila")
    state = tmp_path_factory.mktemp("voila-state")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "JUPYTER_DATA_DIR": str(state / "data"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "IPYTHONDIR": str(state / "ipython"),
    }
    env.pop("PIECES_OS_URL", None)  # the notebook runs its own emulator in the kernel
    port = free_port()
    cmd = [
        sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    # a static file, not "/": every GET of the page starts a kernel and runs the notebook
    for _ in serve(cmd, f"{base}/voila/static/voila.js", state / "voila.log", env=env, cwd=state):
        yield base


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def test_teaching_notebook_does_not_close_its_widget():
    assert not closes_its_widget(NOTEBOOK), "under Voila the page would say 'model not found'"


def test_teaching_notebook_works_as_a_voila_dashboard(voila, page: Page, artifacts):
    page.goto(voila, timeout=180_000)  # the response comes once every cell has run
    expect(page.locator(".pieces-mm")).to_be_visible(timeout=30_000)
    url = re.search(r"http://127\.0\.0\.1:\d+", page.locator("body").inner_text())
    assert url, "the notebook's emulator URL is not on the page"
    models = get_json(f"{url.group(0)}/models")["iterable"]
    expect(page.locator(ROW)).to_have_count(len(models), timeout=30_000)
    expect(page.locator(".pieces-mm [data-connection]")).to_have_attribute(
        "data-connection", "connected"
    )
    assert "ModelManager(emu.url)" not in page.content()  # a dashboard: outputs, no code

    # a download from the dashboard: the bar rises to the end, and the server agrees
    todo = [m for m in models if not m.get("cloud") and not m.get("downloaded")]
    target = min(todo, key=lambda m: (m.get("bytes") or {}).get("value") or 0)["id"]
    row = page.locator(f'.pieces-mm tr[data-model-id="{target}"]')
    row.scroll_into_view_if_needed()
    row.locator('button[data-action="download"]').click()
    bar = row.locator('[role="progressbar"]')
    expect(bar).to_be_visible(timeout=10_000)
    seen: list[float] = []
    for _ in range(150):  # sampled while the notebook's 6 s download runs
        now = bar.evaluate_all("bars => bars.map(b => b.getAttribute('aria-valuenow'))")
        if not now or now[0] is None:  # never waits: the bar goes when the download ends
            break
        seen.append(float(now[0]))
        if len(seen) == 10:
            shoot(page, artifacts, "voila")
        page.wait_for_timeout(100)
    assert len(set(seen)) >= 3 and seen == sorted(seen), f"progress did not rise: {seen}"
    state = row.locator(".pmm-state")
    expect(state).to_have_attribute("data-state", "downloaded", timeout=20_000)
    assert get_json(f"{url.group(0)}/model/{target}")["downloaded"] is True

    # and Load, an action that needs the model on disk
    row.locator('button[data-action="load"]').click()
    expect(state).to_have_attribute("data-state", "loaded", timeout=20_000)
    assert get_json(f"{url.group(0)}/model/{target}")["loaded"] is True
