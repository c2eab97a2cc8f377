"""Writing the access log (who reached which doctor's record) with as few commits as the
promise allows (issue 14):

- **A write's row** goes into the command's own transaction (:func:`services.application.
  streams.transaction`, through the envelope's :class:`AccessNote`): it commits with the
  events or not at all, and costs no commit of its own.
- **A refused write** (or a retry answered from its idempotency key) never reached a
  command's transaction: its row is written at once, in its own transaction
  (:meth:`AccessLog.write`).
- **Reads** are buffered and written in one multi-row INSERT at most ``max_delay`` seconds
  (or ``max_rows`` rows) after the read, and on a clean stop (:meth:`AccessLog.close`, from
  the API's shutdown). A crash (kill -9, power loss) loses the rows buffered in that window,
  per API process: at most ``max_delay`` seconds of reads. While the database refuses the
  INSERT the rows stay buffered and are tried again (up to ``MAX_PENDING`` rows; beyond
  that the oldest are dropped, loudly).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from services.application.messages import AccessNote
from services.identity.principal import Principal
from services.store import access_log as table

log = structlog.get_logger("access_log")

MAX_PENDING = 100_000
Row = Mapping[str, object]


def action_of(method: str, template: str) -> str:
    verb = "read" if method in ("GET", "HEAD") else "write"
    resource = template.rstrip("/").split("/")[-1].split(":")[0].strip("{}")
    return f"{verb}:{resource}"


def access_row(
    principal: Principal, doctor_id: str, method: str, template: str, request_id: str | None
) -> dict[str, object]:
    """A row of the log but its status (known once the request is answered)."""
    return {
        "doctor_id": doctor_id,
        "kind": principal.kind,
        "hpr": principal.hpr_number,
        "client": principal.client_id,
        "org": principal.org_number,
        "action": action_of(method, template),
        "method": method,
        "endpoint": template,
        "request_id": request_id,
    }


def note_for(
    principal: Principal, doctor_id: str, method: str, template: str, request_id: str | None
) -> AccessNote:
    return AccessNote(access_row(principal, doctor_id, method, template, request_id))


class AccessLog:
    def __init__(self, engine: AsyncEngine, *, max_delay: float = 1.0, max_rows: int = 500):
        self._engine = engine
        self.max_delay = max_delay
        self.max_rows = max_rows
        self._pending: list[Row] = []
        self._lock = asyncio.Lock()  # one flush at a time: a flush returns with rows stored
        self._due = asyncio.Event()  # rows are waiting
        self._full = asyncio.Event()  # ... max_rows of them, or closing: do not wait
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def write(self, rows: Sequence[Row]) -> None:
        """Rows written now, in a transaction of their own."""
        if rows:
            async with self._engine.begin() as conn:
                await table.insert(conn, rows)

    def buffer(self, row: Row) -> None:
        """A read's row, written within ``max_delay`` seconds."""
        self._pending.append(row)
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]
            log.error("access_log.dropped", reason="database refused the buffered rows")
        if len(self._pending) >= self.max_rows:
            self._full.set()
        self._due.set()
        if self._task is None and not self._closing:
            self._task = asyncio.create_task(self._run(), name="access-log-flush")

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Every row buffered so far is stored when this returns (or it raises)."""
        async with self._lock:
            rows, self._pending = self._pending, []
            try:
                await self.write(rows)
            except BaseException:
                self._pending[:0] = rows  # kept for the next try, in their order
                raise

    async def close(self) -> None:
        """Flush everything (the API's shutdown): nothing buffered is lost on a clean stop."""
        self._closing = True
        self._full.set()
        self._due.set()
        if self._task is not None:
            await self._task
            self._task = None
        try:
            await self.flush()
        except Exception as err:
            log.error("access_log.lost_on_close", rows=len(self._pending), error=repr(err))

    async def _run(self) -> None:
        while True:
            await self._due.wait()
            if not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.max_delay)
            self._due.clear()
            self._full.clear()
            try:
                await self.flush()
            except Exception as err:  # the database is away: keep the rows, try again
                log.error("access_log.flush_failed", rows=len(self._pending), error=repr(err))
                if self._closing:
                    return
                self._due.set()
                await asyncio.sleep(self.max_delay)
            if self._closing:
                return


def with_status(row: Row, status: int) -> dict[str, Any]:
    return {**row, "status": status}
