"""The authorization endpoint's two HTML pages: the login/consent form and the error page."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

# Parameters of the authorization request carried through the form as hidden fields.
CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
)

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;"
    "padding:.4rem}button{margin:1rem .5rem 0 0;padding:.5rem 1rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def login_form(params: Mapping[str, str], client_name: str, scope: str, action: str = "/api/auth/authorize") -> str:
    hidden = "".join(
        f'<input type=hidden name="{name}" value="{escape(params[name])}">' for name in CARRIED if name in params
    )
    return _page(
        "Sign in - ATOM",
        (
            f"<h1>Sign in to ATOM</h1><p><b>{escape(client_name)}</b> asks for access: "
            f"<code>{escape(scope)}</code></p>"
            f'<form method=post action="{escape(action)}">{hidden}'
            "<label for=username>Email</label>"
            "<input type=text id=username name=username autocomplete=username>"
            "<label for=password>Password</label>"
            "<input type=password id=password name=password autocomplete=current-password>"
            "<button type=submit name=consent value=approve>Approve</button>"
            "<button type=submit name=consent value=deny>Deny</button></form>"
        ),
    )


def error_page(message: str) -> str:
    return _page(
        "Authorization error - ATOM",
        f"<h1>Authorization error</h1><p>{escape(message)}</p>"
        "<p>The request cannot be sent back to the application. Check its client_id and redirect_uri.</p>",
    )
