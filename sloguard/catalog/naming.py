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


VERSION = re.compile(r"^v\d+(\.\d+)*$")


def collapse(path: str) -> str:
    """Drop repeated runs of segments, for inference only: ``/api/api/slack`` -> ``/api/slack`` and a
    doubled router prefix ``/api/reports/api/reports/daily`` -> ``/api/reports/daily``."""
    out: list[str] = []
    for seg in segments(path):
        out.append(seg)
        for size in (1, 2, 3):  # a run of `size` segments that repeats the run just before it
            tail, before = out[-size:], out[-2 * size:-size]
            if len(out) >= 2 * size and tail == before and not any(is_template(s) for s in tail):
                del out[-size:]
                break
    return "/" + "/".join(out) + ("/" if path.endswith("/") and out else "")


def unversioned(path: str) -> str:
    """The path without version segments (``/api/v1/slack/x`` -> ``/api/slack/x``), for grouping."""
    kept = [s for s in segments(path) if not VERSION.match(s)]
    return "/" + "/".join(kept)


def suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
