"""Contracts: the platform keeps the promises its OpenAPI description makes, and how they change.

Contract runs (Schemathesis 4): `engine` (Schemathesis' in-process engine, its settings and events),
`run` (selection, ordering, rounds), `budget` (criticality order and the wall-clock budget), `auth`
(Schemathesis' auth provider on sloguard's auth layer), `severity` (every failure kind mapped to
P0–P3), `results` (observations as the one results model), `report` (summary, JUnit and Allure).
Drift between releases: `diff` (every change classified), `snapshot` (the last description a target
served), `drift` (changes as results).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ContractOptions", "ContractRun", "run_contracts"]


def __getattr__(name: str) -> Any:
    # Lazy: `sloguard check synthetics` must not pay for importing Schemathesis and Hypothesis.
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(name)
