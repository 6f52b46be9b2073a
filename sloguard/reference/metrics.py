"""Prometheus metrics of the platform and the pure-ASGI middleware that records them.

Requests are labelled by route template (``/api/slack/messages/{id}``), method and status, so a
dashboard can tell one slow integration from a slow platform. Gauges that describe current
state (pool use, active faults, leaked memory) are read at scrape time by a custom collector.
With ``PROMETHEUS_MULTIPROC_DIR`` set (several workers), request metrics are aggregated across
worker processes by prometheus_client's multiprocess mode.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROUTE_KEY = "atom.route"  # set in the ASGI scope by handlers: the OpenAPI path template
disable_created_metrics()  # *_created series double the exposition and nothing here reads them
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class StateCollector(Collector):
    """Gauges computed when scraped, from callables that read the live state."""

    def __init__(self, gauges: dict[str, tuple[str, Callable[[], float | dict[str, float]], str]]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterable[Metric]:
        for name, (help_text, read, label) in self._gauges.items():
            value = read()
            if isinstance(value, dict):
                family = GaugeMetricFamily(name, help_text, labels=[label])
                for key, v in sorted(value.items()):
                    family.add_metric([key], v)
                yield family
            else:
                yield GaugeMetricFamily(name, help_text, value=value)


class Metrics:
    def __init__(self) -> None:
        self.started = time.time()
        multiproc = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        metric_registry: CollectorRegistry | None = None if multiproc else self.registry
        if multiproc:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self.registry)
        # With several workers this is the CPU and memory of the worker that answered the scrape.
        ProcessCollector(registry=self.registry)
        self._requests = Counter(
            "atom_http_requests_total", "HTTP requests by route template, method and status",
            ["route", "method", "status"], registry=metric_registry,
        )
        # Latency by route and method only: with ~700 route templates, a status label as well
        # multiplied the exposition to 3 MB and made a scrape take longer than the latency SLO.
        self._latency = Histogram(
            "atom_http_request_duration_seconds", "HTTP request latency by route template and method",
            ["route", "method"], buckets=BUCKETS, registry=metric_registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        # For /api/v1/metrics/summary: totals and a window of recent latencies of this process.
        self.total = 0
        self.errors = 0
        self.recent: deque[float] = deque(maxlen=4096)

    def add_state(self, gauges: dict[str, tuple[str, Callable[[], float | dict[str, float]], str]]) -> None:
        self.registry.register(StateCollector(gauges))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            labels = (route, method, str(status))
            children = (self._requests.labels(*labels), self._latency.labels(route, method))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        self.total += 1
        if status >= 500:
            self.errors += 1
        self.recent.append(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.recent)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 3) if ordered else 0.0

        return {
            "requests_total": self.total,
            "errors_total": self.errors,
            "error_rate": round(self.errors / self.total, 6) if self.total else 0.0,
            "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "window": len(ordered)},
            "uptime_s": round(time.time() - self.started, 3),
        }


class MetricsMiddleware:
    """Times every HTTP request; pure ASGI, because BaseHTTPMiddleware costs a task per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get(ROUTE_KEY) or getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - start)
