"""PiecesClient (sync) against the emulator over real sockets, plus a raw socket server for
answers the emulator never gives (redirects, wrong content types, truncated bodies)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pieces_widgets._loop import background_loop, run_blocking
from pieces_widgets.client import PiecesClient, ServerInfo
from pieces_widgets.discovery import ENV_VAR
from pieces_widgets.errors import (
    ModelNotFound,
    PiecesAPIError,
    PiecesError,
    PiecesProtocolError,
    PiecesTimeout,
    PiecesUnavailable,
)
from pieces_widgets.models import Model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawServer:
    """Answers every request with fixed bytes (or closes silently when `reply` is None)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.hits = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.hits += 1
                if self.reply is not None:
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()


def http(status: str, body: bytes, ctype: str = "application/json", length: int | None = None):
    n = len(body) if length is None else length
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {n}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + body


@pytest.fixture
def raw_server() -> Iterator:
    servers: list[RawServer] = []

    def make(reply: bytes | None) -> RawServer:
        servers.append(RawServer(reply))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def client(emulator) -> Iterator[PiecesClient]:
    with PiecesClient(emulator.url, timeout=5.0) as c:
        yield c


def first(models: list[Model], state: str) -> Model:
    return next(m for m in models if m.state == state and not m.custom)


# ----------------------------------------------------------------- connection & identity


def test_base_url_and_server_info(emulator):
    with PiecesClient(emulator.url + "/") as c:
        assert c.base_url == emulator.url
        info = c.server_info()
    assert info == ServerInfo(emulator.url, "12.3.4", True)


def test_env_var_is_used(emulator, monkeypatch):
    monkeypatch.setenv(ENV_VAR, emulator.url)
    with PiecesClient() as c:
        assert c.base_url == emulator.url
        assert len(c.list_models()) == 27


def test_ping(client, emulator):
    assert client.ping() is True
    with PiecesClient(f"http://127.0.0.1:{free_port()}") as dead:
        assert dead.ping() is False


def test_connection_refused_is_unavailable_and_fast():
    url = f"http://127.0.0.1:{free_port()}"
    with PiecesClient(url) as c:
        start = time.perf_counter()
        with pytest.raises(PiecesUnavailable) as info:
            c.list_models()
        assert time.perf_counter() - start < 2.0
    assert info.value.tried == [url] and url in str(info.value)
    assert ENV_VAR in str(info.value)


def test_discovery_failure_in_constructor_lists_urls(monkeypatch):
    import pieces_widgets.client as client_mod

    def fake_discover(timeout: float) -> str:
        raise PiecesUnavailable(["http://127.0.0.1:1", "http://127.0.0.1:2"])

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(client_mod, "discover", fake_discover)
    with pytest.raises(PiecesUnavailable, match=r"127\.0\.0\.1:2"):
        PiecesClient()


# ----------------------------------------------------------------- reads


def test_list_and_get(client):
    models = client.list_models()
    assert len(models) == 27 and all(isinstance(m, Model) for m in models)
    m = client.get_model(models[5].id)
    assert m == models[5] or m.id == models[5].id
    assert client.get_model(models[5]).id == models[5].id  # a Model works as an id


def test_repeated_snapshots_reuse_unchanged_models(client, emulator):
    first_list = client.list_models()
    target = first(first_list, "downloaded")
    client.load(target)
    second = client.list_models()
    changed = [b for a, b in zip(first_list, second, strict=True) if a is not b]
    assert [m.id for m in changed] == [target.id] and changed[0].loaded


def test_unknown_model_is_model_not_found(client, emulator):
    with pytest.raises(ModelNotFound) as info:
        client.get_model("no-such-model")
    err = info.value
    assert err.model_id == "no-such-model" and err.status == 410
    assert isinstance(err, PiecesAPIError) and isinstance(err, LookupError)
    assert "no-such-model" in str(err) and "model was not found." in str(err)


