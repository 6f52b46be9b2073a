"""The `sloguard` command line (DESIGN.md section 5).

Every command prints a short human summary. Exit codes: 0 all SLOs met and no P0/P1 failure,
1 a check or SLO failed, 2 a usage, config or spec error, printed as one line with its fix.
"""

from __future__ import annotations

import gc
import sys

import typer

from sloguard.errors import UsageError

from .alerts import alerts_app
from .check import catalog, check
from .contracts import contracts_app
from .demo import demo
from .load import load
from .platform import platform_app
from .report import report

app = typer.Typer(
    name="sloguard",
    help="Synthetic testing and load validation for the ATOM platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(platform_app, name="platform")
app.add_typer(alerts_app, name="alerts")
app.add_typer(contracts_app, name="contracts")
app.command("check")(check)
app.command("catalog")(catalog)
app.command("demo")(demo)
app.command("report")(report)
app.command("load")(load)


def main() -> None:
    run_app(app)


def run_app(typer_app: typer.Typer) -> None:
    """Run a command: bad input is one line on stderr and exit 2, Ctrl-C exit 130, never a traceback."""
    try:
        typer_app()
    except UsageError as exc:
        typer.echo(f"sloguard: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        # The process is about to end: the interpreter's last full collection would walk every object
        # of the run (~0.5 s after a sweep) to free memory the OS takes back anyway.
        gc.freeze()
