"""Assemble the reference ATOM platform: the authorization server, the API, metrics and sync."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from . import store as db
from .compression import CompressionMiddleware
from .faults import SharedFaults
from .metrics import Metrics, MetricsMiddleware
from .oauth import AuthServer
from .openapi import build_catalog, build_spec
from .ratelimit import RateLimiter
from .records import seed_rows
from .routes import register
from .routes.context import Context, error, leaked_bytes
from .settings import PlatformSettings
from .store import Store
from .sync import SyncEngine

DB_POOL_SIZE = 8


def create_app(settings: PlatformSettings) -> FastAPI:
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    faults = SharedFaults(str(settings.db_path), settings.faults)
    auth = AuthServer(settings, faults)
    catalog = build_catalog()
    faults.set_operation_check(lambda op: op in catalog)
    store = Store(str(settings.db_path), DB_POOL_SIZE)
    if store.call(db.count_records) == 0:
        store.call(db.seed_records, seed_rows())
    sync = SyncEngine(store, faults, settings.sync_delay_s)
    limiter = RateLimiter(str(settings.db_path) if settings.workers > 1 else None)
    metrics = Metrics()
    metrics.add_state({
        "atom_db_pool_size": ("connections in the database pool", lambda: float(store.pool.size), ""),
        "atom_db_pool_in_use": ("database connections in use", lambda: float(store.pool.in_use), ""),
        "atom_active_faults": ("number of injected faults active", lambda: float(len(faults.get().raw)), ""),
        "atom_fault_active": ("1 for each injected fault that is active",
                              lambda: {name: 1.0 for name in faults.get().raw}, "fault"),
        "atom_leaked_bytes": ("memory kept by the leak_kb_per_request fault", lambda: float(leaked_bytes()), ""),
    })
    spec = build_spec(catalog, settings)
    ctx = Context(settings, faults, auth, catalog, store, sync, limiter, metrics, orjson.dumps(spec))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sync.start()
        try:
            yield
        finally:
            await sync.stop()
            store.close()
            limiter.close()

    app = FastAPI(title="ATOM reference platform", version=settings.version, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)

    def openapi() -> dict[str, Any]:
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(auth.router)
    register(app, ctx)
    app.add_middleware(CompressionMiddleware, faults=faults.get)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    async def internal_error(request: Request, exc: Exception) -> Response:
        return error(500, "internal_error", "internal server error")

    app.add_exception_handler(Exception, internal_error)
    app.state.operation_ids = frozenset(catalog.by_id)
    app.state.context = ctx
    return app
