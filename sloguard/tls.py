"""The TLS client settings every httpx client of a process shares.

Building an `ssl.SSLContext` loads the CA bundle (~20 ms); the spec fetch, the OAuth client and each
authorization-code flow's browser-like client used to build their own.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.lru_cache(maxsize=8)
def client_tls(verify: bool | str) -> ssl.SSLContext:
    """The context for ``verify`` (True, False, or a CA bundle's path), made once per process."""
    return httpx.create_ssl_context(verify=verify)
