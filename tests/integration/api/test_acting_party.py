"""Idempotency keys and rate limits belong to the acting party (API.md conventions): the
client together with the organisation it acts for, or the person."""

from __future__ import annotations

import msgspec
from litestar.testing import AsyncTestClient

from services.api.acting_party import acting_party
from services.api.app import create_app
from services.identity.principal import Principal
from tests.integration.api.flow import (
    DOCTOR_HPR,
    HOSPITAL,
    MUNICIPALITY,
    OTHER_DOCTOR_HPR,
    World,
    bearer,
    ok,
    set_up,
)

VENDOR = "vendor-ehr-client"


async def test_one_vendor_client_acting_for_two_organisations_has_two_key_spaces(  # type: ignore[no-untyped-def]
    api, issuer
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    for_a = bearer(issuer.mint("organisation", org_number=HOSPITAL, client_id=VENDOR))
    for_b = bearer(issuer.mint("organisation", org_number=MUNICIPALITY, client_id=VENDOR))
    # B has service for the doctor too (its own claimed relation).
    await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/service-periods",
            headers=for_b,
            json={
                "org_number": MUNICIPALITY,
                "part": 1,
                "arena": "municipal",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2024-09-01",
            },
        )
    )
    body = {"hpr_number": "1000010", "role": "veileder", "valid_from": "2024-09-01"}
    key = {"Idempotency-Key": "supervisor-1"}
    first = await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/supervisors", headers={**for_a, **key}, json=body
        )
    )
    second = await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/supervisors", headers={**for_b, **key}, json=body
        )
    )
    assert second["version"] == first["version"] + 1  # B's fact stored, not A's answer
    again = await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/supervisors", headers={**for_a, **key}, json=body
        )
    )
    assert again == first  # A's retry still answers as the first time
    trail = (await api.get(f"/api/v1/doctors/{doctor_id}/events", headers=world.admin)).json()
    assigned = [e for e in trail["items"] if e["type"] == "doctor.supervisor_assigned"]
    assert sorted(e["data"]["org_number"] for e in assigned) == sorted([HOSPITAL, MUNICIPALITY])


def test_two_doctors_of_one_app_are_two_parties() -> None:
    one = Principal(kind="person", client_id="app", subject="s1", hpr_number=DOCTOR_HPR)
    two = Principal(kind="person", client_id="app", subject="s2", hpr_number=OTHER_DOCTOR_HPR)
    by_pid = Principal(kind="person", client_id="app", pid="15076500565")
    assert acting_party(one) != acting_party(two)
    assert "15076500565" not in acting_party(by_pid)
    a = Principal(kind="organisation", client_id="v", org_number=HOSPITAL)
    b = Principal(kind="organisation", client_id="v", org_number=MUNICIPALITY)
    assert acting_party(a) != acting_party(b)


async def test_rate_limits_are_per_person_and_batch_items_count(api_settings, issuer) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(api_settings, rate_limit_per_minute=5)
    one = bearer(issuer.mint("doctor", hpr_number=DOCTOR_HPR, client_id="app"))
    two = bearer(issuer.mint("doctor", hpr_number=OTHER_DOCTOR_HPR, client_id="app"))
    org = bearer(issuer.mint("organisation", org_number=HOSPITAL))
    async with AsyncTestClient(app=create_app(settings)) as client:
        statuses = [
            (await client.get("/api/v1/catalogue/objectives", headers=one)).status_code
            for _ in range(8)
        ]
        # (no catalogue published: 404, but every request spends a token)
        assert 429 not in statuses[:5] and 429 in statuses
        other = await client.get("/api/v1/catalogue/objectives", headers=two)
        assert other.status_code != 429  # one doctor's burst is not the other's problem
        items = [{"path": f"/api/v1/organisations/{HOSPITAL}/leaders", "body": {}}] * 10
        batch = await client.post("/api/v1/batch", headers=org, json={"items": items})
        assert batch.status_code == 200, batch.text
        codes = [r["status"] for r in batch.json()["results"]]
        assert codes.count(429) >= 6, codes  # 5 a minute: the batch took one, items the rest
        limited = next(r for r in batch.json()["results"] if r["status"] == 429)
        assert limited["body"]["type"].endswith("too-many-requests")
