"""The catalog: one entry per operation of a loaded OpenAPI description, with what each runner needs.

Entries say which integration an operation belongs to, what kind of operation it is (list, create, ...),
whether calling it changes state, how it authenticates, and what its request and success response look
like. Schemas in entries are the shared objects of the loaded description: read them, never mutate them.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from sloguard.errors import UsageError
from sloguard.spec import META_KEY, pointer_tokens, resolve_pointer

Kind = Literal["list", "get", "create", "update", "delete", "search", "health", "action"]
KINDS: tuple[str, ...] = get_args(Kind)
PLATFORM = "platform"
DEFAULT_PATH_PATTERN = r"^/api/(?P<integration>[^/]+)/"
DEFAULT_PLATFORM_NAMES = frozenset({
    "platform", "core", "health", "auth", "oauth", "oauth2", "admin", "default", "system", "metrics", "api",
    "internal", "well-known", "openid", "",
})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAFE_EXTENSION = "x-sloguard-safe"
OVERRIDABLE = frozenset({"integration", "group", "kind", "side_effects", "success_status", "summary"})
FIELD_PATTERNS = frozenset({"integration", "kind", "group", "method", "tag"})

_HEALTH_WORDS = frozenset({"health", "healthz", "livez", "readyz", "ping", "heartbeat", "liveness",
                           "readiness"})
_SEARCH_WORDS = frozenset({"search", "query", "find", "lookup"})
_LIST_FIELDS = ("items", "data", "results", "records", "entries", "values", "list", "content", "rows")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_VERSION = re.compile(r"^v\d+(\.\d+)*$")
_TLD = re.compile(r"\.(com|io|ai|app|net|org|co)$")


class CatalogError(UsageError):
    """The catalog options (filters, overrides, patterns) do not fit the description."""


# ------------------------------------------------------------------------------------------ entry types


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header or cookie
    required: bool
    schema: Mapping[str, Any] = field(hash=False, repr=False)
    examples: tuple[Any, ...] = field(default=(), hash=False, repr=False)
    description: str = field(default="", repr=False)


@dataclass(frozen=True)
class Body:
    """A request body or a success response: the chosen content type, its schema and its examples."""

    content_type: str
    schema: Mapping[str, Any] = field(hash=False, repr=False)
    examples: tuple[Any, ...] = field(default=(), hash=False, repr=False)
    required: bool = False
    content_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Auth:
    """Security of an operation: ``alternatives`` lists each accepted combination (scheme -> scopes)."""

    required: bool
    schemes: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    alternatives: tuple[Mapping[str, tuple[str, ...]], ...] = field(default=(), hash=False)
    scheme_types: Mapping[str, str] = field(default_factory=dict, hash=False, repr=False)


@dataclass(frozen=True)
class Link:
    name: str
    operation_id: str
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Entry:
    operation_id: str
    method: str
    path: str
    integration: str
    group: str
    kind: Kind
    summary: str = ""
    tags: tuple[str, ...] = ()
    auth: Auth = Auth(required=False)
    parameters: tuple[Parameter, ...] = ()
    request_body: Body | None = None
    success_status: int = 200
    response: Body | None = None
    side_effects: bool = False
    links: tuple[Link, ...] = ()
    deprecated: bool = False
    declared_operation_id: bool = True
    extensions: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def params_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == location)


@dataclass(frozen=True)
class CrudChain:
    """Operations on one resource that can run create -> get -> update -> delete with a real id."""

    integration: str
    resource: str
    collection_path: str
    item_path: str | None
    create: str
    list: str | None = None
    get: str | None = None
    update: str | None = None
    delete: str | None = None
    id_param: str | None = None
    id_pointer: str = "/id"  # where the new id is in the create response body (JSON pointer)

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(op for op in (self.create, self.list, self.get, self.update, self.delete) if op)


@dataclass(frozen=True)
class Coverage:
    total: int
    checked: int
    unchecked: Mapping[str, str]  # operationId -> why it was not checked
    by_integration: Mapping[str, tuple[int, int]]  # integration -> (checked, total)
    unknown: tuple[str, ...] = ()  # checked ids the description does not have

    @property
    def percent(self) -> float:
        return 100.0 * self.checked / self.total if self.total else 100.0


# --------------------------------------------------------------------------------------------- catalog


class Catalog:
    """The entries that runners use (after include/exclude), plus everything the description declares."""

    def __init__(self, entries: tuple[Entry, ...], *, all_entries: tuple[Entry, ...],
                 excluded: Mapping[str, str], spec: Mapping[str, Any], base_path: str = "",
                 warnings: tuple[str, ...] = ()) -> None:
        self.entries = entries
        self.all_entries = all_entries
        self.excluded = dict(excluded)
        self.spec = spec
        self.base_path = base_path
        self.warnings = warnings
        self._by_id = {e.operation_id: e for e in all_entries}
        self._by_route = {(e.method, e.path): e for e in all_entries}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._by_id

    def __getitem__(self, operation_id: str) -> Entry:
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise KeyError(f"no operation {operation_id!r}{_suggest(operation_id, self._by_id)}") from None

    def __repr__(self) -> str:
        return f"<Catalog {len(self.entries)} operations, {len(self.integrations)} integrations>"

    def get(self, operation_id: str) -> Entry | None:
        return self._by_id.get(operation_id)

    def by_route(self, method: str, path: str) -> Entry | None:
        return self._by_route.get((method.upper(), path))

    @property
    def title(self) -> str:
        info = self.spec.get("info")
        return str(info.get("title", "")) if isinstance(info, Mapping) else ""

    @property
    def version(self) -> str:
        info = self.spec.get("info")
        return str(info.get("version", "")) if isinstance(info, Mapping) else ""

    @property
    def integrations(self) -> tuple[str, ...]:
        return tuple(self.by_integration())

    def by_integration(self) -> dict[str, tuple[Entry, ...]]:
        groups: dict[str, list[Entry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.integration, []).append(entry)
        return {name: tuple(items) for name, items in sorted(groups.items())}

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a kept (cyclic) ``$ref`` to its schema; other schemas come back unchanged."""
        hops = 0
        while isinstance(schema.get("$ref"), str) and hops < 32:
            target = resolve_pointer(self.spec, schema["$ref"])
            if not isinstance(target, Mapping):
                break
            schema, hops = target, hops + 1
        return schema

    def crud_chains(self) -> tuple[CrudChain, ...]:
        return _crud_chains(self.entries, self._by_id)

    def coverage(self, checked: Collection[str], reasons: Mapping[str, str] | None = None) -> Coverage:
        """How much of the description ``checked`` covers; ``reasons`` say why the others were not run."""
        reasons = reasons or {}
        done = set(checked)
        unchecked: dict[str, str] = {}
        per: dict[str, list[int]] = {}
        for entry in self.all_entries:
            counts = per.setdefault(entry.integration, [0, 0])
            counts[1] += 1
            if entry.operation_id in done:
                counts[0] += 1
            else:
                unchecked[entry.operation_id] = (
                    reasons.get(entry.operation_id) or self.excluded.get(entry.operation_id) or "no check ran"
                )
        unknown = tuple(sorted(done - self._by_id.keys()))
        return Coverage(
            total=len(self.all_entries),
            checked=len(self.all_entries) - len(unchecked),
            unchecked=unchecked,
            by_integration={k: (v[0], v[1]) for k, v in sorted(per.items())},
            unknown=unknown,
        )


