"""Load a target's OpenAPI description (file or URL; Swagger 2.0, OpenAPI 3.0/3.1) into one 3.x-shaped dict.

`$ref`s are resolved in place by sharing objects: every use of `#/components/schemas/Pet` becomes the very
same dict, so a 10 MB description costs one walk and no copies. A reference that would close a cycle stays
a `{"$ref": "#/..."}` node whose pointer resolves against the returned document (external files that hold
such a cycle are bundled under `x-sloguard-bundle`). Swagger 2.0 is rewritten into the 3.0 shape the
catalog reads. Every problem is a one-line `SpecError` naming the source, what is wrong and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import orjson
import yaml

from sloguard.errors import UsageError
from sloguard.redact import redact_source_url

_MB = 1024 * 1024
MAX_SPEC_BYTES = 200 * _MB
DEFAULT_TIMEOUT_S = 30.0
META_KEY = "x-sloguard"
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
_SUPPORTED = "Swagger 2.0, OpenAPI 3.0 and 3.1"


class SpecError(UsageError):
    """The OpenAPI description cannot be read; the message names the source, the problem and the fix."""


class _YamlLoader(yaml.CSafeLoader):
    """Safe C loader that keeps dates as strings, so examples stay JSON values."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def display_source(source: str | os.PathLike[str]) -> str:
    """The source as it may appear in a message: URL credentials and query values are hidden."""
    return redact_source_url(os.fspath(source))


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class _Fetcher:
    """Reads documents from files and URLs with one size limit and one HTTP client."""

    headers: Mapping[str, str] | None
    verify: bool | str
    timeout: float
    max_bytes: int
    _client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def read(self, uri: str) -> tuple[bytes, str]:
        """The bytes of ``uri`` and a format hint ("json", "yaml" or "")."""
        return self._read_url(uri) if _is_url(uri) else self._read_file(uri)

    def _too_large(self, uri: str, size: int) -> SpecError:
        return SpecError(
            f"{display_source(uri)}: file too large ({size / _MB:.1f} MB, the limit is "
            f"{self.max_bytes / _MB:g} MB); use a smaller description or raise the limit (max_bytes)"
        )

    def _read_file(self, uri: str) -> tuple[bytes, str]:
        path = Path(uri)
        try:
            size = path.stat().st_size
            if path.is_dir():
                raise SpecError(f"{uri}: is a directory, not a file; point at the OpenAPI JSON or YAML file")
            if size > self.max_bytes:
                raise self._too_large(uri, size)
            data = path.read_bytes()
        except FileNotFoundError:
            raise SpecError(f"{uri}: no such file; check the OpenAPI location (target.openapi)") from None
        except PermissionError:
            raise SpecError(f"{uri}: permission denied; make the file readable") from None
        except OSError as exc:
            raise SpecError(f"{uri}: cannot read the file ({exc.strerror}); check the path") from None
        return data, _format_from_name(uri)

    def _read_url(self, url: str) -> tuple[bytes, str]:
        shown = display_source(url)
        if self._client is None:
            self._client = httpx.Client(headers=dict(self.headers or {}), verify=self.verify,
                                        timeout=self.timeout, follow_redirects=True)
        try:
            with self._client.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    hint = " and the credentials" if resp.status_code in (401, 403) else ""
                    raise SpecError(
                        f"{shown}: HTTP {resp.status_code} {resp.reason_phrase} while fetching the OpenAPI "
                        f"description; check the URL{hint}"
                    )
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise self._too_large(url, int(declared))
                chunks: list[bytes] = []
                total = 0
                for chunk in resp.iter_bytes():
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise self._too_large(url, total)
                    chunks.append(chunk)
                content_type = resp.headers.get("content-type", "").lower()
        except httpx.TimeoutException:
            raise SpecError(
                f"{shown}: no answer within {self.timeout:g} s; check that the server is up or raise "
                "the timeout"
            ) from None
        except httpx.ConnectError:
            raise SpecError(
                f"{shown}: cannot connect (connection refused or host unknown); check the URL and that the "
                "server is running"
            ) from None
        except httpx.HTTPError as exc:
            raise SpecError(f"{shown}: fetching failed ({type(exc).__name__}); check the URL") from None
        hint = "json" if "json" in content_type else "yaml" if "yaml" in content_type else ""
        return b"".join(chunks), hint or _format_from_name(urlsplit(url).path)


