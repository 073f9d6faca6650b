"""The local runtime (Ollama) in ModelManager over real sockets: the `runtime` trait, Install and
Update as twins and commands, failures with Retry, and local downloads refused early."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import _support
import httpx
import pytest

from pieces_widgets import ModelManager
from pieces_widgets.emulator import Emulator
from pieces_widgets.errors import PiecesAPIError
from pieces_widgets.widget import ActionError

LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"  # local, not downloaded
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # local, downloaded
GPT35 = "a85e1883-862a-5bb1-9a37-b5186d8bc0ed"  # cloud
WAIT = 20


def eventually(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    return _support.eventually(check, timeout, what)


send = _support.send

KEYS = {"state", "version", "percentage", "error", "blocks"}


def posts(emu: Emulator, suffix: str) -> int:
    return sum(1 for method, path in emu.requests if method == "POST" and path.endswith(suffix))


@pytest.fixture
def managers() -> Iterator[Callable[..., ModelManager]]:
    made: list[ModelManager] = []

    def make(url: str, **kwargs: Any) -> ModelManager:
        made.append(ModelManager(url, poll_interval=None, **kwargs))
        return made[-1]

    yield make
    for mm in made:
        mm.close()


def runtime_emulator(factory: Callable[..., Emulator], state: str) -> Emulator:
    return factory(ollama=state, runtime_seconds=0.6, frame_interval=0.05, resume_downloads=False)


def known(mm: ModelManager) -> dict[str, Any]:
    return eventually(lambda: mm.runtime if mm.runtime["state"] != "unknown" else None)


def test_installed_runtime(emulator_factory, managers):
    mm = managers(runtime_emulator(emulator_factory, "installed").url)
    runtime = known(mm)
    assert set(runtime) == KEYS
    assert runtime == {
        "state": "installed",
        "version": "0.6.5",
        "percentage": None,
        "error": None,
        "blocks": None,
    }


def test_missing_runtime_blocks_local_downloads_before_any_server_call(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "missing")
    mm = managers(emu.url)
    runtime = known(mm)
    assert runtime["state"] == "missing" and runtime["version"] is None
    assert "Install the local runtime (Ollama)" in runtime["blocks"]
    with pytest.raises(ActionError) as info:
        mm.download(LLAMA_1B).wait(WAIT)
    assert str(info.value) == runtime["blocks"]
    assert posts(emu, f"/model/{LLAMA_1B}/download") == 0  # refused early: no server call
    eventually(lambda: "Install the local runtime" in mm.errors.get(LLAMA_1B, ""), what="row")
    # a cloud model and an already downloaded one are not blocked: the server answers as before
    with pytest.raises(PiecesAPIError) as cloud:
        mm.download(GPT35).wait(WAIT)
    assert "cloud" in str(cloud.value) and posts(emu, f"/model/{GPT35}/download") == 1
    assert mm.download(LLAMA_8B).wait(WAIT) is not None
    assert posts(emu, f"/model/{LLAMA_8B}/download") == 1


def test_install_runtime_reports_progress_then_downloads_work(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "missing")
    mm = managers(emu.url)
    known(mm)
    states: list[dict[str, Any]] = []
    mm.observe(lambda change: states.append(dict(change["new"])), names="runtime")
    percentages: list[float] = []
    status = mm.install_runtime().on_progress(percentages.append).wait(WAIT)
    assert status.state == "installed"
    assert percentages and percentages == sorted(percentages) and percentages[-1] > 0
    assert any(s["state"] == "installing" and s["blocks"] for s in states)
    assert any(s["state"] == "installing" and (s["percentage"] or 0) > 0 for s in states)
    eventually(lambda: mm.runtime["state"] == "installed", what="installed")
    assert mm.runtime["blocks"] is None and mm.runtime["version"] == "0.6.5"
    assert mm.runtime["error"] is None and mm.runtime["percentage"] is None
    mm.download(LLAMA_1B).wait(WAIT)
    assert emu.model(LLAMA_1B)["downloaded"] is True


@pytest.mark.parametrize(("status", "text"), [("FAILED", "failed"), ("CANCELED", "was cancelled")])
def test_install_fails_or_is_cancelled_then_retry_works(emulator_factory, managers, status, text):
    emu = runtime_emulator(emulator_factory, "missing")
    emu.faults.fail_runtime(50, status=status)
    mm = managers(emu.url)
    known(mm)
    with pytest.raises(ActionError) as info:
        mm.install_runtime().wait(WAIT)
    message = str(info.value)
    assert re.match(rf"The runtime install {text} at \d+ %\. Press .* to retry\.$", message), (
        message
    )
    eventually(lambda: mm.runtime["error"], what="error shown")
    assert mm.runtime["state"] == "missing" and text in mm.runtime["error"]
    assert mm.runtime["blocks"]  # still no local downloads
    emu.faults.clear()
    assert mm.install_runtime().wait(WAIT).state == "installed"  # Retry
    eventually(lambda: mm.runtime["state"] == "installed", what="installed on retry")
    assert mm.runtime["error"] is None and mm.runtime["blocks"] is None


def test_install_refused_by_the_server_is_a_clear_error(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "missing")
    emu.faults.http_error("ollama_install", status=500, times=1, body="disk full")
    mm = managers(emu.url)
    known(mm)
    with pytest.raises(Exception, match="disk full"):
        mm.install_runtime().wait(WAIT)
    eventually(lambda: mm.runtime["error"], what="error shown")
    assert "could not start" in mm.runtime["error"] and mm.runtime["state"] == "missing"


def test_update_runtime(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "update-required")
    mm = managers(emu.url)
    runtime = known(mm)
    assert runtime["state"] == "update-required" and runtime["version"] == "0.3.14"
    assert runtime["blocks"] is None  # the old runtime still runs models
    percentages: list[float] = []
    assert mm.update_runtime().on_progress(percentages.append).wait(WAIT).state == "installed"
    assert percentages
    eventually(lambda: mm.runtime["version"] == "0.6.5", what="updated")
    assert mm.runtime["state"] == "installed"


def test_commands_from_the_frontend(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "missing")
    mm = managers(emu.url)
    known(mm)
    send(mm, action="install-runtime")
    eventually(lambda: mm.runtime["state"] == "installed", what="installed by the button")
    assert posts(emu, "/ollama/install") == 1
    emu.set_ollama("update-required")
    mm.retry().wait(WAIT)  # a reconnect reads the status again
    eventually(lambda: mm.runtime["state"] == "update-required", what="update required")
    send(mm, action="update-runtime")
    eventually(lambda: mm.runtime["state"] == "installed", what="updated by the button")
    assert posts(emu, "/ollama/update") == 1
    labels = [h["action"] for h in mm.history.to_dict("records")]
    assert "install_runtime" in labels and "update_runtime" in labels


def test_an_install_already_running_is_followed_on_connect(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "missing")
    httpx.post(f"{emu.url}/ollama/install")
    mm = managers(emu.url)
    eventually(lambda: mm.runtime["state"] == "installing", timeout=5, what="installing shown")
    assert mm.runtime["blocks"] and "being installed" in mm.runtime["blocks"]
    eventually(lambda: mm.runtime["state"] == "installed", what="followed to the end")


def test_unknown_runtime_blocks_nothing(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "installed")
    emu.faults.http_error("ollama_status", status=404, body="Not Found")  # an older Pieces OS
    mm = managers(emu.url)
    eventually(lambda: ("GET", "/ollama/status") in emu.requests, what="status asked")
    time.sleep(0.3)
    assert mm.runtime == {
        "state": "unknown",
        "version": None,
        "percentage": None,
        "error": None,
        "blocks": None,
    }
    mm.download(LLAMA_1B).wait(WAIT)  # not blocked: the server decides
    assert posts(emu, f"/model/{LLAMA_1B}/download") == 1


def test_missing_runtime_blocks_local_loads_before_any_server_call(emulator_factory, managers):
    """A downloaded local model cannot be loaded without the runtime: refused on the row with
    the reason, no POST .../load (the server would refuse it after the call); once the runtime
    is installed the same load goes through."""
    emu = runtime_emulator(emulator_factory, "missing")
    mm = managers(emu.url)
    runtime = known(mm)
    assert runtime["blocks"] == (
        "Install the local runtime (Ollama) to download or load on-device models."
    )
    with pytest.raises(ActionError) as info:
        mm.load(LLAMA_8B).wait(WAIT)
    assert str(info.value) == runtime["blocks"]
    send(mm, action="load", id=LLAMA_8B)  # the Load button: same refusal, on the row
    eventually(lambda: "download or load" in mm.errors.get(LLAMA_8B, ""), what="row error")
    assert posts(emu, f"/model/{LLAMA_8B}/load") == 0
    assert emu.model(LLAMA_8B)["loaded"] is False
    mm.install_runtime().wait(WAIT)
    eventually(lambda: mm.runtime["blocks"] is None, what="unblocked")
    mm.load(LLAMA_8B).wait(WAIT)
    assert posts(emu, f"/model/{LLAMA_8B}/load") == 1
    assert emu.model(LLAMA_8B)["loaded"] is True


def test_installing_runtime_blocks_local_loads_too(emulator_factory, managers):
    emu = runtime_emulator(emulator_factory, "missing")
    httpx.post(f"{emu.url}/ollama/install")
    mm = managers(emu.url)
    eventually(lambda: mm.runtime["state"] == "installing", timeout=5, what="installing shown")
    assert "downloaded or loaded once it is done" in mm.runtime["blocks"]
    with pytest.raises(ActionError, match="being installed"):
        mm.load(LLAMA_8B).wait(WAIT)
    assert posts(emu, f"/model/{LLAMA_8B}/load") == 0


def test_a_blocked_load_with_unload_first_unloads_nothing(emulator_factory, managers):
    """The refusal comes before the models in the way are unloaded, not after."""
    emu = runtime_emulator(emulator_factory, "missing")
    mm = managers(emu.url)
    known(mm)
    phi4 = next(r for r in mm.models if r["name"] == "Phi-4 14B")
    eventually(lambda: mm.fit(phi4["id"]).status == "unload", what="device figures")
    in_the_way = [u.id for u in mm.fit(phi4["id"]).unload]
    assert in_the_way and all(emu.model(i)["loaded"] for i in in_the_way)
    with pytest.raises(ActionError, match="download or load"):
        mm.load(phi4["id"], unload_first=True).wait(WAIT)
    assert all(emu.model(i)["loaded"] for i in in_the_way)
    assert posts(emu, "/unload") == 0
