"""Writes without If-Match are decided against the current state however many others write
at once (API.md conventions): the server retries its own conflicts. A 409 means a stale
If-Match only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from services.api.app import create_app
from tests.integration.api.flow import HOSPITAL, World, ok, set_up


@asynccontextmanager
async def concurrent(api) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A client that really runs requests at once (the test client's transport runs one at a
    time): a second app on the same servers, started in this event loop."""
    app = create_app(api.app.state.settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
            yield c


async def _period(api, world: World, doctor_id: str) -> None:  # type: ignore[no-untyped-def]
    await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/service-periods",
            headers=world.hospital,
            json={
                "org_number": HOSPITAL,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2020-03-01",
                "end": "2025-12-31",
            },
        )
    )


def _months(n: int) -> list[str]:
    return [f"{2020 + (i + 3) // 12}-{(i + 3) % 12 + 1:02d}" for i in range(n)]


async def test_fifty_concurrent_writes_without_if_match_are_all_stored(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await _period(api, world, doctor_id)
    before = (await api.get(f"/api/v1/doctors/{doctor_id}/events", headers=world.admin)).json()
    start = len(before["items"])

    async def write(client, month: str):  # type: ignore[no-untyped-def]
        return await client.post(
            f"/api/v1/doctors/{doctor_id}/supervision-hours",
            headers=world.hospital,
            json={"month": month, "hours": 4},
        )

    async with concurrent(api) as client:
        responses = await asyncio.gather(*(write(client, m) for m in _months(50)))
    assert [r.status_code for r in responses] == [201] * 50, [
        r.text for r in responses if r.status_code != 201
    ]
    versions = sorted(int(r.headers["etag"].strip('"')) for r in responses)
    assert versions == list(range(start + 1, start + 51))
    trail = (
        await api.get(f"/api/v1/doctors/{doctor_id}/events?limit=500", headers=world.admin)
    ).json()["items"]
    assert [e["version"] for e in trail] == list(range(1, start + 51))


async def test_two_writes_with_the_same_if_match_give_exactly_one_conflict(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await _period(api, world, doctor_id)
    etag = (await api.get(f"/api/v1/doctors/{doctor_id}/progress", headers=world.hospital)).headers[
        "etag"
    ]

    async def write(client, month: str):  # type: ignore[no-untyped-def]
        return await client.post(
            f"/api/v1/doctors/{doctor_id}/supervision-hours",
            headers={**world.hospital, "If-Match": etag},
            json={"month": month, "hours": 4},
        )

    async with concurrent(api) as client:
        responses = await asyncio.gather(write(client, "2021-01"), write(client, "2021-02"))
    assert sorted(r.status_code for r in responses) == [201, 409]
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert conflict["field"] == "If-Match"
