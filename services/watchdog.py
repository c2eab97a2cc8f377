"""Liveness for the relay and the projectors: a wedged process ends itself, so that whatever
supervises it (``kompetanse run``, systemd's ``Restart=always``, Kubernetes) starts it again.

Wedged means one of two things, both measured for ``stall_seconds``:
- the event loop stopped turning (its heartbeat task did not run), or
- work was pending and nothing moved, while NATS and PostgreSQL answer. When either does
  not, lag is expected and a restart would not help, so the process waits instead.

The check runs on a daemon thread, so it still runs when the event loop is stuck. Ending
the process loses nothing: the relay's and the projectors' checkpoints are committed with
their work, and they start again from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import structlog

from services.natsconn import servers_from_url

log = structlog.get_logger("watchdog")

WEDGED_EXIT_CODE = 75  # EX_TEMPFAIL: "try again", which is what a restart does


class Track:
    """One piece of work in the process (the relay, one projection)."""

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.name = name
        self._clock = clock
        self.pending_since: float | None = None

    def pending(self, has_work: bool) -> None:
        if not has_work:
            self.pending_since = None
        elif self.pending_since is None:
            self.pending_since = self._clock()

    def progressed(self) -> None:
        """Work moved on; whatever is still pending waits from now."""
        if self.pending_since is not None:
            self.pending_since = self._clock()


def servers_answer(nats_url: str, database_url: str | None) -> bool:
    """NATS sends its INFO line and PostgreSQL accepts a connection (when one is named)."""
    return nats_answers(nats_url) and (database_url is None or database_answers(database_url))


def database_answers(database_url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(database_url)
    with (
        contextlib.suppress(OSError),
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout),
    ):
        return True
    return False


def nats_answers(nats_url: str, timeout: float = 1.0) -> bool:
    """Whether any of the servers sends its INFO line: the server itself, not our client."""
    for server in servers_from_url(nats_url):
        parts = urlsplit(server)
        with (
            contextlib.suppress(OSError),
            socket.create_connection(
                (parts.hostname or "127.0.0.1", parts.port or 4222), timeout
            ) as sock,
        ):
            sock.settimeout(timeout)
            if sock.recv(4).startswith(b"INFO"):
                return True
    return False


class Watchdog:
    def __init__(
        self,
        process: str,
        *,
        stall_seconds: float,
        nats_url: str,
        database_url: str | None = None,
        on_wedged: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        answers: Callable[[str, str | None], bool] = servers_answer,
    ) -> None:
        self.process = process
        self.stall_seconds = stall_seconds
        self.nats_url = nats_url
        self.database_url = database_url
        self._on_wedged = on_wedged or _exit_for_restart
        self._clock = clock
        self._answers = answers
        self._tracks: dict[str, Track] = {}
        self._last_beat = clock()
        self._stopped = threading.Event()

    def track(self, name: str) -> Track:
        return self._tracks.setdefault(name, Track(name, self._clock))

    def beat(self) -> None:
        self._last_beat = self._clock()

    def wedged(self) -> str | None:
        """Why the process is wedged, or None."""
        now = self._clock()
        if now - self._last_beat > self.stall_seconds:
            return f"the event loop has not run for {now - self._last_beat:.0f} s"
        stalled = [
            t.name
            for t in self._tracks.values()
            if t.pending_since is not None and now - t.pending_since > self.stall_seconds
        ]
        if stalled and self._answers(self.nats_url, self.database_url):
            return (
                f"{', '.join(stalled)}: work pending and nothing moved for more than "
                f"{self.stall_seconds:.0f} s while NATS and PostgreSQL answer"
            )
        return None

    async def run(self, stop: asyncio.Event) -> None:
        """Beat from the event loop and watch from a thread until ``stop`` is set."""
        thread = threading.Thread(target=self._watch, name=f"watchdog-{self.process}", daemon=True)
        thread.start()
        try:
            while not stop.is_set():
                self.beat()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(1.0):
            reason = self.wedged()
            if reason is not None:
                log.error("process.wedged", process=self.process, reason=reason)
                self._on_wedged(reason)
                return


def _exit_for_restart(reason: str) -> None:
    os._exit(WEDGED_EXIT_CODE)
