#!/usr/bin/env python3
"""Generate crates/switchyard-router/data/model_prices.json from LiteLLM's price map.

The source is LiteLLM's MIT-licensed `model_prices_and_context_window.json`, as shipped inside the
`litellm` Python package (`litellm/model_prices_and_context_window_backup.json`). Switchyard keeps
only what routing reads (context windows, per-token prices, provider, mode) for the common
OpenAI, Azure, Anthropic, Gemini/Vertex, Mistral and Bedrock chat, completion, embedding and image
models, so the embedded table stays small.

Usage (the pinned LiteLLM line Switchyard mirrors is 1.106):

    python3 -m venv /tmp/litellm-venv
    /tmp/litellm-venv/bin/pip install 'litellm<1.107'
    /tmp/litellm-venv/bin/python scripts/gen-price-table.py

or, with the JSON file at hand and the version it came from:

    python3 scripts/gen-price-table.py --source FILE --litellm-version 1.106.2

The output records the LiteLLM version, the generation date and the licence under `_source`.
Runs are reproducible for one source and date: keys are sorted and floats are written as Python
reads them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "crates" / "switchyard-router" / "data" / "model_prices.json"

# `litellm_provider` values kept. Gemini on Vertex is `vertex_ai-language-models`; Claude on
# Vertex is `vertex_ai-anthropic_models`; Bedrock's Converse-only models are `bedrock_converse`.
PROVIDERS = {
    "openai",
    "text-completion-openai",
    "azure",
    "anthropic",
    "gemini",
    "vertex_ai-language-models",
    "vertex_ai-anthropic_models",
    "vertex_ai-embedding-models",
    "mistral",
    "bedrock",
    "bedrock_converse",
}
MODES = {"chat", "completion", "embedding", "image_generation"}
FIELDS = (
    "max_input_tokens",
    "max_output_tokens",
    "input_cost_per_token",
    "output_cost_per_token",
    "litellm_provider",
    "mode",
)

# Keys left out to keep the table small; each is a variant the lookup does not need.
SKIP = [
    # Per-image prices by size/quality (`1024-x-1024/dall-e-3`, `hd/...`, `low/...`): not per token.
    re.compile(r"^(?:[^/]+/)?\d+-x-\d+/"),
    re.compile(r"^(?:low|medium|high|standard|hd)/"),
    # Provisioned-throughput commitments and region-pinned Bedrock rows (`bedrock/us-east-1/...`).
    re.compile(r"commitment"),
    re.compile(r"^bedrock/(?:\*|[a-z]{2}(?:-gov)?-[a-z]+-\d)/"),
    # Azure data-zone rows (`azure/eu/gpt-4o`, `azure/global-standard/...`).
    re.compile(r"^azure/(?:eu|us|global|global-standard|apac)/"),
]

# Bedrock cross-region inference profiles (`us.anthropic...`). LiteLLM's lookup tries the exact
# name first, then strips the geography and finds the base model (`_strip_model_name` ->
# `get_bedrock_base_model`), so a profile is kept only when its row differs from its base's
# (many are priced 10 % above it).
BEDROCK_GEO = re.compile(r"^((?:bedrock/)?)(?:us|eu|apac|au|jp|global|us-gov)\.")


def find_source() -> tuple[Path, str]:
    import importlib.metadata

    import litellm  # noqa: F401  (only to locate the package)

    path = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    return path, importlib.metadata.version("litellm")


def row(entry: dict) -> dict:
    # LiteLLM's legacy `max_tokens` is left out: it is the output limit for some rows and the
    # input limit for others (embeddings), and `get_model_info` reports the two fields apart.
    return {f: entry[f] for f in FIELDS if entry.get(f) is not None}


def redundant_geo_profile(key: str, entry: dict, data: dict) -> bool:
    base_key = BEDROCK_GEO.sub(r"\1", key, count=1)
    if base_key == key:
        return False
    base = data.get(base_key)
    return isinstance(base, dict) and row(base) == {**row(entry), "litellm_provider": row(base).get("litellm_provider")}


def keep(key: str, entry: object, data: dict) -> bool:
    if not isinstance(entry, dict):
        return False
    if entry.get("litellm_provider") not in PROVIDERS or entry.get("mode") not in MODES:
        return False
    if any(p.search(key) for p in SKIP) or redundant_geo_profile(key, entry, data):
        return False
    # Deprecated models stay: configs keep naming them long after (`gpt-4`, `gpt-3.5-turbo`).
    # A row with neither a price nor a window tells routing nothing.
    return any(entry.get(f) is not None for f in FIELDS[:4])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, help="a model_prices_and_context_window.json file")
    ap.add_argument("--litellm-version", help="the LiteLLM version --source came from")
    ap.add_argument("--date", help="generation date (YYYY-MM-DD), default today (UTC)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    if args.source:
        if not args.litellm_version:
            ap.error("--source needs --litellm-version")
        source, version = args.source, args.litellm_version
    else:
        source, version = find_source()
    if not version.startswith("1.106."):
        print(f"warning: LiteLLM {version}; Switchyard mirrors 1.106", file=sys.stderr)

    today = (
        datetime.date.fromisoformat(args.date)
        if args.date
        else datetime.datetime.now(datetime.timezone.utc).date()
    )
    data = json.loads(source.read_text(encoding="utf-8"))

    table: dict[str, dict] = {}
    for key in sorted(data):
        entry = data[key]
        if key == "sample_spec" or not keep(key, entry, data):
            continue
        table[key] = row(entry)

    out = {
        "_source": {
            "litellm_version": version,
            "file": "model_prices_and_context_window.json",
            "generated": today.isoformat(),
            "license": "MIT, BerriAI/litellm",
            "generator": "scripts/gen-price-table.py",
        }
    }
    out.update(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")

    by_provider: dict[str, int] = {}
    for kept in table.values():
        by_provider[kept["litellm_provider"]] = by_provider.get(kept["litellm_provider"], 0) + 1
    print(f"{len(table)} models from LiteLLM {version} -> {args.out}", file=sys.stderr)
    for provider, n in sorted(by_provider.items()):
        print(f"  {provider}: {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
