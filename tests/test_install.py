"""A plain `pip install` (no extras, no node) into a fresh venv gives the widget and the emulator.

The venv is built once per module from this checkout, like a user's `pip install .`, with no access
to the project's own .venv. Where the venv cannot be made (no network to PyPI, no `venv` module) the
tests skip with the reason, except in CI (CI=true), where that is a failure: CI must prove it.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATIC = ROOT / "pieces_widgets" / "static"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must test the plain install, but: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A fresh venv (no site packages, no pip of its own) with `pip install <checkout>` in it."""
    where = tmp_path_factory.mktemp("plain-install")
    venv = where / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True
    )
    python = venv / "bin" / "python"
    if made.returncode or not python.exists():
        _unavailable(f"cannot create a venv: {made.stderr.strip()[-500:]}")
    # This interpreter's pip installs into the venv's interpreter (`--python`): a user's pip would
    # do the same, and the venv needs no pip bootstrap. Build isolation fetches hatchling.
    env = dict(os.environ, PIP_NO_INPUT="1")
    env.pop("PYTHONPATH", None)
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=where,
        timeout=240,
    )
    if installed.returncode:
        _unavailable(f"pip install of the checkout failed: {installed.stderr.strip()[-2000:]}")
    return python


def _run(python: pathlib.Path, code: str, **env: str) -> str:
    """Run `code` in the venv from a directory outside the checkout; its stdout."""
    done = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=python.parent,
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **env},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def plain_emulator(venv_python: pathlib.Path) -> Iterator[str]:
    """`python -m pieces_widgets.emulator --port N` from the venv, as the README tells users."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(venv_python), "-m", "pieces_widgets.emulator", "--port", str(port), "--quiet"],
        cwd=venv_python.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/.well-known/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"the installed emulator did not start: {out}") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_the_installed_package_is_not_the_checkout(venv_python):
    where = _run(venv_python, "import pieces_widgets; print(pieces_widgets.__file__)")
    assert str(venv_python.parent.parent) in where, where
    assert str(ROOT) not in where


def test_a_plain_install_ships_the_built_bundle(venv_python):
    code = (
        "import importlib.resources as r, json\n"
        "s = r.files('pieces_widgets') / 'static'\n"
        "print(json.dumps({n: (s / n).read_text() for n in ('widget.js', 'widget.css')}))"
    )
    shipped = json.loads(_run(venv_python, code))
    for name, text in shipped.items():
        assert len(text) > 1000, f"{name} is nearly empty"
        assert text == (STATIC / name).read_text(), f"{name} differs from the committed bundle"


def test_a_plain_install_serves_the_emulator(plain_emulator):
    with urllib.request.urlopen(f"{plain_emulator}/models", timeout=5) as r:
        body = json.load(r)
    assert len(body["iterable"]) >= 10
    assert all(m.get("id") and m.get("name") for m in body["iterable"])


def test_a_plain_install_runs_the_widget_against_it(venv_python, plain_emulator):
    with urllib.request.urlopen(f"{plain_emulator}/models", timeout=5) as r:
        names = sorted(m["name"] for m in json.load(r)["iterable"])
    code = (
        "import json, importlib.resources as r\n"
        "from pieces_widgets import ModelManager\n"
        "mm = ModelManager(URL)\n"
        "df = mm.to_dataframe()\n"
        "js = (r.files('pieces_widgets') / 'static' / 'widget.js').read_text()\n"
        "print(json.dumps({'names': sorted(df['name']), 'server': mm.server,"
        " 'esm_is_bundle': mm.get_state()['_esm'] == js}))\n"
        "mm.close()\n"
    ).replace("URL", repr(plain_emulator))
    got = json.loads(_run(venv_python, code).splitlines()[-1])
    assert got["names"] == names
    assert got["server"]["emulated"] is True
    assert got["esm_is_bundle"], "the widget does not send the packaged bundle to the front end"


def test_the_console_script_is_installed(venv_python):
    script = venv_python.parent / "pieces-emulator"
    assert script.exists()
    help_text = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    assert "Emulate the Pieces OS model API" in help_text