# ------------------------------------------------------------------------------------------ naming helpers


def slugify(text: str) -> str:
    """``"Microsoft Teams"`` -> ``"microsoft-teams"``; ``"Monday.com"`` -> ``"monday"``."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().strip().lower()
    ascii_text = _TLD.sub("", ascii_text)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _compact(slug: str) -> str:
    return slug.replace("-", "")


def synthesize_operation_id(method: str, path: str) -> str:
    """An id for an operation without one: ``GET /api/x/{id}`` -> ``get_api_x_id``."""
    return re.sub(r"[^a-z0-9]+", "_", f"{method} {path}".lower()).strip("_")


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _is_template(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _collapse(path: str) -> str:
    """Drop repeated consecutive segments (``/api/api/slack`` -> ``/api/slack``) for inference only."""
    out: list[str] = []
    for seg in _segments(path):
        if out and seg == out[-1] and not _is_template(seg):
            continue
        out.append(seg)
    return "/" + "/".join(out) + ("/" if path.endswith("/") and out else "")


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


# ------------------------------------------------------------------------------------------ the builder


@dataclass
class _Raw:
    method: str
    path: str
    op: Mapping[str, Any]
    item: Mapping[str, Any]
    operation_id: str
    declared: bool


@dataclass
class _Options:
    mode: str
    pattern: re.Pattern[str]
    aliases: dict[str, str]
    platform_names: frozenset[str]
    base_path: str
    schemes: Mapping[str, Any]
    global_security: Any
    item_parents: set[str] = field(default_factory=set)
    versioned_platform: bool = False  # /api/v1/... are the platform's own routes (others are /api/<slug>/)


def build_catalog(
    spec: Mapping[str, Any],
    *,
    integration_from: str = "tags",
    path_pattern: str = DEFAULT_PATH_PATTERN,
    aliases: Mapping[str, str] | None = None,
    include: Collection[str] = (),
    exclude: Collection[str] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    platform_names: Collection[str] = DEFAULT_PLATFORM_NAMES,
) -> Catalog:
    """Build the catalog of a description returned by `sloguard.spec.load_spec` (or `prepare_spec`).

    ``include``/``exclude`` are globs over the operationId, the path, ``"METHOD /path"``, or
    ``"integration:<glob>"`` (also ``kind:``, ``group:``, ``method:``, ``tag:``). ``overrides`` maps an
    operationId (or ``"METHOD /path"``) to new values for integration, group, kind, side_effects,
    success_status or summary.

    Integrations come from the first tag (``"Microsoft Teams"`` -> ``microsoft-teams``) or, without tags or
    with ``integration_from="path"``, from ``path_pattern``. Names in ``platform_names`` map to
    ``"platform"``, and so do ``/api/v1/...`` routes when other routes are ``/api/<integration>/...``.
    """
    if META_KEY not in spec:
        from sloguard.spec import prepare_spec  # a raw dict: resolve and normalise it first

        spec = prepare_spec(dict(spec))
    if integration_from not in ("tags", "path"):
        raise CatalogError(f'integration_from is "{integration_from}"; use "tags" or "path"')
    try:
        pattern = re.compile(path_pattern)
    except re.error as exc:
        raise CatalogError(f"path_pattern {path_pattern!r} is not a valid regular expression ({exc}); "
                           "fix the pattern") from None
    if "integration" not in pattern.groupindex:
        raise CatalogError(f"path_pattern {path_pattern!r} has no (?P<integration>...) group; add one")
    components = spec.get("components") if isinstance(spec.get("components"), Mapping) else {}
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    options = _Options(
        mode=integration_from,
        pattern=pattern,
        aliases={slugify(k): slugify(v) or PLATFORM for k, v in (aliases or {}).items()},
        platform_names=frozenset(slugify(n) for n in platform_names),
        base_path=_base_path(spec),
        schemes=schemes if isinstance(schemes, Mapping) else {},
        global_security=spec.get("security"),
    )
    warnings: list[str] = []
    raws = _collect(spec, warnings)
    collapsed = {_collapse(r.path) for r in raws}
    options.item_parents = {p.rsplit("/", 1)[0] for p in collapsed if _segments(p) and _is_template(_segments(p)[-1])}
    path_slugs = {_path_slug(_collapse(options.base_path + r.path), pattern) for r in raws}
    options.versioned_platform = any(_VERSION.match(s) for s in path_slugs) and any(
        s and not _VERSION.match(s) and s not in options.platform_names for s in path_slugs)
    route_ids = {(r.method, r.path): r.operation_id for r in raws}
    declared_ids = {r.operation_id for r in raws}
    entries = [_entry(raw, options, route_ids, declared_ids, warnings) for raw in raws]
    entries = _fill_link_kinds(entries)
    if overrides:
        entries = _apply_overrides(entries, overrides)
    included, excluded = _filter(entries, include, exclude)
    return Catalog(tuple(included), all_entries=tuple(entries), excluded=excluded, spec=spec,
                   base_path=options.base_path, warnings=tuple(warnings))


def _base_path(spec: Mapping[str, Any]) -> str:
    servers = spec.get("servers")
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


def _collect(spec: Mapping[str, Any], warnings: list[str]) -> list[_Raw]:
    paths = spec.get("paths")
    raws: list[_Raw] = []
    seen: dict[str, str] = {}
    if not isinstance(paths, Mapping):
        return raws
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            label = f"{method.upper()} {path}"
            declared = isinstance(op.get("operationId"), str) and bool(op["operationId"].strip())
            op_id = str(op["operationId"]).strip() if declared else synthesize_operation_id(method, str(path))
            if op_id in seen:
                base, n = op_id, 2
                while f"{base}_{n}" in seen:
                    n += 1
                op_id = f"{base}_{n}"
                warnings.append(f"operationId {base!r} of {label} is already used by {seen[base]}; "
                                f"this one is {op_id!r}")
            seen[op_id] = label
            raws.append(_Raw(method.upper(), str(path), op, item, op_id, declared))
    return raws


def _entry(raw: _Raw, options: _Options, route_ids: Mapping[tuple[str, str], str], declared_ids: set[str],
           warnings: list[str]) -> Entry:
    op = raw.op
    tags = _tags(op.get("tags"))
    match_path = _collapse(options.base_path + raw.path)
    integration = _integration(tags, match_path, options)
    status, response = _success(op.get("responses"))
    links = _links(op.get("responses"), route_ids, declared_ids, raw, warnings)
    request_body = _request_body(op.get("requestBody"))
    kind = _kind(raw, match_path, options, status, response, bool(links))
    safe = op.get(SAFE_EXTENSION)
    side_effects = (raw.method in WRITE_METHODS and kind != "search") if safe is None else not bool(safe)
    summary = str(op.get("summary") or "").strip() or str(op.get("description") or "").strip().split("\n")[0]
    return Entry(
        operation_id=raw.operation_id,
        method=raw.method,
        path=raw.path,
        integration=integration,
        group=_group(match_path, integration),
        kind=kind,
        summary=summary[:200],
        tags=tags,
        auth=_auth(op.get("security", options.global_security), options.schemes),
        parameters=_parameters(raw.item.get("parameters"), op.get("parameters")),
        request_body=request_body,
        success_status=status,
        response=response,
        side_effects=side_effects,
        links=links,
        deprecated=bool(op.get("deprecated")),
        declared_operation_id=raw.declared,
        extensions={k: v for k, v in op.items() if isinstance(k, str) and k.startswith("x-")},
    )


def _tags(raw: Any) -> tuple[str, ...]:
    """Tags without blanks or duplicates (case-insensitively; the first spelling wins)."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in raw if isinstance(raw, list) else []:
        text = str(tag).strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return tuple(out)


