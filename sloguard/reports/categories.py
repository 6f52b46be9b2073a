"""Allure failure categories: which bucket (platform down, security breach, …) a failure lands in.

Every failing check's message carries its rule tags, one line per finding (``[P0 SECURITY_BREACH]
GET /api/github/issues answered 200 …``), so the categories match on those tags. The defaults ship
inside the package (``categories.json`` beside this module) so a pip-installed sloguard sorts
failures the same way; a team's ``<reports dir>/categories.json`` replaces them.

The file uses Allure's classic keys (``messageRegex``, ``matchedStatuses``, ``flaky``), which Allure 2
reads from the results folder and Allure 3 reads from its config. Allure 3 puts a result in the
first category that matches, so the order of the list is the order of precedence.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from sloguard.errors import UsageError

FILENAME = "categories.json"
_STATUSES = frozenset({"failed", "broken", "passed", "skipped", "unknown"})


def default_categories() -> list[dict[str, Any]]:
    """The categories that ship with sloguard."""
    text = resources.files("sloguard.reports").joinpath(FILENAME).read_text(encoding="utf-8")
    return parse_categories(text, "sloguard/reports/categories.json")


def categories_path(reports_dir: Path | None) -> Path | None:
    """The team's copy in the reports folder, when there is one."""
    if reports_dir is None:
        return None
    path = Path(reports_dir) / FILENAME
    return path if path.is_file() else None


def load_categories(reports_dir: Path | None = None) -> list[dict[str, Any]]:
    """The team's ``<reports dir>/categories.json`` when present, else the package's defaults."""
    path = categories_path(reports_dir)
    if path is None:
        return default_categories()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}; fix its permissions or delete it") from None
    return parse_categories(text, str(path))


def parse_categories(text: str, where: str) -> list[dict[str, Any]]:
    """Validate a categories file: a list of {name, messageRegex?, traceRegex?, matchedStatuses?, flaky?}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}:{exc.lineno}: not valid JSON ({exc.msg}); fix the file or delete it "
                         "to use sloguard's default categories") from None
    if not isinstance(data, list):
        raise UsageError(f"{where}: expected a JSON list of categories, got {type(data).__name__}")
    for i, category in enumerate(data):
        if not isinstance(category, dict) or not isinstance(category.get("name"), str) or not category["name"].strip():
            raise UsageError(f"{where}: category {i + 1} needs a non-empty \"name\"")
        for key in ("messageRegex", "traceRegex"):
            pattern = category.get(key)
            if pattern is None:
                continue
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise UsageError(f"{where}: category {category['name']!r} has a bad {key} ({exc})") from None
        statuses = category.get("matchedStatuses", [])
        if not isinstance(statuses, list) or not set(statuses) <= _STATUSES:
            raise UsageError(f"{where}: category {category['name']!r}: matchedStatuses must be a list of "
                             f"{', '.join(sorted(_STATUSES))}")
    return data


def categorize(categories: list[dict[str, Any]], status: str, message: str, flaky: bool = False) -> str | None:
    """The first category a result falls in, the way Allure 3 matches (regex *search* over the message).

    For tests and for tools that want the bucket without generating a report.
    """
    for category in categories:
        statuses = category.get("matchedStatuses")
        if statuses and status not in statuses:
            continue
        if "flaky" in category and bool(category["flaky"]) != flaky:
            continue
        pattern = category.get("messageRegex")
        if pattern is not None and not re.search(str(pattern), message or ""):
            continue
        return str(category["name"])
    return None


def write_categories(alluredir: Path, categories: list[dict[str, Any]]) -> Path:
    """``categories.json`` in the results folder, for Allure 2 and Allure 3's classic report."""
    from sloguard.results import write_atomic

    return write_atomic(Path(alluredir) / FILENAME, json.dumps(categories, indent=2, ensure_ascii=False) + "\n")
