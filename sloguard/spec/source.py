"""Reading a description: files and URLs with one size limit, JSON or YAML, and the version check."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import yaml

from sloguard.errors import UsageError
from sloguard.redact import redact_source_url
from sloguard.tls import client_tls

_MB = 1024 * 1024
MAX_SPEC_BYTES = 200 * _MB
DEFAULT_TIMEOUT_S = 30.0
_SUPPORTED = "Swagger 2.0, OpenAPI 3.0 and 3.1"


class SpecError(UsageError):
    """The OpenAPI description cannot be read; the message names the source, the problem and the fix.

    ``unreachable`` says why, when no connection could be made to its URL at all (refused, unknown
    host): for a description served by the target, that is the target being down."""

    def __init__(self, message: str, *, unreachable: str | None = None) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class _YamlLoader(yaml.CSafeLoader):
    """Safe C loader that keeps dates as strings, so examples stay JSON values."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def display_source(source: str | os.PathLike[str]) -> str:
    """The source as it may appear in a message: URL credentials and query values are hidden."""
    return redact_source_url(os.fspath(source))


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@dataclass(frozen=True)
class FetchRecord:
    """One GET of a description (or a document it refers to), as it happened."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int | None
    response_headers: list[tuple[str, str]]
    body: bytes
    latency_ms: float


FetchHook = Callable[[FetchRecord], None]


@dataclass
class Fetcher:
    """Reads documents from files and URLs with one size limit and one HTTP client."""

    headers: Mapping[str, str] | None
    verify: bool | str
    timeout: float
    max_bytes: int
    on_fetch: FetchHook | None = None  # told of every URL fetched, so the run's evidence shows it
    _client: httpx.Client | None = None
    _read: list[bytes] = field(default_factory=list)  # SHA-256 of each document read, in order

    def digest(self) -> str:
        """One SHA-256 over every document read: the same bytes served again give the same digest."""
        return hashlib.sha256(b"".join(self._read)).hexdigest()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def read(self, uri: str) -> tuple[bytes, str]:
        """The bytes of ``uri`` and a format hint ("json", "yaml" or "")."""
        data, hint = self._read_url(uri) if is_url(uri) else self._read_file(uri)
        self._read.append(hashlib.sha256(data).digest())
        return data, hint

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
            self._client = httpx.Client(headers=dict(self.headers or {}), verify=client_tls(self.verify),
                                        timeout=self.timeout, follow_redirects=True)
        started = time.perf_counter()
        status: int | None = None
        response_headers: list[tuple[str, str]] = []
        request_headers: list[tuple[str, str]] = []
        body = b""
        try:
            with self._client.stream("GET", url) as resp:
                status, response_headers = resp.status_code, resp.headers.multi_items()
                request_headers = resp.request.headers.multi_items()
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
                body = b"".join(chunks)
        except httpx.TimeoutException:
            raise SpecError(
                f"{shown}: no answer within {self.timeout:g} s; check that the server is up or raise "
                "the timeout"
            ) from None
        except httpx.ConnectError as exc:
            raise SpecError(
                f"{shown}: cannot connect (connection refused or host unknown); check the URL and that the "
                "server is running", unreachable=f"cannot connect ({exc})"
            ) from None
        except httpx.HTTPError as exc:
            raise SpecError(f"{shown}: fetching failed ({type(exc).__name__}); check the URL") from None
        finally:
            if self.on_fetch is not None:
                self.on_fetch(FetchRecord(url, request_headers, status, response_headers, body,
                                          (time.perf_counter() - started) * 1000))
        hint = "json" if "json" in content_type else "yaml" if "yaml" in content_type else ""
        return body, hint or _format_from_name(urlsplit(url).path)


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
