"""A minimal HTTP/1.1 keep-alive client on asyncio streams.

The load generator shares two cores with the API and PostgreSQL; httpx costs several
hundred microseconds of Python per request, which at 64 clients would measure the client.
This one only writes a request and reads ``Content-Length`` bytes back (uvicorn always
sends it), so nearly all the CPU it leaves goes to the server under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from bench.load import LoadResult, closed_loop


class HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(payload)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        length = 0
        close = False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def http_closed_loop(
    base: str,
    clients: int,
    seconds: float,
    op: Callable[[Connection, int, int], Awaitable[int]],
) -> LoadResult:
    """:func:`bench.load.closed_loop` with a keep-alive connection per client to ``base``
    (``http://host:port``), closed at the end: ``op(connection, client, seq)``."""
    host, port = base.removeprefix("http://").split(":")
    conns = [Connection(host, int(port)) for _ in range(clients)]
    try:
        return await closed_loop(clients, seconds, lambda i, seq: op(conns[i], i, seq))
    finally:
        for c in conns:
            await c.close()
