"""Catalogues: the shipped fixture snapshot, a `GET /models`-shaped file, or a synthetic one.

`synthetic_catalog(n)` exists for benchmarks and scaling tests (1,000 to 20,000 models): it is
deterministic for a given seed and covers every state the table has to render.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from .wire import SCHEMA

CatalogSource = str | Path | Iterable[dict[str, Any]] | None


def load_catalog(source: CatalogSource = None) -> list[dict[str, Any]]:
    """Return a fresh list of wire Model dicts.

    `None` is the packaged fixture (27 models, every state); a path is a JSON file shaped like a
    `GET /models` body (`{"iterable": [...]}`) or a bare list; an iterable of dicts is copied.
    """
    if source is None:
        raw: Any = json.loads(resources.files(__package__).joinpath("catalog.json").read_text())
    elif isinstance(source, (str, Path)):
        raw = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        raw = json.loads(json.dumps(list(source)))  # a deep copy, ~4x faster than deepcopy
    models = raw.get("iterable") if isinstance(raw, dict) else raw
    if not isinstance(models, list):
        raise ValueError("catalogue must be a list of models or an object with an 'iterable' list")
    seen: set[str] = set()
    for i, m in enumerate(models):
        if not isinstance(m, dict) or not isinstance(m.get("id"), str) or not m["id"]:
            raise ValueError(f"catalogue entry {i} has no string 'id'")
        if m["id"] in seen:
            raise ValueError(f"duplicate model id in catalogue: {m['id']!r}")
        seen.add(m["id"])
    return models


def readable_bytes(n: int) -> str:
    """Human size in the style of the fixture ("4.69 GB", decimal units)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


# (name, unique prefix, foundation, provider or None, parameter sizes in billions, context)
_LOCAL_FAMILIES: list[tuple[str, str, str, str | None, tuple[float, ...], int]] = [
    ("Llama 3.2", "llama3.2", "LLAMA_LATEST", "META", (1.24, 3.2), 131072),
    ("Llama 3", "llama3.1", "LLAMA_3_8B", "META", (8.0, 70.6), 131072),
    ("Phi-3 Mini", "phi3", "PHI_3_MINI", "MICROSOFT", (3.8,), 4096),
    ("Phi-4", "phi4", "PHI_LATEST", "MICROSOFT", (14.7,), 16384),
    ("Mistral", "mistral", "MISTRAL_7B", None, (7.25,), 32768),
    ("Mixtral", "mixtral", "MIXTRAL_8_x_7B", None, (46.7,), 32768),
    ("Gemma 2", "gemma2", "GEMMA_2_9B", "GOOGLE", (2.61, 9.24, 27.2), 8192),
    ("Code Gemma", "codegemma", "CODE_GEMMA_7B", "GOOGLE", (2.51, 8.54), 8192),
    ("Qwen 2.5 Coder", "qwen2.5-coder", "QWEN_CODER_LATEST", None, (1.54, 7.62, 14.8, 32.8), 32768),
    ("DeepSeek R1", "deepseek-r1", "DEEPSEEK_LATEST", None, (1.78, 7.62, 14.8), 131072),
    ("Granite Code", "granite-code", "GRANITE_3B", "IBM", (3.48, 8.05), 8192),
    # A foundation unknown to SDK 5.0.1: it must parse as UNKNOWN (spec §4.4, forward compat).
    ("Gemma 3", "gemma3", "GEMMA_3_27B", "GOOGLE", (4.3, 27.4), 131072),
]
_CLOUD_FAMILIES: list[tuple[str, str, str, str]] = [
    ("GPT-4o", "gpt-4o", "GPT_4", "OPENAI"),
    ("GPT-4.1", "gpt-4.1", "GPT_LATEST", "OPENAI"),
    ("Claude 3.5 Sonnet", "claude-3-5-sonnet", "CLAUDE_3.5", "ANTHROPIC"),
    ("Claude 4 Sonnet", "claude-sonnet-4", "CLAUDE_4", "ANTHROPIC"),
    ("Gemini 2.0 Flash", "gemini-2.0-flash", "GEMINI_2", "GOOGLE"),
    ("Gemini 1.5 Pro", "gemini-1.5-pro", "GEMINI_1.5", "GOOGLE"),
    ("Sonar", "sonar", "PERPLEXITY_LATEST", "PERPLEXITY"),
    ("Nova Pro", "amazon.nova-pro", "AWS_BEDROCK_LATEST", "AWS_BEDROCK"),
]
# (quantization, bits per weight)
_QUANTS = [("q4_K_S", 4.6), ("q4_K_M", 4.9), ("q5_K_M", 5.7), ("q8_0", 8.5), ("f16", 16.0)]
_TYPES = ("BALANCED", "SPEED", "ACCURACY")
_NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def _ago(delta: timedelta) -> str:
    days = delta.days
    if days >= 60:
        return f"{days // 30} months ago"
    if days >= 2:
        return f"{days} days ago"
    return "Just now..."


