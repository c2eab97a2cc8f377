"""The tables behind relations and identity conflicts (issue 13): ``doctor_organisations``
with its status and ``identity_conflicts``. Written in the transaction of the event that
changes them; read by the access rules and the read side."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store import sql


async def status_of(conn: AsyncConnection, doctor_id: str, org_number: str) -> str | None:
    return await sql.value(
        conn,
        "SELECT status FROM doctor_organisations WHERE doctor_id = :d AND org_number = :o",
        {"d": doctor_id, "o": org_number},
    )


async def add_relation(
    conn: AsyncConnection, doctor_id: str, org_number: str, *, basis: str, status: str
) -> bool:
    """True if the organisation had no relation yet and now has this one."""
    inserted = await conn.scalar(
        text(
            "INSERT INTO doctor_organisations (doctor_id, org_number, status, basis) "
            "VALUES (:d, :o, :s, :b) ON CONFLICT DO NOTHING RETURNING org_number"
        ),
        {"d": doctor_id, "o": org_number, "s": status, "b": basis},
    )
    return inserted is not None


async def set_status(
    conn: AsyncConnection, doctor_id: str, org_number: str, status: str, reason: str | None
) -> None:
    await conn.execute(
        text(
            "UPDATE doctor_organisations SET status = :s, status_since = now(), "
            "dispute_reason = :r WHERE doctor_id = :d AND org_number = :o"
        ),
        {"s": status, "r": reason, "d": doctor_id, "o": org_number},
    )


async def doctor_by_hpr(conn: AsyncConnection, hpr_number: str) -> str | None:
    return await sql.value(
        conn, "SELECT doctor_id FROM people WHERE hpr_number = :h", {"h": hpr_number}
    )


async def national_id_conflicts(
    conn: AsyncConnection, doctor_id: str, national_id: str
) -> list[str]:
    """Other records holding this national identity number, and this record if it holds a
    different one."""
    return await sql.column(
        conn,
        "SELECT doctor_id FROM people WHERE national_id = :p AND doctor_id <> :d "
        "UNION SELECT doctor_id FROM people WHERE doctor_id = :d "
        "AND national_id IS NOT NULL AND national_id <> :p ORDER BY 1",
        {"p": national_id, "d": doctor_id},
    )


async def add_conflict(
    conn: AsyncConnection, conflict_id: str, doctor_id: str, other_doctor_id: str
) -> None:
    await conn.execute(
        text(
            "INSERT INTO identity_conflicts (conflict_id, doctor_id, other_doctor_id, field) "
            "VALUES (:c, :d, :o, 'national_id')"
        ),
        {"c": conflict_id, "d": doctor_id, "o": other_doctor_id},
    )


async def resolve_conflict(conn: AsyncConnection, conflict_id: str, reason: str) -> str | None:
    return await sql.value(
        conn,
        "UPDATE identity_conflicts SET resolved_at = now(), resolution = :r "
        "WHERE conflict_id = :c AND resolved_at IS NULL RETURNING doctor_id",
        {"r": reason, "c": conflict_id},
    )


async def relations_of(conn: AsyncConnection, doctor_id: str) -> list[Any]:
    return await sql.rows(
        conn,
        "SELECT org_number, basis, status, since, status_since, dispute_reason "
        "FROM doctor_organisations WHERE doctor_id = :d ORDER BY since, org_number",
        {"d": doctor_id},
    )


async def disputed(conn: AsyncConnection) -> list[Any]:
    return await sql.rows(
        conn,
        "SELECT doctor_id, org_number, basis, since, status_since, dispute_reason "
        "FROM doctor_organisations WHERE status = 'disputed' ORDER BY status_since LIMIT 1000",
    )


async def open_conflicts(conn: AsyncConnection) -> list[Any]:
    return await sql.rows(
        conn,
        "SELECT conflict_id, doctor_id, other_doctor_id, field, flagged_at "
        "FROM identity_conflicts WHERE resolved_at IS NULL ORDER BY flagged_at LIMIT 1000",
    )
