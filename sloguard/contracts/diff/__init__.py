"""Contract drift: what changed between two OpenAPI descriptions, and whether it breaks clients.

``diff(old, new)`` takes two descriptions loaded by `sloguard.spec.load_spec` (Swagger 2.0 and
OpenAPI 3.0/3.1 are already in one shape there) and returns every `Change`, breaking ones first.
``compare(old_source, new_source)`` loads two files or URLs and returns a `DiffReport`.
The rules, their ids (oasdiff's where it has the rule) and severities are in `rules`.
"""

from __future__ import annotations

from .model import Change
from .operations import diff
from .report import DescriptionInfo, DiffReport, compare, describe
from .rules import RULES, ChangeRule, rule

__all__ = ["RULES", "Change", "ChangeRule", "DescriptionInfo", "DiffReport", "compare", "describe", "diff", "rule"]
