"""Screenshots (and a quick timing probe) of js/harness.html in the system Chromium.

    .venv/bin/python js/harness/screenshot.py [outdir]        # light + dark + a few states
    .venv/bin/python js/harness/screenshot.py --bench         # timings with 5,000 rows

Serves the repository root on 127.0.0.1 (a free port), drives /usr/bin/chromium headless with
Python playwright (never `playwright install`). Build the bundle first (make bundle).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve():
    handler = functools.partial(_Quiet, directory=str(ROOT))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def browser():
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield ctx
        finally:
            ctx.close()


def shots(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with serve() as base, browser() as ctx:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
        for name, query in [
            ("harness-light", ""),
            ("harness-dark", "?theme=dark"),
            ("harness-unreachable", "?state=unreachable"),
            ("harness-unreachable-dark", "?state=unreachable&theme=dark"),
            ("harness-connecting", "?state=connecting"),
            ("harness-jp-light", "?jp=light"),
            ("harness-jp-dark", "?jp=dark"),
        ]:
            page.goto(f"{base}/js/harness.html{query}")
            page.wait_for_selector(".pieces-mm")
            page.wait_for_timeout(400)
            page.screenshot(path=str(outdir / f"{name}.png"), full_page=True)
        # Interactions: confirm row, add form, focus ring.
        page.goto(f"{base}/js/harness.html")
        page.wait_for_selector("tr[data-model-id]")
        page.click('tr[data-model-id] button[data-action="delete-cache"]')
        page.click('button[data-action="add-model"]')
        page.keyboard.press("Tab")
        page.wait_for_timeout(300)
        page.screenshot(path=str(outdir / "harness-interactions.png"), full_page=True)
        page.goto(f"{base}/js/harness.html?theme=dark")
        page.wait_for_selector("tr[data-model-id]")
        page.click('button[data-filter="local"]')
        page.click('th[data-column="bytes"] button')
        page.click('th[data-column="bytes"] button')
        page.wait_for_timeout(300)
        page.screenshot(path=str(outdir / "harness-dark-sorted.png"), full_page=True)
        if errors:
            raise SystemExit(f"page errors: {errors}")
    print(f"screenshots in {outdir}")


BENCH_JS = """
async () => {
  const { model, el } = window.harness;
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const timed = async (fn) => { const t = performance.now(); fn(); el.getBoundingClientRect(); return performance.now() - t; };
  const out = { rows: el.querySelectorAll('tr[data-model-id]').length, render: window.harness.renderMs };
  await frame();
  const sortBtn = el.querySelector('th[data-column="bytes"] button');
  out.sort = await timed(() => sortBtn.click());
  await frame();
  out.sort2 = await timed(() => sortBtn.click());
  await frame();
  const input = el.querySelector('input[type="search"]');
  const type = (v) => { input.value = v; input.dispatchEvent(new Event('input', { bubbles: true })); };
  out.search1 = await timed(() => type('l'));
  await frame();
  out.search2 = await timed(() => type('ll'));
  await frame();
  out.search3 = await timed(() => type('llama 3'));
  await frame();
  out.searchClear = await timed(() => type(''));
  await frame();
  const id = el.querySelector('tr[data-model-id]').getAttribute('data-model-id');
  const ticks = [];
  for (let i = 0; i < 20; i++) {
    ticks.push(await timed(() => model.set('progress', { [id]: { status: 'IN-PROGRESS', percentage: i * 5, bytes_done: i * 1e8, bytes_total: 2e9, speed: 4.6e6, eta: 300 - i, stalled: false, terminal: false } })));
    await frame();
  }
  ticks.sort((a, b) => a - b);
  out.tickMedian = ticks[10];
  out.tickMax = ticks[19];
  const rows = model.get('models').map((r, i) => i === 7 ? { ...r, state: 'loaded', loaded: true } : r);
  out.modelsReconcile = await timed(() => model.set('models', rows));
  return out;
}
"""


def bench(n: int = 5000) -> None:
    with serve() as base, browser() as ctx:
        page = ctx.new_page()
        page.goto(f"{base}/js/harness.html?rows={n}")
        page.wait_for_selector("tr[data-model-id]")
        page.wait_for_timeout(300)
        render_with_layout = page.evaluate(
            """async () => {
                 const mod = await import('../pieces_widgets/static/widget.js');
                 const { model } = window.harness;
                 const host = document.createElement('div'); document.body.appendChild(host);
                 const t = performance.now();
                 const d = mod.default.render({ model, el: host });
                 host.getBoundingClientRect();
                 const ms = performance.now() - t; d(); host.remove(); return ms; }"""
        )
        result = page.evaluate(BENCH_JS)
        result["renderWithLayout"] = render_with_layout
        rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
        print(json.dumps(rounded, indent=1))


if __name__ == "__main__":
    if "--bench" in sys.argv:
        bench()
    else:
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        shots(Path(args[0]) if args else ROOT / "test-artifacts" / "harness")
