"""``kompetanse api``: the API on one port, in ``KOMPETANSE_API_WORKERS`` processes
(docs/architecture.md, "Several API processes")."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from services.config import Settings


def serve(settings: Settings) -> None:
    """The API on one port, in ``settings.api_worker_count()`` processes (uvicorn's master
    restarts a worker that dies; docs/architecture.md says why uvicorn)."""
    import uvicorn

    workers = settings.api_worker_count()
    options: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_level": "warning",
        "access_log": False,
        "server_header": False,  # no "server: uvicorn" banner
    }
    if workers == 1:
        from services.api.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    from uvicorn.supervisors import Multiprocess

    _wait_for_port(settings.http_host, settings.http_port)
    # Set before any worker imports prometheus_client: each then writes its metrics there.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_fresh_metrics_dir(settings))
    # Each worker builds its own app (pools, caches) from the same environment.
    config = uvicorn.Config(
        "services.api.app:create_worker_app", factory=True, workers=workers, **options
    )
    Multiprocess(config, sockets=[_listening_socket(settings.http_host, settings.http_port)]).run()


def _listening_socket(host: str, port: int) -> socket.socket:
    """The workers' shared socket, made with its protocol named: uvicorn's own has protocol
    0, the connections accepted from it inherit that, and asyncio then leaves Nagle's
    algorithm on for them (it sets TCP_NODELAY only on sockets it knows to be TCP). A
    response written as headers then body then waited for the client's delayed ACK: 50 ms
    a request at one client (measured), against 9 ms with one process."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _wait_for_port(host: str, port: int, seconds: float = 20.0) -> None:
    """Wait (a bounded time) until the port can be bound: after a kill -9 of the previous
    master, its workers end (services/lifetime.py) but may take a few seconds to close the
    listening socket they share; binding earlier would fail and cost a restart."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
                return
            except OSError:
                time.sleep(0.2)


def _fresh_metrics_dir(settings: Settings) -> Path:
    """The workers' metric files, emptied at each start (counters then start at zero, as a
    single process's do) and kept apart per port (two APIs may share a data directory)."""
    directory = settings.data_path / "run" / f"api-metrics-{settings.http_port}"
    shutil.rmtree(directory, ignore_errors=True)
    try:
        directory.mkdir(parents=True)
    except OSError:  # a read-only data directory (a container's): a temporary one then
        return Path(tempfile.mkdtemp(prefix=f"kompetanse-api-metrics-{settings.http_port}-"))
    return directory
