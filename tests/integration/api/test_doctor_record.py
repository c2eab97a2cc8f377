"""A doctor's record over HTTP: employers write what happened, the domain decides, and no
one reaches another organisation's or another doctor's data."""

from __future__ import annotations

from sqlalchemy import text

from services.store.database import create_engine
from tests.integration.api.flow import (
    DOCTOR_HPR,
    HOSPITAL,
    LEADER_H,
    MUNICIPALITY,
    PERIOD,
    VEILEDER,
    World,
    appoint,
    ok,
    set_up,
)


async def stored_events(database_url: str, stream_id: str) -> list[tuple[str, str]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT type, data::text FROM events WHERE stream_id = :s ORDER BY version"),
                {"s": stream_id},
            )
            return [(row[0], row[1]) for row in rows]
    finally:
        await engine.dispose()


async def test_employer_records_service_assessment_and_approval_R5(  # type: ignore[no-untyped-def]
    api, issuer, database_url
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    period = await ok(
        await api.post(f"{base}/service-periods", headers=world.hospital, json=PERIOD)
    )
    await ok(
        await api.post(
            f"{base}/service-periods/{period['period_id']}/absences",
            headers=world.hospital,
            json={"kind": "sick_leave", "start": "2024-03-01", "end": "2024-03-10"},
        )
    )
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={"hpr_number": VEILEDER, "role": "veileder", "valid_from": "2024-01-01"},
        )
    )
    # R5: approval before an "achieved" assessment is rejected and stores nothing.
    before = len(await stored_events(database_url, doctor_id))
    refused = await api.post(
        f"{base}/approvals",
        headers=world.hospital,
        json={
            "objective_id": "KLS-001",
            "approver_hpr": LEADER_H,
            "org_number": HOSPITAL,
            "approved_on": "2024-06-01",
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "R5"
    assert len(await stored_events(database_url, doctor_id)) == before
    await ok(
        await api.post(
            f"{base}/assessments",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "assessor_hpr": VEILEDER,
                "assessor_role": "veileder",
                "outcome": "achieved",
                "assessed_on": "2024-05-20",
            },
        )
    )
    approved = await api.post(
        f"{base}/approvals",
        headers=world.hospital,
        json={
            "objective_id": "KLS-001",
            "approver_hpr": LEADER_H,
            "org_number": HOSPITAL,
            "approved_on": "2024-06-01",
        },
    )
    assert approved.status_code == 201, approved.text
    types = [t for t, _ in await stored_events(database_url, doctor_id)]
    assert types == [
        "doctor.registered",
        "doctor.organisation_related",  # the registering hospital's relation
        "doctor.service_period_recorded",
        "doctor.absence_logged",
        "doctor.supervisor_assigned",
        "doctor.objective_assessed",
        "doctor.objective_approved",
    ]
    # Personal data never reaches the event payloads.
    for _, data in await stored_events(database_url, doctor_id):
        assert "15076500565" not in data and "Testesen" not in data and DOCTOR_HPR not in data


async def test_unknown_objective_and_impossible_dates_are_rejected(  # type: ignore[no-untyped-def]
    api, issuer, database_url
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    bad_period = await api.post(
        f"{base}/service-periods",
        headers=world.hospital,
        json={
            "org_number": HOSPITAL,
            "part": 1,
            "arena": "hospital",
            "position": "LIS1",
            "fte_percent": 100,
            "start": "2024-12-31",
            "end": "2024-01-01",
        },
    )
    assert bad_period.status_code in (400, 422) and "end" in bad_period.json()["detail"]
    impossible = await api.post(
        f"{base}/service-periods",
        headers=world.hospital,
        json={
            "org_number": HOSPITAL,
            "part": 1,
            "arena": "hospital",
            "position": "LIS1",
            "fte_percent": 100,
            "start": "2024-02-30",
        },
    )
    assert impossible.status_code == 400 and "start" in impossible.json()["detail"]
    unknown = await api.post(
        f"{base}/assessments",
        headers=world.hospital,
        json={
            "objective_id": "KLS-999",
            "assessor_hpr": VEILEDER,
            "assessor_role": "veileder",
            "outcome": "achieved",
            "assessed_on": "2024-05-20",
        },
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "objective_id"
    assert [t for t, _ in await stored_events(database_url, doctor_id)] == [
        "doctor.registered",
        "doctor.organisation_related",
    ]


async def test_stale_if_match_is_a_conflict(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    body = {
        "org_number": HOSPITAL,
        "part": 1,
        "arena": "hospital",
        "position": "LIS1",
        "fte_percent": 50,
        "start": "2024-01-01",
        "end": "2024-06-30",
    }
    first = await api.post(
        f"/api/v1/doctors/{doctor_id}/service-periods",
        headers={**world.hospital, "If-Match": '"2"'},
        json=body,
    )
    assert first.status_code == 201 and first.headers["etag"] == '"3"'
    stale = await api.post(
        f"/api/v1/doctors/{doctor_id}/service-periods",
        headers={**world.hospital, "If-Match": '"2"'},
        json=body,
    )
    assert stale.status_code == 409 and stale.json()["field"] == "If-Match"


async def test_no_one_reaches_someone_elses_record(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    assessment = {
        "objective_id": "KLS-001",
        "assessor_hpr": VEILEDER,
        "assessor_role": "veileder",
        "outcome": "achieved",
        "assessed_on": "2024-05-20",
    }
    # An organisation where the doctor never served cannot write or read.
    assert (
        await api.post(f"{base}/assessments", headers=world.municipality, json=assessment)
    ).status_code == 403
    # Nor claim service at another organisation.
    other_org_period = await api.post(
        f"{base}/service-periods",
        headers=world.municipality,
        json={
            "org_number": HOSPITAL,
            "part": 1,
            "arena": "hospital",
            "position": "LIS1",
            "fte_percent": 100,
            "start": "2024-01-01",
        },
    )
    assert other_org_period.status_code == 403
    # The audit trail and access log: the doctor and the directorate only.
    for headers, expected in [
        (world.doctor, 200),
        (world.caseworker, 200),
        (world.other_doctor, 403),
        (world.hospital, 403),
        (world.municipality, 403),
    ]:
        for path in ("events", "access-log"):
            response = await api.get(f"{base}/{path}", headers=headers)
            assert response.status_code == expected, (path, headers, response.text)
    # An unknown doctor is a 404, not a 403.
    assert (
        await api.get("/api/v1/doctors/unknown/events", headers=world.caseworker)
    ).status_code == 404
    # Once the municipality records its own service, the doctor is its doctor too.
    await ok(
        await api.post(
            f"{base}/service-periods",
            headers=world.municipality,
            json={
                "org_number": MUNICIPALITY,
                "part": 1,
                "arena": "municipal",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2025-01-01",
                "end": "2025-06-30",
            },
        )
    )
    await appoint(api, base, world.municipality, "2025-01-01")
    assert (
        await api.post(
            f"{base}/assessments",
            headers=world.municipality,
            json={**assessment, "objective_id": "KLK-001", "assessed_on": "2025-03-01"},
        )
    ).status_code == 201


async def test_access_log_records_who_read_and_wrote(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={"hpr_number": VEILEDER, "role": "veileder", "valid_from": "2024-01-01"},
        )
    )
    await api.get(f"{base}/events", headers=world.caseworker)
    await api.get(f"{base}/events", headers=world.other_doctor)
    log = (await api.get(f"{base}/access-log", headers=world.doctor)).json()["items"]
    seen = [(e["actor_kind"], e["action"], e["status"]) for e in log]
    assert ("organisation", "write:supervisors", 201) in seen
    assert ("caseworker", "read:events", 200) in seen
    assert ("person", "read:events", 403) in seen
    events = (await api.get(f"{base}/events", headers=world.doctor)).json()["items"]
    assert events[-1]["actor"]["org_number"] == HOSPITAL
    assert events[-1]["request_id"]
