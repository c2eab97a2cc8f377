"""Talking to one chosen worker of an API started with several (``KOMPETANSE_API_WORKERS``):
an HTTP/1.1 keep-alive connection stays with the worker process that accepted it, and which
one that is can be read from /proc (the worker holding the server side of the connection).
Tests use this to send a party's requests through different workers on purpose."""

from __future__ import annotations

import contextlib
import http.client
import os
from pathlib import Path
from typing import Any

import msgspec


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                local, remote = parts[1], parts[2]
                if (
                    int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port
                ):
                    return parts[9]
    return None


def _holder(inode: str, pids: list[int]) -> int | None:
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None


class WorkerConnection:
    """One keep-alive connection to the API, and the worker process serving it."""

    def __init__(self, host: str, port: int, master_pid: int | None = None) -> None:
        self.http = http.client.HTTPConnection(host, port, timeout=30)
        status, _ = self.request("GET", "/healthz")  # accepted by a worker once answered
        assert status == 200
        self.worker: int | None = None
        if master_pid is not None:  # which of its workers serves this connection
            assert self.http.sock is not None
            inode = _server_side_inode(port, self.http.sock.getsockname()[1])
            self.worker = _holder(inode, children(master_pid)) if inode else None

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, bytes]:
        payload = None if body is None else msgspec.json.encode(body)
        sent = dict(headers or {})
        if payload is not None:
            sent["Content-Type"] = "application/json"
        self.http.request(method, path, body=payload, headers=sent)
        response = self.http.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.http.close()


def one_per_worker(
    host: str, port: int, master_pid: int, workers: int, attempts: int = 200
) -> list[WorkerConnection]:
    """A connection served by each of ``workers`` distinct workers (new connections are
    opened until the kernel has handed one to each)."""
    chosen: dict[int, WorkerConnection] = {}
    for _ in range(attempts):
        connection = WorkerConnection(host, port, master_pid)
        if connection.worker is None or connection.worker in chosen:
            connection.close()
        else:
            chosen[connection.worker] = connection
        if len(chosen) == workers:
            return list(chosen.values())
    for connection in chosen.values():
        connection.close()
    raise AssertionError(f"{attempts} connections reached only workers {sorted(chosen)}")
