"""Keep the generated report offline: no request to any outside host when it is opened.

Allure Report 3's default ("awesome") report plugin hard-codes Google Analytics into its page
template (a ``googletagmanager.com/gtag/js`` script plus the inline ``gtag(...)`` call), and
``ALLURE_NO_ANALYTICS`` does not switch it off. It is removed here after generation. The block is
found by its exact shape, and the page is then checked for *any* script, style, frame or image
loaded from a non-loopback host: if a future Allure adds another, the report fails to build with a
message, rather than phoning home from an engineer's browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sloguard.errors import UsageError

# The loader script and the inline config script right after it, as the awesome plugin writes them.
_GTAG = re.compile(
    r"<script\b[^>]*\bsrc=[\"']https://www\.googletagmanager\.com/[^\"']*[\"'][^>]*>\s*</script>"
    r"(?:\s*<script\b[^>]*>(?:(?!</script>).)*?\bgtag\((?:(?!</script>).)*?</script>)?",
    re.S,
)
# Attributes that make a browser fetch on its own (links a reader clicks are <a href>, not listed).
_FETCHING = re.compile(
    r"<(script|link|img|iframe|frame|embed|source|video|audio|object|image|use)\b[^>]*?"
    r"\b(src|href|data|poster|srcset|xlink:href)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)",
    re.I,
)
_CSS_IMPORT = re.compile(
    r"@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')\s]+)|url\(\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.I)
_TRACKERS = ("googletagmanager.com", "google-analytics.com", "gtag(")
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
REMOVED_MARK = "<!-- analytics removed by sloguard: the report makes no request to outside hosts -->"


@dataclass(frozen=True)
class OfflineCheck:
    removed: int
    pages: int


def strip_analytics(html: str) -> tuple[str, int]:
    """``html`` without the Google Analytics block, and how many blocks were removed."""
    return _GTAG.subn(REMOVED_MARK, html)


def outside_references(html: str) -> list[str]:
    """URLs on non-loopback hosts that the page would load by itself, and tracker names left in it."""
    found: list[str] = []
    for match in _FETCHING.finditer(html):
        if not _is_loopback(match.group(3)):
            found.append(match.group(3))
    for style in re.findall(r"<style\b[^>]*>(.*?)</style>", html, re.S | re.I):
        for match in _CSS_IMPORT.finditer(style):
            url = match.group(1) or match.group(2)
            if url and not _is_loopback(url):
                found.append(url)
    found.extend(name for name in _TRACKERS if name in html)
    return found


def _is_loopback(url: str) -> bool:
    host = urlsplit(url if "://" in url else f"http:{url}").hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


def make_offline(report_dir: Path) -> OfflineCheck:
    """Strip analytics from the report's pages, then prove none loads anything from outside.

    Only the report's own pages (the top folder) are touched; attachments are the target's data.
    """
    removed = 0
    pages = 0
    for page in sorted(Path(report_dir).glob("*.html")):
        html = page.read_text(encoding="utf-8")
        cleaned, count = strip_analytics(html)
        if count:
            page.write_text(cleaned, encoding="utf-8")
            removed += count
        left = outside_references(cleaned)
        if left:
            raise UsageError(
                f"the generated report {page} still loads from outside hosts ({', '.join(sorted(set(left))[:3])}); "
                "the installed allure is not the version sloguard pins: run `make setup` (npm ci)")
        pages += 1
    return OfflineCheck(removed=removed, pages=pages)
