"""The virtual user: a FastHttpUser that logs in, then calls a weighted mix of catalog operations.

Closed model: one operation, then think time. Open model (rate profile): wait for the arrival
scheduler to hand it an iteration, run one operation, wait again. Ids for path parameters come
from what this user created (creates, and the only ids it deletes) or listed; when it has none
for an operation yet, it calls the list (or create) that gives them instead.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from locust import FastHttpUser, task
from locust.exception import StopUser

from sloguard.datagen import IdPool

from .context import LoadContext
from .login import VirtualUserLogin
from .mix import Operation

LIST_PARSE_BELOW = 10  # parse a list answer for ids only while this user knows fewer for the resource
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class SloguardUser(FastHttpUser):
    """Set up by `hooks.install` (the mix, the login, think time); Locust finds it in a locustfile."""

    abstract = False
    host = "http://127.0.0.1:8400"
    sloguard: ClassVar[LoadContext | None] = None

    def on_start(self) -> None:
        ctx = type(self).sloguard
        if ctx is None:
            raise StopUser("sloguard is not set up in this process (hooks.install was not called)")
        if urlsplit(self.host or "").netloc != urlsplit(ctx.plan.base_url).netloc:
            # A master may only direct this worker at the target its own config allows.
            ctx.log_refusal(self.host or "")
            raise StopUser(f"refusing to load {self.host}: this generator's config targets {ctx.plan.base_url}")
        self.ctx = ctx
        self.rng = random.Random()
        self.created = IdPool(per_resource=20)
        self.listed = IdPool(per_resource=50)
        self.session = VirtualUserLogin(ctx.login)
        self.session.ensure(self.client)

    @task
    def iteration(self) -> None:
        ctx = self.ctx
        if ctx.scheduler is not None:
            ctx.scheduler.next()
        if not self.session.ensure(self.client):
            return
        op = ctx.mix.pick(self.rng)
        ids = self._ids_for(op)
        if ids is None:
            fallback = ctx.fallback(op)
            if fallback is None:
                return
            op, ids = fallback, {}
        self._call(op, ids)

    def _ids_for(self, op: Operation) -> dict[str, str] | None:
        if not op.id_params:
            return {}
        out: dict[str, str] = {}
        for name, resource in op.id_params:
            key = (op.integration, resource)
            value: Any = None
            if op.kind == "delete":
                value = self.created.pop(*key)
            else:
                value = self.created.latest(*key)
                if value is None:
                    known = self.listed.ids(*key)
                    value = self.rng.choice(known) if known else None
            if value is None:
                return None
            out[name] = quote(str(value), safe="")
        return out

    def _call(self, op: Operation, ids: dict[str, str]) -> None:
        body, ctype = self.ctx.mix.body(op) if op.method in WRITE_METHODS else (None, None)
        headers: dict[str, str] | None = None
        if op.headers or ctype:
            headers = {**op.headers, "Content-Type": ctype} if ctype else dict(op.headers)
        session = self.session
        if session.headers:  # an API key header (a bearer token is the client's auth_header)
            headers = {**(headers or {}), **session.headers}
        url = op.url(ids)
        if session.params:  # an API key in the query
            url += ("&" if "?" in url else "?") + urlencode(session.params)
        if not op.checked:
            # Expected 200: Locust's own rule (failure at 400 and above) agrees, and the hot path stays
            # as cheap as a bare FastHttpUser's (no response context manager, no headers to merge).
            response = self.client.request(op.method, url, name=op.name, data=body,  # type: ignore[arg-type]
                                           headers=headers)
            status = response.status_code
            if status == 200:
                self._learn(op, response, ids)
            elif status == 404:
                self._forget(op, ids)
            return
        with self.client.request(op.method, url, name=op.name, data=body, headers=headers,  # type: ignore[arg-type]
                                 catch_response=True) as checked:
            status = checked.status_code
            if status in op.expected:
                checked.success()
                self._learn(op, checked, ids)
            elif status:
                checked.failure(f"HTTP {status}, expected {', '.join(map(str, sorted(op.expected)))}")
                if status == 404:
                    self._forget(op, ids)
            # status 0: no answer; Locust keeps the transport error as the failure

    def _forget(self, op: Operation, ids: dict[str, str]) -> None:
        """A listed record that is gone (another user deleted it): stop addressing it."""
        if ids and op.kind != "delete":
            for name, resource in op.id_params:
                self.listed.discard(op.integration, resource, ids.get(name))

    def _learn(self, op: Operation, response: Any, ids: dict[str, str]) -> None:
        entry = op.entry
        if entry is None:
            return
        if op.kind == "create":
            self.created.record(entry, _json(response))
        elif op.kind in ("list", "search"):
            from sloguard.datagen import resource_of

            resource = resource_of(entry.path if op.kind == "list" else entry.path.rsplit("/", 1)[0])
            if len(self.listed.ids(op.integration, resource)) < LIST_PARSE_BELOW:
                self.listed.record(entry, _json(response))


def _json(response: Any) -> Any:
    import orjson

    try:
        return orjson.loads(response.content or b"")
    except orjson.JSONDecodeError:
        return None
