"""Driving a notebook in JupyterLab / Notebook 7 from Playwright."""

from __future__ import annotations

import pathlib
from typing import Any

import nbformat
from playwright.sync_api import Page

KERNEL_IDLE = (
    "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
)
RUN_CELLS = """async (idx) => {
  const app = window.jupyterapp, nb = app.shell.currentWidget.content;
  for (const i of idx) {
    nb.activeCellIndex = i;
    await app.commands.execute('notebook:run-cell');
  }
}"""


def write_notebook(server: dict[str, Any], name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, server["root"] / name)
    return name


def open_notebook(page: Page, server: dict[str, Any], name: str, app: str = "lab") -> None:
    path = f"lab/tree/{name}?reset&" if app == "lab" else f"notebooks/{name}?"
    page.goto(f"{server['base']}/{path}token={server['token']}")
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)


def run_cells(page: Page, *idx: int) -> None:
    """Run cells by index through the command registry; resolves when each has executed."""
    page.evaluate(RUN_CELLS, list(idx))


def cell_output(page: Page, index: int) -> Any:
    return page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output").last


def shoot(page: Page, artifacts: pathlib.Path, name: str, locator: Any = None) -> pathlib.Path:
    path = artifacts / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path
