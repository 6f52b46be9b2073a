"""The login walker: an authorization request carried through a provider's own HTML pages.

It does what a person's browser does, without JavaScript: follow redirects, fill the login form's
user and password fields, submit the consent form's approving button, and stop at the redirect URI
to read the code. That covers Django's and django-oauth-toolkit's pages, the reference platform's,
and most server-rendered login pages. For a provider it cannot walk (JavaScript, captchas, SSO
chains), ``auth.pkce.login: module:function`` names a hook that returns the final redirect URL.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from ._protocol import one_line
from .errors import AuthConfigError, TokenError
from .transport import transport_reason

MAX_STEPS = 12
_APPROVE = re.compile(r"approve|allow|authori[sz]e|accept|agree|yes\b|confirm|continue|grant|consent|sign.?in|"
                      r"log.?in|submit|ok\b", re.I)
_REFUSE = re.compile(r"deny|cancel|reject|decline|refuse|\bno\b|back", re.I)
_USER = re.compile(r"user|email|login|account|name|identifier", re.I)
_FILLABLE = ("text", "email", "")


@dataclass
class _Control:
    tag: str
    name: str
    type: str
    value: str
    checked: bool = False
    label: str = ""


@dataclass
class Form:
    action: str
    method: str
    controls: list[_Control] = field(default_factory=list)

    @property
    def password_field(self) -> _Control | None:
        return next((c for c in self.controls if c.type == "password" and c.name), None)

    def user_field(self) -> _Control | None:
        visible = [c for c in self.controls if c.tag == "input" and c.type in _FILLABLE and c.name]
        return next((c for c in visible if _USER.search(c.name)), visible[0] if visible else None)

    @property
    def buttons(self) -> list[_Control]:
        return [c for c in self.controls if c.type in ("submit", "image")]

    def approving_button(self) -> _Control | None:
        named = [b for b in self.buttons if b.name]
        for button in named:
            text = f"{button.name} {button.value} {button.label}"
            if _APPROVE.search(text) and not _REFUSE.search(f"{button.value} {button.label}"):
                return button
        refusing = [b for b in named if _REFUSE.search(f"{b.name} {b.value} {b.label}")]
        return named[0] if named and not refusing else None

    def fields(self, username: str | None = None, password: str | None = None) -> list[tuple[str, str]]:
        """What submitting the form sends: defaults, the user's credentials, the approving button."""
        user, secret = (self.user_field(), self.password_field) if password is not None else (None, None)
        out: list[tuple[str, str]] = []
        for control in self.controls:
            if not control.name or control.type in ("submit", "image", "button", "reset", "file"):
                continue
            if control.type in ("checkbox", "radio") and not control.checked:
                continue
            if control is user and username is not None:
                out.append((control.name, username))
            elif control is secret and password is not None:
                out.append((control.name, password))
            else:
                out.append((control.name, control.value))
        button = self.approving_button()
        if button is not None:
            out.append((button.name, button.value))
        return out


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._button: _Control | None = None
        self._select: _Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), (a.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            default = "on" if kind in ("checkbox", "radio") else ""
            self._form.controls.append(_Control("input", a.get("name", ""), kind, a.get("value", default),
                                                "checked" in a, a.get("aria-label", "")))
        elif tag == "button":
            self._button = _Control("button", a.get("name", ""), a.get("type", "submit").lower(), a.get("value", ""))
            self._form.controls.append(self._button)
        elif tag == "select":
            self._select = _Control("select", a.get("name", ""), "select", "")
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None and (not self._select.value or "selected" in a):
            self._select.value = a.get("value", "")
        elif tag == "textarea":
            self._form.controls.append(_Control("textarea", a.get("name", ""), "textarea", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.label += data.strip()


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class LoginWalkError(TokenError):
    """The walk ended on a page it could not get past (``status`` is that page's HTTP status)."""


@dataclass(frozen=True)
class WalkEnd:
    """Where a walk stopped: the redirect to the redirect URI (``location``), with the pages seen."""

    location: str
    steps: int


def _is_redirect_to(url: str, redirect_uri: str) -> bool:
    got, want = urlsplit(url), urlsplit(redirect_uri)
    return (got.scheme, got.netloc, got.path.rstrip("/")) == (want.scheme, want.netloc, want.path.rstrip("/"))


def _page_summary(response: httpx.Response) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return one_line(text, 160)


def _choose(forms: list[Form]) -> Form | None:
    for form in forms:
        if form.password_field is not None:
            return form
    for form in forms:
        if form.approving_button() is not None:
            return form
    return forms[0] if len(forms) == 1 else None


async def walk(
    authorize_url: str,
    redirect_uri: str,
    *,
    username: str,
    password: str,
    http: httpx.AsyncClient,
    max_steps: int = MAX_STEPS,
    also_stop: tuple[str, ...] = (),
) -> WalkEnd:
    """Carry ``authorize_url`` through the provider's pages to ``redirect_uri``; ``http`` should have
    its own cookie jar (one walk, one browser session). LoginWalkError when a page cannot be passed."""
    url, method, body = authorize_url, "GET", None
    submitted: set[tuple[str, str]] = set()
    provider_host = urlsplit(authorize_url).netloc
    for step in range(max_steps):
        headers = {"Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = await http.request(method, url, content=body, headers=headers, follow_redirects=False)
        except httpx.TransportError as exc:
            raise LoginWalkError(f"login walk: {method} {url.split('?', 1)[0]} failed: {transport_reason(exc)}",
                                 url=url.split("?", 1)[0]) from None
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers.get("location", ""))
            if any(_is_redirect_to(target, uri) for uri in (redirect_uri, *also_stop)):
                return WalkEnd(target, step + 1)
            parts = urlsplit(target)
            if parts.netloc != provider_host:  # never follow the provider off its own host
                raise LoginWalkError(
                    f"login walk: {str(response.url).split('?', 1)[0]} redirected to "
                    f"{parts.scheme}://{parts.netloc}{parts.path}, not the redirect URI {redirect_uri} "
                    "(a provider whose login spans hosts needs auth.pkce.login)",
                    url=str(response.url).split("?", 1)[0], status=response.status_code, error="unexpected_redirect")
            url, method, body = target, "GET", None
            continue
        page = str(response.url).split("?", 1)[0]
        forms = parse_forms(response.text) if "html" in response.headers.get("content-type", "") else []
        form = _choose(forms)
        if form is None:
            raise LoginWalkError(
                f"login walk stopped at {page} (HTTP {response.status_code}): no login or consent form to submit"
                + (f": {_page_summary(response)}" if response.text else ""),
                url=page, status=response.status_code, error="login_walk_stuck")
        action = urljoin(str(response.url), form.action or str(response.url))
        key = (action, ",".join(sorted(c.name for c in form.controls if c.name)))
        if key in submitted and form.password_field is not None:
            raise LoginWalkError(f"login walk: the login form at {page} came back after submitting the test user "
                                 f"(wrong username or password?): {_page_summary(response)}",
                                 url=page, status=response.status_code, error="login_rejected")
        submitted.add(key)
        data = form.fields(username, password) if form.password_field is not None else form.fields()
        encoded = urlencode(data)
        if form.method == "post":
            url, method, body = action, "POST", encoded.encode()
        else:
            url, method, body = f"{action.split('?', 1)[0]}?{encoded}", "GET", None
    raise LoginWalkError(f"login walk: no redirect to {redirect_uri} after {max_steps} steps",
                         url=authorize_url.split("?", 1)[0], error="login_walk_stuck")


# ------------------------------------------------------------------------------------- the hook


@dataclass(frozen=True, repr=False)
class LoginRequest:
    """What a login hook gets: the authorization URL to open and the test user to log in with."""

    authorize_url: str
    redirect_uri: str
    username: str
    password: str
    verify_tls: bool = True
    timeout_s: float = 10.0

    def __repr__(self) -> str:
        return f"LoginRequest(authorize_url={self.authorize_url.split('?', 1)[0]!r}, username={self.username!r})"


LoginHook = Callable[[LoginRequest], "str | Awaitable[str]"]


def load_hook(spec: str, config_dir: Path | None = None) -> LoginHook:
    """``module:function``; the module is looked up next to the config file first."""
    module_name, _, function = spec.partition(":")
    added = False
    if config_dir is not None and str(config_dir) not in sys.path:
        sys.path.insert(0, str(config_dir))
        added = True
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AuthConfigError(f"auth.pkce.login: cannot import {module_name!r} ({exc}); put {module_name}.py next "
                              "to the config file or install it") from None
    finally:
        if added:
            sys.path.remove(str(config_dir))
    hook = getattr(module, function, None)
    if not callable(hook):
        raise AuthConfigError(f"auth.pkce.login: {module_name} has no function {function!r}")
    return hook


async def call_hook(hook: LoginHook, request: LoginRequest) -> str:
    result: Any = hook(request)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, str) or not result:
        raise AuthConfigError("auth.pkce.login: the hook must return the redirect URL that carries the code")
    return result
