"""Shared by the benchmarks that record their figures: replace their own section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
from collections.abc import Callable
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


def parser(description: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line, with the ``--write-docs`` flag every recording benchmark has."""
    out = argparse.ArgumentParser(description=description)
    out.add_argument("--write-docs", action="store_true", help="update the section in docs/benchmarks.md")
    return out


def show(figures: str, write: bool, write_docs: Callable[[str], None]) -> None:
    """Print the figures, and record them in docs/benchmarks.md when asked."""
    print(figures)
    if write:
        write_docs(figures)
        print("written to docs/benchmarks.md")


def repeat_main(description: str | None, run: Callable[[int], str], write_docs: Callable[[str], None]) -> None:
    """The command line of a benchmark that runs ``--repeat`` times and reports its best."""
    options = parser(description)
    options.add_argument("--repeat", type=int, default=3)
    args = options.parse_args()
    show(run(args.repeat), args.write_docs, write_docs)
