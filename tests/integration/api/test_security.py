"""Sender-constrained tokens (DPoP) over HTTP, bad input refused with nothing stored, limits
on body size and request rate, and erasure of personal data without breaking the log."""

from __future__ import annotations

import time

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from services.api.app import create_app
from services.identity.dev_issuer import generate_dpop_key, make_dpop_proof
from services.identity.dpop import thumbprint
from services.store.database import create_engine
from tests.integration.api.flow import HOSPITAL, World, ok, set_up

BASE = "http://testserver.local"


async def count(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")))
    finally:
        await engine.dispose()


async def test_dpop_bound_tokens(api, issuer) -> None:  # type: ignore[no-untyped-def]
    key = generate_dpop_key()
    token = issuer.mint("admin", dpop_jkt=thumbprint(key))
    path = "/api/v1/catalogue/objectives"

    async def call(proof: str | None, method: str = "GET", scheme: str = "DPoP") -> int:
        headers = {"Authorization": f"{scheme} {token}"}
        if proof is not None:
            headers["DPoP"] = proof
        return int((await api.request(method, path, headers=headers)).status_code)

    now = time.time()
    valid = make_dpop_proof(key, "GET", BASE + path, token, now)
    assert await call(valid) in (200, 404)  # authenticated (404: no catalogue yet)
    assert await call(valid) == 401, "a reused jti must be refused"
    assert await call(None) == 401, "missing proof"
    assert await call(make_dpop_proof(key, "POST", BASE + path, token, now)) == 401
    assert await call(make_dpop_proof(key, "GET", BASE + "/api/v1/other", token, now)) == 401
    assert await call(make_dpop_proof(generate_dpop_key(), "GET", BASE + path, token, now)) == 401
    assert await call(make_dpop_proof(key, "GET", BASE + path, token, now - 3600)) == 401
    fresh = make_dpop_proof(key, "GET", BASE + path, token, now)
    assert await call(fresh, scheme="Bearer") == 401, "a DPoP-bound token presented as Bearer"


async def test_bad_input_is_refused_with_a_problem_and_nothing_stored(  # type: ignore[no-untyped-def]
    api, issuer, database_url
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    events_before = await count(database_url, "events")
    people_before = await count(database_url, "people")
    period = {
        "org_number": HOSPITAL,
        "part": 1,
        "arena": "hospital",
        "position": "LIS1",
        "fte_percent": 100,
        "start": "2024-01-01",
    }
    cases = [
        ("/api/v1/doctors", {"hpr_number": "0123", "authorised_on": "2024-01-01"}, "hpr_number"),
        (
            "/api/v1/doctors",
            {"hpr_number": "7654321", "authorised_on": "2024-01-01", "national_id": "15076500566"},
            "national_id",
        ),
        (
            "/api/v1/doctors",
            {"hpr_number": "7654321", "authorised_on": "2024-02-30"},
            "authorised_on",
        ),
        (
            "/api/v1/doctors",
            {"hpr_number": "7654321", "authorised_on": "2024-01-01", "nickname": "x"},
            "nickname",
        ),
        (
            f"/api/v1/doctors/{doctor_id}/service-periods",
            {**period, "fte_percent": 0},
            "fte_percent",
        ),
        (
            f"/api/v1/doctors/{doctor_id}/service-periods",
            {**period, "org_number": "974589096"},
            "org_number",
        ),
        (f"/api/v1/doctors/{doctor_id}/service-periods", {**period, "part": 4}, "part"),
        (
            f"/api/v1/doctors/{doctor_id}/supervision-hours",
            {"month": "2024-13", "hours": 4},
            "month",
        ),
        # Found by schemathesis: PostgreSQL cannot store NUL in JSON; refused up front.
        (
            f"/api/v1/doctors/{doctor_id}/exceptions",
            {"kind": "turnus_approved", "granted_on": "2021-03-11", "reason": "a\u0000b"},
            "reason",
        ),
    ]
    for path, body, field in cases:
        response = await api.post(path, headers=world.hospital, json=body)
        assert response.status_code in (400, 403, 422), (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert field in problem["detail"] or problem.get("field") == field, (field, problem)
    odd_id = await api.get("/api/v1/doctors/a%00b/progress", headers=world.caseworker)
    assert odd_id.status_code == 404
    odd_id = await api.get("/api/v1/doctors/a%00b/progress", headers=world.caseworker)
    assert odd_id.status_code == 404
    not_json = await api.post(
        "/api/v1/doctors",
        headers={**world.hospital, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert not_json.status_code == 400
    assert await count(database_url, "events") == events_before
    assert await count(database_url, "people") == people_before


async def test_body_size_and_rate_limits(api_settings, issuer, database_url) -> None:  # type: ignore[no-untyped-def]
    import msgspec

    settings = msgspec.structs.replace(api_settings, max_body_bytes=2048, rate_limit_per_minute=5)
    admin = {"Authorization": f"Bearer {issuer.mint('admin')}"}
    async with AsyncTestClient(app=create_app(settings), base_url=BASE) as client:
        big = await client.post(
            "/api/v1/organisations",
            headers=admin,
            json={"org_number": "974589095", "name": "x" * 5000, "kind": "hospital_trust"},
        )
        assert big.status_code == 413
        assert big.headers["content-type"].startswith("application/problem+json")
        statuses = [
            (await client.get("/api/v1/catalogue/objectives", headers=admin)).status_code
            for _ in range(8)
        ]
        assert 429 in statuses
        limited = await client.get("/api/v1/catalogue/objectives", headers=admin)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        # Per client, not per address: another client is not limited.
        other = {"Authorization": f"Bearer {issuer.mint('caseworker')}"}
        assert (await client.get("/api/v1/catalogue/objectives", headers=other)).status_code != 429
    assert await count(database_url, "events") == 0


@pytest.mark.parametrize("who", ["hospital", "caseworker"])
async def test_erasure_keeps_the_record_and_the_log(api, issuer, database_url, who) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    headers = getattr(world, who)
    refused = await api.post(f"/api/v1/doctors/{doctor_id}/erasure", headers=headers)
    assert refused.status_code == 403
    erased = await api.post(f"/api/v1/doctors/{doctor_id}/erasure", headers=world.admin)
    assert erased.status_code == 200, erased.text
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT hpr_number, national_id, name, erased_at "
                        "FROM people WHERE doctor_id = :d"
                    ),
                    {"d": doctor_id},
                )
            ).one()
    finally:
        await engine.dispose()
    assert row[:3] == (None, None, None) and row[3] is not None
    events = await api.get(f"/api/v1/doctors/{doctor_id}/events", headers=world.caseworker)
    assert events.status_code == 200 and events.json()["items"]
    log = await api.get(f"/api/v1/doctors/{doctor_id}/access-log", headers=world.caseworker)
    assert any(e["action"] == "write:erasure" for e in log.json()["items"])
    await ok(await api.get(f"/api/v1/doctors/{doctor_id}/progress", headers=world.caseworker), 200)
