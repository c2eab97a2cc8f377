"""Idempotency keys: the same key with the same body returns the first answer and stores
nothing new; the same key with another body is a conflict (API.md conventions).

The key is remembered in the same transaction as the events it produced, so a retry after
a crash either finds both or neither.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


class StoredResponse(msgspec.Struct, frozen=True):
    status_code: int
    body: bytes
    headers: dict[str, str]


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request."""


def request_hash(method: str, path: str, body: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.digest()


async def find(
    conn: AsyncConnection, principal: str, key: str, fingerprint: bytes
) -> StoredResponse | None:
    row = (
        await conn.execute(
            text(
                "SELECT request_hash, status_code, response, headers::text "
                "FROM idempotency_keys WHERE principal = :p AND key = :k"
            ),
            {"p": principal, "k": key},
        )
    ).first()
    if row is None:
        return None
    if bytes(row.request_hash) != fingerprint:
        raise IdempotencyKeyReused(key)
    headers: dict[str, Any] = msgspec.json.decode(row.headers)
    return StoredResponse(row.status_code, bytes(row.response), headers)


async def remember(
    conn: AsyncConnection,
    principal: str,
    key: str,
    fingerprint: bytes,
    response: StoredResponse,
) -> None:
    await conn.execute(
        text(
            "INSERT INTO idempotency_keys (principal, key, request_hash, status_code, response, "
            "headers) VALUES (:p, :k, :h, :s, :r, CAST(:hd AS jsonb))"
        ),
        {
            "p": principal,
            "k": key,
            "h": fingerprint,
            "s": response.status_code,
            "r": response.body,
            "hd": msgspec.json.encode(response.headers).decode(),
        },
    )


async def used(conn: AsyncConnection, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (principal, key) pairs are stored, in one query."""
    pairs = sorted(keys)
    rows = await conn.execute(
        text(
            "SELECT k.principal, k.key FROM idempotency_keys k JOIN unnest("
            "CAST(:p AS text[]), CAST(:k AS text[])) AS w(principal, key) "
            "USING (principal, key)"
        ),
        {"p": [p for p, _ in pairs], "k": [k for _, k in pairs]},
    )
    return {(row.principal, row.key) for row in rows}
