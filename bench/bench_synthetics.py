"""Wall time of the whole synthetic suite against the reference platform with 100 ms injected latency,
against bare loops that send the same requests with the same concurrency, measured in the same run.

1. the suite's engine (every check: endpoint sweep, CRUD chains, OAuth flows, security probes, health,
   sync) — the requests it sends are recorded as they go out;
2. baseline: a bare asyncio + httpx loop replaying exactly those requests, same concurrency;
3. baseline: the same with aiohttp (the client the engine uses);
4. the whole `sloguard check synthetics` command (process start, planning, the checks, pytest, Allure
   results from the results model, JUnit, results.jsonl, summary.json), best of ``--repeat``, against
   the engine alone: what the reporting path costs on top of the checks.

    .venv/bin/python bench/bench_synthetics.py [--latency-ms 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from sloguard.cli.launch import start_reference

Request = tuple[str, str, dict[str, str], bytes | None]


async def replay_httpx(requests: list[Request], concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def one(method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
            async with sem:
                await client.request(method, url, headers=headers, content=body)

        started = time.perf_counter()
        await asyncio.gather(*(one(*r) for r in requests))
        return time.perf_counter() - started


async def replay_aiohttp(requests: list[Request], concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as client:
        async def one(method: str, url: str, headers: dict[str, str], body: bytes | None) -> None:
            async with sem, client.request(method, url, headers=headers, data=body) as answer:
                await answer.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(*r) for r in requests))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from sloguard.synthetics.runner import run_plan
    from sloguard.synthetics.session import open_session

    tmp = Path(tempfile.mkdtemp(prefix="sloguard-bench-"))
    server = start_reference(tmp / "platform", [f"latency_ms={args.latency_ms}"])
    base = server.base_url
    try:
        t0 = time.perf_counter()
        session = open_session(None, target=base, reports_dir=tmp / "reports")
        plan_s = time.perf_counter() - t0
        concurrency = session.config.checks.concurrency
        sent: list[Request] = []

        async def engine() -> float:
            import sloguard.synthetics.context as context

            original = context.RunContext.create

            def tapped(*a: object, **k: object) -> context.RunContext:
                ctx = original(*a, **k)  # type: ignore[arg-type]
                ctx.client.tap = lambda m, u, h, b: sent.append((m, u, dict(h), b))
                return ctx

            context.RunContext.create = tapped  # type: ignore[method-assign]
            try:
                started = time.perf_counter()
                outcome = await run_plan(session.target, session.plan)
                wall = time.perf_counter() - started
            finally:
                context.RunContext.create = original  # type: ignore[method-assign]
            bad = [i for i, p in outcome.probes.items() if p.status == "failed"]
            print(f"engine: {len(outcome.probes)} checks, {len(sent)} requests, failed: {len(bad)} "
                  f"(latency SLO 500 ms vs {args.latency_ms} ms injected)")
            return wall

        engine_s = asyncio.run(engine())
        replay = [r for r in sent if not r[1].endswith("/api/auth/token")]
        httpx_s = asyncio.run(replay_httpx(replay, concurrency))
        aiohttp_s = asyncio.run(replay_aiohttp(replay, concurrency))
        walls: list[float] = []
        cpus: list[float] = []  # the command's own CPU (user + system): steadier than wall on a shared machine
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sloguard", "check", "synthetics", "--target", base],
                           cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                           env={**os.environ})
            walls.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        command_s = min(walls)
        files = sum(1 for _ in (tmp / "reports" / "allure-results").iterdir())
        print(f"latency_ms={args.latency_ms} injected, concurrency {concurrency}, {len(replay)} requests replayed")
        print(f"planning (spec fetch + catalog + plan)  {plan_s:6.2f} s")
        print(f"suite engine, all checks               {engine_s:6.2f} s   {engine_s / httpx_s:.2f}x bare httpx"
              f"   {engine_s / aiohttp_s:.2f}x bare aiohttp   goal < 5 s and <= 1.5x bare httpx")
        print(f"bare asyncio + httpx loop               {httpx_s:6.2f} s   1.00x")
        print(f"bare asyncio + aiohttp loop             {aiohttp_s:6.2f} s")
        print(f"sloguard check synthetics, whole command  {command_s:6.2f} s   {command_s / engine_s:.2f}x the engine"
              f"   goal < 5 s  (best of {args.repeat}: {', '.join(f'{w:.2f}' for w in walls)}; "
              f"{files} Allure files)")
        print(f"  its CPU (user + system), best of {args.repeat}  {min(cpus):6.2f} s   "
              f"({', '.join(f'{c:.2f}' for c in cpus)})")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
