"""The write side's own tables beside the events: ``people`` (personal data kept out of the
events, erasable) and ``doctor_organisations`` (which organisations have the doctor in
service: authorisation reads it, so it is written in the same transaction as the event)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store import sql


async def remember_employer(conn: AsyncConnection, doctor_id: str, org_number: str) -> None:
    await conn.execute(
        text(
            "INSERT INTO doctor_organisations (doctor_id, org_number) VALUES (:d, :o) "
            "ON CONFLICT DO NOTHING"
        ),
        {"d": doctor_id, "o": org_number},
    )


async def registered_as(
    conn: AsyncConnection, hpr_number: str, national_id: str | None
) -> str | None:
    """The doctor id a person (by HPR or national identity number) is registered as."""
    return await sql.value(
        conn,
        "SELECT doctor_id FROM people WHERE hpr_number = :h OR "
        "(CAST(:p AS text) IS NOT NULL AND national_id = :p)",
        {"h": hpr_number, "p": national_id},
    )


async def add_person(
    conn: AsyncConnection,
    doctor_id: str,
    hpr_number: str,
    national_id: str | None,
    name: str | None,
) -> None:
    await conn.execute(
        text(
            "INSERT INTO people (doctor_id, hpr_number, national_id, name) VALUES (:d, :h, :p, :n)"
        ),
        {"d": doctor_id, "h": hpr_number, "p": national_id, "n": name},
    )


async def erase_person(conn: AsyncConnection, doctor_id: str) -> bool:
    """Null the personal data; the record and its audit trail keep the internal id."""
    erased = await conn.scalar(
        text(
            "UPDATE people SET hpr_number = NULL, national_id = NULL, name = NULL, "
            "erased_at = coalesce(erased_at, now()) WHERE doctor_id = :d "
            "RETURNING doctor_id"
        ),
        {"d": doctor_id},
    )
    return erased is not None


async def add_bundle(
    conn: AsyncConnection, application_id: str, doctor_id: str, digest: str, bundle: bytes
) -> None:
    """The evidence bundle frozen at submission (append-only by trigger)."""
    await conn.execute(
        text(
            "INSERT INTO application_bundles (application_id, doctor_id, content_hash,"
            " bundle) VALUES (:a, :d, :h, :b)"
        ),
        {"a": application_id, "d": doctor_id, "h": digest, "b": bundle},
    )
