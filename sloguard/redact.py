"""The one place that removes secrets from anything the suite writes or prints.

Reports, results files, alerts and logs all pass through here, so a token, a client secret or a
password cannot leak through one path that forgot. It masks: credential headers, JWTs, secret
fields in JSON / form bodies / query strings, basic-auth in URLs and curl lines, ``Bearer``/``Basic``
credentials in free text, and every literal registered with `register_secret` at run time; and it
turns a settings dump into plain data with every secret masked (`redact_settings`). There is one
mask, `MASK`, wherever a secret was.

Speed matters (response bodies of a megabyte go through here): every pattern starts with a literal
so the regex engine can skip ahead, and key/value pairs are found by one scan over the ``:`` and
``=`` separators instead of one regex per syntax.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, overload
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

MASK = "[REDACTED]"

# Header names whose whole value is a credential.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
# Field names (JSON keys, form/query parameters) whose value is a credential.
SENSITIVE_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "password",
        "passwd",
        "code",
        "code_verifier",
        "api_key",
        "apikey",
        "token",
        "secret",
        "private_key",
    }
)
# Any field ending in one of these is a credential too (csrf_token, db_password, stripe_api_key).
_SENSITIVE_SUFFIXES = ("_token", "_secret", "password", "passwd", "_apikey", "_api_key", "-token")
# Every sensitive key ends with one of these: a cheap test before the exact one.
_ENDINGS = tuple(SENSITIVE_HEADERS | SENSITIVE_FIELDS) + _SENSITIVE_SUFFIXES
_MAX_KEY = 64
_MIN_SECRET_LEN = 4
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")

# A separator right after a character that can end a sensitive key, optionally closed by a quote:
# the regex engine skips every other separator in a body without a trip through Python.
_LAST_CHARS = "".join(sorted({c for e in _ENDINGS for c in (e[-1].lower(), e[-1].upper())}))
_SEP = re.compile(rf"[{re.escape(_LAST_CHARS)}](?:\\?[\"'])?[ \t]*[:=]")
_NUMBER = re.compile(r"-?\d[\d.eE+\-]*")
_FORM_VALUE = re.compile(r"[^&\s#\"'<>]*")
_HEADER_VALUE = re.compile(r"[^\r\n\"']*")
_TEXT_VALUE = re.compile(r"[^\r\n\"',;}&]*")
# Starts with the literal 'eyJ' and consumes whole runs, so a long run of non-JWT text costs one pass.
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*)*")
# user:password@ after a scheme — the password goes, the user stays (it helps debugging).
_URL_USERINFO = re.compile(r"://(?P<user>[^/\s:@\"'<>]*):(?P<val>[^/\s@\"'<>]*)@")
# curl -u user:pass / --user=user:pass / --proxy-user (the whitespace before '-' is checked after it).
_CURL_USER = re.compile(
    r"-(?<=\s-)(?P<opt>u|-user|-proxy-user)(?P<sp>\s+|=)(?P<q>['\"]?)(?P<user>[^:\s'\"]*):(?P<val>[^\s'\"]*)"
)
# curl --oauth2-bearer TOKEN / -b 'cookie' / --cookie=...
_CURL_TOKEN = re.compile(r"-(?<=\s-)(?P<opt>-oauth2-bearer|b|-cookie)(?P<sp>\s+|=)(?P<val>'[^']*'|\"[^\"]*\"|\S+)")
# Bearer/Basic credentials in free text; auth-params (realm="x", error=…) are not credentials.
_AUTH_SCHEME = re.compile(
    r"(?P<scheme>[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]+(?![A-Za-z0-9_\-]+=[^=\s,;])(?P<val>[A-Za-z0-9._~+/\-]+=*)"
)

_lock = threading.Lock()
_secrets: set[str] = set()  # configured credentials: masked for the whole run
# Tokens issued during the run, newest last. A load run renews thousands: only the most recent are
# kept (an old token stays masked by the JWT, header and field rules, not by its literal).
_tokens: dict[str, None] = {}
_MAX_TOKEN_FORMS = 4096
_secrets_re: re.Pattern[str] | None = None
_stale = False  # registered since the pattern was compiled: compile on the next redaction, once


def register_secret(value: str | None, *, token: bool = False) -> None:
    """Mask ``value`` (and its URL- and JSON-escaped forms) wherever it appears from now on.

    ``token=True`` marks a credential issued during the run (an access or refresh token): the most
    recent few thousand are kept. Registration is cheap (the pattern is rebuilt lazily), because a
    load generator registers every renewed token of every virtual user on its event loop.
    Values shorter than 4 characters are ignored: masking them would mangle ordinary text.
    """
    global _stale
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    forms = {f for f in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1])
             if len(f) >= _MIN_SECRET_LEN}
    with _lock:
        if token:
            for form in forms:
                _tokens.pop(form, None)
                _tokens[form] = None
            while len(_tokens) > _MAX_TOKEN_FORMS:
                del _tokens[next(iter(_tokens))]
        else:
            _secrets.update(forms)
        _stale = True


def _secrets_pattern() -> re.Pattern[str] | None:
    global _secrets_re, _stale
    if not _stale:
        return _secrets_re
    with _lock:
        if _stale:
            literals = sorted(_secrets | _tokens.keys(), key=len, reverse=True)
            _secrets_re = re.compile("|".join(map(re.escape, literals))) if literals else None
            _stale = False
        return _secrets_re


def clear_secrets() -> None:
    """Forget every registered literal (tests, or a new run with new credentials)."""
    global _secrets_re, _stale
    with _lock:
        _secrets.clear()
        _tokens.clear()
        _secrets_re, _stale = None, False


@functools.lru_cache(maxsize=4096)  # the same few hundred header and field names, over and over
def is_sensitive_key(name: str) -> bool:
    """True for header or field names whose value is a credential (case-insensitive)."""
    key = name.strip().lower()
    return key in SENSITIVE_HEADERS or key in SENSITIVE_FIELDS or key.endswith(_SENSITIVE_SUFFIXES)


def redact_text(text: str) -> str:
    """Mask every secret in free text: bodies, log lines, URLs, curl lines, raw headers."""
    if not text:
        return text
    pattern = _secrets_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "eyJ" in text:
        text = _JWT.sub(_mask_jwt, text)
    if "://" in text:
        text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _mask_pairs(text)
    if " -" in text or "\t-" in text or "\n-" in text or text.startswith("-"):
        padded = " " + text
        padded = _CURL_USER.sub(lambda m: f"-{m['opt']}{m['sp']}{m['q']}{m['user']}:{MASK}", padded)
        padded = _CURL_TOKEN.sub(_mask_curl_token, padded)
        text = padded[1:]
    if "earer" in text or "asic" in text or "EARER" in text or "ASIC" in text:
        text = _AUTH_SCHEME.sub(_mask_auth_scheme, text)
    return text


def _mask_pairs(text: str) -> str:
    """Mask the value of every ``key: value`` / ``key=value`` pair whose key is sensitive.

    Covers JSON and Python-repr objects (quoted keys, string or number values), raw header lines
    and curl ``-H`` arguments (``Authorization: …`` to the end of the line), and form bodies and
    query strings (``code=…&``). Values already masked or empty are left alone.
    """
    lowered = text.lower()
    out: list[str] = []
    copied = 0
    for m in _SEP.finditer(text):
        sep = m.end() - 1
        if sep < copied:
            continue
        key_end = sep
        while key_end > 0 and text[key_end - 1] in " \t":
            key_end -= 1
        if key_end == 0:
            continue
        quote_char = text[key_end - 1]
        quoted = quote_char in "\"'"
        tail_end = key_end - 1 if quoted else key_end
        if quoted and tail_end > 0 and text[tail_end - 1] == "\\":
            tail_end -= 1  # an escaped key inside serialized JSON: \"password\":
        if not lowered.endswith(_ENDINGS, max(0, tail_end - 24), tail_end):
            continue
        key = _key_before(text, tail_end, quote_char if quoted else "")
        if key is None or not is_sensitive_key(key):
            continue
        span = _value_span(text, sep + 1, text[sep], quoted, key.lower() in SENSITIVE_HEADERS)
        if span is None:
            continue
        start, end, number = span
        value = text[start:end]
        if not value or value == MASK or _is_status_code(key, value):
            continue
        out.append(text[copied:start])
        out.append(f'"{MASK}"' if number else MASK)
        copied = end
    if not out:
        return text
    out.append(text[copied:])
    return "".join(out)


def _key_before(text: str, end: int, quote_char: str) -> str | None:
    """The key that ends at ``end``: up to the opening quote, or the run of identifier characters."""
    if quote_char:
        start = text.rfind(quote_char, max(0, end - _MAX_KEY), end)
        if start < 0:
            return None
        return text[start + 1 : end].rstrip("\\")
    start = end
    while start > 0 and end - start < _MAX_KEY and text[start - 1] in _IDENT:
        start -= 1
    if start > 0 and text[start - 1] == "%":
        return None  # part of a percent-encoded value, not a key
    return text[start:end] or None


def _value_span(text: str, pos: int, sep: str, quoted_key: bool, header: bool) -> tuple[int, int, bool] | None:
    """Where the value after a separator lies: (start, end, is_bare_number), or None."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos >= len(text):
        return None
    first = text[pos]
    if first in "\"'" or (first == "\\" and text[pos + 1 : pos + 2] in ('"', "'")):
        return _quoted_span(text, pos)
    if quoted_key and sep == ":":
        number = _NUMBER.match(text, pos)
        return (pos, number.end(), True) if number else None
    if sep == "=":
        value = _FORM_VALUE.match(text, pos)
    elif header:
        value = _HEADER_VALUE.match(text, pos)
    else:
        value = _TEXT_VALUE.match(text, pos)
    return (pos, value.end(), False) if value else None