def synthetic_catalog(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` varied, realistic, deterministic wire models (same `n` and `seed` -> same list).

    About a third are cloud models; local ones are mostly available, some downloaded, some
    loaded, some custom, and roughly one in 2,000 (at least one) is mid-download.
    """
    rng = random.Random(seed)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"pieces-widgets/synthetic/{seed}")
    downloading_every = 2000
    models: list[dict[str, Any]] = []
    for i in range(n):
        created_at = _NOW - timedelta(
            seconds=rng.randrange(1, 700 * 86400), microseconds=rng.randrange(10**6)
        )
        base: dict[str, Any] = {
            "schema": dict(SCHEMA),
            "id": str(uuid.uuid5(namespace, str(i))),
            "version": f"{created_at:%Y-%m-%d}",
            "created": {
                "value": created_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "readable": _ago(_NOW - created_at),
            },
            "type": rng.choice(_TYPES),
            "usage": "CODE_CONVERSATION",
            "loaded": False,
            "downloading": False,
            "denied": False,
        }
        if i % 3 == 0:
            models.append(_cloud_model(base, i, rng))
        else:
            models.append(_local_model(base, i, rng, downloading=(i % downloading_every == 4)))
    return models


def _cloud_model(m: dict[str, Any], i: int, rng: random.Random) -> dict[str, Any]:
    name, unique, foundation, provider = _CLOUD_FAMILIES[(i // 3) % len(_CLOUD_FAMILIES)]
    rev = i // (3 * len(_CLOUD_FAMILIES))
    suffix = f" r{rev}" if rev else ""
    ctx = rng.choice((32768, 128000, 200000, 1048576))
    m.update(
        name=f"{name} Chat Model{suffix}",
        description=f"{name}, a hosted chat model; synthetic model #{i}.",
        cloud=True,
        foundation=foundation,
        provider=provider,
        unique=f"{unique}-{rev}" if rev else unique,
        downloaded=False,
        cpu=False,
        custom=False,
        maxTokens={"total": ctx, "input": ctx, "output": min(ctx, 16384)},
        capabilities={"assets": True, "documents": True, "images": rng.random() < 0.7},
    )
    return m


def _local_model(
    m: dict[str, Any], i: int, rng: random.Random, *, downloading: bool
) -> dict[str, Any]:
    name, prefix, foundation, provider, sizes, ctx = _LOCAL_FAMILIES[i % len(_LOCAL_FAMILIES)]
    params = sizes[(i // len(_LOCAL_FAMILIES)) % len(sizes)]
    quant, bits = _QUANTS[(i // 7) % len(_QUANTS)]
    size = int(params * 1e9 * bits / 8 * 1.04) + rng.randrange(0, 50_000_000)
    ram = int(size * 1.35) + 300_000_000
    roll = rng.random()
    custom = roll < 0.05
    downloaded = not downloading and (custom or roll < 0.25)
    loaded = downloaded and rng.random() < 0.2
    tag = f"{prefix}:{params:g}b-instruct-{quant}"
    m.update(
        name=f"{name} {params:g}B" + (" (custom)" if custom else f" {quant}"),
        description=f"{name} {params:g}B, {quant} quantization; synthetic model #{i}.",
        cloud=False,
        foundation=foundation,
        unique=f"{tag}-{i}",
        downloaded=downloaded,
        downloading=downloading,
        loaded=loaded,
        cpu=params < 4,
        custom=custom,
        bytes={"value": size, "readable": readable_bytes(size)},
        ram={"value": ram, "readable": readable_bytes(ram)},
        parameters=params,
        quantization=quant,
        maxTokens={"total": ctx, "input": ctx, "output": min(ctx, 4096)},
    )
    if provider is not None:
        m["provider"] = provider
    if custom:
        m["version"] = "1.0.0"
        m.pop("denied")
    return m