def _format_from_name(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    return ""


def parse_document(data: bytes, source: str, hint: str = "") -> Any:
    """Parse JSON (orjson) or YAML (libyaml); ``hint`` is "json", "yaml" or "" to sniff."""
    shown = display_source(source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise SpecError(f"{shown}: the file is empty; point at the OpenAPI description")
    looks_json = data.lstrip()[:1] in (b"{", b"[")
    if hint == "json" or (hint == "" and looks_json):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if hint == "json":
                raise SpecError(
                    f"{shown}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
                    "fix the JSON syntax"
                ) from None
            json_error = exc
    else:
        json_error = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        return yaml.load(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as exc:
        if json_error is not None:
            raise SpecError(
                f"{shown}: not valid JSON at line {json_error.lineno}, column {json_error.colno}: "
                f"{json_error.msg}; fix the JSON syntax"
            ) from None
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        tab = ""
        if mark is not None:
            lines = text.splitlines()
            line = lines[mark.line] if mark.line < len(lines) else ""
            if "\t" in line[: mark.column + 1]:
                tab = " (a tab: YAML indentation must use spaces)"
        raise SpecError(f"{shown}: not valid YAML{where}: {problem}{tab}; fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{shown}: not valid YAML ({exc}); fix the YAML syntax") from None


def detect_version(doc: Any, source: str) -> str:
    """The description's version string, or a SpecError when it is not one we read."""
    shown = display_source(source)
    if not isinstance(doc, dict):
        kind = "a list" if isinstance(doc, list) else f"a {type(doc).__name__}"
        raise SpecError(
            f"{shown}: not an OpenAPI description (the top level is {kind}, expected a mapping with an "
            '"openapi" or "swagger" key); point at the OpenAPI document'
        )
    if "openapi" in doc:
        version = str(doc["openapi"])
        if version.startswith(("3.0", "3.1")):
            return version
    elif "swagger" in doc:
        version = str(doc["swagger"])
        if version in ("2.0", "2"):
            return "2.0"
    else:
        raise SpecError(
            f'{shown}: not an OpenAPI description: no "openapi" or "swagger" key at the top level; '
            "point at the OpenAPI/Swagger document (not an HTML page or a schema file)"
        )
    raise SpecError(
        f'{shown}: unsupported OpenAPI version "{version}"; sloguard reads {_SUPPORTED}: convert the '
        "description or point at another one"
    )


# --------------------------------------------------------------------------------------------- $refs


@dataclass
class _Doc:
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


class _Resolver:
    """Replaces `$ref` nodes by their (shared) targets; a ref back into the active chain is kept."""

    def __init__(self, fetcher: _Fetcher | None, main: _Doc, source: str) -> None:
        self.fetcher = fetcher
        self.main = main
        self.source = display_source(source)
        self.docs: dict[str, _Doc] = {main.uri: main}
        self.active: set[int] = set()
        self.done: set[int] = set()
        self.kept: list[dict[str, Any]] = []
        self.bundled: dict[str, Any] = {}
        self.where: tuple[_Doc, list[str]] = (main, [])

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
    def _visit(self, node: Any, doc: _Doc, names: bool) -> Any:
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

    def _walk(self, node: Any, doc: _Doc, names: bool) -> None:
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

    def _document(self, target: str, doc: _Doc, ref: str) -> _Doc:
        if _is_url(target) or _is_url(doc.uri):
            uri = urljoin(doc.uri, target) if _is_url(doc.uri) else target
            if not _is_url(uri):
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
        loaded = _Doc(uri, parse_document(data, uri, hint))
        self.docs[uri] = loaded
        return loaded

    def _target(self, ref: str, doc: _Doc) -> tuple[_Doc, list[str], Any]:
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

    def _deref(self, node: dict[str, Any], ref: str, doc: _Doc) -> Any:
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
        if _is_url(uri) or self.main.uri.startswith("<") or _is_url(self.main.uri):
            return uri
        return os.path.relpath(uri, os.path.dirname(self.main.uri))

    def _keep(self, node: dict[str, Any], target_doc: _Doc, tokens: list[str]) -> None:
        pointer = "/".join(_escape(t) for t in tokens)
        if target_doc is self.main:
            node["$ref"] = f"#/{pointer}" if pointer else "#"
        else:
            name = self._bundle_name(target_doc.uri)
            self.bundled[name] = target_doc.root
            node["$ref"] = f"#/{BUNDLE_KEY}/{_escape(name)}" + (f"/{pointer}" if pointer else "")
        self.kept.append(node)


# ------------------------------------------------------------------------------------ Swagger 2.0 -> 3.0

_PARAM_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
    "multipleOf",
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_COLLECTION_STYLES: dict[str, dict[str, Any]] = {
    "csv": {"style": "form", "explode": False},
    "multi": {"style": "form", "explode": True},
    "ssv": {"style": "spaceDelimited", "explode": False},
    "pipes": {"style": "pipeDelimited", "explode": False},
}
_OAUTH_FLOWS = {
    "implicit": "implicit", "password": "password", "application": "clientCredentials",
    "accessCode": "authorizationCode",
}


class _Swagger2:
    """Rewrites a resolved Swagger 2.0 document into the OpenAPI 3.0 shape (sharing converted objects)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.consumes: list[str] = list(doc.get("consumes") or ["application/json"])
        self.produces: list[str] = list(doc.get("produces") or ["application/json"])
        self.params: dict[int, dict[str, Any]] = {}
        self.responses: dict[tuple[int, tuple[str, ...]], dict[str, Any]] = {}

    def convert(self) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {"openapi": "3.0.3", "info": doc.get("info") or {"title": "", "version": ""}}
        base_path = str(doc.get("basePath") or "").rstrip("/")
        host = doc.get("host")
        if host:
            out["servers"] = [{"url": f"{scheme}://{host}"} for scheme in (doc.get("schemes") or ["https"])]
        paths: dict[str, Any] = {}
        for path, item in (doc.get("paths") or {}).items():
            if isinstance(item, dict):
                paths[f"{base_path}{path}" if base_path else path] = self._path_item(item)
        out["paths"] = paths
        components: dict[str, Any] = {}
        if isinstance(doc.get("definitions"), dict):
            components["schemas"] = doc["definitions"]
        if isinstance(doc.get("parameters"), dict):
            components["parameters"] = {
                k: self._param(p) for k, p in doc["parameters"].items()
                if isinstance(p, dict) and p.get("in") not in ("body", "formData")
            }
        if isinstance(doc.get("responses"), dict):
            components["responses"] = {
                k: self._response(r, self.produces)
                for k, r in doc["responses"].items() if isinstance(r, dict)
            }
        if isinstance(doc.get("securityDefinitions"), dict):
            components["securitySchemes"] = {
                k: _security_scheme(s) for k, s in doc["securityDefinitions"].items() if isinstance(s, dict)
            }
        out["components"] = components
        for key in ("security", "tags", "externalDocs"):
            if key in doc:
                out[key] = doc[key]
        out.update((k, v) for k, v in doc.items() if isinstance(k, str) and k.startswith("x-"))
        return out

    def _path_item(self, item: dict[str, Any]) -> dict[str, Any]:
        shared = [p for p in item.get("parameters") or [] if isinstance(p, dict)]
        new: dict[str, Any] = {k: v for k, v in item.items() if k not in _METHODS and k != "parameters"}
        for method in _METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                new[method] = self._operation(op, shared)
        return new

    def _operation(self, op: dict[str, Any], shared: list[dict[str, Any]]) -> dict[str, Any]:
        new = {k: v for k, v in op.items() if k not in ("parameters", "responses", "consumes", "produces",
                                                         "schemes")}
        merged: dict[tuple[Any, Any], dict[str, Any]] = {(p.get("name"), p.get("in")): p for p in shared}
        for p in op.get("parameters") or []:
            if isinstance(p, dict):
                merged[(p.get("name"), p.get("in"))] = p
        consumes = list(op.get("consumes") or self.consumes)
        produces = list(op.get("produces") or self.produces)
        body = [p for p in merged.values() if p.get("in") == "body"]
        form = [p for p in merged.values() if p.get("in") == "formData"]
        plain = [p for p in merged.values() if p.get("in") not in ("body", "formData")]
        new["parameters"] = [self._param(p) for p in plain]
        if body:
            new["requestBody"] = _body(body[0], consumes)
        elif form:
            new["requestBody"] = _form_body(form, consumes)
        responses = op.get("responses")
        if isinstance(responses, dict):
            new["responses"] = {
                str(code): self._response(r, produces) for code, r in responses.items() if isinstance(r, dict)
            }
        return new

    def _param(self, p: dict[str, Any]) -> dict[str, Any]:
        cached = self.params.get(id(p))
        if cached is not None:
            return cached
        new: dict[str, Any] = {k: p[k] for k in ("name", "in", "description", "required", "deprecated",
                                                 "allowEmptyValue") if k in p}
        new["schema"] = _param_schema(p)
        if p.get("type") == "array":
            new.update(_COLLECTION_STYLES.get(str(p.get("collectionFormat", "csv")), {}))
        if "x-example" in p:
            new["example"] = p["x-example"]
        new.update((k, v) for k, v in p.items() if isinstance(k, str) and k.startswith("x-"))
        self.params[id(p)] = new
        return new

    def _response(self, r: dict[str, Any], produces: list[str]) -> dict[str, Any]:
        key = (id(r), tuple(produces))
        cached = self.responses.get(key)
        if cached is not None:
            return cached
        new: dict[str, Any] = {"description": r.get("description", "")}
        raw_examples = r.get("examples")
        examples: dict[str, Any] = raw_examples if isinstance(raw_examples, dict) else {}
        if "schema" in r or examples:
            content: dict[str, Any] = {}
            for ct in produces:
                media: dict[str, Any] = {}
                if "schema" in r:
                    media["schema"] = r["schema"]
                if ct in examples:
                    media["example"] = examples[ct]
                content[ct] = media
            new["content"] = content
        if isinstance(r.get("headers"), dict):
            new["headers"] = {
                name: {"description": h.get("description", ""), "schema": _param_schema(h)}
                for name, h in r["headers"].items() if isinstance(h, dict)
            }
        self.responses[key] = new
        return new


def _param_schema(p: Mapping[str, Any]) -> dict[str, Any]:
    if p.get("type") == "file":
        return {"type": "string", "format": "binary"}
    schema = {k: p[k] for k in _PARAM_SCHEMA_KEYS if k in p}
    if isinstance(schema.get("items"), dict):
        schema["items"] = _param_schema(schema["items"])
    return schema


def _json_first(types: list[str]) -> list[str]:
    return sorted(types, key=lambda ct: 0 if "json" in ct else 1)


def _body(p: dict[str, Any], consumes: list[str]) -> dict[str, Any]:
    schema = p.get("schema") if isinstance(p.get("schema"), dict) else {}
    content: dict[str, Any] = {}
    for ct in _json_first(consumes):
        media: dict[str, Any] = {"schema": schema}
        if "x-example" in p:
            media["example"] = p["x-example"]
        content[ct] = media
    body: dict[str, Any] = {"content": content, "required": bool(p.get("required"))}
    if "description" in p:
        body["description"] = p["description"]
    return body


def _form_body(params: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any]:
    has_file = any(p.get("type") == "file" for p in params)
    ct = "multipart/form-data" if has_file or "multipart/form-data" in consumes else (
        "application/x-www-form-urlencoded")
    schema: dict[str, Any] = {"type": "object", "properties": {p["name"]: _param_schema(p) for p in params
                                                               if "name" in p}}
    required = [p["name"] for p in params if p.get("required") and "name" in p]
    if required:
        schema["required"] = required
    return {"content": {ct: {"schema": schema}}, "required": bool(required)}


def _security_scheme(s: dict[str, Any]) -> dict[str, Any]:
    kind = s.get("type")
    extra = {k: s[k] for k in ("description",) if k in s}
    if kind == "basic":
        return {"type": "http", "scheme": "basic", **extra}
    if kind == "apiKey":
        return {"type": "apiKey", "name": s.get("name", ""), "in": s.get("in", "header"), **extra}
    if kind == "oauth2":
        flow_name = _OAUTH_FLOWS.get(str(s.get("flow")), "clientCredentials")
        flow: dict[str, Any] = {"scopes": s.get("scopes") or {}}
        for key in ("authorizationUrl", "tokenUrl"):
            if key in s:
                flow[key] = s[key]
        return {"type": "oauth2", "flows": {flow_name: flow}, **extra}
    return dict(s)


_SWAGGER2_PREFIXES = (
    ("#/definitions/", "#/components/schemas/"),
    ("#/parameters/", "#/components/parameters/"),
    ("#/responses/", "#/components/responses/"),
)


def _rewrite_kept_swagger2(kept: list[dict[str, Any]]) -> None:
    for node in kept:
        ref = node["$ref"]
        for old, new in _SWAGGER2_PREFIXES:
            if ref.startswith(old):
                node["$ref"] = new + ref[len(old):]
                break


# ------------------------------------------------------------------------------------------- entry points


@contextmanager
def _fetcher(headers: Mapping[str, str] | None, verify: bool | str, timeout: float,
             max_bytes: int) -> Iterator[_Fetcher]:
    fetcher = _Fetcher(headers, verify, timeout, max_bytes)
    try:
        yield fetcher
    finally:
        fetcher.close()


def _prepare(doc: Any, source: str, uri: str, fetcher: _Fetcher | None) -> dict[str, Any]:
    version = detect_version(doc, source)
    if "paths" in doc and doc["paths"] is not None and not isinstance(doc["paths"], dict):
        raise SpecError(f'{display_source(source)}: "paths" is not a mapping; fix the description')
    resolver = _Resolver(fetcher, _Doc(uri, doc), source)
    resolver.run()
    if version == "2.0":
        doc = _Swagger2(doc).convert()
        _rewrite_kept_swagger2(resolver.kept)
        if BUNDLE_KEY in resolver.main.root:
            doc[BUNDLE_KEY] = resolver.main.root[BUNDLE_KEY]
    doc[META_KEY] = {"source": display_source(source), "version": version}
    return doc


def load_spec(
    source: str | os.PathLike[str],
    *,
    headers: Mapping[str, str] | None = None,
    verify: bool | str = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = MAX_SPEC_BYTES,
) -> dict[str, Any]:
    """Load, resolve and normalise the description at a file path or http(s) URL."""
    text = os.fspath(source)
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    uri = text if _is_url(text) else str(Path(text).expanduser().resolve())
    with _fetcher(headers, verify, timeout, max_bytes) as fetcher:
        data, hint = fetcher.read(uri)
        doc = parse_document(data, text, hint)
        return _prepare(doc, text, uri, fetcher)


def prepare_spec(doc: dict[str, Any], *, source: str = "<memory>",
                 base: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Resolve and normalise an already parsed description (in place where possible).

    Relative-file refs are read relative to ``base`` (a file or URL the document came from), if given.
    """
    if base is None:
        return _prepare(doc, source, "<memory>", None)
    base_text = os.fspath(base)
    uri = base_text if _is_url(base_text) else str(Path(base_text).resolve())
    with _fetcher(None, True, DEFAULT_TIMEOUT_S, MAX_SPEC_BYTES) as fetcher:
        return _prepare(doc, source, uri, fetcher)


def spec_version(doc: Mapping[str, Any]) -> str:
    """The original version of a loaded description ("2.0", "3.0.3", "3.1.0", ...)."""
    meta = doc.get(META_KEY)
    if isinstance(meta, dict) and "version" in meta:
        return str(meta["version"])
    return str(doc.get("openapi") or doc.get("swagger") or "")
