"""Conformance with the official SDK (pieces-os-client 5.0.1, spec §7): all 12 endpoints + socket.

Each call goes through `ModelsApi` / `ModelApi` exactly as real clients do, so the emulator must
accept what the SDK sends (percent-encoded ids, `"parameters": null`, `+00:00` timestamps, an
empty JSON body on delete/cache) and answer what it parses (exact status codes, content types,
strict JSON types).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pieces_os_client.api.model_api import ModelApi
from pieces_os_client.api.models_api import ModelsApi
from pieces_os_client.api.ollama_api import OllamaApi
from pieces_os_client.api.os_api import OSApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException, ServiceException
from pieces_os_client.models.model import Model
from pieces_os_client.models.model_delete_cache_input import ModelDeleteCacheInput
from pieces_os_client.models.model_delete_cache_output import ModelDeleteCacheOutput
from pieces_os_client.models.model_download_progress import ModelDownloadProgress
from pieces_os_client.models.model_download_progress_status_enum import (
    ModelDownloadProgressStatusEnum as Status,
)
from pieces_os_client.models.model_foundation_enum import ModelFoundationEnum
from pieces_os_client.models.models import Models
from pieces_os_client.models.ollama_deployment import OllamaDeployment
from pieces_os_client.models.ollama_deployment_status_enum import (
    OllamaDeploymentStatusEnum as DeployStatus,
)
from pieces_os_client.models.ollama_deployments import OllamaDeployments
from pieces_os_client.models.ollama_status import OllamaStatus
from pieces_os_client.models.os_device_information_returnable import (
    OSDeviceInformationReturnable,
)
from pieces_os_client.models.os_device_ram_type_enum import OSDeviceRAMTypeEnum as RamType
from pieces_os_client.models.score import Score
from pieces_os_client.models.seeded_model import SeededModel
from pieces_os_client.models.seeded_score import SeededScore
from pieces_os_client.models.seeded_score_increment import SeededScoreIncrement
from pieces_os_client.models.streamed_identifiers import StreamedIdentifiers
from websockets.sync.client import connect as ws_connect

from pieces_widgets.emulator import Emulator, synthetic_catalog

PAYLOADS = json.loads((Path(__file__).parent / "fixtures" / "other_payloads.json").read_text())
LLAMA_1B = "65580b93-edc1-55bb-8cf0-e0af0372de10"
LLAMA_8B = "873ab120-8c86-5f86-9c0b-60ae45f5ad74"  # downloaded
CUSTOM = "3ffcfcf5-1c40-5abc-aabc-aa4856d9d001"
GPT35 = "a85e1883-862a-5bb1-9a37-b5186d8bc0ed"


class Sdk:
    def __init__(self, emu: Emulator) -> None:
        self.client = ApiClient(Configuration(host=emu.url))
        self.models = ModelsApi(self.client)
        self.model = ModelApi(self.client)


@pytest.fixture
def emu(emulator_factory) -> Emulator:
    return emulator_factory(download_seconds=0.4, frame_interval=0.04, resume_downloads=False)


@pytest.fixture
def sdk(emu: Emulator) -> Iterator[Sdk]:
    api = Sdk(emu)
    with api.client:
        yield api


def content_type(resp) -> str:
    return resp.headers["content-type"].split(";")[0]


def seeded() -> SeededModel:
    data = dict(PAYLOADS["seededModel_for_POST_models_create"])
    return SeededModel.from_dict(data)


# --- 1. GET /models ---------------------------------------------------------------------------


def test_models_snapshot_parses_the_whole_catalogue(sdk: Sdk):
    resp = sdk.models.models_snapshot_with_http_info()
    assert resp.status_code == 200 and content_type(resp) == "application/json"
    snap = resp.data
    assert isinstance(snap, Models) and len(snap.iterable) == 27
    names = {m.name for m in snap.iterable}
    assert "GPT-3.5-turbo Chat Model" in names  # PiecesClient's default model (spec §7)
    assert any(m.unique == "gemini-2.0-flash-lite-001" for m in snap.iterable)
    llama = next(m for m in snap.iterable if m.id == LLAMA_1B)
    assert llama.bytes.value == 775946240 and llama.downloaded is False
    assert sdk.models.models_snapshot().iterable[0].id == snap.iterable[0].id


def test_models_snapshot_parses_a_synthetic_1000_model_catalogue(emulator_factory):
    emu = emulator_factory(catalog=synthetic_catalog(1000), resume_downloads=False)
    snap = Sdk(emu).models.models_snapshot()
    assert len(snap.iterable) == 1000
    assert len({m.id for m in snap.iterable}) == 1000
    # a foundation unknown to 5.0.1 degrades to UNKNOWN instead of failing the snapshot
    assert any(m.foundation == ModelFoundationEnum.UNKNOWN for m in snap.iterable)
    assert all(m.bytes is None or isinstance(m.bytes.value, int) for m in snap.iterable)


# --- 2. POST /models/create -------------------------------------------------------------------


def test_create_with_seeded_model(sdk: Sdk, emu: Emulator):
    resp = sdk.models.models_create_new_model_with_http_info(seeded_model=seeded())
    assert resp.status_code == 200 and content_type(resp) == "application/json"
    created = resp.data
    assert isinstance(created, Model) and created.custom is True and created.id
    assert created.name == "My Local Llama (custom)" and created.downloaded is True
    assert emu.model(created.id)["unique"] == "llama3.1:8b-my-custom-q4_K_M"
    with pytest.raises(ServiceException) as info:
        sdk.models.models_create_new_model(seeded_model=seeded())
    assert info.value.status == 500 and "exists" in info.value.body


def test_create_accepts_sdk_timestamps_and_null_parameters(sdk: Sdk):
    model = seeded()
    model.parameters = None
    model.name, model.unique = "Null params", "null-params"
    wire = sdk.client.sanitize_for_serialization(model)
    assert wire["parameters"] is None and wire["created"]["value"].endswith("+00:00")
    created = sdk.models.models_create_new_model(seeded_model=model)
    assert created.parameters is None and created.custom is True


# --- 3. POST /models/{model}/delete -----------------------------------------------------------


def test_delete_custom_model(sdk: Sdk, emu: Emulator):
    resp = sdk.models.models_delete_specific_model_with_http_info(CUSTOM)
    assert resp.status_code == 204 and resp.data is None
    assert ("POST", f"/models/{CUSTOM}/delete") in emu.requests
    with pytest.raises(ServiceException) as info:
        sdk.models.models_delete_specific_model(LLAMA_8B)  # not custom
    assert info.value.status == 500 and info.value.body
    created = sdk.models.models_create_new_model(seeded_model=seeded())
    assert sdk.models.models_delete_specific_model(created.id) is None


# --- 4. POST /models/{model}/delete/cache -----------------------------------------------------


def test_delete_cache_without_input_and_with_empty_input(sdk: Sdk):
    resp = sdk.models.models_delete_specific_model_cache_with_http_info(LLAMA_8B)
    assert resp.status_code == 200 and content_type(resp) == "application/json"
    assert isinstance(resp.data, ModelDeleteCacheOutput) and resp.data.model.id == LLAMA_8B
    out = sdk.models.models_delete_specific_model_cache(
        CUSTOM, model_delete_cache_input=ModelDeleteCacheInput()
    )
    assert out.model.id == CUSTOM
    with_schema = ModelDeleteCacheInput.from_dict(
        PAYLOADS["modelDeleteCacheInput_for_POST_models_id_delete_cache"]
    )
    assert (
        sdk.models.models_delete_specific_model_cache(
            CUSTOM, model_delete_cache_input=with_schema
        ).model.id
        == CUSTOM
    )
    assert sdk.model.models_specific_model_snapshot(LLAMA_8B).downloaded is False


# --- 5. POST /models/unload -------------------------------------------------------------------


def test_unload_all(sdk: Sdk):
    resp = sdk.models.unload_models_with_http_info()
    assert resp.status_code == 204 and resp.data is None
    assert sdk.models.unload_models() is None
    assert not any(m.loaded for m in sdk.models.models_snapshot().iterable)


# --- 6. GET /model/{model} --------------------------------------------------------------------


def test_specific_model_snapshot_and_410(sdk: Sdk, emu: Emulator):
    resp = sdk.model.models_specific_model_snapshot_with_http_info(GPT35)
    assert resp.status_code == 200 and resp.data.name == "GPT-3.5-turbo Chat Model"
    with pytest.raises(ApiException) as info:
        sdk.model.models_specific_model_snapshot("no-such-model")
    assert info.value.status == 410 and info.value.body == "model was not found."
    assert info.value.headers["content-type"].startswith("text/plain")


def test_sdk_percent_encodes_ids_and_emulator_keeps_one_segment(sdk: Sdk, emu: Emulator):
    emu.add_model({**emu.model(CUSTOM), "id": "team/llama 3", "unique": "x"})
    assert sdk.model.models_specific_model_snapshot("team/llama 3").id == "team/llama 3"
    assert ("GET", "/model/team%2Fllama%203") in emu.requests


# --- 7. POST /model/update --------------------------------------------------------------------


def test_update_with_a_model_built_by_from_dict(sdk: Sdk, emu: Emulator):
    data = emu.model(CUSTOM)
    data.pop("parameters")
    model = Model.from_dict({**data, "description": "edited by the SDK"})
    assert sdk.client.sanitize_for_serialization(model)["parameters"] is None
    resp = sdk.model.model_update_with_http_info(model=model)
    assert resp.status_code == 200 and resp.data.description == "edited by the SDK"
    assert emu.model(CUSTOM)["description"] == "edited by the SDK"
    stock = sdk.model.models_specific_model_snapshot(LLAMA_8B)
    with pytest.raises(ServiceException):
        sdk.model.model_update(model=stock)


# --- 8-12. download, cancel, progress (plain GET), load, unload --------------------------------


def test_download_cancel_and_plain_progress(sdk: Sdk):
    resp = sdk.model.model_specific_model_download_with_http_info(LLAMA_1B)
    assert resp.status_code == 200 and resp.data.downloading is True
    progress = sdk.model.model_specific_model_download_progress_with_http_info(LLAMA_1B)
    assert progress.status_code == 200 and isinstance(progress.data, ModelDownloadProgress)
    assert progress.data.status in (Status.INITIALIZED, Status.IN_MINUS_PROGRESS)
    resp = sdk.model.model_specific_model_download_cancel_with_http_info(LLAMA_1B)
    assert resp.status_code == 200 and resp.data.downloading is False
    assert sdk.model.model_specific_model_download_progress(LLAMA_1B).status == Status.CANCELED
    idle = sdk.model.model_specific_model_download_progress(LLAMA_8B)
    assert idle.status == Status.UNKNOWN and idle.percentage is None
    with pytest.raises(ServiceException):
        sdk.model.model_specific_model_download(GPT35)  # cloud


def test_load_and_unload(sdk: Sdk):
    resp = sdk.model.model_specific_model_load_with_http_info(LLAMA_8B)
    assert resp.status_code == 200 and resp.data.loaded is True
    resp = sdk.model.model_specific_model_unload_with_http_info(LLAMA_8B)
    assert resp.status_code == 200 and resp.data.loaded is False
    with pytest.raises(ServiceException) as info:
        sdk.model.model_specific_model_load(LLAMA_1B)  # not downloaded
    assert info.value.status == 500 and isinstance(info.value.data, str) and info.value.data


def test_injected_500_is_a_service_exception_with_text(sdk: Sdk, emu: Emulator):
    emu.faults.http_error("snapshot", status=500, times=1, body="boom")
    with pytest.raises(ServiceException) as info:
        sdk.models.models_snapshot()
    assert info.value.body == "boom" and info.value.data == "boom"
    assert len(sdk.models.models_snapshot().iterable) == 27


# --- the progress WebSocket, parsed like plugin_sublime does -----------------------------------


def parsed_frames(sock, *terminal: Status) -> list[ModelDownloadProgress]:
    frames = []
    while not frames or frames[-1].status not in terminal:
        frames.append(ModelDownloadProgress.from_json(sock.conn.recv(timeout=5)))
    return frames


def test_socket_frames_parse_with_the_sdk(sdk: Sdk, emu: Emulator, progress_socket):
    sock = progress_socket(emu, LLAMA_1B)
    sdk.model.model_specific_model_download(LLAMA_1B)
    frames = parsed_frames(sock, Status.COMPLETED, Status.FAILED)
    assert frames[0].status == Status.INITIALIZED
    middle = frames[1:-1]
    assert middle and all(f.status == Status.IN_MINUS_PROGRESS for f in middle)
    assert middle[0].percentage == 0 and middle[-1].percentage == 100
    assert frames[-1].status == Status.COMPLETED
    assert sdk.model.models_specific_model_snapshot(LLAMA_1B).downloaded is True

    sdk.models.models_delete_specific_model_cache(LLAMA_1B)
    assert parsed_frames(sock, Status.RESET)[-1].status == Status.RESET

    sdk.model.model_specific_model_download(LLAMA_1B)
    parsed_frames(sock, Status.IN_MINUS_PROGRESS)
    sdk.model.model_specific_model_download_cancel(LLAMA_1B)
    assert parsed_frames(sock, Status.CANCELED)[-1].status == Status.CANCELED

    emu.faults.fail_download(at_percentage=30)
    sdk.model.model_specific_model_download(LLAMA_1B)
    assert parsed_frames(sock, Status.FAILED, Status.COMPLETED)[-1].status == Status.FAILED


def test_fixture_frame_sequences_match_the_emulator_shape(emu: Emulator, progress_socket):
    """Every frame the emulator sends has exactly the keys the fixture examples use."""
    sock = progress_socket(emu, LLAMA_1B)
    Sdk(emu).model.model_specific_model_download(LLAMA_1B)
    raw = []
    while not raw or raw[-1]["status"] != "COMPLETED":
        raw.append(json.loads(sock.conn.recv(timeout=5)))
    expected = PAYLOADS["ws_download_progress"]["success"]
    assert [set(f) for f in (raw[0], raw[1], raw[-1])] == [
        set(expected[0]),
        set(expected[1]),
        set(expected[-1]),
    ]
    assert raw[-1] == expected[-1]


# --- around the model API: device, scores, identifiers stream, Ollama runtime ------------------


def test_os_device_information_parses(sdk: Sdk, emu: Emulator):
    resp = OSApi(sdk.client).os_device_information_with_http_info()
    assert resp.status_code == 200 and content_type(resp) == "application/json"
    info = resp.data
    assert isinstance(info, OSDeviceInformationReturnable)
    assert info.hardware.ram.memory == 16 << 30 and info.hardware.ram.type == RamType.DDR5
    assert info.hardware.gpus[0].capabilities.llm is True
    assert info.hardware.cpus[0].cores == 8 and info.dependencies.vulkan is True
    emu.device = {"hardware": {"ram": {"memory": 16384}}, "dependencies": {"vulkan": False}}
    small = OSApi(sdk.client).os_device_information()
    assert small.hardware.ram.memory == 16384 and small.hardware.gpus is None


def test_model_scores_increment_accepts_the_sdk_body_and_answers_204(sdk: Sdk, emu: Emulator):
    body = SeededScoreIncrement(model=SeededScore(reuse=True))
    assert sdk.client.sanitize_for_serialization(body) == {"model": {"reuse": True}}
    resp = sdk.model.model_scores_increment_with_http_info(LLAMA_8B, seeded_score_increment=body)
    assert resp.status_code == 204 and resp.data is None
    assert sdk.model.model_scores_increment(LLAMA_8B, seeded_score_increment=body) is None
    assert sdk.model.model_scores_increment(LLAMA_8B) is None  # no body: nothing counted
    assert emu.model(LLAMA_8B)["score"] == {"manual": 0, "automatic": 0, "reuse": 2}
    with pytest.raises(ServiceException) as info:
        sdk.model.model_scores_increment("no-such-model", seeded_score_increment=body)
    assert info.value.status == 500 and info.value.body == "model was not found."


def test_models_with_scores_parse(sdk: Sdk, emu: Emulator):
    emu.add_model({**emu.model(LLAMA_1B), "score": {"manual": 3, "automatic": 1, "reuse": 4}})
    sdk.model.model_scores_increment(
        LLAMA_8B, seeded_score_increment=SeededScoreIncrement(model=SeededScore(reuse=True))
    )
    snap = sdk.models.models_snapshot()
    by_id = {m.id: m for m in snap.iterable}
    assert isinstance(by_id[LLAMA_1B].score, Score) and by_id[LLAMA_1B].score.reuse == 4
    assert by_id[LLAMA_8B].score.reuse == 1 and by_id[LLAMA_8B].score.manual == 0
    assert Model.from_dict(emu.model(LLAMA_8B)).score.automatic == 0
    assert sdk.model.models_specific_model_snapshot(LLAMA_1B).score.manual == 3


def test_identifiers_frames_parse_with_the_sdk(sdk: Sdk, emu: Emulator):
    url = f"{emu.ws_url}/models/stream/identifiers"
    with ws_connect(url, proxy=None, open_timeout=5) as conn:
        first = StreamedIdentifiers.from_json(conn.recv(timeout=5))
        assert isinstance(first, StreamedIdentifiers) and len(first.iterable) == 27
        assert all(i.model.id and i.deleted is False for i in first.iterable)
        sdk.model.model_specific_model_load(LLAMA_8B)
        changed = StreamedIdentifiers.from_json(conn.recv(timeout=5))
        assert [(i.model.id, i.deleted) for i in changed.iterable] == [(LLAMA_8B, False)]
        sdk.models.models_delete_specific_model(CUSTOM)
        gone = StreamedIdentifiers.from_json(conn.recv(timeout=5))
        assert [(i.model.id, i.deleted) for i in gone.iterable] == [(CUSTOM, True)]


def test_ollama_api_parses_every_answer(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=0.3, frame_interval=0.03)
    with ApiClient(Configuration(host=emu.url)) as client:
        api = OllamaApi(client)
        missing = api.ollama_status_check()
        assert isinstance(missing, OllamaStatus) and missing.installation is None
        assert missing.recommendation.inference is True
        with pytest.raises(ServiceException) as info:
            api.ollama_update()
        assert "not installed" in info.value.body
        dep = api.ollama_install()
        assert isinstance(dep, OllamaDeployment) and dep.status == DeployStatus.INITIALIZED
        assert api.ollama_install_snapshot(dep.id).id == dep.id
        stream = api.ollama_status_check_stream()  # the plain GET answers the status
        assert stream.installing.id == dep.id
        installs = api.ollama_installs_snapshot()
        assert isinstance(installs, OllamaDeployments) and installs.iterable[-1].id == dep.id
        canceled = api.ollama_install_cancel(dep.id)
        assert canceled.status == DeployStatus.CANCELED and canceled.percentage is None
        again = api.ollama_install()
        wait_for(lambda: api.ollama_status_check().installation is not None)
        done = api.ollama_install_snapshot(again.id)
        assert done.status == DeployStatus.COMPLETED and done.percentage == 100
        assert api.ollama_updates_snapshot().iterable == []
        assert api.ollama_update(ollama_deployment=OllamaDeployment(version="x")).id == again.id
        old = api.ollama_uninstall(ollama_deployment=OllamaDeployment(version=done.version))
        assert old.status == DeployStatus.RESET

    emu = emulator_factory(ollama="update-required", runtime_seconds=0.3, frame_interval=0.03)
    with ApiClient(Configuration(host=emu.url)) as client:
        api = OllamaApi(client)
        status = api.ollama_status_check()
        assert status.update_required.user_managed is False and status.installation.version
        upd = api.ollama_update()
        assert api.ollama_update_snapshot(upd.id).version == status.update_required.version
        assert api.ollama_updates_snapshot().iterable[0].id == upd.id
        assert api.ollama_update_cancel(upd.id).status == DeployStatus.CANCELED
        with pytest.raises(ApiException) as gone:
            api.ollama_update_snapshot("no-such-deployment")
        assert gone.value.status == 410


def test_ollama_status_stream_frames_parse(emulator_factory):
    emu = emulator_factory(ollama="missing", runtime_seconds=0.3, frame_interval=0.03)
    with ws_connect(f"{emu.ws_url}/ollama/status/stream", proxy=None, open_timeout=5) as conn:
        frames = [OllamaStatus.from_json(conn.recv(timeout=5))]
        with ApiClient(Configuration(host=emu.url)) as client:
            OllamaApi(client).ollama_install()
        while frames[-1].installation is None:
            frames.append(OllamaStatus.from_json(conn.recv(timeout=5)))
    progress = [f.installing.percentage for f in frames if f.installing is not None]
    assert progress[0] == 0 and progress[-1] == 100 and len(progress) >= 5
    assert frames[-1].installation.status == DeployStatus.COMPLETED


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
