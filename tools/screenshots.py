"""Retake the README screenshots of the issue 11 UI in real JupyterLab + Debian Chromium.

    .venv/bin/python tools/screenshots.py [OUT_DIR]   # default docs/screenshots

Starts throwaway JupyterLab (light theme; dark via the theme command) and emulators on loopback,
drives the widget as a person would (Playwright), and writes lab-light, lab-fit, lab-bulk,
lab-free-space, lab-dark, lab-runtime and lab-runtime-installing PNGs at a 1400x900 viewport.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, expect, sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from conftest import CHROMIUM, CHROMIUM_ARGS, TOKEN  # noqa: E402
from notebook_driver import open_notebook, run_cells, write_notebook  # noqa: E402

from pieces_widgets.emulator import Emulator  # noqa: E402

ROW = ".pieces-mm tr[data-model-id]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyterlab(tmp: pathlib.Path) -> Iterator[dict]:
    """A throwaway JupyterLab on loopback (no news, no update checks), like the browser tests."""
    root, state = tmp / "root", tmp / "state"
    settings = state / "settings"
    notif = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True)
    root.mkdir()
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(state / "config"),
               JUPYTER_DATA_DIR=str(state / "data"), JUPYTER_RUNTIME_DIR=str(state / "rt"),
               IPYTHONDIR=str(state / "ipython"))  # fmt: skip
    env.pop("PIECES_OS_URL", None)
    port = free_port()
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={state}/ws",
        f"--LabApp.user_settings_dir={settings}", "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    with open(state / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=1)
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise RuntimeError((state / "server.log").read_text()) from None
                    time.sleep(0.1)
            yield {"base": base, "root": root, "token": TOKEN}
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def show(page: Page, lab: dict, emu: Emulator, name: str, view: str = "") -> None:
    """The manager in a fresh notebook, largest models first (`view`: more trait settings)."""
    code = (
        f"from pieces_widgets import ModelManager\nmm = ModelManager({emu.url!r})\n"
        f"mm.sort = {{'column': 'bytes', 'descending': True}}\n{view}mm"
    )
    write_notebook(lab, name, [code])
    open_notebook(page, lab, name)
    page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
    run_cells(page, 0)
    expect(page.locator(ROW)).to_have_count(len(emu.models()), timeout=60_000)
    page.locator(".jp-Cell").first.locator(".jp-InputArea").evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(800)


def row(page: Page, emu: Emulator, name: str):
    model_id = next(m["id"] for m in emu.models() if m["name"] == name)
    return page.locator(f'.pieces-mm tr[data-model-id="{model_id}"]')


def theme(page: Page, name: str) -> None:
    page.evaluate(
        f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})"
    )
    page.wait_for_timeout(1500)


def main(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        jupyterlab(pathlib.Path(tmp)) as lab,
        sync_playwright() as p,
    ):
        if True:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            shot = lambda name: page.screenshot(path=str(out / f"{name}.png"))  # noqa: E731

            with Emulator(download_seconds=30, resume_downloads=False) as emu:
                show(page, lab, emu, "manager.ipynb")
                shot("lab-light")
                # fit: the fits chip's count, a too-large Download asking first
                mixtral = row(page, emu, "Mixtral 8 7B")
                mixtral.locator('button[data-action="download"]').click()
                expect(mixtral.locator(".pmm-confirm")).to_be_visible()
                row(page, emu, "Phi-4 14B").locator(".pmm-name").hover()
                page.wait_for_timeout(500)
                shot("lab-fit")
                mixtral.locator('[data-action="dismiss-confirm"]').click()
                # several rows selected, the bulk bar's confirmation
                for name in ("Llama 3 8B", "Mistral 7B", "Qwen 2.5 Coder 7B"):
                    row(page, emu, name).locator("input[data-select]").check()
                bar = page.locator(".pieces-mm .pmm-bulk")
                bar.locator('button[data-bulk="delete-cache"]').click()
                expect(bar.locator(".pmm-confirm-text")).to_be_visible()
                page.wait_for_timeout(300)
                shot("lab-bulk")
                bar.locator('[data-action="bulk-dismiss"]').click()
                bar.locator('[data-action="bulk-clear"]').click()
                # Free space... with a 10 GB plan
                page.locator('.pieces-mm button[data-action="free-space"]').click()
                panel = page.locator(".pieces-mm .pmm-cleanup")
                panel.locator("input").fill("10 GB")
                panel.locator('button[data-action="cleanup-plan"]').click()
                expect(panel.locator(".pmm-plan [data-plan-id]").first).to_be_visible()
                page.wait_for_timeout(300)
                shot("lab-free-space")
                theme(page, "JupyterLab Dark")
                shot("lab-free-space-dark")
                panel.locator('[data-action="cleanup-close"]').click()
                # a download in progress, dark
                gemma = row(page, emu, "Gemma 2 9B")
                gemma.locator('button[data-action="download"]').click()
                page.wait_for_timeout(4000)
                shot("lab-dark")
                theme(page, "JupyterLab Light")
                page.wait_for_timeout(2000)
                shot("lab-downloading")

            with Emulator(ollama="missing", runtime_seconds=20, resume_downloads=False) as emu:
                show(page, lab, emu, "runtime.ipynb", "mm.filter = 'local'\n")
                badge = page.locator(".pieces-mm .pmm-runtime")
                expect(badge).to_contain_text("Runtime missing", timeout=15_000)
                shot("lab-runtime")
                badge.locator('button[data-action="runtime"]').click()
                expect(badge).to_contain_text("Installing", timeout=10_000)
                page.wait_for_timeout(5000)
                shot("lab-runtime-installing")
            browser.close()


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
