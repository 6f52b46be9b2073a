"""Shared by the benchmarks that record their figures: replace their own section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(title: str, body: str) -> None:
    """Put ``title`` + ``body`` in place of the section headed ``title`` (or at the end when new)."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    section = f"{title}\n\n{body}"
    if title in text:
        head, _, rest = text.partition(title)
        nxt = rest.find("\n## ")
        text = head + section + (rest[nxt + 1:] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)
