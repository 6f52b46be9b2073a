"""Human output of the command line (rich tables), kept apart from what the commands do."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sloguard.target import Target


def print_catalog(target: Target, checked: set[str], reasons: Mapping[str, str], extra: str = "", *,
                  as_json: bool = False, console: Console | None = None) -> None:
    """The catalog by integration: how many operations, how many will be checked, why the rest will not."""
    catalog = target.catalog
    assert catalog is not None
    coverage = catalog.coverage(checked, reasons)
    if as_json:
        rows = [{"operation_id": e.operation_id, "method": e.method, "path": e.path, "integration": e.integration,
                 "kind": e.kind, "auth": e.auth.required, "side_effects": e.side_effects,
                 "checked": e.operation_id in checked, "reason": coverage.unchecked.get(e.operation_id)}
                for e in catalog.all_entries]
        print(json.dumps({"operations": rows, "coverage": {"checked": coverage.checked, "total": coverage.total}},
                         indent=2))
        return
    console = console or Console(width=None if Console().is_terminal else 140)
    table = Table(title=f"{catalog.title or 'API'} {catalog.version} — {target.base_url}")
    for column in ("integration", "operations", "checked", "kinds", "side effects", "auth"):
        table.add_column(column, justify="right" if column in ("operations", "checked") else "left",
                         no_wrap=column == "integration")
    for integration, entries in catalog.by_integration().items():
        done, total = coverage.by_integration.get(integration, (0, len(entries)))
        kinds = Counter(e.kind for e in entries)
        table.add_row(
            integration, str(total), str(done), ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
            str(sum(e.side_effects for e in entries)), str(sum(e.auth.required for e in entries)),
        )
    console.print(table)
    why = Counter(coverage.unchecked.values())
    console.print(f"coverage: {coverage.checked}/{coverage.total} operations checked ({coverage.percent:.0f}%)"
                  + (f"; not checked: {sum(why.values())}" if why else ""))
    for reason, count in why.most_common():
        console.print(f"  {count:4d}  {reason}")
    if extra:
        console.print(extra)
