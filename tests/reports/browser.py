"""A real headless browser for the report tests: Debian's chromium driven by Playwright.

Every request the page makes is logged; any to a host that is not loopback is blocked (and stays in
the log, so a test can show that it happened). The browser is Debian's /usr/bin/chromium started
with a fresh profile and the flags that stop its own background traffic; Playwright never
downloads a browser of its own.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # a second fence: even a request the router did not see cannot resolve an outside name
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)
_LOCAL_SCHEMES = ("data", "blob", "about", "chrome", "chrome-extension", "devtools", "file")


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    host = parts.hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


@dataclass
class RequestLog:
    seen: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        """Every request (seen or blocked) to a non-loopback host."""
        return sorted({u for u in [*self.seen, *self.blocked] if not is_local(u)})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A plain loopback HTTP server for ``folder`` (the test's own, not the code under test)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def chromium(
    chromium_path: str, profile: Path, viewport: tuple[int, int] = (1280, 800)
) -> Iterator[tuple[Any, RequestLog]]:
    """A headless chromium context (new empty profile) whose outside requests are blocked and logged."""
    from playwright.sync_api import Route, sync_playwright

    log = RequestLog()
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True, args=list(CHROMIUM_FLAGS),
            viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block")

        def route(r: Route) -> None:
            url = r.request.url
            if is_local(url):
                r.continue_()
            else:
                log.blocked.append(url)
                r.abort("blockedbyclient")

        context.route("**/*", route)
        context.on("request", lambda request: log.seen.append(request.url))
        try:
            yield context, log
        finally:
            context.close()
