"""Health, system figures, Prometheus metrics and the OpenAPI description: the public routes."""

from __future__ import annotations

import os
import resource
import sqlite3
import threading
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import store as db
from ..faults import FaultSet
from ..integrations import INTEGRATIONS
from ..metrics import CONTENT_TYPE
from ..oauth import Principal
from ..openapi import Operation
from .context import Context, error, json_response, leaked_bytes, raw_json
from .resources import integration_health

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident memory now (not the peak): /proc on Linux, the peak elsewhere."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if os.uname().sysname == "Darwin" else peak * 1024)


def thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class HealthRoutes:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.started = time.time()
        self._cpu_mark = (time.monotonic(), self._cpu_seconds())

    @staticmethod
    def _cpu_seconds() -> float:
        t = os.times()
        return t.user + t.system

    async def _db_ok(self, faults: FaultSet) -> bool:
        if faults.db_down:
            return False
        try:
            return self.ctx.store.read(db.ping)
        except sqlite3.Error:
            return False

    async def health(self, request: Request, op: Operation, principal: Principal | None,
                     faults: FaultSet) -> Response:
        db_ok = await self._db_ok(faults)
        auth_ok = not faults.auth_down
        integrations_ok = not faults.integrations_down
        status = "down" if not db_ok else "ok" if auth_ok and integrations_ok else "degraded"
        body = {"status": status, "version": self.ctx.settings.version,
                "uptime_s": round(time.time() - self.started, 3),
                "checks": {"db": "ok" if db_ok else "down", "auth": "ok" if auth_ok else "down",
                           "integrations": "ok" if integrations_ok else "degraded"}}
        return json_response(body, 200 if db_ok else 503)

    async def integrations(self, request: Request, op: Operation, principal: Principal | None,
                           faults: FaultSet) -> Response:
        reports = [integration_health(slug, faults) for slug in INTEGRATIONS]
        down = sum(1 for r in reports if r["status"] == "down")
        return json_response({"integrations": reports, "up": len(reports) - down, "down": down})

    async def system(self, request: Request, op: Operation, principal: Principal | None,
                     faults: FaultSet) -> Response:
        now, cpu = time.monotonic(), self._cpu_seconds()
        then, cpu_then = self._cpu_mark
        self._cpu_mark = (now, cpu)
        pool = self.ctx.store.pool
        try:
            pending = await self.ctx.store.run(db.pending_total) if not faults.db_down else 0
        except sqlite3.Error:
            pending = 0
        body: dict[str, Any] = {
            "status": "ok", "pid": os.getpid(), "uptime_s": round(time.time() - self.started, 3),
            "cpu_seconds": round(cpu, 3),
            "cpu_percent": round(100.0 * (cpu - cpu_then) / (now - then), 2) if now > then else 0.0,
            "memory_rss_bytes": rss_bytes(), "threads": thread_count(), "leaked_bytes": leaked_bytes(),
            "db_pool": {"size": pool.size, "in_use": pool.in_use}, "sync_pending": pending,
        }
        return json_response(body)

    async def db(self, request: Request, op: Operation, principal: Principal | None, faults: FaultSet) -> Response:
        if await self._db_ok(faults):
            return json_response({"status": "ok"})
        return error(503, "db_unavailable", "the database is unavailable")

    async def metrics(self, request: Request, op: Operation, principal: Principal | None,
                      faults: FaultSet) -> Response:
        return Response(self.ctx.metrics.exposition(), 200, media_type=CONTENT_TYPE)

    async def openapi(self, request: Request, op: Operation, principal: Principal | None,
                      faults: FaultSet) -> Response:
        return raw_json(self.ctx.spec_bytes)