def _quoted_span(text: str, pos: int) -> tuple[int, int, bool] | None:
    """The inside of a quoted string starting at ``pos`` (plain or backslash-escaped quotes)."""
    if text[pos] == "\\":
        closing = text[pos : pos + 2]
        end = text.find(closing, pos + 2)
        return (pos + 2, end, False) if end >= 0 else None
    quote_char = text[pos]
    end = pos + 1
    while True:
        end = text.find(quote_char, end)
        if end < 0:
            return None
        backslashes = 0
        while text[end - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return (pos + 1, end, False)
        end += 1


def _is_status_code(key: str, value: str) -> bool:
    """'code=500' is an HTTP status, not an OAuth code: authorization codes are never 1–3 digits."""
    return key.lower() == "code" and value.isdigit() and len(value) <= 3


def _mask_jwt(m: re.Match[str]) -> str:
    token = m[0]
    return MASK if token.count(".") >= 2 and len(token.split(".", 2)[1]) > 0 else token


def _mask_userinfo(m: re.Match[str]) -> str:
    return f"://{m['user']}:{MASK}@" if m["val"] else m[0]


def _mask_curl_token(m: re.Match[str]) -> str:
    value = m["val"]
    quote_char = value[0] if value[:1] in ("'", '"') else ""
    return f"-{m['opt']}{m['sp']}{quote_char}{MASK}{quote_char}"


def _mask_auth_scheme(m: re.Match[str]) -> str:
    inside_word = m.start() > 0 and m.string[m.start() - 1].isalnum()
    if inside_word or not _looks_like_credential(m["val"]):
        return m[0]
    return f"{m['scheme']} {MASK}"


def _looks_like_credential(value: str) -> bool:
    """Tell a token from an English word after 'Bearer'/'Basic' ("Basic checks", "Bearer tokens")."""
    if len(value) < 8:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_inner_upper = any(c.isupper() for c in value[1:])
    has_symbol = any(c in "._~+/=-" for c in value)
    return has_digit or has_inner_upper or has_symbol


def redact_url(url: str) -> str:
    """Mask basic-auth passwords and secret query parameters (``?code=``, ``access_token=``) in a URL."""
    return redact_text(url)


def redact_curl(line: str) -> str:
    """Mask credentials in a curl reproduction line (-H, -u, -d, --oauth2-bearer, -b, the URL)."""
    return redact_text(line)


@overload
def redact_headers(headers: Mapping[str, str]) -> dict[str, str]: ...
@overload
def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]: ...
def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str] | list[tuple[str, str]]:
    """Mask credential headers entirely and secrets inside the others (e.g. a Location with ?code=)."""
    if isinstance(headers, Mapping):
        return {k: _redact_header_value(k, v) for k, v in headers.items()}
    return [(k, _redact_header_value(k, v)) for k, v in headers]


