"""Start-time settings of the reference platform (what `sloguard platform serve` options set)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .faults import FaultSet


@dataclass
class PlatformSettings:
    host: str = "127.0.0.1"
    port: int = 8400
    tls: bool = False
    db_path: Path = Path(".sloguard/platform.sqlite3")
    audience: str = "atom-api"
    # Other APIs this authorization server issues tokens for (RFC 8707 `resource`); the ATOM API must
    # refuse them, which is what the suite's wrong-audience check verifies.
    other_audiences: tuple[str, ...] = ("atom-analytics",)
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 86_400
    short_token_ttl_s: int = 2  # the `sloguard-short` client's tokens, for expired-token checks
    login_max_failures: int = 5
    login_window_s: int = 60
    rate_limit_per_minute: int = 100_000
    sync_delay_s: float = 0.5
    workers: int = 1
    version: str = "1.0.0"
    # The URL clients reach the platform at when it sits behind a proxy: the issuer and every absolute
    # URL it announces (discovery, JWKS, the description's servers and token URLs) follow it.
    public_url: str | None = None
    faults: FaultSet = field(default_factory=FaultSet)

    @property
    def scheme(self) -> str:
        return "https" if self.tls or self.faults.tls_days_left is not None else "http"

    @property
    def issuer(self) -> str:
        """The token issuer and discovery base: the URL clients use to reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"{self.scheme}://{self.host}:{self.port}"
