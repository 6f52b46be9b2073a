"""Contract runs: the platform keeps the promises its OpenAPI description makes (Schemathesis 4).

Modules: `engine` (Schemathesis' in-process engine, its settings and events), `run` (selection,
ordering, rounds), `budget` (criticality order and the wall-clock budget), `auth` (Schemathesis' auth
provider on sloguard's auth layer), `severity` (every failure kind mapped to P0–P3), `results`
(observations as the one results model), `report` (summary, JUnit and Allure output).
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
