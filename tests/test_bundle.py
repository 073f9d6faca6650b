"""The committed front-end bundle is fresh, self-contained and small (no node needed).

`js/build.mjs` writes `pieces_widgets/static/widget.js` and `widget.css`, each starting with
`/* src-sha256:<hex> */`. The hash (same algorithm as `srcHash()` in js/build.mjs):

- files: every regular file under js/src, recursively, skipping any path component that starts
  with "." (editor droppings);
- order: sorted by the path relative to js/src, with "/" separators;
- sha256 over, for each file in that order: relpath (UTF-8) + b"\\0" + raw bytes + b"\\0".

When this test fails with "stale", run `make bundle` and commit pieces_widgets/static.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "js" / "src"
STATIC = ROOT / "pieces_widgets" / "static"
BUNDLE = STATIC / "widget.js"
STYLES = STATIC / "widget.css"
BANNER = re.compile(r"\A/\* src-sha256:([0-9a-f]{64}) \*/\n")
MAX_GZIP_BYTES = 28 * 1000  # the budget in benchmarks/bench_bundle.py (why it is 28 KB)


def src_hash(src: Path = SRC) -> str:
    """The hash of js/src that js/build.mjs writes into the bundle's banner."""
    files = []
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        files.append((rel.as_posix(), path))
    digest = hashlib.sha256()
    for rel, path in sorted(files):
        digest.update(rel.encode("utf-8"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@pytest.fixture(scope="module")
def bundle() -> str:
    assert BUNDLE.is_file(), "pieces_widgets/static/widget.js is missing: run `make bundle`"
    return BUNDLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def styles() -> str:
    assert STYLES.is_file(), "pieces_widgets/static/widget.css is missing: run `make bundle`"
    return STYLES.read_text(encoding="utf-8")


def test_src_hash_is_deterministic_and_content_sensitive(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("export const a = 1;\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.css").write_text(".x{}")
    (tmp_path / ".swp").write_text("ignored")
    first = src_hash(tmp_path)
    assert first == src_hash(tmp_path)
    (tmp_path / ".swp").write_text("still ignored")
    assert src_hash(tmp_path) == first
    (tmp_path / "a.js").write_text("export const a = 2;\n")
    assert src_hash(tmp_path) != first


@pytest.mark.skipif(not SRC.is_dir(), reason="js/src is not part of this installation")
def test_bundle_is_fresh(bundle: str, styles: str) -> None:
    expected = src_hash()
    for name, text in (("widget.js", bundle), ("widget.css", styles)):
        match = BANNER.match(text)
        assert match, f"{name} has no src-sha256 banner: run `make bundle`"
        assert match.group(1) == expected, (
            f"pieces_widgets/static/{name} is stale against js/src: run `make bundle` and commit it"
        )


def test_bundle_is_one_self_contained_module(bundle: str) -> None:
    body = BANNER.sub("", bundle, count=1)
    # anywidget imports the module from a Blob URL: no network and no relative imports.
    url_import = r"""\b(?:import|from)\s*\(?\s*["'](?:https?:)?//"""
    assert not re.search(url_import, body), "imports from a URL"
    assert not re.search(r"""\b(?:import|from)\s*\(?\s*["']\.{0,2}/""", body), "relative import"
    assert not re.search(r"""\bimport\s*["']""", body), "bare side-effect import"
    assert not re.search(r"""\bfrom\s*["'][^"']+["']""", body), "import from another module"
    assert re.search(r"\bas default\b|export default\b", body), "no default export"
    assert "innerHTML" not in body


def test_styles_are_namespaced(styles: str) -> None:
    assert ".pieces-mm" in styles
    assert re.search(r"color-scheme:\s*light dark", styles)


def test_bundle_size_gzipped(bundle: str, styles: str) -> None:
    size = len(gzip.compress((bundle + styles).encode("utf-8"), compresslevel=9))
    assert size <= MAX_GZIP_BYTES, f"widget.js + widget.css gzip to {size} bytes > {MAX_GZIP_BYTES}"