@pytest.mark.parametrize(
    ("model_id", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("a b?c#d%", "a%20b%3Fc%23d%25"),
        ("../models", "..%2Fmodels"),
        ("modèle", "mod%C3%A8le"),
    ],
)
def test_ids_are_one_encoded_path_segment(client, emulator, model_id, encoded):
    with pytest.raises(ModelNotFound):
        client.get_model(model_id)
    assert emulator.requests[-1] == ("GET", f"/model/{encoded}")
    with pytest.raises(PiecesAPIError):
        client.load(model_id)
    assert emulator.requests[-1] == ("POST", f"/model/{encoded}/load")


def test_a_real_id_with_a_slash_round_trips(client, emulator):
    base = emulator.model(first(client.list_models(), "downloaded").id)
    emulator.add_model({**base, "id": "team/llama:8b", "unique": "team-llama"})
    assert client.get_model("team/llama:8b").unique == "team-llama"
    assert client.load("team/llama:8b").loaded is True
    assert ("POST", "/model/team%2Fllama%3A8b/load") in emulator.requests


def test_empty_or_non_string_id_is_rejected_before_any_request(client, emulator):
    before = len(emulator.requests)
    for bad in ("", None, 3):
        with pytest.raises(ValueError):
            client.get_model(bad)  # type: ignore[arg-type]
    assert len(emulator.requests) == before


def test_odd_models_never_break_the_snapshot(client, emulator, caplog):
    emulator.add_model(
        {
            "id": "odd",
            "name": 42,
            "cloud": "yes",
            "bytes": {"value": "big"},
            "foundation": "BRAND_NEW_FAMILY",
            "created": {"value": "not a date"},
            "futureField": [1, 2],
        }
    )
    with caplog.at_level(logging.WARNING, logger="pieces_widgets"):
        models = client.list_models()
    assert len(models) == 28
    odd = models[-1]
    assert (odd.id, odd.name, odd.cloud, odd.bytes, odd.created) == ("odd", None, None, None, None)
    assert odd.foundation == "BRAND_NEW_FAMILY" and odd.raw["futureField"] == [1, 2]
    assert "problem(s)" in caplog.text


# ----------------------------------------------------------------- actions


def test_lifecycle_download_load_unload_delete_cache(client):
    local = first(client.list_models(), "available")
    started = client.download(local)
    assert started.downloading is True and started.state == "downloading"
    items = list(client.watch_download(local.id))
    assert items[-1].status == "COMPLETED" and items[-1].terminal
    assert client.get_model(local).state == "downloaded"
    assert client.load(local).state == "loaded"
    assert client.unload(local).state == "downloaded"
    client.load(local)
    assert client.unload_all() is None
    assert client.get_model(local).loaded is False
    assert client.delete_model_cache(local) is None
    assert client.get_model(local).state == "available"


def test_cancel_download(client):
    local = first(client.list_models(), "available")
    client.download(local.id)
    canceled = client.cancel_download(local.id)
    assert canceled.downloading is False and canceled.downloaded is False


def test_load_not_downloaded_is_api_error_with_server_text(client):
    local = first(client.list_models(), "available")
    with pytest.raises(PiecesAPIError) as info:
        client.load(local)
    err = info.value
    assert err.status == 500 and "download it before loading" in err.text
    assert err.method == "POST" and err.path.endswith("/load") and err.text in str(err)


def test_injected_500_carries_text(client, emulator):
    emulator.faults.http_error("snapshot", status=500, body="database on fire", times=1)
    with pytest.raises(PiecesAPIError) as info:
        client.list_models()
    assert (info.value.status, info.value.text) == (500, "database on fire")
    assert (info.value.method, info.value.path) == ("GET", "/models")
    assert len(client.list_models()) == 27  # fault consumed


