"""The OAuth2 / OpenID Connect authorization server of the reference ATOM platform."""

from .server import AuthError, AuthServer, Principal

__all__ = ["AuthError", "AuthServer", "Principal"]
