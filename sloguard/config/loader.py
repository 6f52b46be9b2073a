"""Read `sloguard.yaml`: parse, interpolate `${ENV}`, validate, and turn any problem into one line.

The YAML is parsed before `${...}` is substituted, so a secret's characters never reach the
YAML parser; the composed node tree is kept only to map an error's key path back to its line.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sloguard.redact import register_secret

from .base import ConfigError
from .model import Config

DEFAULT_FILE = "sloguard.yaml"
Loc = tuple[str | int, ...]

# `$${` is a literal `${`; anything else starting `${` that is not a well-formed reference is an error.
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
# Keys whose given value must never be echoed back in an error message.
_SECRET_KEY = re.compile(r"secret|password|routing_key|token|^(webhook_)?url$|^headers$", re.I)


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load the config: `path`, else ./sloguard.yaml if present, else the reference-platform defaults.

    `overrides` (from command-line options) are merged over the file before validation.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    source = _find(path)
    node: yaml.Node | None = None
    data: dict[str, Any] = {}
    if source is not None:
        node, data = _parse(source)
        data = _interpolate(data, environ, (), _Locator(source, node, {}))
    if overrides:
        data = _merge(data, overrides)
    locator = _Locator(source, node, overrides or {})
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise locator.validation_error(exc) from None
    except ConfigError as exc:
        raise ConfigError(locator.message(exc.loc, exc.message), exc.loc) from None
    config._source = source.resolve() if source is not None else None
    for secret in config.secret_values():
        register_secret(secret)  # so no log line or report can carry it
    return config


def _find(path: str | Path | None) -> Path | None:
    if path is None:
        default = Path(DEFAULT_FILE)
        return default if default.is_file() else None
    source = Path(path)
    if not source.exists():
        raise ConfigError(
            f"config file {source} not found; check the path, or leave --config out to use "
            f"./{DEFAULT_FILE} or the reference-platform defaults"
        )
    if not source.is_file():
        raise ConfigError(f"config file {source} is not a file; give the path of a YAML file")
    return source


def _parse(source: Path) -> tuple[yaml.Node | None, dict[str, Any]]:
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text; save the config as UTF-8 YAML") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read it ({exc.strerror}); check its permissions") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark, start = exc.problem_mark or exc.context_mark, exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else str(source)
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context}" if exc.context and exc.problem else ""
        if context and start is not None and mark is not None and start.line != mark.line:
            context += f" that starts at line {start.line + 1}, column {start.column + 1}"
        context += ")" if context else ""
        lines = text.splitlines()
        bad_line = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
        fix = "fix the YAML there"
        if "${" in bad_line and re.search(r"[{\[]", bad_line.split("${")[0]):
            fix = 'inside { } or [ ] put ${...} in quotes: "${VAR}"'
        raise ConfigError(f"{where}: YAML syntax error: {problem}{context}; {fix}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML syntax error: {exc}") from None
    if data is None:
        return node, {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}:1: the top level must be a mapping of sections (target:, auth:, slos:, ...), "
            f"got a {type(data).__name__}"
        )
    _check_duplicates(source, node, ())
    return node, data


def _check_duplicates(source: Path, node: yaml.Node | None, path: Loc) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen and name != "<<":
                raise ConfigError(
                    f"{source}:{key.start_mark.line + 1}: duplicate key '{name}' in {_show(path)}; "
                    "the later one would silently win, so remove one"
                )
            seen.add(name)
            _check_duplicates(source, value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(source, item, (*path, i))


def _interpolate(value: Any, env: Mapping[str, str], path: Loc, locator: _Locator) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, env, (*path, k), locator) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, (*path, i), locator) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None:
            raise ConfigError(locator.message(
                path, "malformed ${...} reference; write ${NAME} or ${NAME:-default} ($${ for a literal ${)"
            ), path)
        found = env.get(name)
        if found:
            return found
        if default is not None:
            return default
        raise ConfigError(locator.message(
            path, f"environment variable {name} is not set or empty; export it, or write ${{{name}:-default}}"
        ), path)

    return _REFERENCE.sub(substitute, value)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _show(path: Loc) -> str:
    """('alerts', 'routes', 0, 'to') → 'alerts.routes[0].to'; odd keys quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += ("." if out else "") + part
        else:
            out += f'["{part}"]'
    return out or "the top level"


