"""Cross-integration sync: a record created with ``sync_to`` is copied to each target's primary
resource after the sync delay.

Jobs are written to SQLite in the same transaction as the source record, then delivered by a
timer on the server's event loop. A sweeper re-delivers any job whose timer was lost (restart,
a worker that died), and the claim is atomic, so without a fault no record is lost or doubled.
The ``sync_drop`` fault marks a job done without writing the copy: silent data loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
import uuid
from typing import Any

import orjson

from . import store as db
from .faults import SharedFaults
from .integrations import MODEL
from .records import resource_of, search_keys, synced_record
from .resources import Resource
from .store import Store, SyncJob

log = logging.getLogger("sloguard.reference.sync")

SWEEP_EVERY_S = 1.0
OVERDUE_S = 1.0  # the sweeper takes over a job this long after it was due
RETRY_S = 0.5


class SyncEngine:
    def __init__(self, store: Store, faults: SharedFaults, delay_s: float) -> None:
        self._store = store
        self._faults = faults
        self._delay_s = delay_s
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._rng = random.Random()

    # -- creating jobs ------------------------------------------------------------------------
    def delay_s(self) -> float:
        return self._delay_s + self._faults.get().sync_lag_s

    def jobs_for(self, tenant: str, integration: str, resource: Resource, record_id: str,
                 targets: list[str]) -> list[SyncJob]:
        due = time.time() + self.delay_s()
        return [SyncJob(uuid.uuid4().hex, tenant, "record", integration, resource.name, record_id, target, due)
                for target in targets]

    async def trigger(self, tenant: str, integration: str) -> SyncJob:
        """A full sync of one integration (manual trigger): done after the sync delay."""
        job = SyncJob(uuid.uuid4().hex, tenant, "full", None, None, None, integration, time.time() + self.delay_s())
        await self._store.run(db.insert_jobs, [job])
        self.schedule([job])
        return job

    async def status(self, tenant: str, integration: str) -> dict[str, Any]:
        counts: dict[str, Any] = await self._store.run(db.job_counts, tenant, integration)
        return counts

    # -- delivering them -------------------------------------------------------------------------
    def schedule(self, jobs: list[SyncJob]) -> None:
        loop = asyncio.get_running_loop()
        now = time.time()
        for job in jobs:
            self._in_flight.add(job.id)
            loop.call_later(max(0.0, job.due_at - now), self._spawn, job)

    def _spawn(self, job: SyncJob) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, job: SyncJob) -> None:
        faults = self._faults.get()
        if faults.db_down:  # the database is "down": keep the job and try again
            asyncio.get_running_loop().call_later(RETRY_S, self._spawn, job)
            return
        dropped = faults.sync_drop > 0 and self._rng.random() < faults.sync_drop
        make = None if dropped or job.kind != "record" else _copier(job)
        try:
            await self._store.run(db.finish_job, job.id, "dropped" if dropped else "done", make)
        except sqlite3.Error as exc:  # e.g. the file is locked for too long: retry, never lose it
            log.warning("sync job %s failed (%s); retrying", job.id, exc)
            asyncio.get_running_loop().call_later(RETRY_S, self._spawn, job)
            return
        self._in_flight.discard(job.id)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                jobs = await self._store.run(db.pending_jobs, time.time() - OVERDUE_S)
            except sqlite3.Error as exc:
                log.warning("sync sweep failed: %s", exc)
                continue
            for job in jobs:
                if job.id not in self._in_flight:
                    self._in_flight.add(job.id)
                    self._spawn(job)

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        for task in list(self._tasks):
            task.cancel()


def _copier(job: SyncJob) -> Any:
    def make(conn: sqlite3.Connection) -> tuple[str, str, dict[str, Any], str, str] | None:
        assert job.source_integration is not None and job.source_resource is not None and job.source_id
        source_resource = resource_of(job.source_integration, job.source_resource)
        body = db.get_record(conn, job.tenant_id, job.source_integration, job.source_resource, job.source_id)
        if body is None or source_resource is None:
            return None  # the source was deleted before it synced: nothing to copy
        record = synced_record(job.target, job.tenant_id, orjson.loads(body), job.source_integration,
                               source_resource)
        target = MODEL[job.target].primary
        return job.target, target.name, record, db.search_text(record, search_keys(target)), job.source_id

    return make
