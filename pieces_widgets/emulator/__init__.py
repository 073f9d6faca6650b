"""A faithful Pieces OS model-API emulator (spec §2, §3, §5, §6) for tests, CI and demos.

    from pieces_widgets.emulator import Emulator
    with Emulator(download_seconds=1.0) as emu:
        emu.url  # http://127.0.0.1:<port>

Where the spec marks behaviour as inferred ([I]), the emulator chooses:

- create: new uuid4 `id`, `custom: true`, `downloading`/`loaded` false; a duplicate (same
  `unique`, or same `name` + `version`) is a 500. Null optionals (`"parameters": null`) are
  dropped; unknown keys are ignored; wrong types are a 500 naming the field.
- update: custom models only (else 500); replaces the stored model but keeps the server-owned
  flags `downloaded`, `downloading`, `loaded` and `custom`.
- delete: custom only, 204; a running download stops and the model's sockets close (1000).
- delete/cache: any known model; clears `downloaded`/`loaded`, stops a running download and
  sends one `RESET` frame (no `CANCELED` before it).
- download: cloud -> 500; downloaded or already downloading -> returned unchanged.
  Frames: `INITIALIZED`, `IN-PROGRESS` 0 at once, then one step every `frame_interval` up to
  100, then `COMPLETED` (percentage 100). `CANCELED`/`FAILED`/`RESET` carry no percentage.
  An injected failure at P % sends `FAILED` instead of the first frame >= P.
- load: needs a downloaded local model (else 500); unload and unload-all always succeed.
- unknown id: 410 on `GET /model/{id}`, on a plain GET of the progress path and on the
  progress upgrade (an HTTP 410 `text/plain` answer via the ASGI denial-response extension);
  500 on every other route.
- a catalogue model seeded with `downloading: true` resumes its download when the server
  starts (`resume_downloads=False` clears the flag instead). `stop()` ends downloads without a
  frame (flags: not downloading) and forgets the last progress, like a dying process.
- `requests` records a WebSocket upgrade with method `"WS"`.

Around the model API (options: `device=`, `ollama=`, `runtime_seconds=`; CLI `--device FILE`,
`--ollama installed|missing|update-required`, `--runtime-seconds S`):

- `GET /os/device/information`: `device=` (a dict, or a path to a JSON file) served verbatim;
  the default is a 16 GiB DDR5 machine with an 8 GiB LLM-capable GPU, **memory in bytes**
  (17179869184), the unit of the spec's example. `emu.device = {...}` replaces it live.
- `Model.score` is whatever the catalogue entry carries (none in the packaged catalogue).
  `POST /model/{id}/scores/increment` [I]: 204; each `true` key under `"model"`
  (`priority reference reuse searched update`) adds 1 to that key of `score`; `manual` and
  `automatic` are kept (0 when the model had no score). Empty body or no `model`: 204, no
  change; unknown id or a malformed body: 500 text, like the other POST model routes.
- WS `/models/stream/identifiers`: first frame `{"iterable": [{"model": {"id"}, "deleted":
  false}, ...]}` for the whole catalogue in server order, then one frame per loop tick with
  the ids whose `GET /model/{id}` body changed (any cause: REST, download start/end, score,
  `emu.add_model`), `"deleted": true` for removed ones. Progress percentages are not model
  changes and are not sent here. Faults: route `"identifiers"` (`http_error` refuses the
  upgrade, e.g. 404 for an older Pieces OS), `drop_socket_after(n, route="identifiers")`.
- `/ollama/*`: `ollama=` is the initial state. Install/update return the `OllamaDeployment` at
  once (`INITIALIZED`, percentage 0) and progress every `frame_interval` over
  `runtime_seconds` (`IN-PROGRESS` p, then `COMPLETED` 100); each step is a frame of
  `OllamaStatus` on WS `/ollama/status/stream` (first frame: the current status; a plain GET
  there answers the status). A FAILED/CANCELED attempt stays in `installing`/`updating` with
  that status until the next attempt. Install when installed, or update when none is
  required, returns the current installation; update or uninstall while missing: 500.
  Unknown deployment id: 410 on GET, 500 on cancel. Uninstall answers the old installation
  with status `RESET` and unloads loaded models. Faults: `faults.fail_runtime(pct,
  status="FAILED"|"CANCELED")`, routes `ollama_*`. While the runtime is missing (or still
  installing), starting a local download or a load is a 500 whose text says the runtime
  (Ollama) is not installed; cloud models and already downloaded models answer as before.
"""

from .catalog import load_catalog, synthetic_catalog
from .faults import ROUTES, Faults
from .server import Emulator

__all__ = ["ROUTES", "Emulator", "Faults", "load_catalog", "synthetic_catalog"]