def test_create_update_delete_custom_model(client, emulator, caplog):
    with caplog.at_level(logging.DEBUG):
        m = client.create_model(
            "My Llama",
            unique="my-llama:8b",
            description="secret-description-text",
            parameters=8.0,
            quantization="q4_K_M",
            max_tokens=8192,
            foundation="LLAMA_3_8B",
            provider="META",
            bytes=4_920_739_840,
        )
    assert "secret-description-text" not in caplog.text  # bodies are never logged
    assert m.custom is True and m.name == "My Llama" and m.max_tokens == 8192
    assert m.bytes == 4_920_739_840 and m.raw["bytes"]["readable"] == "4.92 GB"
    assert m.created is not None and m.type == "BALANCED" and m.usage == "CODE_CONVERSATION"
    stored = emulator.model(m.id)
    assert stored["maxTokens"] == {"total": 8192} and "id" in stored

    updated = client.update_model(m, description="new words", max_tokens=4096, quantization=None)
    assert updated.description == "new words" and updated.max_tokens == 4096
    assert updated.quantization is None
    again = client.update_model(updated.to_wire(), name="Renamed")  # a wire dict works too
    assert again.name == "Renamed"

    client.delete_model(again)
    with pytest.raises(ModelNotFound):
        client.get_model(m.id)


def test_create_duplicate_and_update_builtin_fail_with_server_text(client):
    client.create_model("Dup", unique="dup:1")
    with pytest.raises(PiecesAPIError, match="already exists"):
        client.create_model("Dup", unique="dup:1")
    builtin = client.list_models()[0]
    with pytest.raises(PiecesAPIError, match="only custom"):
        client.update_model(builtin, description="x")
    with pytest.raises(ValueError):
        client.update_model(builtin, id="other")
    with pytest.raises(ValueError):
        client.create_model("  ")


# ----------------------------------------------------------------- transport failures


def test_timeout_is_distinct(emulator):
    emulator.faults.latency(1.0, route="snapshot")
    with PiecesClient(emulator.url, timeout=0.2) as c:
        start = time.perf_counter()
        with pytest.raises(PiecesTimeout) as info:
            c.list_models()
        assert time.perf_counter() - start < 1.0
    assert isinstance(info.value, TimeoutError) and "0.2" in str(info.value)


def test_redirects_are_errors_never_followed(raw_server):
    target = raw_server(http("200 OK", b'{"iterable": []}'))
    redirect = raw_server(
        (
            f"HTTP/1.1 302 Found\r\nLocation: {target.url}/models\r\nContent-Length: 0\r\n\r\n"
        ).encode()
    )
    with PiecesClient(redirect.url) as c, pytest.raises(PiecesAPIError) as info:
        c.list_models()
    assert info.value.status == 302 and target.url in str(info.value)
    assert target.hits == 0


@pytest.mark.parametrize(
    ("reply", "error", "fragment"),
    [
        (
            http("200 OK", b"<html>Hello from nginx</html>", "text/html"),
            PiecesProtocolError,
            "nginx",
        ),
        (http("200 OK", b'{"iterable": [', "application/json"), PiecesProtocolError, "malformed"),
        (http("200 OK", b"", "application/json"), PiecesProtocolError, "empty"),
        (http("200 OK", b'"just a string"'), PiecesProtocolError, "iterable"),
        (http("200 OK", b'{"iterable": []}', length=400), PiecesProtocolError, "truncated"),
        (None, PiecesUnavailable, "closed"),
    ],
)
def test_protocol_errors_say_what_came(raw_server, reply, error, fragment):
    server = raw_server(reply)
    with PiecesClient(server.url, timeout=2.0) as c, pytest.raises(error) as info:
        c.list_models()
    assert fragment in str(info.value)


def test_snapshot_with_bad_entries_from_the_wire(raw_server):
    body = b'{"iterable": [{"id": "a", "name": "A"}, {"name": "no id"}, 7, {"id": "b"}]}'
    server = raw_server(http("200 OK", body))
    with PiecesClient(server.url) as c:
        assert [m.id for m in c.list_models()] == ["a", "b"]


