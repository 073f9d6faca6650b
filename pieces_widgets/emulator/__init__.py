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
"""

from .catalog import load_catalog, synthetic_catalog
from .faults import ROUTES, Faults
from .server import Emulator

__all__ = ["ROUTES", "Emulator", "Faults", "load_catalog", "synthetic_catalog"]