def _path_slug(match_path: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(match_path)
    return slugify(found.group("integration")) if found and found.group("integration") else ""


def _integration(tags: tuple[str, ...], match_path: str, options: _Options) -> str:
    path_slug = _path_slug(match_path, options.pattern)
    if options.versioned_platform and _VERSION.match(path_slug):
        return PLATFORM
    slug = ""
    if options.mode == "tags" and tags:
        slug = slugify(tags[0])
        if path_slug and _compact(path_slug) == _compact(slug):
            slug = path_slug  # "Google Drive" vs /api/googledrive/: the path spelling is what URLs use
    if not slug:
        slug = path_slug
    if slug in options.aliases:
        return options.aliases[slug]
    if slug in options.platform_names or _VERSION.match(slug):
        return PLATFORM
    return slug


def _group(match_path: str, integration: str) -> str:
    segs = _segments(match_path)
    start = 0
    for i, seg in enumerate(segs):
        if slugify(seg) == integration:
            start = i + 1
            break
    else:
        while start < len(segs) and (segs[start].lower() in ("api", "rest") or _VERSION.match(segs[start])):
            start += 1
    for seg in segs[start:]:
        if not _is_template(seg) and not _VERSION.match(seg):
            return re.sub(r"[^a-z0-9_]+", "-", seg.lower()).strip("-") or integration
    return integration


def _auth(security: Any, schemes: Mapping[str, Any]) -> Auth:
    if not isinstance(security, list) or not security:
        return Auth(required=False)
    alternatives: list[dict[str, tuple[str, ...]]] = []
    for requirement in security:
        if isinstance(requirement, Mapping):
            alternatives.append({str(k): tuple(str(s) for s in (v or [])) for k, v in requirement.items()})
    names = list(dict.fromkeys(name for alt in alternatives for name in alt))
    scopes = list(dict.fromkeys(scope for alt in alternatives for values in alt.values() for scope in values))
    types: dict[str, str] = {}
    for name in names:
        scheme = schemes.get(name)
        if isinstance(scheme, Mapping):
            kind = str(scheme.get("type", ""))
            types[name] = f"{kind}:{str(scheme.get('scheme', '')).lower()}" if kind == "http" else kind
    return Auth(required=bool(alternatives) and all(alternatives), schemes=tuple(names), scopes=tuple(scopes),
                alternatives=tuple(alternatives), scheme_types=types)


def _examples_of(obj: Mapping[str, Any]) -> tuple[Any, ...]:
    found: list[Any] = []
    if "example" in obj:
        found.append(obj["example"])
    examples = obj.get("examples")
    if isinstance(examples, Mapping):
        found.extend(ex["value"] for ex in examples.values() if isinstance(ex, Mapping) and "value" in ex)
    return tuple(found)


def _media(content: Any) -> tuple[str, Mapping[str, Any], tuple[str, ...]] | None:
    """The preferred media type of a content map: JSON first, then forms, then whatever comes first."""
    if not isinstance(content, Mapping) or not content:
        return None
    types = tuple(str(ct) for ct in content)

    def rank(ct: str) -> int:
        base = ct.split(";")[0].strip().lower()
        if base == "application/json":
            return 0
        if base.endswith("+json") or "json" in base:
            return 1
        if base in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return 2
        return 3

    chosen = min(types, key=rank)
    media = content.get(chosen)
    return chosen, media if isinstance(media, Mapping) else {}, types


def _schema(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    schema = obj.get("schema")
    return schema if isinstance(schema, Mapping) else {}


def _parameters(shared: Any, own: Any) -> tuple[Parameter, ...]:
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for source in (shared, own):
        for p in source if isinstance(source, list) else []:
            if isinstance(p, Mapping) and isinstance(p.get("name"), str) and p.get("in") in (
                    "path", "query", "header", "cookie"):
                merged[(p["name"], str(p["in"]))] = p
    out: list[Parameter] = []
    for (name, location), p in merged.items():
        if location == "header" and name.lower() in _IGNORED_HEADERS:
            continue
        schema = _schema(p)
        examples = _examples_of(p)
        media = _media(p.get("content"))
        if media is not None:
            schema = schema or _schema(media[1])
            examples = examples or _examples_of(media[1])
        required = bool(p.get("required")) or location == "path"
        out.append(Parameter(name=name, location=location, required=required, schema=schema,
                             examples=examples, description=str(p.get("description") or "")))
    return tuple(out)


def _request_body(body: Any) -> Body | None:
    if not isinstance(body, Mapping):
        return None
    media = _media(body.get("content"))
    if media is None:
        return None
    content_type, obj, types = media
    return Body(content_type=content_type, schema=_schema(obj), examples=_examples_of(obj),
                required=bool(body.get("required")), content_types=types)


def _success(responses: Any) -> tuple[int, Body | None]:
    """The lowest declared 2xx status (200 when none is declared) and its preferred response body."""
    if not isinstance(responses, Mapping):
        return 200, None
    codes: list[tuple[int, Any]] = []
    for code, response in responses.items():
        text = str(code).strip().upper()
        if text.isdigit() and 200 <= int(text) < 300:
            codes.append((int(text), response))
        elif text == "2XX":
            codes.append((299, response))  # only used when no exact 2xx is declared
    if not codes:
        return 200, None
    status, response = min(codes, key=lambda c: c[0])
    status = 200 if status == 299 else status
    if not isinstance(response, Mapping):
        return status, None
    media = _media(response.get("content"))
    if media is None:
        return status, None
    content_type, obj, types = media
    return status, Body(content_type=content_type, schema=_schema(obj), examples=_examples_of(obj),
                        content_types=types)


def _links(responses: Any, route_ids: Mapping[tuple[str, str], str], declared_ids: set[str], raw: _Raw,
           warnings: list[str]) -> tuple[Link, ...]:
    if not isinstance(responses, Mapping):
        return ()
    out: list[Link] = []
    for code in sorted(responses, key=str):
        response = responses[code]
        if not str(code).startswith("2") or not isinstance(response, Mapping):
            continue
        links = response.get("links")
        for name, link in (links.items() if isinstance(links, Mapping) else ()):
            if not isinstance(link, Mapping):
                continue
            target = _link_target(link, route_ids, declared_ids)
            if target is None:
                warnings.append(f"link {name!r} of {raw.method} {raw.path} names an operation the "
                                "description does not have; it is ignored")
                continue
            params = link.get("parameters")
            out.append(Link(name=str(name), operation_id=target,
                            parameters=dict(params) if isinstance(params, Mapping) else {}))
    return tuple(out)


def _link_target(link: Mapping[str, Any], route_ids: Mapping[tuple[str, str], str],
                 declared_ids: set[str]) -> str | None:
    op_id = link.get("operationId")
    if isinstance(op_id, str):
        return op_id if op_id in declared_ids else None
    ref = link.get("operationRef")
    if not isinstance(ref, str) or not ref.startswith("#/paths/"):
        return None
    try:
        tokens = pointer_tokens(ref[1:])
    except ValueError:
        return None
    if len(tokens) != 3:
        return None
    return route_ids.get((tokens[2].upper(), tokens[1]))


def _listish(schema: Mapping[str, Any] | None) -> bool:
    if not schema:
        return False
    if schema.get("type") == "array" or (isinstance(schema.get("type"), list) and "array" in schema["type"]):
        return True
    props = schema.get("properties")
    if isinstance(props, Mapping):
        for name in _LIST_FIELDS:
            prop = props.get(name)
            if isinstance(prop, Mapping) and prop.get("type") == "array":
                return True
    return False


def _op_words(operation_id: str) -> set[str]:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", operation_id).lower()
    return set(re.split(r"[^a-z0-9]+", snake))


def _kind(raw: _Raw, match_path: str, options: _Options, status: int, response: Body | None,
          has_links: bool) -> Kind:
    segs = _segments(match_path)
    statics = [s.lower() for s in segs if not _is_template(s)]
    ends_template = bool(segs) and _is_template(segs[-1])
    method = raw.method
    if method in ("GET", "HEAD") and _HEALTH_WORDS.intersection(statics):
        return "health"
    last = statics[-1] if statics and not ends_template else ""
    if method in ("GET", "POST") and not ends_template and (
            last in _SEARCH_WORDS or "search" in _op_words(raw.operation_id)):
        return "search"
    has_item = _collapse(raw.path) in options.item_parents
    if method in ("GET", "HEAD"):
        if ends_template:
            return "get"
        return "list" if _listish(response.schema if response else None) or has_item else "get"
    if method == "POST":
        if not ends_template and (has_links or has_item or status == 201):
            return "create"
        return "action"
    if method in ("PUT", "PATCH"):
        return "update"
    if method == "DELETE":
        return "delete"
    return "action"


def _fill_link_kinds(entries: list[Entry]) -> list[Entry]:
    """A POST whose links lead to a get/update/delete is a create even without the path shape."""
    by_id = {e.operation_id: e for e in entries}
    out: list[Entry] = []
    for entry in entries:
        if entry.kind == "action" and entry.method == "POST" and any(
                by_id.get(link.operation_id) and by_id[link.operation_id].kind in ("get", "update", "delete")
                for link in entry.links):
            entry = dataclasses.replace(entry, kind="create")
        out.append(entry)
    return out


def _apply_overrides(entries: list[Entry], overrides: Mapping[str, Mapping[str, Any]]) -> list[Entry]:
    index = {e.operation_id: i for i, e in enumerate(entries)}
    index.update({e.label: i for i, e in enumerate(entries) if e.label not in index})
    out = list(entries)
    for key, changes in overrides.items():
        if key not in index:
            raise CatalogError(f"overrides name operation {key!r}, which the description does not have"
                               f"{_suggest(key, [e.operation_id for e in entries])}; fix the operationId")
        if not isinstance(changes, Mapping):
            raise CatalogError(f"overrides for {key!r} must be a mapping of field: value")
        unknown = set(changes) - OVERRIDABLE
        if unknown:
            raise CatalogError(f"overrides for {key!r} set {', '.join(sorted(unknown))}; only "
                               f"{', '.join(sorted(OVERRIDABLE))} can be overridden")
        values = dict(changes)
        if "kind" in values and values["kind"] not in KINDS:
            raise CatalogError(f"overrides for {key!r}: kind {values['kind']!r} is not one of "
                               f"{', '.join(KINDS)}")
        if "integration" in values:
            values["integration"] = slugify(str(values["integration"])) or PLATFORM
        if "success_status" in values:
            try:
                values["success_status"] = int(values["success_status"])
            except (TypeError, ValueError):
                raise CatalogError(f"overrides for {key!r}: success_status must be a number") from None
        if "side_effects" in values:
            values["side_effects"] = bool(values["side_effects"])
        out[index[key]] = dataclasses.replace(out[index[key]], **values)
    return out


def _matches(entry: Entry, pattern: str) -> bool:
    prefix, sep, glob = pattern.partition(":")
    if sep and prefix in FIELD_PATTERNS:
        if prefix == "tag":
            return any(fnmatchcase(t, glob) or fnmatchcase(slugify(t), glob) for t in entry.tags)
        value = {"integration": entry.integration, "kind": entry.kind, "group": entry.group,
                 "method": entry.method}[prefix]
        return fnmatchcase(value, glob.upper() if prefix == "method" else glob)
    return any(fnmatchcase(candidate, pattern) for candidate in (entry.operation_id, entry.path, entry.label))


def _filter(entries: list[Entry], include: Collection[str],
            exclude: Collection[str]) -> tuple[list[Entry], dict[str, str]]:
    included: list[Entry] = []
    excluded: dict[str, str] = {}
    for entry in entries:
        if include and not any(_matches(entry, p) for p in include):
            excluded[entry.operation_id] = "excluded by config (not in include)"
            continue
        hit = next((p for p in exclude if _matches(entry, p)), None)
        if hit is not None:
            excluded[entry.operation_id] = f"excluded by config (exclude {hit!r})"
            continue
        included.append(entry)
    return included, excluded


# --------------------------------------------------------------------------------------------- chains


def _json_pointer_of(expression: Any) -> str | None:
    if isinstance(expression, str) and expression.startswith("$response.body#"):
        return expression[len("$response.body#"):] or "/"
    return None


def _resource(collection: str, fallback: str) -> str:
    statics = [s for s in _segments(collection) if not _is_template(s)]
    return statics[-1].lower() if statics else fallback


def _item_paths(collection: str, paths: Collection[str]) -> list[str]:
    depth = len(_segments(collection)) + 1
    return sorted(p for p in paths if p.startswith(collection.rstrip("/") + "/")
                  and len(_segments(p)) == depth and _is_template(_segments(p)[-1]))


def _pick(kind: str, methods: tuple[str, ...], item: Mapping[str, Entry],
          linked: Mapping[str, tuple[Entry, Link]]) -> str | None:
    if kind in linked:
        return linked[kind][0].operation_id
    return next((item[m].operation_id for m in methods if m in item and item[m].kind == kind), None)


def _crud_chains(entries: tuple[Entry, ...], by_id: Mapping[str, Entry]) -> tuple[CrudChain, ...]:
    routes: dict[str, dict[str, Entry]] = {}
    for e in entries:
        routes.setdefault(e.path, {})[e.method] = e
    chains: list[CrudChain] = []
    for create in entries:
        if create.kind != "create":
            continue
        linked: dict[str, tuple[Entry, Link]] = {
            by_id[link.operation_id].kind: (by_id[link.operation_id], link)
            for link in create.links if link.operation_id in by_id
        }
        item_path: str | None = None
        for kind in ("get", "update", "delete"):
            if kind in linked:
                item_path = linked[kind][0].path
                break
        if item_path is None:
            candidates = _item_paths(create.path, routes)
            item_path = candidates[0] if candidates else None
        item = routes.get(item_path or "", {})
        get = _pick("get", ("GET",), item, linked)
        update = _pick("update", ("PATCH", "PUT"), item, linked)
        delete = _pick("delete", ("DELETE",), item, linked)
        if not (get or update or delete):
            continue
        collection_list = routes.get(create.path, {}).get("GET")
        id_param = None
        if item_path:
            last = _segments(item_path)[-1]
            id_param = last[1:-1] if _is_template(last) else None
        pointer = "/id"
        for _target, link in linked.values():
            for name, expression in link.parameters.items():
                found = _json_pointer_of(expression)
                if found and (id_param is None or name == id_param or name.endswith(id_param)):
                    pointer = found
                    break
        chains.append(CrudChain(
            integration=create.integration, resource=_resource(create.path, create.group),
            collection_path=create.path,
            item_path=item_path, create=create.operation_id,
            list=collection_list.operation_id if collection_list and collection_list.kind == "list" else None,
            get=get, update=update, delete=delete, id_param=id_param, id_pointer=pointer,
        ))
    return tuple(chains)


__all__ = [
    "DEFAULT_PATH_PATTERN", "KINDS", "PLATFORM", "Auth", "Body", "Catalog", "CatalogError", "Coverage",
    "CrudChain", "Entry", "Kind", "Link", "Parameter", "build_catalog", "slugify",
    "synthesize_operation_id",
]
