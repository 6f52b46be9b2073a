"""Names and path shapes: integration slugs, synthesized operation ids, path segments, suggestions."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection

_TLD = re.compile(r"\.(com|io|ai|app|net|org|co)$")


def slugify(text: str) -> str:
    """``"Microsoft Teams"`` -> ``"microsoft-teams"``; ``"Monday.com"`` -> ``"monday"``."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().strip().lower()
    ascii_text = _TLD.sub("", ascii_text)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def compact(slug: str) -> str:
    return slug.replace("-", "")


def synthesize_operation_id(method: str, path: str) -> str:
    """An id for an operation without one: ``GET /api/x/{id}`` -> ``get_api_x_id``."""
    return re.sub(r"[^a-z0-9]+", "_", f"{method} {path}".lower()).strip("_")


def segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def is_template(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def collapse(path: str) -> str:
    """Drop repeated consecutive segments (``/api/api/slack`` -> ``/api/slack``) for inference only."""
    out: list[str] = []
    for seg in segments(path):
        if out and seg == out[-1] and not is_template(seg):
            continue
        out.append(seg)
    return "/" + "/".join(out) + ("/" if path.endswith("/") and out else "")


def suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
