"""Benchmark: load and catalog a large (>= 1,000 operations, >= 10 MB) OpenAPI 3.0 description.

Baseline in the same run: plain `orjson.loads` of the same file, the least any loader must do.
Run: .venv/bin/python bench/bench_catalog.py [--write-docs]
"""

from __future__ import annotations

import gc
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._docs import repeat_main, write_section  # noqa: E402
from sloguard.catalog import build_catalog  # noqa: E402
from sloguard.spec import load_spec  # noqa: E402

SECTION = "## Catalog: loading a large OpenAPI description"
WORDS = ("account", "sync", "record", "tenant", "token", "message", "channel", "invoice", "customer", "project",
         "issue", "status", "payload", "webhook", "event", "retry", "limit", "window", "owner", "cursor")


def _text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 13) % len(WORDS)] for i in range(words)).capitalize() + "."


def _model(name: str, n: int, fields: int) -> dict[str, Any]:
    props: dict[str, Any] = {"id": {"type": "string", "format": "uuid", "readOnly": True,
                                    "description": "Identifier assigned by the platform."}}
    kinds = ({"type": "string", "maxLength": 200}, {"type": "integer", "minimum": 0, "maximum": 100000},
             {"type": "string", "format": "date-time"}, {"type": "boolean"},
             {"type": "string", "enum": ["open", "closed", "pending", "archived"]},
             {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 10})
    for i in range(fields):
        props[f"field_{i}"] = {**kinds[(n + i) % len(kinds)], "description": _text(n + i, 24)}
    props["owner"] = {"$ref": "#/components/schemas/User"}
    props["parent"] = {"$ref": f"#/components/schemas/{name}", "description": "Recursive link to the parent."}
    return {"type": "object", "description": _text(n, 40), "required": ["field_0", "field_1"],
            "properties": props}


def make_description(integrations: int = 45, resources: int = 5, fields: int = 44) -> dict[str, Any]:
    """A realistic description: integrations x resources x 6 CRUD/search operations, with examples."""
    schemas: dict[str, Any] = {
        "User": {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string",
                                                                                      "format": "email"}}},
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"},
                                                                          "detail": {"type": "string"}}},
    }
    paths: dict[str, Any] = {}
    error_ref = {"$ref": "#/components/schemas/Error"}
    error = {"description": "Error", "content": {"application/json": {"schema": error_ref}}}
    for i in range(integrations):
        slug, tag = f"integration-{i}", f"Integration {i}"
        for r in range(resources):
            name = f"Res{i}x{r}"
            schemas[name] = _model(name, i * resources + r, fields)
            ref = {"$ref": f"#/components/schemas/{name}"}
            example = {f"field_{k}": _text(k, 6) for k in range(fields)}
            page = {"type": "object", "properties": {"items": {"type": "array", "items": ref},
                                                     "page": {"type": "integer"}, "total": {"type": "integer"}}}
            base, item = f"/api/{slug}/res{r}", f"/api/{slug}/res{r}/{{id}}"
            op = f"{slug.replace('-', '_')}_res{r}"
            common = {"tags": [tag], "security": [{"OAuth2": ["read"]}], "description": _text(r + i, 60)}
            ok_list = {"description": "OK", "content": {"application/json": {
                "schema": page, "example": {"items": [example] * 4, "page": 1, "total": 4}}}}
            paths[base] = {
                "get": {**common, "operationId": f"{op}_list", "summary": f"List {name}",
                        "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                        "responses": {"200": ok_list, "default": error}},
                "post": {**common, "operationId": f"{op}_create", "summary": f"Create {name}",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": ref, "example": example}}},
                         "responses": {"201": {"description": "Created", "content": {"application/json": {
                             "schema": ref, "example": example}}, "links": {"get": {
                                 "operationId": f"{op}_get", "parameters": {"id": "$response.body#/id"}}}},
                             "default": error}},
            }
            paths[f"{base}/search"] = {"get": {**common, "operationId": f"{op}_search", "responses": {
                "200": ok_list}, "parameters": [{"name": "q", "in": "query", "required": True,
                                                "schema": {"type": "string"}}]}}
            single = {"description": "OK", "content": {"application/json": {"schema": ref, "example": example}}}
            paths[item] = {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {**common, "operationId": f"{op}_get", "responses": {"200": single, "404": error}},
                "patch": {**common, "operationId": f"{op}_update", "requestBody": {"content": {
                    "application/json": {"schema": ref}}}, "responses": {"200": single}},
                "delete": {**common, "operationId": f"{op}_delete", "responses": {"204": {"description": "Gone"}}},
            }
    return {"openapi": "3.0.3", "info": {"title": "Bench", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {"OAuth2": {"type": "oauth2", "flows": {
                "clientCredentials": {"tokenUrl": "/token", "scopes": {"read": "r", "write": "w"}}}}}}}


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _memory(fn: Callable[[], Any]) -> tuple[int, int]:
    """(bytes still held by the result, peak bytes while computing it), traced by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    result = fn()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return held, peak


def run(repeat: int = 3) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "openapi.json"
        path.write_bytes(orjson.dumps(make_description()))
        size_mb = path.stat().st_size / 1e6
        baseline_s, _ = _timed(lambda: orjson.loads(path.read_bytes()), repeat)
        load_s, _ = _timed(lambda: load_spec(path), repeat)
        total_s, catalog = _timed(lambda: build_catalog(load_spec(path)), repeat)
        held, peak = _memory(lambda: build_catalog(load_spec(path)))
        base_held, base_peak = _memory(lambda: orjson.loads(path.read_bytes()))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ops = len(catalog.entries)
    assert ops >= 1000 and size_mb >= 10, (ops, size_mb)
    lines = [
        f"description: {size_mb:.1f} MB JSON, {ops} operations, {len(catalog.integrations)} integrations, "
        f"{len(catalog.crud_chains())} CRUD chains",
        f"orjson.loads (baseline):  {baseline_s * 1000:8.1f} ms   memory held {base_held / 1e6:6.1f} MB, "
        f"peak {base_peak / 1e6:6.1f} MB",
        f"load_spec:                {load_s * 1000:8.1f} ms",
        f"load_spec + build_catalog:{total_s * 1000:8.1f} ms   memory held {held / 1e6:6.1f} MB, "
        f"peak {peak / 1e6:6.1f} MB",
        f"ratio to baseline:        {total_s / baseline_s:8.1f} x",
        f"process max RSS:          {rss_mb:8.1f} MB",
        f"machine: Python {platform.python_version()} on {platform.machine()}, best of {repeat} runs; "
        "the peak is orjson's parse buffer (traced by tracemalloc)",
    ]
    return "\n".join(lines)


def write_docs(figures: str) -> None:
    write_section(SECTION, (
        "Reproduce: `.venv/bin/python bench/bench_catalog.py --write-docs` "
        f"(generates the description in a temporary directory; takes a few seconds).\n\n"
        f"```\n{figures}\n```\n"))


def main() -> None:
    repeat_main(__doc__, run, write_docs)


if __name__ == "__main__":
    main()
