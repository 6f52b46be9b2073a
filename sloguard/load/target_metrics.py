"""The target's own CPU and memory during a run, from its Prometheus exposition.

Reads the standard process collector's ``process_cpu_seconds_total`` and
``process_resident_memory_bytes`` (what prometheus_client, the Go client and most exporters
publish). CPU is the rate of CPU seconds over wall time, as a share of ``load.metrics.cpu_cores``;
memory is resident bytes, as a share of ``memory_limit_mb`` or, for a loopback target, of this
machine's memory. A target without these metrics is simply not reported on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

CPU = "process_cpu_seconds_total"
RSS = "process_resident_memory_bytes"


@dataclass(frozen=True)
class Sample:
    t: float  # wall clock
    cpu_s: float | None
    rss_bytes: float | None


def _sample_line(text: str, name: str) -> str | None:
    """The first sample line of ``name`` (found with str.find: an exposition can be megabytes, and
    parsing all of it would stall the generator's event loop for longer than its latencies)."""
    at = 0
    while (at := text.find(name, at)) >= 0:
        if at == 0 or text[at - 1] == "\n":
            end = text.find("\n", at)
            return text[at:end if end >= 0 else len(text)]
        at += len(name)
    return None


def parse(text: str) -> tuple[float | None, float | None]:
    """(process CPU seconds, resident bytes) from a Prometheus text exposition."""
    values: list[float | None] = []
    for name in (CPU, RSS):
        line = _sample_line(text, name + " ") or _sample_line(text, name + "{")
        value = None
        if line is not None:
            for family in text_string_to_metric_families(line + "\n"):
                for sample in family.samples:
                    value = float(sample.value)
        values.append(value)
    return values[0], values[1]


class Scraper:
    """Scrapes one URL; ``sample()`` never raises (a scrape that fails is a gap, not an error)."""

    def __init__(self, url: str, *, verify: bool = True, timeout_s: float = 5.0) -> None:
        self.url = url
        self._http = httpx.Client(verify=verify, timeout=timeout_s)
        self.samples: list[Sample] = []
        self.failures = 0

    def sample(self) -> Sample | None:
        try:
            response = self._http.get(self.url)
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            cpu, rss = parse(response.text)
        except (httpx.HTTPError, ValueError):
            self.failures += 1
            return None
        if cpu is None and rss is None:
            return None
        s = Sample(time.time(), cpu, rss)
        self.samples.append(s)
        return s

    def close(self) -> None:
        self._http.close()


def window(samples: Sequence[Sample], start: float, end: float, *, cores: float,
           memory_limit_bytes: float | None) -> tuple[float | None, float | None, float | None, int]:
    """(CPU %, RSS MB, memory %, samples) over [start, end]: CPU from the first to the last sample."""
    inside = [s for s in samples if start <= s.t <= end]
    cpu_pct = None
    cpus = [s for s in inside if s.cpu_s is not None]
    if len(cpus) >= 2 and cpus[-1].t > cpus[0].t:
        assert cpus[-1].cpu_s is not None and cpus[0].cpu_s is not None
        cpu_pct = 100.0 * (cpus[-1].cpu_s - cpus[0].cpu_s) / (cpus[-1].t - cpus[0].t) / cores
    rss = [s.rss_bytes for s in inside if s.rss_bytes is not None]
    rss_mb = (sum(rss) / len(rss)) / 2**20 if rss else None
    mem_pct = (100.0 * (sum(rss) / len(rss)) / memory_limit_bytes) if rss and memory_limit_bytes else None
    return cpu_pct, rss_mb, mem_pct, len(inside)
