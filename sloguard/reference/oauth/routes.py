"""The HTTP side of the authorization server: discovery, JWKS, token, authorize, revoke,
introspect, userinfo and key rotation, as one FastAPI router.

Handlers that hash passwords or write to SQLite run in the thread pool, so a login never stalls the
event loop that serves the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from . import pages
from .codes import PageError, RedirectError, validate
from .errors import AuthError, OAuthError
from .grants import GRANTS, LoginLocked

if TYPE_CHECKING:
    from .server import AuthServer

MAX_FORM_BYTES = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPES = ["read", "write", "admin", "openid", "profile", "email"]


class FormError(Exception):
    pass


class LoginRequest(BaseModel):
    """The real ATOM's ``LoginRequest``."""

    username: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, max_length=16)


def _params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """One value per name; blank values count as absent (RFC 6749 §3.1)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise FormError(f"parameter {name[:40]} given more than once")
        if value != "":
            out[name] = value
    return out


async def read_form(request: Request) -> dict[str, str]:
    mime = request.headers.get("content-type", "").split(";")[0].strip().lower()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise FormError(f"request body larger than {MAX_FORM_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(f"request body larger than {MAX_FORM_BYTES} bytes")
    if body and mime != "application/x-www-form-urlencoded":
        raise FormError("send the parameters as application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise FormError("the form body is not valid UTF-8 url-encoded data") from None
    return _params(pairs)


def oauth_error(exc: OAuthError) -> JSONResponse:
    return JSONResponse(exc.body(), exc.status_code, headers={**NO_STORE, **exc.headers})


def unavailable() -> JSONResponse:
    return JSONResponse(
        {
            "error": "temporarily_unavailable",
            "error_description": "the authorization server is temporarily unavailable",
        },
        503,
        headers={**NO_STORE, "Retry-After": "5"},
    )


def _html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status, headers={**pages.HEADERS, **(headers or {})})


def build_router(auth: AuthServer) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def metadata() -> dict[str, Any]:
        base = auth.settings.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/api/auth/authorize",
            "token_endpoint": f"{base}/api/auth/token",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "userinfo_endpoint": f"{base}/api/auth/userinfo",
            "revocation_endpoint": f"{base}/api/auth/revoke",
            "introspection_endpoint": f"{base}/api/auth/introspect",
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANTS),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "email",
                "email_verified",
                "name",
                "tenant",
            ],
        }

    @router.get("/.well-known/oauth-authorization-server")
    async def authorization_server_metadata() -> JSONResponse:
        return JSONResponse(metadata())

    @router.get("/.well-known/openid-configuration")
    async def openid_configuration() -> JSONResponse:
        return JSONResponse(metadata())

    @router.get("/.well-known/jwks.json")
    async def jwks() -> JSONResponse:
        auth.sync()
        return JSONResponse(auth.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def protocol(request: Request, call: Callable[[dict[str, str], str | None], Response]) -> Response:
        """Common path of the form-posting endpoints: fault check, form parsing, RFC 6749 errors."""
        if auth.faults.get().auth_down:
            return unavailable()
        try:
            form = await read_form(request)
        except FormError as exc:
            return oauth_error(OAuthError("invalid_request", str(exc)))
        authorization = request.headers.get("authorization")

        def run() -> Response:
            auth.sync()
            auth.housekeeping()
            try:
                return call(form, authorization)
            except OAuthError as exc:
                return oauth_error(exc)

        return await run_in_threadpool(run)

    def token_call(form: dict[str, str], authorization: str | None) -> Response:
        return JSONResponse(auth.endpoint.token(form, authorization), headers=NO_STORE)

    @router.post("/api/auth/token")
    async def token(request: Request) -> Response:
        return await protocol(request, token_call)

    @router.post("/api/auth/login")
    async def login(body: LoginRequest) -> Response:
        """The ATOM web app's login, as the real backend has it: JSON in (FastAPI answers a form body
        with 422), ``{access_token, token_type}`` out."""
        if auth.faults.get().auth_down:
            return unavailable()

        def run() -> Response:
            auth.sync()
            try:
                user = auth.endpoint.login(body.username, body.password)
            except LoginLocked as exc:
                return JSONResponse({"detail": f"Too many failed logins; retry after {exc.retry_after} s"}, 429,
                                    headers={"Retry-After": str(exc.retry_after), **NO_STORE})
            if user is None:
                return JSONResponse({"detail": "Incorrect username or password"}, 401,
                                    headers={"WWW-Authenticate": "Bearer", **NO_STORE})
            return JSONResponse(auth.endpoint.first_party(user), headers=NO_STORE)

        return await run_in_threadpool(run)

    @router.post("/api/auth/revoke")
    async def revoke(request: Request) -> Response:
        def call(form: dict[str, str], authorization: str | None) -> Response:
            auth.endpoint.revoke(form, authorization)
            return Response(status_code=200, headers=NO_STORE)

        return await protocol(request, call)

    @router.post("/api/auth/introspect")
    async def introspect(request: Request) -> Response:
        def call(form: dict[str, str], authorization: str | None) -> Response:
            return JSONResponse(auth.endpoint.introspect(form, authorization), headers=NO_STORE)

        return await protocol(request, call)

    @router.get("/api/auth/authorize")
    async def authorize_form(request: Request) -> Response:
        if auth.faults.get().auth_down:
            return unavailable()
        try:
            params = _params(list(request.query_params.multi_items()))
            req = validate(params, auth.clients)
        except (FormError, PageError) as exc:
            return _html(pages.error_page(str(exc)), 400)
        except RedirectError as exc:
            return RedirectResponse(exc.location, 302)
        return _html(pages.login_form(params, req.client.name, req.scope,
                                      action=f"{auth.settings.issuer}/api/auth/authorize"))

    @router.post("/api/auth/authorize")
    async def authorize_submit(request: Request) -> Response:
        if auth.faults.get().auth_down:
            return unavailable()
        try:
            form = await read_form(request)
        except FormError as exc:
            return _html(pages.error_page(str(exc)), 400)
        return await run_in_threadpool(consent, form)

    def consent(form: dict[str, str]) -> Response:
        try:
            req = validate(form, auth.clients)
            if form.get("consent") != "approve":
                raise req.error("access_denied", "the user did not approve the request")
            username, password = form.get("username"), form.get("password")
            if not username or not password:
                raise req.error("access_denied", "username and password are required")
            try:
                user = auth.endpoint.login(username, password)
            except LoginLocked as exc:
                return _html(
                    pages.error_page(f"Too many failed logins. Try again in {exc.retry_after} s."),
                    429,
                    {"Retry-After": str(exc.retry_after)},
                )
            if user is None:
                raise req.error("access_denied", "invalid username or password")
            code = auth.codes.issue(req, user.id)
            return RedirectResponse(req.redirect(code=code), 302, headers={"Cache-Control": "no-store"})
        except PageError as exc:
            return _html(pages.error_page(str(exc)), 400)
        except RedirectError as exc:
            return RedirectResponse(exc.location, 302, headers={"Cache-Control": "no-store"})

    async def userinfo(request: Request) -> Response:
        try:
            principal = auth.authenticate(request.headers.get("authorization"), None)
        except AuthError as exc:
            return JSONResponse(
                {"error": exc.error, "error_description": exc.detail}, exc.status_code, headers=exc.headers
            )
        user = auth.users.get(principal.sub) if principal.is_user else None
        if user is None:
            detail = "the token has no end user (client credentials grant); userinfo needs a user's token"
            return JSONResponse(
                {"error": "insufficient_scope", "error_description": detail},
                403,
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", error_description="{detail}"'},
            )
        return JSONResponse(
            {
                "sub": user.id,
                "email": user.email,
                "email_verified": True,
                "name": user.name,
                "preferred_username": user.email,
                "tenant": user.tenant,
            },
            headers=NO_STORE,
        )

    router.add_api_route("/api/auth/userinfo", userinfo, methods=["GET", "POST"])

    @router.post("/api/admin/keys/rotate")
    async def rotate_keys(request: Request) -> Response:
        try:
            auth.authenticate(request.headers.get("authorization"), "admin")
        except AuthError as exc:
            return JSONResponse({"error": exc.error, "detail": exc.detail}, exc.status_code, headers=exc.headers)
        key = await run_in_threadpool(auth.keys.rotate)
        return JSONResponse({"kid": key.kid, "keys": auth.keys.served_kids()})

    return router
