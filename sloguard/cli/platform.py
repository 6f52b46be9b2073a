"""`sloguard platform ...`: the reference ATOM platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sloguard.errors import UsageError

platform_app = typer.Typer(help="The reference ATOM platform (a real server with fault injection).",
                           no_args_is_help=True)


def _public_url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"--public-url {value!r} is not an http(s) URL without query; give the URL clients use, "
                         "such as https://atom.example.com")
    return value.strip().rstrip("/")


@platform_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8400,
    fault: Annotated[
        list[str] | None, typer.Option("--fault", help="NAME=VALUE; repeatable. See --list-faults.")
    ] = None,
    list_faults: Annotated[bool, typer.Option("--list-faults", help="List the faults and exit.")] = False,
    tls: Annotated[bool, typer.Option(help="Serve HTTPS with a self-signed certificate.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="uvicorn worker processes.")] = 1,
    db: Annotated[Path, typer.Option(help="SQLite file for resources and tokens.")] = Path(
        ".sloguard/platform.sqlite3"
    ),
    sync_delay: Annotated[float, typer.Option(min=0.0, help="Seconds before a synced record arrives.")] = 0.5,
    token_ttl: Annotated[int, typer.Option(min=1, help="Access-token lifetime in seconds.")] = 900,
    rate_limit: Annotated[int, typer.Option(min=1, help="Requests per minute per client and user.")] = 100_000,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", help="The URL clients reach the platform at behind a proxy: the issuer and every URL "
                             "it announces (discovery, JWKS, the description) follow it.")] = None,
) -> None:
    """Start the reference platform (FastAPI on uvicorn) on loopback."""
    from sloguard.reference.faults import FaultError, describe, parse

    if list_faults:
        width = max(len(n) + len(s) for n, s, _ in describe()) + 3
        for name, syntax, text in describe():
            typer.echo(f"{name}={syntax}".ljust(width) + f"  {text}")
        return

    from sloguard.reference.server import ServeError
    from sloguard.reference.server import serve as run
    from sloguard.reference.settings import PlatformSettings

    try:
        faults = parse(fault or [])
    except FaultError as exc:
        raise UsageError(str(exc)) from None
    settings = PlatformSettings(
        host=host, port=port, tls=tls, workers=workers, db_path=db, sync_delay_s=sync_delay,
        access_token_ttl_s=token_ttl, rate_limit_per_minute=rate_limit, faults=faults,
        public_url=_public_url(public_url) if public_url is not None else None,
    )
    try:
        run(settings)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
