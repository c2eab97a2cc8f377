"""Reading a doctor's audit trail and access log (API.md: the doctor and the directorate)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.params import FromPath

from services.api import cursor
from services.api.access import Access
from services.api.dependencies import PagingDep, ServicesDep
from services.api.route import RecordController, get
from services.api.schemas import Page
from services.rows import struct_from_row


class AuditEntry(msgspec.Struct, kw_only=True):
    position: int
    event_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: str
    actor: dict[str, Any]
    on_behalf_of: str | None
    request_id: str | None
    data: msgspec.Raw


class AccessEntry(msgspec.Struct, kw_only=True):
    at: str
    actor_kind: str
    actor_hpr: str | None
    client_id: str | None
    org_number: str | None
    action: str
    method: str
    endpoint: str
    status: int


class RecordReadsController(RecordController):
    path = "/api/v1/doctors/{doctor_id:str}"

    @get("/events", Access.DOCTOR_SELF_OR_DIRECTORATE)
    async def events(
        self, services: ServicesDep, doctor_id: FromPath[str], paging: PagingDep
    ) -> Page:
        """The audit trail: every event with who, when and on whose behalf"""
        rows = await services.records.audit_trail(doctor_id, paging.after(), paging.limit)
        items = []
        for row in rows[: paging.limit]:
            metadata = msgspec.json.decode(row.metadata)
            items.append(
                AuditEntry(
                    position=row.position,
                    event_id=str(row.event_id),
                    version=row.version,
                    type=row.type,
                    schema_version=row.schema_version,
                    recorded_at=row.recorded_at.isoformat(),
                    actor=metadata.get("actor", {}),
                    on_behalf_of=metadata.get("on_behalf_of"),
                    request_id=metadata.get("request_id"),
                    data=msgspec.Raw(row.data.encode()),
                )
            )
        more = len(rows) > paging.limit
        return Page(items=items, next_cursor=cursor.encode(items[-1].version) if more else None)

    @get("/access-log", Access.DOCTOR_SELF_OR_DIRECTORATE)
    async def access_log(
        self, services: ServicesDep, doctor_id: FromPath[str], paging: PagingDep
    ) -> Page:
        """Who read or changed this doctor's record"""
        # Reads are logged in batches (access_log.py): this process's are written first, so
        # the log shows them; another process's follow within the flush interval.
        await services.access_log.flush()
        rows = await services.records.access_log(doctor_id, paging.after(), paging.limit)
        items = [
            struct_from_row(AccessEntry, row, at=row.at.isoformat()) for row in rows[: paging.limit]
        ]
        more = len(rows) > paging.limit
        return Page(
            items=items, next_cursor=cursor.encode(rows[paging.limit - 1].id) if more else None
        )
