"""The access log with fewer commits (issue 14): a write's row in its command's transaction,
reads buffered and written in multi-row inserts, flushed on a clean stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services.api.app import create_app
from tests.integration.api.flow import HOSPITAL, World, ok, set_up

PERIOD = {
    "org_number": HOSPITAL,
    "part": 1,
    "arena": "hospital",
    "position": "LIS1",
    "fte_percent": 50,
    "start": "2024-01-01",
    "end": "2024-06-30",
}


@pytest.fixture
async def slow_flush(api_settings: Any) -> AsyncIterator[Any]:
    """The API whose periodic flush of reads never comes within a test: rows reach the
    table only by an explicit flush or the clean stop."""
    settings = msgspec.structs.replace(api_settings, access_log_flush_seconds=3600.0)
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


async def rows(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def logged(url: str, request_id: str) -> list[tuple[str, int]]:
    found = await rows(
        url, "SELECT action, status FROM access_log WHERE request_id = $1 ORDER BY id", request_id
    )
    return [(r["action"], r["status"]) for r in found]


async def test_reads_are_logged_when_flushed_and_on_a_clean_stop(
    api_settings: Any, issuer: Any
) -> None:
    url = api_settings.database_url
    world = World(issuer)
    settings = msgspec.structs.replace(api_settings, access_log_flush_seconds=3600.0)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as api:
        doctor_id = await set_up(api, world)
        base = f"/api/v1/doctors/{doctor_id}"
        first = {**world.caseworker, "X-Request-Id": "read-1"}
        assert (await api.get(f"{base}/events", headers=first)).status_code == 200
        assert await logged(url, "read-1") == []  # buffered, not yet written
        # Reading the log flushes this process's buffer first (the app runs in the test
        # client's own event loop, so the test asks through the API).
        shown = (await api.get(f"{base}/access-log", headers=world.doctor)).json()["items"]
        assert [e["action"] for e in shown if e["actor_kind"] == "caseworker"] == ["read:events"]
        assert await logged(url, "read-1") == [("read:events", 200)]
        for n in range(3):  # these stay in the buffer until the stop
            headers = {**world.caseworker, "X-Request-Id": f"read-stop-{n}"}
            assert (await api.get(f"{base}/progress", headers=headers)).status_code == 200
        refused = {**world.other_doctor, "X-Request-Id": "read-refused"}
        assert (await api.get(f"{base}/events", headers=refused)).status_code == 403
        # Buffered still: three progress reads, the refusal, and the read of the log itself.
        assert api.app.state.services.access_log.pending == 5
    for n in range(3):
        assert await logged(url, f"read-stop-{n}") == [("read:progress", 200)]
    assert await logged(url, "read-refused") == [("read:events", 403)]


async def test_reads_are_written_within_the_interval_without_a_flush(
    api: Any, issuer: Any, api_settings: Any
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    headers = {**world.caseworker, "X-Request-Id": "read-timed"}
    assert (await api.get(f"/api/v1/doctors/{doctor_id}/events", headers=headers)).status_code
    # The background flush writes it (default interval: one second); wait for it.
    for _ in range(300):
        if await logged(api_settings.database_url, "read-timed"):
            break
        await asyncio.sleep(0.05)
    assert await logged(api_settings.database_url, "read-timed") == [("read:events", 200)]


async def test_a_write_is_logged_once_in_its_own_transaction(
    slow_flush: Any, issuer: Any, api_settings: Any
) -> None:
    api, url, world = slow_flush, api_settings.database_url, World(issuer)
    doctor_id = await set_up(api, world)
    headers = {**world.hospital, "X-Request-Id": "w-1", "Idempotency-Key": "k-1"}
    path = f"/api/v1/doctors/{doctor_id}/service-periods"
    await ok(await api.post(path, headers=headers, json=PERIOD))
    assert await logged(url, "w-1") == [("write:service-periods", 201)]
    # One transaction: the access row, the event and the idempotency key share their xmin.
    (log,) = await rows(url, "SELECT xmin::text AS x FROM access_log WHERE request_id = 'w-1'")
    events = await rows(
        url,
        "SELECT xmin::text AS x FROM events WHERE metadata->>'request_id' = 'w-1'",
    )
    key = await rows(url, "SELECT xmin::text AS x FROM idempotency_keys WHERE key = 'k-1'")
    assert events and {e["x"] for e in events} == {log["x"]} == {key[0]["x"]}
    # Refused writes are attempts, logged on their own; a retry with the key is a request
    # of its own (answered from the key), logged once more; nothing is logged twice.
    bad = {**world.hospital, "X-Request-Id": "w-bad"}
    assert (await api.post(path, headers=bad, json={**PERIOD, "part": 7})).status_code == 400
    assert await logged(url, "w-bad") == [("write:service-periods", 400)]
    stranger = {**world.other_org, "X-Request-Id": "w-403"}
    assess = f"/api/v1/doctors/{doctor_id}/assessments"
    assert (await api.post(assess, headers=stranger, json={})).status_code == 403
    assert await logged(url, "w-403") == [("write:assessments", 403)]
    again = {**headers, "X-Request-Id": "w-1-again"}
    await ok(await api.post(path, headers=again, json=PERIOD))
    assert await logged(url, "w-1-again") == [("write:service-periods", 201)]
    assert await logged(url, "w-1") == [("write:service-periods", 201)]


async def test_a_write_that_does_not_commit_leaves_no_success_row(
    slow_flush: Any, issuer: Any, api_settings: Any
) -> None:
    """Atomicity: a trigger fails the COMMIT of any transaction holding a successful access
    row of request 'doomed'. The command's events go with it (same transaction), and the
    request is logged once, as the attempt it was (500)."""
    api, url, world = slow_flush, api_settings.database_url, World(issuer)
    doctor_id = await set_up(api, world)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'doomed at commit'; END $$;
            CREATE CONSTRAINT TRIGGER doom AFTER INSERT ON access_log
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
              WHEN (NEW.request_id = 'doomed' AND NEW.status < 400)
              EXECUTE FUNCTION doom();
            """
        )
        before = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", doctor_id)
    finally:
        await conn.close()
    headers = {**world.hospital, "X-Request-Id": "doomed", "Idempotency-Key": "doomed-key"}
    path = f"/api/v1/doctors/{doctor_id}/service-periods"
    assert (await api.post(path, headers=headers, json=PERIOD)).status_code == 500
    after = await rows(url, "SELECT count(*) AS n FROM events WHERE stream_id = $1", doctor_id)
    assert after[0]["n"] == before
    assert await rows(url, "SELECT 1 FROM idempotency_keys WHERE key = 'doomed-key'") == []
    assert await logged(url, "doomed") == [("write:service-periods", 500)]
