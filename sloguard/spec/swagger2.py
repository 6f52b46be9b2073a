"""Swagger 2.0 -> OpenAPI 3.0: rewrites a resolved Swagger 2.0 document into the shape the catalog reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


class Swagger2:
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


def rewrite_kept_refs(kept: list[dict[str, Any]]) -> None:
    for node in kept:
        ref = node["$ref"]
        for old, new in _SWAGGER2_PREFIXES:
            if ref.startswith(old):
                node["$ref"] = new + ref[len(old):]
                break
