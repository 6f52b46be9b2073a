"""The entry points: load a description from a file or URL, or prepare one already parsed."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .refs import BUNDLE_KEY, Document, Resolver
from .source import (
    DEFAULT_TIMEOUT_S,
    MAX_SPEC_BYTES,
    Fetcher,
    FetchHook,
    SpecError,
    detect_version,
    display_source,
    is_url,
    parse_document,
)
from .swagger2 import Swagger2, rewrite_kept_refs

META_KEY = "x-sloguard"


@contextmanager
def _fetcher(headers: Mapping[str, str] | None, verify: bool | str, timeout: float,
             max_bytes: int, on_fetch: FetchHook | None = None) -> Iterator[Fetcher]:
    fetcher = Fetcher(headers, verify, timeout, max_bytes, on_fetch)
    try:
        yield fetcher
    finally:
        fetcher.close()


def _prepare(doc: Any, source: str, uri: str, fetcher: Fetcher | None, *, served: bool = False) -> dict[str, Any]:
    version = detect_version(doc, source)
    if "paths" in doc and doc["paths"] is not None and not isinstance(doc["paths"], dict):
        raise SpecError(f'{display_source(source)}: "paths" is not a mapping; fix the description')
    resolver = Resolver(fetcher, Document(uri, doc), source)
    resolver.run()
    if version == "2.0":
        doc = Swagger2(doc).convert()
        rewrite_kept_refs(resolver.kept)
        if BUNDLE_KEY in resolver.main.root:
            doc[BUNDLE_KEY] = resolver.main.root[BUNDLE_KEY]
    doc[META_KEY] = {"source": display_source(source), "version": version}
    if served and fetcher is not None:  # what was read, byte for byte: drift checks skip an unchanged one
        doc[META_KEY]["digest"] = fetcher.digest()
    return doc


def load_spec(
    source: str | os.PathLike[str],
    *,
    headers: Mapping[str, str] | None = None,
    verify: bool | str = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = MAX_SPEC_BYTES,
    on_fetch: FetchHook | None = None,
) -> dict[str, Any]:
    """Load, resolve and normalise the description at a file path or http(s) URL; ``on_fetch`` is
    told of every URL fetched (the description and the documents its references name)."""
    text = os.fspath(source)
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    uri = text if is_url(text) else str(Path(text).expanduser().resolve())
    with _fetcher(headers, verify, timeout, max_bytes, on_fetch) as fetcher:
        data, hint = fetcher.read(uri)
        doc = parse_document(data, text, hint)
        return _prepare(doc, text, uri, fetcher, served=True)


def prepare_spec(doc: dict[str, Any], *, source: str = "<memory>",
                 base: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Resolve and normalise an already parsed description (in place where possible).

    Relative-file refs are read relative to ``base`` (a file or URL the document came from), if given.
    """
    if base is None:
        return _prepare(doc, source, "<memory>", None)
    base_text = os.fspath(base)
    uri = base_text if is_url(base_text) else str(Path(base_text).resolve())
    with _fetcher(None, True, DEFAULT_TIMEOUT_S, MAX_SPEC_BYTES) as fetcher:
        return _prepare(doc, source, uri, fetcher)


def spec_version(doc: Mapping[str, Any]) -> str:
    """The original version of a loaded description ("2.0", "3.0.3", "3.1.0", ...)."""
    meta = doc.get(META_KEY)
    if isinstance(meta, dict) and "version" in meta:
        return str(meta["version"])
    return str(doc.get("openapi") or doc.get("swagger") or "")


def spec_digest(doc: Mapping[str, Any]) -> str | None:
    """SHA-256 of the documents a description was loaded from (`load_spec`), None when it was given
    already parsed."""
    meta = doc.get(META_KEY)
    digest = meta.get("digest") if isinstance(meta, dict) else None
    return digest if isinstance(digest, str) else None


def base_path(doc: Mapping[str, Any]) -> str:
    """The path of the first server URL (variables at their defaults), without a trailing slash."""
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
        return ""
    url = str(servers[0].get("url", ""))
    variables = servers[0].get("variables")
    if isinstance(variables, Mapping):
        for name, var in variables.items():
            if isinstance(var, Mapping):
                url = url.replace("{" + str(name) + "}", str(var.get("default", "")))
    path = urlsplit(url).path if "://" in url else url.split("?")[0]
    return path.rstrip("/")
