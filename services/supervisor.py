"""``kompetanse run`` keeps what it starts running: a child that dies (API, relay,
projector, NATS, PostgreSQL) is started again with backoff while the others keep serving;
an API that stops answering ``/healthz`` is killed and started again. Ctrl-C (or SIGTERM)
stops everything in order: the service processes first, then NATS, then PostgreSQL.

Which process plays which role, its pid and how often it was restarted are written to
``<data dir>/run/processes.json`` for operators (and the tests that kill them).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.embedded import EmbeddedNats, EmbeddedPostgres
from services.lifetime import die_with_parent
from services.logging import get_logger

log = get_logger("supervisor")

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 15.0
STEADY_AFTER_SECONDS = 30.0  # a child up this long starts the backoff afresh
HEALTH_EVERY_SECONDS = 5.0
HEALTH_FAILURES_BEFORE_RESTART = 3


@dataclass
class Child:
    """One supervised role: how to start it, tell whether it lives, and stop it."""

    role: str
    start: Callable[[], int | None]  # returns the pid
    alive: Callable[[], bool]
    stop: Callable[[], None]
    pid: int | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF_SECONDS
    restart_at: float | None = None
    health_failures: int = 0


def python_child(role: str, env: dict[str, str]) -> Child:
    """A service process: ``python -m services.cli <role>``."""
    holder: dict[str, subprocess.Popen[bytes]] = {}

    def start() -> int:
        holder["p"] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", role],
            env=env,
            start_new_session=True,  # Ctrl-C reaches ``run``, which stops children in order
            preexec_fn=die_with_parent,  # nothing is left behind even if run is killed
        )
        return holder["p"].pid

    def alive() -> bool:
        return "p" in holder and holder["p"].poll() is None

    def stop() -> None:
        process = holder.get("p")
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    return Child(role, start, alive, stop)


def server_children(pg: EmbeddedPostgres | None, nats_server: EmbeddedNats | None) -> list[Child]:
    """The embedded servers ``run`` started (already running), as supervised children."""
    children = []
    if nats_server is not None:

        def start_nats() -> int | None:
            nats_server.start()
            return nats_server.process.pid if nats_server.process else None

        def nats_alive() -> bool:
            return nats_server.process is not None and nats_server.process.poll() is None

        child = Child("nats", start_nats, nats_alive, nats_server.stop)
        child.pid = nats_server.process.pid if nats_server.process else None
        children.append(child)
    if pg is not None:

        def start_pg() -> int | None:
            pg.start()
            return pg.pid()

        child = Child("postgres", start_pg, pg.running, pg.stop)
        child.pid = pg.pid()
        children.append(child)
    for child in children:
        child.started_at = time.monotonic()
    return children


@dataclass
class Supervisor:
    children: list[Child]
    status_file: Path
    health_url: str | None = None
    clock: Callable[[], float] = time.monotonic
    _last_health: float = field(default=0.0)

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)
        self._write_status()

    def _start(self, child: Child) -> None:
        try:
            child.pid = child.start()
        except Exception as err:  # a server that cannot start yet (old shared memory, ...)
            log.warning("run.start_failed", role=child.role, error=repr(err))
            child.restart_at = self.clock() + child.backoff
            child.backoff = min(child.backoff * 2, MAX_BACKOFF_SECONDS)
            return
        child.started_at = self.clock()
        child.restart_at = None
        child.health_failures = 0

    def poll(self) -> None:
        """Restart whatever died, once its backoff has passed."""
        now = self.clock()
        changed = False
        for child in self.children:
            if child.restart_at is None and child.alive():
                if now - child.started_at > STEADY_AFTER_SECONDS:
                    child.backoff = FIRST_BACKOFF_SECONDS
                continue
            if child.restart_at is None:
                log.error("run.child_exited", role=child.role, pid=child.pid)
                child.restart_at = now + child.backoff
                child.backoff = min(child.backoff * 2, MAX_BACKOFF_SECONDS)
            elif now >= child.restart_at:
                child.restarts += 1
                self._start(child)
                log.warning("run.child_restarted", role=child.role, pid=child.pid)
                changed = True
        if self.health_url and now - self._last_health > HEALTH_EVERY_SECONDS:
            self._last_health = now
            self._check_api_health()
        if changed:
            self._write_status()

    def _check_api_health(self) -> None:
        api = next((c for c in self.children if c.role == "api"), None)
        if api is None or api.restart_at is not None or not api.alive():
            return
        if self.clock() - api.started_at < HEALTH_EVERY_SECONDS * 2:
            return  # still starting
        try:
            healthy = httpx.get(f"{self.health_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        api.health_failures = 0 if healthy else api.health_failures + 1
        if api.health_failures >= HEALTH_FAILURES_BEFORE_RESTART and api.pid is not None:
            log.error("run.api_unhealthy", pid=api.pid, failures=api.health_failures)
            with contextlib.suppress(ProcessLookupError):
                os.kill(api.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for child in self.children:  # in the order given: services, then servers
            try:
                child.stop()
            except Exception as err:
                log.warning("run.stop_failed", role=child.role, error=repr(err))
        self.status_file.unlink(missing_ok=True)

    def _write_status(self) -> None:
        status = {
            c.role: {"pid": c.pid, "restarts": c.restarts, "alive": c.restart_at is None}
            for c in self.children
        }
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=2))
        tmp.replace(self.status_file)