# Headers whose values are protocol metadata, never credentials: not worth a pass of the redactor
# each (a sweep records ~20 headers per request).
_PLAIN_HEADERS = frozenset({
    "accept", "accept-encoding", "accept-language", "age", "cache-control", "connection", "content-encoding",
    "content-length", "content-type", "date", "etag", "expires", "host", "keep-alive", "last-modified", "pragma",
    "retry-after", "server", "strict-transport-security", "transfer-encoding", "user-agent", "vary",
    "x-content-type-options", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
})


def _redact_header_value(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in _PLAIN_HEADERS and "://" not in value:
        return value
    if not is_sensitive_key(name):
        return redact_text(value)
    return _scheme_kept(value) if name.lower() in _SCHEMED_HEADERS else MASK


_SCHEMED_HEADERS = frozenset({"authorization", "proxy-authorization"})
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)\s+\S")


def _scheme_kept(value: str) -> str:
    """``Basic [REDACTED]``: a reader sees how a request authenticated, never with what."""
    found = _SCHEME.match(value)
    return f"{found[1]} {MASK}" if found else MASK


_PLAIN = frozenset({int, float, bool, type(None)})  # nothing to mask in them (a record's latencies)


def redact(value: Any) -> Any:
    """Redact any JSON-like value: dicts (by key and by content), lists, tuples, strings, bytes.

    Values under a sensitive key are masked whole; other strings go through `redact_text`.
    Numbers, booleans and None elsewhere are returned unchanged.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if isinstance(k, str) and is_sensitive_key(k) and v is not None and not isinstance(v, bool):
                if isinstance(v, int) and _is_status_code(k, str(v)):
                    out[k] = v
                elif isinstance(v, str) and k.lower() in _SCHEMED_HEADERS:
                    out[k] = _scheme_kept(v)
                else:
                    out[k] = MASK
            else:
                out[k] = v if type(v) in _PLAIN else redact(v)
        return out
    if isinstance(value, list):
        return [v if type(v) in _PLAIN else redact(v) for v in value]
    if isinstance(value, tuple):
        return tuple(v if type(v) in _PLAIN else redact(v) for v in value)
    if isinstance(value, bytes | bytearray):
        try:
            return redact_text(bytes(value).decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return redact_text(bytes(value).decode("latin-1")).encode("latin-1")
    return value


def masked(secret: str | None) -> str | None:
    """What a repr shows for a secret field: the mask when it is set, None when not (so both stay visible)."""
    return None if secret is None else MASK


def redact_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """Mask each of ``secrets`` in ``text``, for one message, without registering them for the run.

    Values shorter than 4 characters are left alone, as in `register_secret`.
    """
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            text = text.replace(secret, MASK)
    return text


def redact_secret_url(url: str) -> str:
    """A URL that is a secret as a whole (a Slack webhook): scheme and host stay, so a reader knows where
    it points; the path and query, which carry the token, become one mask."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return MASK
    if parts.scheme and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}{':' + str(port) if port else ''}/{MASK}"
    return MASK


