"""Real-browser fixtures: Debian Chromium via Playwright, throwaway JupyterLab / Notebook 7 servers.

Chromium is installed by `.ci/run`. Where it is truly absent the tests skip with a reason, except
in CI (CI=true), where a missing browser is a failure: CI must run them.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # closed network: stop every background fetch Chromium would try
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip
TOKEN = "e2e-token"


HERE = pathlib.Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests only: the hook sees every collected item in the session."""
    for item in items:
        if HERE in pathlib.Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Where screenshots go: $E2E_ARTIFACTS (CI keeps them) or a temp dir."""
    path = pathlib.Path(os.environ.get("E2E_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# Module scope, not session: sync Playwright keeps an asyncio loop running in the main thread while
# it is open, and the widget (rightly) treats a running loop as a kernel's; other test files must
# not inherit it.
@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not executable:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but Chromium is missing at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        yield ctx
        ctx.close()


def _ours(error: Any) -> bool:
    """An uncaught error counts unless it comes only from Jupyter's own bundles.

    Notebook 7.6 throws "reading 'schema'" on every page load here, widget or not; our code runs
    from a blob: URL (anywidget imports the ESM from a Blob), so it shows in any stack it is in.
    """
    stack = str(getattr(error, "stack", "") or "")
    frames = [line for line in stack.splitlines() if line.strip().startswith("at ")]
    foreign = ("/static/notebook/", "/static/lab/", "/lab/extensions/")
    return "blob:" in stack or not frames or not any(f in frames[0] for f in foreign)


@pytest.fixture
def page(browser_context: Any) -> Iterator[Page]:
    pg = browser_context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)) if _ours(e) else None)
    pg.on("dialog", lambda d: (errors.append(f"unexpected dialog: {d.message}"), d.dismiss()))
    yield pg
    pg.close()
    assert not errors, f"uncaught JS errors or dialogs: {errors}"


def _start_jupyter(
    module: str, tmp_path_factory: pytest.TempPathFactory, theme: str | None = None
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp(f"{module}-root")
    state = tmp_path_factory.mktemp(f"{module}-state")
    settings = state / "settings"
    notif = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    if theme:
        themes = settings / "@jupyterlab/apputils-extension/themes.jupyterlab-settings"
        themes.write_text(json.dumps({"theme": theme}))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_DATA_DIR=str(state / "data"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        IPYTHONDIR=str(state / "ipython"),
    )
    env.pop("PIECES_OS_URL", None)
    port = free_port()
    app = "LabApp" if module == "jupyterlab" else "JupyterNotebookApp"
    cmd = [
        sys.executable, "-m", module, "--no-browser", "--allow-root", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
        f"--{app}.expose_app_in_browser=True", f"--{app}.workspaces_dir={state}/ws",
    ]  # fmt: skip
    if module == "jupyterlab":  # Notebook 7 breaks with these (blank page, a JS error)
        cmd += [f"--{app}.user_settings_dir={settings}", f"--{app}.news_url=None",
                f"--{app}.extension_manager=readonly"]  # fmt: skip
    log = open(state / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((state / "server.log").read_text()) from None
            time.sleep(0.1)
    yield {"base": base, "root": root, "token": TOKEN, "log": state / "server.log"}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _start_jupyter("jupyterlab", tmp_path_factory)


@pytest.fixture(scope="session")
def dark_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _start_jupyter("jupyterlab", tmp_path_factory, theme="JupyterLab Dark")


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _start_jupyter("notebook", tmp_path_factory)
