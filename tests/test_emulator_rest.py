"""REST semantics of the emulator over real sockets: spec §2, §3, §6."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pieces_widgets.emulator import Emulator, load_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "models_snapshot.json"
GPT4O = "861c964a-0055-5270-ac1c-b2bf20fd0b71"  # cloud
LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"  # local, available
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # downloaded, not loaded
LLAMA_3B = "6a5f4dd5-0da6-5f2a-b4b9-dae672181707"  # loaded
POTION = "e268a31a-d494-52a9-bd58-fe438705c18a"  # loaded
CUSTOM = "3ffcfcf5-1c40-5abc-aabc-aa4856d9d001"  # custom, downloaded
SEEDED = {
    "version": "1.0.0",
    "created": {"value": "2025-05-22T08:10:00.000000+00:00"},
    "name": "My Local Llama (custom)",
    "cloud": False,
    "type": "BALANCED",
    "usage": "CODE_CONVERSATION",
    "unique": "llama3.1:8b-my-custom-q4_K_M",
    "parameters": None,
    "bytes": {"readable": "4.92 GB", "value": 4920739840},
}


@pytest.fixture
def client(emulator: Emulator):
    with httpx.Client(base_url=emulator.url, timeout=5) as c:
        yield c


def is_json(r: httpx.Response) -> bool:
    return r.headers["content-type"].split(";")[0] == "application/json"


def is_text(r: httpx.Response) -> bool:
    return r.headers["content-type"].startswith("text/plain")


def test_snapshot_is_the_packaged_fixture(emulator_factory):
    emu = emulator_factory(resume_downloads=False)
    r = httpx.get(f"{emu.url}/models")
    assert r.status_code == 200 and is_json(r)
    body = r.json()
    assert set(body) == {"iterable", "schema"}
    fixture = json.loads(FIXTURE.read_text())["iterable"]
    assert [m["id"] for m in body["iterable"]] == [m["id"] for m in fixture]
    for got, want in zip(body["iterable"], fixture, strict=True):
        want = {**want, "downloading": False}  # nothing runs when resume is off
        assert got == want


def test_every_response_has_the_emulator_header(client: httpx.Client):
    from importlib.metadata import version

    expected = f"pieces-widgets/{version('pieces-widgets')}"
    for r in (
        client.get("/models"),
        client.get("/model/nope"),
        client.post("/models/unload"),
        client.get("/no/such/path"),
        client.head("/.well-known/health"),
    ):
        assert r.headers["x-pieces-emulator"] == expected


def test_health_and_version(client: httpx.Client, emulator_factory):
    head = client.head("/.well-known/health")
    assert head.status_code == 200 and is_text(head) and head.content == b""
    get = client.get("/.well-known/health")
    assert get.status_code == 200 and is_text(get) and get.text
    version = client.get("/.well-known/version")
    assert (version.status_code, version.text) == (200, "12.3.4") and is_text(version)
    other = emulator_factory(version="12.0.1")
    assert httpx.get(f"{other.url}/.well-known/version").text == "12.0.1"


def test_strict_wire_types(client: httpx.Client):
    for m in client.get("/models").json()["iterable"]:
        for flag in ("cloud", "downloaded", "downloading", "loaded", "cpu", "custom"):
            assert isinstance(m.get(flag, False), bool)
        for size in ("bytes", "ram"):
            if size in m:
                assert type(m[size]["value"]) is int and isinstance(m[size]["readable"], str)


def test_get_model_and_410(client: httpx.Client):
    r = client.get(f"/model/{LLAMA_1B}")
    assert r.status_code == 200 and is_json(r) and r.json()["name"] == "Llama 3.2 1B"
    r = client.get("/model/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 410 and is_text(r) and r.text == "model was not found."


def test_load_unload_and_unload_all(client: httpx.Client):
    r = client.post(f"/model/{LLAMA_8B}/load")
    assert r.status_code == 200 and r.json()["loaded"] is True
    assert client.get(f"/model/{LLAMA_8B}").json()["loaded"] is True
    r = client.post(f"/model/{LLAMA_8B}/unload")
    assert r.status_code == 200 and r.json()["loaded"] is False
    for mid in (LLAMA_1B, GPT4O):  # not downloaded / cloud
        r = client.post(f"/model/{mid}/load")
        assert r.status_code == 500 and is_text(r) and r.text
    r = client.post("/models/unload")
    assert r.status_code == 204 and r.content == b""
    assert not any(m["loaded"] for m in client.get("/models").json()["iterable"])
    assert client.post("/model/unknown/unload").status_code == 500


def test_download_of_cloud_or_unknown_model_is_500(client: httpx.Client):
    for mid in (GPT4O, "unknown"):
        r = client.post(f"/model/{mid}/download")
        assert r.status_code == 500 and is_text(r)


def test_download_of_downloaded_model_and_idle_cancel_are_unchanged(client: httpx.Client):
    before = client.get(f"/model/{LLAMA_8B}").json()
    assert client.post(f"/model/{LLAMA_8B}/download").json() == before
    idle = client.get(f"/model/{LLAMA_1B}").json()
    assert client.post(f"/model/{LLAMA_1B}/download/cancel").json() == idle
    assert client.post("/model/unknown/download/cancel").status_code == 500


def test_create_returns_custom_model_with_new_id(client: httpx.Client):
    r = client.post("/models/create", json=SEEDED)
    assert r.status_code == 200 and is_json(r)
    model = r.json()
    assert model["custom"] is True and model["id"] not in (None, "")
    assert model["downloading"] is False and model["loaded"] is False
    assert "parameters" not in model  # a null optional is not stored
    assert client.get(f"/model/{model['id']}").json() == model
    assert client.get("/models").json()["iterable"][-1] == model
    dup = client.post("/models/create", json=SEEDED)
    assert dup.status_code == 500 and is_text(dup) and "exists" in dup.text
    renamed = {**SEEDED, "unique": "other"}  # same name + version is a duplicate too
    assert client.post("/models/create", json=renamed).status_code == 500


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "must be a JSON object"),
        (b"{not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (json.dumps({**SEEDED, "cloud": "false"}).encode(), "'cloud' must be a boolean"),
        (json.dumps({k: v for k, v in SEEDED.items() if k != "name"}).encode(), "'name'"),
        (json.dumps({**SEEDED, "created": {"value": "yesterday"}}).encode(), "ISO-8601"),
        (json.dumps({**SEEDED, "bytes": {"value": 1.5e9, "readable": "x"}}).encode(), "integer"),
        (json.dumps({**SEEDED, "downloaded": 1}).encode(), "'downloaded' must be a boolean"),
        (json.dumps({**SEEDED, "parameters": "8"}).encode(), "'parameters'"),
    ],
)
def test_malformed_create_bodies_are_500_text(client: httpx.Client, body: bytes, fragment: str):
    r = client.post("/models/create", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 500 and is_text(r)
    assert fragment in r.text and "Traceback" not in r.text


def test_update_only_for_custom_models(client: httpx.Client):
    custom = client.get(f"/model/{CUSTOM}").json()
    edited = {**custom, "name": "Renamed", "parameters": None, "loaded": True, "junk": 1}
    edited["created"] = {"value": "2025-03-03T10:05:19.054388+00:00"}
    r = client.post("/model/update", json=edited)
    assert r.status_code == 200 and is_json(r)
    model = r.json()
    assert model["name"] == "Renamed" and model["custom"] is True
    assert model["loaded"] is False  # server-owned flag, not taken from the body
    assert "junk" not in model and "parameters" not in model
    assert client.get(f"/model/{CUSTOM}").json() == model
    stock = client.get(f"/model/{LLAMA_8B}").json()
    assert client.post("/model/update", json={**stock, "name": "x"}).status_code == 500
    ghost = {**custom, "id": "ghost"}
    assert client.post("/model/update", json=ghost).status_code == 500
    bad = client.post("/model/update", json={k: v for k, v in custom.items() if k != "id"})
    assert bad.status_code == 500 and "'id'" in bad.text


def test_delete_only_for_custom_models(client: httpx.Client):
    r = client.post(f"/models/{LLAMA_8B}/delete")
    assert r.status_code == 500 and is_text(r)
    r = client.post(f"/models/{CUSTOM}/delete")
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/model/{CUSTOM}").status_code == 410
    assert client.post(f"/models/{CUSTOM}/delete").status_code == 500


@pytest.mark.parametrize("body", [None, b"", b"{}", b'{"schema":{"migration":0}}', b"null"])
def test_delete_cache_accepts_what_the_sdk_sends(client: httpx.Client, body: bytes | None):
    headers = {"content-type": "application/json"}
    r = client.post(f"/models/{LLAMA_3B}/delete/cache", content=body, headers=headers)
    assert r.status_code == 200 and is_json(r)
    assert r.json()["model"]["id"] == LLAMA_3B
    m = client.get(f"/model/{LLAMA_3B}").json()
    assert m["downloaded"] is False and m["loaded"] is False


def test_delete_cache_rejects_garbage_and_unknown(client: httpx.Client):
    headers = {"content-type": "application/json"}
    assert (
        client.post(f"/models/{POTION}/delete/cache", content=b"[1]", headers=headers).status_code
        == 500
    )
    assert client.post("/models/nope/delete/cache").status_code == 500


def test_unknown_path_and_wrong_method(client: httpx.Client):
    r = client.get("/nothing")
    assert r.status_code == 404 and is_text(r)
    assert client.get("/models/").status_code == 404  # no trailing-slash aliasing
    r = client.post("/models")
    assert r.status_code == 405 and is_text(r)
    assert client.get(f"/model/{LLAMA_1B}/load").status_code == 405


@pytest.mark.parametrize(
    "model_id", ["a/b", "..", "../models", "100%", "with space", "naïve-模型", "a%2Fb", "?#&"]
)
def test_ids_with_reserved_characters_are_one_segment(emulator: Emulator, model_id: str):
    base = emulator.model(CUSTOM)
    emulator.add_model({**base, "id": model_id, "unique": f"u-{model_id}"})
    from urllib.parse import quote

    # Dots are encoded too: a literal ".." segment would be normalised away by any client.
    encoded = quote(model_id, safe="").replace(".", "%2E")
    with httpx.Client(base_url=emulator.url) as c:
        r = c.get(f"/model/{encoded}")
        assert r.status_code == 200 and r.json()["id"] == model_id
        assert c.post(f"/model/{encoded}/load").json()["loaded"] is True
        assert c.post(f"/models/{encoded}/delete").status_code == 204
    assert ("GET", f"/model/{encoded}") in emulator.requests
    assert ("POST", f"/model/{encoded}/load") in emulator.requests


def test_requests_log_keeps_raw_paths(emulator: Emulator):
    httpx.get(f"{emulator.url}/model/a%2Fb")
    httpx.get(f"{emulator.url}/models?x=1")
    assert emulator.requests[-2:] == [("GET", "/model/a%2Fb"), ("GET", "/models")]


def test_python_side_catalogue_changes(emulator: Emulator):
    copy = emulator.model(LLAMA_1B)
    copy["name"] = "mutated"  # a copy: the server is unaffected
    assert emulator.model(LLAMA_1B)["name"] == "Llama 3.2 1B"
    stored = emulator.add_model({**copy, "id": "new-one", "unique": "new"})
    assert stored["name"] == "mutated"
    ids = [m["id"] for m in httpx.get(f"{emulator.url}/models").json()["iterable"]]
    assert ids[-1] == "new-one" and len(ids) == 28
    emulator.remove_model("new-one")
    assert httpx.get(f"{emulator.url}/model/new-one").status_code == 410
    with pytest.raises(KeyError):
        emulator.remove_model("new-one")
    with pytest.raises(KeyError):
        emulator.model("new-one")


def test_catalog_sources(tmp_path: Path, emulator_factory):
    models = load_catalog()[:3]
    path = tmp_path / "cat.json"
    path.write_text(json.dumps({"iterable": models}))
    emu = emulator_factory(catalog=path)
    assert [m["id"] for m in httpx.get(f"{emu.url}/models").json()["iterable"]] == [
        m["id"] for m in models
    ]
    emu2 = emulator_factory(catalog=models[:1])
    assert len(httpx.get(f"{emu2.url}/models").json()["iterable"]) == 1
    with pytest.raises(ValueError, match="duplicate"):
        Emulator(catalog=[models[0], models[0]])


def test_non_loopback_host_needs_allow_remote():
    with pytest.raises(ValueError, match="allow_remote"):
        Emulator(host="0.0.0.0")
