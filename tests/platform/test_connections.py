"""The platform holds 10,000 open keep-alive connections (the load tests' 10k-user step needs it).

Servers with a default listen backlog or a low file-descriptor limit silently stall connections past
that limit; this opens 10,000 real sockets on loopback, sends a request on each, and requires every
one of them to be answered and still open, then one more request on the first to prove keep-alive.
"""

from __future__ import annotations

import asyncio
import resource

import pytest

# serial: its verdicts depend on the machine's headroom (latency objectives, CPU, arrival rates)
pytestmark = [pytest.mark.slow, pytest.mark.serial]

CONNECTIONS = 10_000
REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


async def _open(port: int, sem: asyncio.Semaphore) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with sem:
        return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 20)


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sem: asyncio.Semaphore) -> bool:
    async with sem:
        writer.write(REQUEST)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        await asyncio.wait_for(reader.readexactly(length), 30)
        return head.startswith(b"HTTP/1.1 200")


def test_ten_thousand_keep_alive_connections(platform_factory) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < CONNECTIONS + 500:
        pytest.fail(f"the hard open-file limit is {hard}; the test needs {CONNECTIONS + 500} (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, CONNECTIONS + 500), hard))
    server = platform_factory()

    async def scenario() -> tuple[int, int, bool]:
        sem = asyncio.Semaphore(500)
        conns = await asyncio.gather(*(_open(server.port, sem) for _ in range(CONNECTIONS)))
        answered = await asyncio.gather(*(_ask(r, w, sem) for r, w in conns))
        still_open = sum(not r.at_eof() for r, _ in conns)
        again = await _ask(*conns[0], sem)  # the same connection, a second request
        for _, writer in conns:
            writer.close()
        return sum(answered), still_open, again

    ok, still_open, again = asyncio.run(scenario())
    assert ok == CONNECTIONS
    assert still_open == CONNECTIONS
    assert again
    assert server.proc.poll() is None
