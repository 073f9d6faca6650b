"""AsyncPiecesClient: the async twin, driven with asyncio.run over real sockets."""

from __future__ import annotations

import asyncio
import inspect
import socket
from typing import Any

import pytest

import pieces_widgets.client as client_mod
from pieces_widgets.client import AsyncPiecesClient, PiecesClient, ServerInfo
from pieces_widgets.discovery import ENV_VAR
from pieces_widgets.errors import ModelNotFound, PiecesAPIError, PiecesError, PiecesUnavailable

API = [
    "server_info",
    "ping",
    "list_models",
    "get_model",
    "create_model",
    "update_model",
    "delete_model",
    "delete_model_cache",
    "unload_all",
    "download",
    "cancel_download",
    "load",
    "unload",
    "watch_download",
]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_same_api_on_both_clients():
    for name in API:
        a, s = getattr(AsyncPiecesClient, name), getattr(PiecesClient, name)
        params = list(inspect.signature(a).parameters)
        assert params == list(inspect.signature(s).parameters), name
        if name == "watch_download":
            assert inspect.isasyncgenfunction(a)
        else:
            assert inspect.iscoroutinefunction(a), name


def test_every_method_over_the_wire(emulator):
    async def main() -> None:
        async with AsyncPiecesClient(emulator.url + "/") as c:
            assert c.base_url == emulator.url
            assert await c.server_info() == ServerInfo(emulator.url, "12.3.4", True)
            assert await c.ping()
            models = await c.list_models()
            assert len(models) == 27
            local = next(m for m in models if m.state == "available")
            assert (await c.get_model(local.id)).id == local.id
            assert (await c.download(local)).downloading
            assert (await c.cancel_download(local)).downloading is False
            items = [p async for p in c.watch_download(local, start=True)]
            assert items[-1].status == "COMPLETED"
            assert [p.percentage for p in items] == sorted(p.percentage for p in items)
            assert (await c.load(local)).loaded
            assert (await c.unload(local)).loaded is False
            await c.load(local)
            assert await c.unload_all() is None
            assert await c.delete_model_cache(local) is None
            assert (await c.get_model(local)).state == "available"
            custom = await c.create_model("Async custom", unique="async:1", max_tokens=1024)
            assert custom.custom and custom.max_tokens == 1024
            custom = await c.update_model(custom, description="changed")
            assert custom.description == "changed"
            assert await c.delete_model(custom) is None
            with pytest.raises(ModelNotFound):
                await c.get_model(custom.id)

    run(main())
    assert ("GET", "/models") in emulator.requests


def test_errors_and_encoding(emulator):
    async def main() -> None:
        async with AsyncPiecesClient(emulator.url) as c:
            with pytest.raises(ModelNotFound) as info:
                await c.get_model("x/y")
            assert info.value.model_id == "x/y"
            emulator.faults.http_error("load", status=503, body="busy, try later", times=1)
            target = next(m for m in await c.list_models() if m.state == "downloaded")
            with pytest.raises(PiecesAPIError) as api:
                await c.load(target)
            assert (api.value.status, api.value.text) == (503, "busy, try later")

    run(main())
    assert ("GET", "/model/x%2Fy") in emulator.requests


def test_concurrent_calls_share_one_client(emulator):
    async def main() -> list[int]:
        async with AsyncPiecesClient(emulator.url) as c:
            results = await asyncio.gather(*(c.list_models() for _ in range(8)))
            return [len(r) for r in results]

    assert run(main()) == [27] * 8


def test_unavailable_explicit_url():
    url = f"http://127.0.0.1:{free_port()}"

    async def main() -> None:
        c = AsyncPiecesClient(url)
        try:
            with pytest.raises(PiecesUnavailable) as info:
                await c.list_models()
            assert info.value.tried == [url]
            assert c.base_url == url  # explicit URLs are kept
            with pytest.raises(PiecesUnavailable):
                async for _ in c.watch_download("m"):
                    pass
        finally:
            await c.aclose()

    run(main())


def test_discovery_is_lazy_and_repeated_after_a_loss(emulator_factory, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    first = emulator_factory()
    second = emulator_factory()
    answers = [first.url, second.url]
    calls: list[str] = []

    async def fake_adiscover(timeout: float) -> str:  # stands in for the port scan
        calls.append(answers[len(calls)])
        return calls[-1]

    monkeypatch.setattr(client_mod, "adiscover", fake_adiscover)

    async def main() -> None:
        c = AsyncPiecesClient()
        assert c.base_url is None  # nothing resolved at construction
        try:
            assert len(await c.list_models()) == 27
            assert c.base_url == first.url
            first.stop()  # "Pieces OS restarted on another port"
            with pytest.raises(PiecesUnavailable):
                await c.list_models()
            assert c.base_url is None
            assert len(await c.list_models()) == 27
            assert c.base_url == second.url
        finally:
            await c.aclose()

    run(main())
    assert calls == answers


def test_closed_client_refuses(emulator):
    async def main() -> None:
        c = AsyncPiecesClient(emulator.url)
        await c.aclose()
        with pytest.raises(PiecesError, match="closed"):
            await c.list_models()

    run(main())


def test_every_endpoint_is_one_pure_builder():
    """Same request for the same arguments, nothing sent; the delete pair is built once each."""
    from pieces_widgets import _wire

    delete = _wire.delete("a/b")
    assert (delete.method, delete.path, delete.expect, delete.body) == (
        "POST",
        "/models/a%2Fb/delete",
        "empty",
        None,
    )
    assert delete.model_id == "a/b" and delete.finish is None and delete.headers is None
    cache = _wire.delete_cache("a/b")
    assert (cache.method, cache.path, cache.expect, cache.body) == (
        "POST",
        "/models/a%2Fb/delete/cache",
        "json",
        b"{}",
    )
    assert cache.model_id == "a/b" and cache.finish is not None and cache.finish({}, cache) is None
    assert cache.headers == {"Content-Type": "application/json"}
    for name, suffix in [
        ("get", ""),
        ("download", "/download"),
        ("cancel_download", "/download/cancel"),
        ("load", "/load"),
        ("unload", "/unload"),
    ]:
        call = getattr(_wire, name)("..")
        assert call == getattr(_wire, name)("..")
        assert call.path == f"/model/%2E%2E{suffix}" and call.model_id == ".."
    with pytest.raises(ValueError):
        _wire.load("")
    assert _wire.progress_path("x y") == "/model/x%20y/download/progress"


def test_both_clients_share_the_base_settings(emulator):
    async def main() -> tuple[Any, Any]:
        async with AsyncPiecesClient(emulator.url, 3.0, headers={"X-Test": "1"}) as a:
            return a._http.timeout, a._http.headers

    a_timeout, a_headers = run(main())
    with PiecesClient(emulator.url, 3.0, headers={"X-Test": "1"}) as s:
        assert s._http.timeout == a_timeout
        assert dict(s._http.headers) == dict(a_headers)
        assert a_headers["X-Test"] == "1" and a_headers["User-Agent"].startswith("pieces-widgets")
        assert not s._http.follow_redirects and not s._http.trust_env
