"""Reports: Allure metadata and HTML (Allure Report 3, offline), the SLO page, baseline comparison.

Runners call `write_allure_metadata` after writing their Allure results and `check_baseline` with
their summary; `sloguard report` calls `build_report`.
"""

from .baseline import BaselinePolicy, check_baseline
from .build import BuiltReport, build_report
from .metadata import AllureMetadata, write_allure_metadata
from .slo_page import slo_html, slo_markdown

__all__ = [
    "AllureMetadata",
    "BaselinePolicy",
    "BuiltReport",
    "build_report",
    "check_baseline",
    "slo_html",
    "slo_markdown",
    "write_allure_metadata",
]
