"""Screenshots (and a quick timing probe) of js/harness.html in the system Chromium.

    .venv/bin/python js/harness/screenshot.py [outdir]        # light + dark + a few states
    .venv/bin/python js/harness/screenshot.py --bench         # timings, side by side with HEAD
        [--rows 1000,5000] [--runs 5] [--base GITREF]  (--base '' for the working bundle only)

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
def serve(handler_class: type = _Quiet):
    handler = functools.partial(handler_class, directory=str(ROOT))
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


def widget_state(n: int) -> dict:
    """What ModelManager.get_state() holds for an emulator serving synthetic_catalog(n) (as
    benchmarks/bench_table.py); {} when pieces_widgets is not importable."""
    try:
        from pieces_widgets import ModelManager
        from pieces_widgets.emulator import Emulator, synthetic_catalog
    except ImportError:  # pragma: no cover - the package is installed in the dev venv
        return {}
    with Emulator(catalog=synthetic_catalog(n)) as emu:
        mm = ModelManager(emu.url, poll_interval=None)
        try:
            state = {k: v for k, v in mm.get_state().items() if not k.startswith("_")}
        finally:
            mm.close()
    return json.loads(json.dumps(state))


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def _git_show(ref: str, path: str) -> bytes:
    import subprocess

    return subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=ROOT, check=True, capture_output=True
    ).stdout


BENCH_STEPS = """
async ([searchText, ticks, scrolls]) => {
  const out = {};
  out.render = await bench.render();
  out.ticksFirst = await bench.ticks(ticks, "first");
  out.ticksDom = await bench.ticks(ticks, "visible");
  out.sort = await bench.sort();
  out.search = await bench.search(searchText);
  out.scroll = await bench.scroll(scrolls);
  out.smooth = await bench.smoothScroll(60, 53);
  return out;
}
"""


def bench(sizes: list[int], runs: int, base: str | None) -> None:
    """Side by side: the bundle in pieces_widgets/static ("new") and the one at git `base`
    ("base", default HEAD), alternating, a fresh page per run; medians over runs."""
    routes: dict[str, tuple[bytes, str]] = {}
    variants = {"new": ("/pieces_widgets/static/widget.js", "/pieces_widgets/static/widget.css")}
    if base:
        for name, ctype in (("widget.js", "text/javascript"), ("widget.css", "text/css")):
            routes[f"/bench/base/{name}"] = (_git_show(base, f"pieces_widgets/static/{name}"), ctype)
        variants = {"base": ("/bench/base/widget.js", "/bench/base/widget.css"), **variants}
    for n in sizes:
        state = widget_state(n)
        if not state:
            raise SystemExit("pieces_widgets is not importable: run with the dev venv")
        routes[f"/bench/state-{n}.json"] = (json.dumps(state).encode(), "application/json")

    class Handler(_Quiet):
        def do_GET(self):  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path in routes:
                body, ctype = routes[path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

    results: dict[tuple[int, str], list[dict]] = {}
    errors: list[str] = []
    with serve(Handler) as url, browser() as ctx:
        for run in range(runs):
            for n in sizes:
                names = list(variants)
                if run % 2:
                    names.reverse()
                for name in names:
                    js, css = variants[name]
                    page = ctx.new_page()
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.goto(f"{url}/js/harness/bench.html?bundle={js}&css={css}&state=/bench/state-{n}.json")
                    page.wait_for_function("window.benchReady === true", timeout=60_000)
                    results.setdefault((n, name), []).append(page.evaluate(BENCH_STEPS, ["llama 3", 24, 10]))
                    page.close()
    if errors:
        raise SystemExit(f"page errors: {errors[:3]}")

    def figures(rs: list[dict]) -> dict[str, float | str]:
        med = lambda xs: _median(xs)  # noqa: E731
        keys = [k for r in rs for k in r["search"]["ms"]]
        return {
            "rows in DOM": med([r["render"]["rows"] for r in rs]),
            "render": med([r["render"]["ms"] for r in rs]),
            "render script": med([r["render"]["script"] for r in rs]),
            "sort": med([r["sort"]["ms"] for r in rs]),
            "sort script": med([r["sort"]["script"] for r in rs]),
            "sort 2nd": med([r["sort"]["second"] for r in rs]),
            "sorted ok": "yes" if all(r["sort"]["sorted"] for r in rs) else "NO",
            "search key": med([med(r["search"]["ms"]) for r in rs]),
            "search script": med([med(r["search"]["script"]) for r in rs]),
            "search worst": max(keys),
            "search p90": sorted(keys)[int(0.9 * (len(keys) - 1))],
            "tick (first 8)": med([med(r["ticksFirst"]["ms"]) for r in rs]),
            "tick rows touched": "/".join(
                str(x) for x in sorted({t for r in rs for t in r["ticksFirst"]["rowsTouched"]})
            ),
            "tick (on screen)": med([med(r["ticksDom"]["ms"]) for r in rs]),
            "tick on-screen touched": "/".join(
                str(x) for x in sorted({t for r in rs for t in r["ticksDom"]["rowsTouched"]})
            ),
            "tick outside rows": sum(sum(r[k]["outside"]) for r in rs for k in ("ticksFirst", "ticksDom")),
            "scroll frame": med([med(r["scroll"]["ms"]) for r in rs]),
            "scroll blank": sum(1 for r in rs for i in r["scroll"]["ids"] if i is None),
            "wheel frame": med([med(r["smooth"]["ms"]) for r in rs]),
            "wheel frame p90": med([sorted(r["smooth"]["ms"])[int(0.9 * (len(r["smooth"]["ms"]) - 1))] for r in rs]),
            "wheel blank probes": sum(r["smooth"]["blank"] for r in rs),
        }

    table = {key: figures(rs) for key, rs in results.items()}
    print(f"medians of {runs} runs (a fresh page each), ms; base = {base or '-'}")
    for n in sizes:
        cols = [(n, name) for name in variants]
        print(f"\n{n} models        " + "".join(f"{name:>12}" for name in variants))
        for metric in table[cols[0]]:
            cells = []
            for c in cols:
                v = table[c][metric]
                cells.append(f"{v:>12.2f}" if isinstance(v, float) else f"{v!s:>12}")
            print(f"{metric:<20}" + "".join(cells))
    search_steps = results[(sizes[-1], "new")][0]["search"]["visible"]
    print(f"\nrows matching per search step ({sizes[-1]} models): {search_steps}")


if __name__ == "__main__":
    if "--bench" in sys.argv:
        import argparse

        ap = argparse.ArgumentParser()
        ap.add_argument("--bench", action="store_true")
        ap.add_argument("--rows", default="1000,5000", help="comma-separated catalogue sizes")
        ap.add_argument("--runs", type=int, default=5)
        ap.add_argument("--base", default="HEAD", help="git ref of the bundle to compare with ('' for none)")
        a = ap.parse_args()
        bench([int(x) for x in a.rows.split(",")], a.runs, a.base or None)
    else:
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        shots(Path(args[0]) if args else ROOT / "test-artifacts" / "harness")