class _Locator:
    """Maps a pydantic error location to the file, line and key path the user wrote."""

    def __init__(self, source: Path | None, node: yaml.Node | None, overrides: Mapping[str, Any]) -> None:
        self.source = source
        self.node = node
        self.overrides = overrides

    def message(self, loc: Loc, text: str) -> str:
        path, line = self.resolve(loc)
        return f"{self.where(path, line)}: {_show(path)}: {text}"

    def where(self, path: Loc, line: int | None) -> str:
        if _within(self.overrides, path):
            return "command-line option"
        if self.source is None:
            return "built-in defaults"
        return f"{self.source}:{line}" if line else str(self.source)

    def resolve(self, loc: Loc) -> tuple[Loc, int | None]:
        """Walk the YAML nodes along `loc`, dropping pydantic's internal parts (union tags, '[key]')."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        path: list[str | int] = []
        for i, part in enumerate(loc):
            if part == "[key]":
                continue
            if isinstance(node, yaml.MappingNode):
                found = _lookup(node, part)
                if found is not None:
                    key, node = found
                    path.append(part)
                    line = key.start_mark.line + 1
                    continue
                nxt = loc[i + 1] if i + 1 < len(loc) else None
                type_node = _lookup(node, "type")
                is_tag = type_node is not None and getattr(type_node[1], "value", None) == part
                if is_tag or (nxt is not None and _lookup(node, nxt) is not None):
                    continue
                node = None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                path.append(part)
                line = node.start_mark.line + 1
                continue
            else:
                node = None
            if isinstance(part, int) or not re.search(r"[\[\]]", part):
                path.append(part)
        return tuple(path), line

    def validation_error(self, exc: ValidationError) -> ConfigError:
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc: Loc = tuple(first["loc"])
        path, _ = self.resolve(loc)
        text = _describe(first, loc, path)
        if len(errors) > 1:
            text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return ConfigError(self.message(loc, text), path)


def _lookup(node: yaml.MappingNode, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in node.value:
        if str(key.value) == str(part) and key.tag != "tag:yaml.org,2002:merge":
            return key, value
    for key, value in node.value:  # YAML merge keys (<<: *defaults)
        if key.tag == "tag:yaml.org,2002:merge":
            for merged in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                if isinstance(merged, yaml.MappingNode) and (found := _lookup(merged, part)):
                    return found
    return None


def _within(tree: Mapping[str, Any], path: Loc) -> bool:
    current: Any = tree
    for part in path:
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_list or (isinstance(current, Mapping) and part in current):
            current = current[part]
        else:
            return current is not tree and not isinstance(current, Mapping | list)  # a scalar set there
    return bool(path)


def _describe(error: Any, loc: Loc, path: Loc) -> str:
    kind: str = error["type"]
    given = error.get("input")
    ctx = error.get("ctx") or {}
    name = str(path[-1]) if path else ""
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        where = f"in {_show(path[:-1])}" if path[:-1] else "at the top level"
        guess = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f" — did you mean '{guess[0]}'?" if guess else ""
        return f"unknown key '{name}' {where}{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return f"missing required key '{name}'; add it"
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        guess = difflib.get_close_matches(str(ctx.get("tag")), tags, n=1)
        hint = f" — did you mean '{guess[0]}'?" if guess else ""
        return f"unknown type '{ctx.get('tag')}'{hint} (expected one of: {', '.join(tags)})"
    if kind == "union_tag_not_found":
        return f"missing 'type' (one of: {', '.join(_channel_types())})"
    message = str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "expected")
    message = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping (key: value)", message)
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        prefixed = [o for o in options if str(given) and o.startswith(str(given).lower())]
        guess = prefixed or difflib.get_close_matches(str(given), options, n=1, cutoff=0.6)
        if guess:
            message += f" — did you mean '{guess[0]}'?"
    if isinstance(given, dict | list) or (isinstance(given, str) and f"'{given}'" in message):
        return message
    return f"{message}; given {_given(given, path)}"


def _given(value: Any, path: Loc) -> str:
    if any(isinstance(p, str) and _SECRET_KEY.search(p) for p in path):
        return "(hidden)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _allowed_keys(loc: Loc) -> list[str]:
    """The field names of the model found at this pydantic location (for 'did you mean')."""
    tp: Any = Config
    for part in loc:
        tp = _strip(tp)
        if _is_union(tp):
            members = [_strip(m) for m in typing.get_args(tp) if m is not type(None)]
            tagged = [m for m in members if _tag_of(m) == part]
            if tagged:
                tp = tagged[0]
                continue
            tp = members[0] if len(members) == 1 else None
            tp = _strip(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        else:
            return []
    tp = _strip(tp)
    if _is_union(tp):
        members = [_strip(m) for m in typing.get_args(tp) if m is not type(None)]
        tp = members[0] if len(members) == 1 else None
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _tag_of(model: Any) -> str | None:
    if isinstance(model, type) and issubclass(model, BaseModel) and "type" in model.model_fields:
        args = typing.get_args(model.model_fields["type"].annotation)
        return str(args[0]) if args else None
    return None


def _channel_types() -> list[str]:
    from .alerts import Channel

    return [t for m in typing.get_args(_strip(Channel)) if (t := _tag_of(m))]
