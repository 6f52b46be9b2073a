"""The synthetic suite's engine: plan the checks from the catalog, run them concurrently, report.

The pytest plugin (`sloguard.synthetics.plugin`) turns each planned check into one pytest item;
the checks themselves run in one concurrent batch, because a sweep of hundreds of endpoints one
request after another would take minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plugin import CheckHandle

__all__ = ["CheckHandle"]


def __getattr__(name: str) -> Any:
    # Lazy: importing a submodule (plan, probe) must not pull in pytest and allure.
    if name == "CheckHandle":
        from .plugin import CheckHandle

        return CheckHandle
    raise AttributeError(name)
