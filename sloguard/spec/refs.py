"""`$ref` resolution by sharing objects, and JSON pointers into a loaded description.

Every use of `#/components/schemas/Pet` becomes the very same dict, so a 10 MB description costs one walk and
no copies. A reference that would close a cycle stays a `{"$ref": "#/..."}` node whose pointer resolves
against the returned document (external files that hold such a cycle are bundled under `BUNDLE_KEY`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

from .source import Fetcher, SpecError, display_source, is_url, parse_document

BUNDLE_KEY = "x-sloguard-bundle"
_MAX_DOCUMENTS = 500
_MAX_REF_HOPS = 64

# Keys whose values are data, never references; keys whose values map names to objects.
_LITERAL_KEYS = frozenset({"example", "default", "enum", "const", "value"})
_NAME_MAPS = frozenset({
    "properties", "patternProperties", "$defs", "definitions", "schemas", "responses", "parameters",
    "examples", "requestBodies", "headers", "securitySchemes", "links", "callbacks", "pathItems", "content",
    "encoding", "paths", "webhooks", "variables", "dependentSchemas",
})


@dataclass
class Document:
    uri: str
    root: Any


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_tokens(pointer: str) -> list[str]:
    """The tokens of a JSON pointer fragment such as ``/components/schemas/Pet`` (URI-decoded)."""
    pointer = unquote(pointer)
    if pointer in ("", "/"):
        return []
    if not pointer.startswith("/"):
        raise ValueError("not a JSON pointer (anchors are not supported)")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def resolve_pointer(doc: Any, ref: str) -> Any:
    """The node a local ``#/...`` reference names in a loaded description (for kept cyclic refs)."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    node = doc
    for token in pointer_tokens(ref[1:]):
        node = _step(node, token)
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and hops < _MAX_REF_HOPS:
            node = resolve_pointer(doc, node["$ref"])
            hops += 1
    return node


