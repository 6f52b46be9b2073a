"""Building the catalog from a loaded description: naming, kinds, security, parts, overrides, filters."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sloguard.spec import META_KEY, base_path, pointer_tokens

from .model import PLATFORM, Body, Catalog, Entry, Link, OperationKind, Parameter, Security
from .naming import VERSION, collapse, compact, is_template, segments, slugify, synthesize_operation_id, unversioned
from .selection import CatalogError, apply_overrides, filter_entries

DEFAULT_PATH_PATTERN = r"^/api/(?P<integration>[^/]+)/"
DEFAULT_PLATFORM_NAMES = frozenset({
    "platform", "core", "health", "auth", "oauth", "oauth2", "admin", "default", "system", "metrics", "api",
    "internal", "well-known", "openid", "",
})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAFE_EXTENSION = "x-sloguard-safe"

_HEALTH_WORDS = frozenset({"health", "healthz", "livez", "readyz", "ping", "heartbeat", "liveness",
                           "readiness"})
_SEARCH_WORDS = frozenset({"search", "query", "find", "lookup"})
_LIST_FIELDS = ("items", "data", "results", "records", "entries", "values", "list", "content", "rows")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})


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
        base_path=base_path(spec),
        schemes=schemes if isinstance(schemes, Mapping) else {},
        global_security=spec.get("security"),
    )
    warnings: list[str] = []
    raws = _collect(spec, warnings)
    collapsed = {collapse(r.path) for r in raws}
    options.item_parents = {p.rsplit("/", 1)[0] for p in collapsed if segments(p) and is_template(segments(p)[-1])}
    route_ids = {(r.method, r.path): r.operation_id for r in raws}
    declared_ids = {r.operation_id for r in raws}
    entries = [_entry(raw, options, route_ids, declared_ids, warnings) for raw in raws]
    entries = _fill_link_kinds(entries)
    if overrides:
        entries = apply_overrides(entries, overrides)
    included, excluded = filter_entries(entries, include, exclude)
    return Catalog(tuple(included), all_entries=tuple(entries), excluded=excluded, spec=spec,
                   base_path=options.base_path, warnings=tuple(warnings))



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
    match_path = collapse(options.base_path + raw.path)
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
        auth=_security(op.get("security", options.global_security), options.schemes),
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
    """The integration a path names, after its version segments are dropped (``/api/v1/slack/x`` is
    Slack's); without a match, its first static segment (``/repos/{owner}/…`` → ``repos``)."""
    path = unversioned(match_path)
    found = pattern.search(path)
    if found and found.group("integration"):
        return slugify(found.group("integration"))
    statics = [s for s in segments(path) if not is_template(s) and s.lower() not in ("api", "rest")]
    return slugify(statics[0]) if statics else ""


def _integration(tags: tuple[str, ...], match_path: str, options: _Options) -> str:
    """First tag wins; the path names the integration only for untagged operations (or with
    ``integration_from: path``); aliases apply to both; platform names and versions are the platform."""
    path_slug = _path_slug(match_path, options.pattern)
    slug = ""
    if options.mode == "tags" and tags:
        slug = slugify(tags[0])
        if path_slug and compact(path_slug) == compact(slug):
            slug = path_slug  # "Google Drive" vs /api/googledrive/: the path spelling is what URLs use
    if not slug:
        slug = path_slug
    if slug in options.aliases:
        return options.aliases[slug]
    if slug in options.platform_names or VERSION.match(slug):
        return PLATFORM
    return slug


def _group(match_path: str, integration: str) -> str:
    segs = segments(match_path)
    start = 0
    for i, seg in enumerate(segs):
        if slugify(seg) == integration:
            start = i + 1
            break
    else:
        while start < len(segs) and (segs[start].lower() in ("api", "rest") or VERSION.match(segs[start])):
            start += 1
    for seg in segs[start:]:
        if not is_template(seg) and not VERSION.match(seg):
            return re.sub(r"[^a-z0-9_]+", "-", seg.lower()).strip("-") or integration
    return integration


def _security(security: Any, schemes: Mapping[str, Any]) -> Security:
    if not isinstance(security, list) or not security:
        return Security(required=False)
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
    return Security(required=bool(alternatives) and all(alternatives), schemes=tuple(names), scopes=tuple(scopes),
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
    """The lowest declared 2xx status and its preferred response body; an operation that documents
    only a redirect (a 3xx, such as an OAuth connect step) expects that redirect; 200 otherwise."""
    if not isinstance(responses, Mapping):
        return 200, None
    codes: list[tuple[int, Any]] = []
    redirects: list[tuple[int, Any]] = []
    for code, response in responses.items():
        text = str(code).strip().upper()
        if text.isdigit() and 200 <= int(text) < 300:
            codes.append((int(text), response))
        elif text == "2XX":
            codes.append((299, response))  # only used when no exact 2xx is declared
        elif text.isdigit() and 300 <= int(text) < 400:
            redirects.append((int(text), response))
    if not codes and redirects:
        return min(redirects, key=lambda c: c[0])[0], None
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
          has_links: bool) -> OperationKind:
    segs = segments(match_path)
    statics = [s.lower() for s in segs if not is_template(s)]
    ends_template = bool(segs) and is_template(segs[-1])
    method = raw.method
    if method in ("GET", "HEAD") and _HEALTH_WORDS.intersection(statics) and not any(is_template(s) for s in segs):
        return "health"  # a health route takes no ids: /repos/{owner}/{repo}/pages/health is a read
    last = statics[-1] if statics and not ends_template else ""
    if method in ("GET", "POST") and not ends_template and (
            last in _SEARCH_WORDS or "search" in _op_words(raw.operation_id)):
        return "search"
    has_item = collapse(raw.path) in options.item_parents
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