def redact_source_url(source: str) -> str:
    """A location as it may appear in an error message: a URL loses its user info, fragment and every
    query value (any may be an API key); a file path is returned as it is."""
    if not source.startswith(("http://", "https://")):
        return source
    parts = urlsplit(source)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = "&".join(f"{pair.split('=', 1)[0]}={MASK}" for pair in parts.query.split("&") if pair)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


# In a settings dump a header is masked when its name merely contains one of these words: a team
# configures few headers, and masking one too many there costs nothing.
_SETTINGS_HEADER = re.compile(r"authorization|cookie|api[-_]?key|token|secret|signature", re.I)


def redact_settings(value: Any, key: str = "") -> Any:
    """A JSON-able copy of a settings dump (pydantic ``model_dump()``) with every secret masked.

    Secret values (pydantic ``SecretStr``: anything with ``get_secret_value``) become the mask, or
    ``scheme://host/[REDACTED]`` under a key ending in ``url``; credential headers under ``headers`` are
    masked; a password in a URL is masked, its user kept. Paths become strings.
    """
    if callable(getattr(value, "get_secret_value", None)):
        return redact_secret_url(str(value.get_secret_value())) if key.endswith("url") else MASK
    if isinstance(value, Mapping):
        if key == "headers":
            return {k: MASK if _SETTINGS_HEADER.search(str(k)) else v for k, v in value.items()}
        return {k: redact_settings(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_settings(v, key) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, str) and "@" in value and "://" in value:
        return _URL_USERINFO.sub(_mask_userinfo, value)
    return value