def _step(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        if token in node:
            return node[token]
        if token.isdigit() and int(token) in node:  # YAML integer keys such as response codes
            return node[int(token)]
        raise KeyError(token)
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    raise KeyError(token)


class Resolver:
    """Replaces `$ref` nodes by their (shared) targets; a ref back into the active chain is kept."""

    def __init__(self, fetcher: Fetcher | None, main: Document, source: str) -> None:
        self.fetcher = fetcher
        self.main = main
        self.source = display_source(source)
        self.docs: dict[str, Document] = {main.uri: main}
        self.active: set[int] = set()
        self.done: set[int] = set()
        self.kept: list[dict[str, Any]] = []
        self.bundled: dict[str, Any] = {}
        self.where: tuple[Document, list[str]] = (main, [])

    def run(self) -> None:
        try:
            self._visit(self.main.root, self.main, False)
        except RecursionError:
            raise SpecError(
                f"{self.source}: the description is nested too deeply to read; simplify the schemas"
            ) from None
        if self.bundled and isinstance(self.main.root, dict):
            self.main.root[BUNDLE_KEY] = self.bundled

    # The walk: `names` is True when the node maps names to objects (so "$ref"/"example" are names there).
    def _visit(self, node: Any, doc: Document, names: bool) -> Any:
        if type(node) is dict:
            ref = node.get("$ref")
            if not names and type(ref) is str:
                return self._deref(node, ref, doc)
        elif type(node) is not list:
            return node
        key = id(node)
        if key in self.done or key in self.active:
            return node
        self.active.add(key)
        self._walk(node, doc, names)
        self.active.discard(key)
        self.done.add(key)
        return node

    def _walk(self, node: Any, doc: Document, names: bool) -> None:
        path = self.where[1]
        if type(node) is dict:
            for k, v in node.items():
                tv = type(v)
                if tv is not dict and tv is not list:
                    continue
                if not names:
                    if k in _LITERAL_KEYS or (k == "examples" and tv is list):
                        continue
                    if type(k) is str and k.startswith("x-"):
                        continue
                path.append(str(k))
                new = self._visit(v, doc, not names and k in _NAME_MAPS)
                path.pop()
                if new is not v:
                    node[k] = new
        else:
            for i, v in enumerate(node):
                if type(v) is dict or type(v) is list:
                    path.append(str(i))
                    new = self._visit(v, doc, False)
                    path.pop()
                    if new is not v:
                        node[i] = new

    def _location(self) -> str:
        doc, path = self.where
        pointer = "#/" + "/".join(_escape(p) for p in path)
        return pointer if doc is self.main else f"{display_source(doc.uri)}{pointer}"

    def _fail(self, ref: str, why: str) -> SpecError:
        return SpecError(
            f"{self.source}: unresolvable $ref '{ref}' at {self._location()}: {why}; "
            "fix the reference or add what it points to"
        )

    def _document(self, target: str, doc: Document, ref: str) -> Document:
        if is_url(target) or is_url(doc.uri):
            uri = urljoin(doc.uri, target) if is_url(doc.uri) else target
            if not is_url(uri):
                raise self._fail(ref, "a description fetched over HTTP may only refer to HTTP documents")
        elif doc.uri.startswith("<"):
            uri = str((Path.cwd() / unquote(target)).resolve())
        else:
            uri = str((Path(doc.uri).parent / unquote(target)).resolve())
        found = self.docs.get(uri)
        if found is not None:
            return found
        if self.fetcher is None:
            raise self._fail(ref, "external references need a file or URL source")
        if len(self.docs) >= _MAX_DOCUMENTS:
            raise self._fail(ref, f"more than {_MAX_DOCUMENTS} referenced documents")
        try:
            data, hint = self.fetcher.read(uri)
        except SpecError as exc:
            raise self._fail(ref, str(exc).split("; ")[0]) from None
        loaded = Document(uri, parse_document(data, uri, hint))
        self.docs[uri] = loaded
        return loaded

    def _target(self, ref: str, doc: Document) -> tuple[Document, list[str], Any]:
        """Follow ``ref`` (and chains of refs) to its target node without walking it."""
        seen: set[tuple[str, str]] = set()
        for _ in range(_MAX_REF_HOPS):
            file_part, _, fragment = ref.partition("#")
            target_doc = self._document(file_part, doc, ref) if file_part else doc
            try:
                tokens = pointer_tokens(fragment)
            except ValueError as exc:
                raise self._fail(ref, str(exc)) from None
            node = target_doc.root
            for i, token in enumerate(tokens):
                hops = 0
                while isinstance(node, dict) and isinstance(node.get("$ref"), str) and token not in node:
                    _, _, node = self._target(node["$ref"], target_doc)
                    hops += 1
                    if hops > _MAX_REF_HOPS:
                        raise self._fail(ref, "too many chained references")
                try:
                    node = _step(node, token)
                except KeyError:
                    shown = "/".join(_escape(t) for t in tokens[: i + 1])
                    raise self._fail(ref, f"'{shown}' does not exist") from None
            key = (target_doc.uri, fragment)
            if isinstance(node, dict) and isinstance(node.get("$ref"), str) and len(node) == 1:
                if key in seen:
                    raise self._fail(ref, "the reference points to itself")
                seen.add(key)
                ref, doc = node["$ref"], target_doc
                continue
            return target_doc, tokens, node
        raise self._fail(ref, "too many chained references")

    def _deref(self, node: dict[str, Any], ref: str, doc: Document) -> Any:
        target_doc, tokens, target = self._target(ref, doc)
        if id(target) in self.active or id(target) == id(node):
            self._keep(node, target_doc, tokens)
            return node
        if (type(target) is dict or type(target) is list) and id(target) not in self.done:
            saved = self.where
            self.where = (target_doc, list(tokens))
            names = False
            for token in tokens:
                names = not names and token in _NAME_MAPS
            target = self._visit(target, target_doc, names)
            self.where = saved
        if len(node) == 1 or type(target) is not dict:
            return target
        # Keep siblings of the ref (description, nullable, ...) on a shallow copy of the shared target.
        key = id(node)
        self.active.add(key)
        self._walk(node, doc, False)
        self.active.discard(key)
        merged = dict(target)
        merged.update((k, v) for k, v in node.items() if k != "$ref")
        return merged

    def _bundle_name(self, uri: str) -> str:
        """A file's name in the bundle: relative to the main file when both are files, else its URI."""
        if is_url(uri) or self.main.uri.startswith("<") or is_url(self.main.uri):
            return uri
        return os.path.relpath(uri, os.path.dirname(self.main.uri))

    def _keep(self, node: dict[str, Any], target_doc: Document, tokens: list[str]) -> None:
        pointer = "/".join(_escape(t) for t in tokens)
        if target_doc is self.main:
            node["$ref"] = f"#/{pointer}" if pointer else "#"
        else:
            name = self._bundle_name(target_doc.uri)
            self.bundled[name] = target_doc.root
            node["$ref"] = f"#/{BUNDLE_KEY}/{_escape(name)}" + (f"/{pointer}" if pointer else "")
        self.kept.append(node)