def test_single_model_that_is_not_a_model_is_protocol_error(raw_server):
    server = raw_server(http("200 OK", b'{"unexpected": true}'))
    with PiecesClient(server.url) as c, pytest.raises(PiecesProtocolError, match="unexpected"):
        c.get_model("x")


# ----------------------------------------------------------------- sync client plumbing


def test_sync_client_works_inside_a_running_loop(emulator):
    async def cell() -> int:  # what a Jupyter cell does: blocking calls inside a running loop
        with PiecesClient(emulator.url) as c:
            local = first(c.list_models(), "available")
            return len(list(c.watch_download(local.id, start=True)))

    assert asyncio.run(cell()) > 3


def test_close_leaves_no_thread_and_rejects_calls(emulator):
    background_loop()  # the one shared loop thread may exist; no client adds another
    before = {t.name for t in threading.enumerate()}
    c = PiecesClient(emulator.url)
    downloaded = first(c.list_models(), "downloaded")
    assert [p.status for p in c.watch_download(downloaded.id)] == ["COMPLETED"]
    c.close()
    c.close()  # idempotent
    time.sleep(0.1)
    leftover = {t.name for t in threading.enumerate()} - before
    assert not any(n.startswith("pieces-widgets") for n in leftover), leftover
    with pytest.raises(PiecesError, match="closed"):
        c.list_models()
    with pytest.raises(PiecesError, match="closed"):
        c.watch_download(downloaded.id)


def test_watches_of_many_clients_share_one_loop_thread(emulator):
    clients = [PiecesClient(emulator.url) for _ in range(3)]
    try:
        downloaded = first(clients[0].list_models(), "downloaded")
        for c in clients:
            assert [p.status for p in c.watch_download(downloaded.id)] == ["COMPLETED"]
        names = [t.name for t in threading.enumerate() if t.name.startswith("pieces-widgets")]
        assert names == ["pieces-widgets-loop"], names
    finally:
        for c in clients:
            c.close()


def test_close_cancels_a_watch_blocked_in_another_thread(emulator_factory):
    emu = emulator_factory(download_seconds=30.0)
    c = PiecesClient(emu.url)
    local = first(c.list_models(), "available")
    outcome: list[BaseException | None] = []
    first_item = threading.Event()

    def watch() -> None:
        try:
            for _ in c.watch_download(local.id, start=True, poll_interval=30.0):
                first_item.set()
            outcome.append(None)
        except BaseException as exc:  # the outcome is the assertion
            outcome.append(exc)

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert first_item.wait(10)
    started = time.monotonic()
    c.close()
    watcher.join(10)
    assert not watcher.is_alive() and time.monotonic() - started < 5
    assert isinstance(outcome[0], PiecesError) and "closed" in str(outcome[0])
    # the shared loop is still fine for everybody else
    assert run_blocking(asyncio.sleep(0, "alive"), timeout=5) == "alive"


def test_run_blocking_refuses_its_own_loop_thread():
    async def inner() -> None:
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="own thread"):
            run_blocking(coro)

    run_blocking(inner(), timeout=5)


def test_run_blocking_timeout_cancels_the_work():
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(concurrent.futures.TimeoutError):
        run_blocking(slow(), timeout=0.1)
    assert cancelled.wait(5)


def test_background_loop_restarts_after_being_closed():
    loop = background_loop()

    async def stop() -> None:
        asyncio.get_running_loop().stop()

    asyncio.run_coroutine_threadsafe(stop(), loop)
    deadline = time.monotonic() + 5
    while loop.is_running() and time.monotonic() < deadline:
        time.sleep(0.01)
    loop.close()
    fresh = background_loop()
    assert fresh is not loop and fresh.is_running()
    assert run_blocking(asyncio.sleep(0, 7), timeout=5) == 7
