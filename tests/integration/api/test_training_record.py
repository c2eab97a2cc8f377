"""The training year over HTTP (issue 15): activity -> sign-off -> assessment citing it ->
approval; meetings -> R12 hours -> progress; bad input refused with nothing stored; and who
may read a meeting's notes, for every role."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from services.store.database import create_engine
from tests.integration.api.flow import (
    HOSPITAL,
    LEADER_H,
    MUNICIPALITY,
    OTHER,
    VEILEDER,
    World,
    ok,
    set_up,
)
from tests.integration.api.test_progress import objective

NOTES = "Snakket om vaktbelastning og plan for prosedyrer; LIS er sliten."


async def version_of(api: Any, world: World, doctor_id: str) -> str:
    r = await api.get(f"/api/v1/doctors/{doctor_id}/progress", headers=world.doctor)
    assert r.status_code == 200, r.text
    return str(r.headers["etag"])


async def hospital_year(api: Any, world: World, doctor_id: str, **period: Any) -> None:
    base = f"/api/v1/doctors/{doctor_id}"
    body = {
        "org_number": HOSPITAL,
        "part": 1,
        "arena": "hospital",
        "position": "LIS1",
        "fte_percent": 100,
        "start": "2024-01-01",
        "end": "2024-12-31",
        **period,
    }
    await ok(await api.post(f"{base}/service-periods", headers=world.hospital, json=body))
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={
                "hpr_number": VEILEDER,
                "role": "veileder",
                "valid_from": body["start"],
                "part": body["part"],
                "specialty": body.get("specialty"),
                "specialist_in": body.get("specialty"),
            },
        )
    )


async def test_activity_sign_off_assessment_citing_it_and_approval(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await hospital_year(api, world, doctor_id)
    base = f"/api/v1/doctors/{doctor_id}"
    made = await ok(
        await api.post(
            f"{base}/learning-activities",
            headers=world.doctor,
            json={
                "kind": "procedure",
                "date": "2024-03-05",
                "objective_ids": ["KLS-001"],
                "description": "Akuttmottak: vurdering av ustabil pasient",
            },
        )
    )
    activity_id = made["activity_id"]
    await ok(
        await api.post(
            f"{base}/learning-activities/{activity_id}/sign-off",
            headers=world.hospital,
            json={"signed_by_hpr": VEILEDER, "signed_on": "2024-03-06", "comment": "Trygt"},
        )
    )
    await ok(
        await api.post(
            f"{base}/assessments",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "assessor_hpr": VEILEDER,
                "assessor_role": "veileder",
                "outcome": "achieved",
                "assessed_on": "2024-04-01",
                "activity_ids": [activity_id],
            },
        )
    )
    await ok(
        await api.post(
            f"{base}/approvals",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "approver_hpr": LEADER_H,
                "org_number": HOSPITAL,
                "approved_on": "2024-05-01",
            },
        )
    )
    progress = (await api.get(f"{base}/progress", headers=world.doctor)).json()
    kls = objective(progress, "KLS-001")
    assert kls["status"] == "approved"
    assert kls["cited_activity_ids"] == [activity_id]
    [seen] = kls["activities"]
    assert seen["activity_id"] == activity_id and seen["signed_off"] is True
    assert (seen["signed_by_hpr"], seen["signed_on"]) == (VEILEDER, "2024-03-06")
    assert objective(progress, "KLS-002")["activities"] == []
    listed = await ok(await api.get(f"{base}/learning-activities", headers=world.caseworker), 200)
    assert [(a["activity_id"], a["recorded_by"], a["signed_off"]) for a in listed] == [
        (activity_id, "doctor", True)
    ]


async def test_bad_activities_and_sign_offs_are_refused_with_nothing_stored(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await hospital_year(api, world, doctor_id)
    base = f"/api/v1/doctors/{doctor_id}"
    activity = {
        "kind": "course",
        "date": "2024-03-05",
        "objective_ids": ["KLS-001"],
        "description": "Kurs i akuttmedisin",
    }
    made = await ok(
        await api.post(f"{base}/learning-activities", headers=world.hospital, json=activity)
    )
    before = await version_of(api, world, doctor_id)
    outside = await api.post(
        f"{base}/learning-activities",
        headers=world.doctor,
        json={**activity, "objective_ids": ["KLS-001", "XYZ-404"]},
    )
    assert outside.status_code == 422, outside.text
    assert outside.headers["content-type"].startswith("application/problem+json")
    assert "objective_ids" in outside.json()["detail"] and "XYZ-404" in outside.json()["detail"]
    sign_off = f"{base}/learning-activities/{made['activity_id']}/sign-off"
    nobody = await api.post(
        sign_off,
        headers=world.hospital,
        json={"signed_by_hpr": "1999999", "signed_on": "2024-03-06"},
    )
    assert nobody.status_code == 422, nobody.text
    assert "signed_by_hpr" in nobody.json()["detail"]
    early = await api.post(
        sign_off,
        headers=world.hospital,
        json={"signed_by_hpr": VEILEDER, "signed_on": "2024-03-04"},
    )
    assert early.status_code == 422, early.text
    assert "signed_on" in early.json()["detail"]
    bad_kind = await api.post(
        f"{base}/learning-activities", headers=world.doctor, json={**activity, "kind": "nap"}
    )
    assert bad_kind.status_code in (400, 422) and "kind" in bad_kind.json()["detail"]
    unknown = await api.post(
        f"{base}/learning-activities/no-such-activity/sign-off",
        headers=world.hospital,
        json={"signed_by_hpr": VEILEDER, "signed_on": "2024-03-06"},
    )
    assert unknown.status_code in (404, 422) and "activity_id" in unknown.json()["detail"]
    assert await version_of(api, world, doctor_id) == before
    # Only employers record the sign-off; the doctor cannot sign off their own activity.
    own = await api.post(
        sign_off, headers=world.doctor, json={"signed_by_hpr": VEILEDER, "signed_on": "2024-03-06"}
    )
    assert own.status_code == 403
    stranger = await api.post(f"{base}/learning-activities", headers=world.other_org, json=activity)
    assert stranger.status_code == 403


async def test_meetings_feed_r12_hours_and_show_group_supervision(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await hospital_year(
        api, world, doctor_id, part=2, specialty="allmennmedisin", start="2024-01-01", end=None
    )
    base = f"/api/v1/doctors/{doctor_id}"
    await ok(
        await api.post(
            f"{base}/supervision-hours",
            headers=world.hospital,
            json={"month": "2024-01", "hours": 1.5},
        )
    )
    for who, held_on, minutes, kind in [
        (world.hospital, "2024-01-10", 90, "individual"),
        (world.doctor, "2024-01-24", 60, "individual"),
        (world.doctor, "2024-01-26", 120, "group"),
    ]:
        answer = await ok(
            await api.post(
                f"{base}/supervision-meetings",
                headers=who,
                json={
                    "held_on": held_on,
                    "minutes": minutes,
                    "kind": kind,
                    "veileder_hpr": VEILEDER,
                },
            )
        )
        assert answer["meeting_id"]
    progress = (
        await api.get(f"{base}/progress", params={"as_of": "2024-02-01"}, headers=world.doctor)
    ).json()
    assert progress["supervision"]["hours"] == 4.0  # 1.5 logged + 1.5 + 1.0 in meetings
    assert progress["supervision_meetings"] == {
        "individual_meetings": 2,
        "individual_hours": 2.5,
        "group_sessions": 1,
        "group_hours": 2.0,
    }
    too_long = await api.post(
        f"{base}/supervision-meetings",
        headers=world.hospital,
        json={"held_on": "2024-01-10", "minutes": 2000, "kind": "group", "veileder_hpr": VEILEDER},
    )
    assert too_long.status_code in (400, 422) and "minutes" in too_long.json()["detail"]


# Every role that can hold a token, and whether it reads the notes. The veileder belongs to
# the hospital; the municipality also employs the doctor but is not the veileder's.
ROLES = {
    "doctor": (200, True),
    "hospital": (200, True),
    "municipality": (200, False),
    "caseworker": (200, False),
    "admin": (200, False),
    "other_org": (403, False),
    "other_doctor": (403, False),
}


@pytest.fixture
async def meeting_with_notes(api, issuer, database_url):  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await hospital_year(api, world, doctor_id)
    await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/service-periods",
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
    # The hospital registered the doctor; the municipality's relation is a claim until the
    # doctor confirms it (issue 13), and a claimed organisation records no meetings.
    await ok(
        await api.post(
            f"/api/v1/me/organisations/{MUNICIPALITY}/confirmation", headers=world.doctor
        ),
        200,
    )
    made = await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/supervision-meetings",
            headers=world.doctor,
            json={
                "held_on": "2024-02-01",
                "minutes": 45,
                "kind": "individual",
                "veileder_hpr": VEILEDER,
                "notes": NOTES,
            },
        )
    )
    return world, doctor_id, made["meeting_id"]


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_meeting_notes_are_read_only_by_the_doctor_and_the_veileders_organisation(  # type: ignore[no-untyped-def]
    api, meeting_with_notes, role
) -> None:
    world, doctor_id, meeting_id = meeting_with_notes
    status, reads_notes = ROLES[role]
    headers = getattr(world, role)
    for path in ("supervision-meetings", "progress"):
        r = await api.get(f"/api/v1/doctors/{doctor_id}/{path}", headers=headers)
        assert r.status_code == status, (path, r.text)
        # The notes appear in this answer exactly when this role may read them.
        assert (NOTES in r.text) is (reads_notes and path == "supervision-meetings"), path
    if status == 200:
        [meeting] = (
            await api.get(f"/api/v1/doctors/{doctor_id}/supervision-meetings", headers=headers)
        ).json()
        assert meeting["meeting_id"] == meeting_id and meeting["has_notes"] is True
        assert meeting["org_number"] == HOSPITAL and meeting["notes_readable"] is reads_notes
        assert (meeting["notes"] == NOTES) is reads_notes
    events = await api.get(f"/api/v1/doctors/{doctor_id}/events", headers=headers)
    assert NOTES not in events.text


async def test_notes_are_kept_out_of_events_and_erased_with_the_person(  # type: ignore[no-untyped-def]
    api, meeting_with_notes, database_url
) -> None:
    world, doctor_id, _ = meeting_with_notes
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            in_events = await conn.scalar(
                text("SELECT count(*) FROM events WHERE data::text LIKE :n"),
                {"n": "%vaktbelastning%"},
            )
            assert in_events == 0
        await ok(await api.post(f"/api/v1/doctors/{doctor_id}/erasure", headers=world.admin), 200)
        async with engine.connect() as conn:
            left = await conn.scalar(
                text(
                    "SELECT count(*) FROM meeting_notes WHERE doctor_id = :d AND notes IS NOT NULL"
                ),
                {"d": doctor_id},
            )
            assert left == 0
    finally:
        await engine.dispose()
    assert OTHER  # the third organisation of the world reads nothing (ROLES above)


async def test_education_plan_versions_plan_against_reality_and_the_worklist(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await hospital_year(api, world, doctor_id, start="2025-01-01", end="2099-12-31")
    base = f"/api/v1/doctors/{doctor_id}"
    worklist = f"/api/v1/organisations/{HOSPITAL}/worklist"
    before = await ok(await api.get(worklist, headers=world.hospital), 200)
    assert [i["doctor_id"] for i in before["without_plan"]] == [doctor_id]
    period = {
        "part": 1,
        "arena": "hospital",
        "org_number": HOSPITAL,
        "start": "2025-01-01",
        "end": "2025-06-30",
        "fte_percent": 100,
        "objective_ids": ["KLS-001"],
    }
    first = await ok(
        await api.put(f"{base}/education-plan", headers=world.hospital, json={"periods": [period]}),
        200,
    )
    assert first["plan_version"] == 1
    second = await ok(
        await api.put(
            f"{base}/education-plan",
            headers=world.hospital,
            json={"periods": [{**period, "end": "2099-12-31", "objective_ids": []}]},
        ),
        200,
    )
    assert second["plan_version"] == 2
    after = await ok(await api.get(worklist, headers=world.hospital), 200)
    assert after["without_plan"] == []
    latest = await ok(await api.get(f"{base}/education-plan", headers=world.doctor), 200)
    assert (latest["plan_version"], latest["periods"][0]["end"]) == (2, "2099-12-31")
    old = await ok(
        await api.get(f"{base}/education-plan", params={"version": 1}, headers=world.hospital), 200
    )
    assert (old["plan_version"], old["periods"][0]["end"]) == (1, "2025-06-30")
    missing = await api.get(f"{base}/education-plan", params={"version": 3}, headers=world.doctor)
    assert missing.status_code == 404 and "version" in missing.json()["detail"]
    for outsider in (world.other_org, world.other_doctor, world.caseworker):
        assert (await api.get(f"{base}/education-plan", headers=outsider)).status_code == 403
    not_ours = await api.put(
        f"{base}/education-plan",
        headers=world.hospital,
        json={"periods": [{**period, "org_number": MUNICIPALITY}]},
    )
    assert not_ours.status_code == 422 and "periods[0].org_number" in not_ours.json()["detail"]
    progress = await ok(
        await api.get(f"{base}/progress", params={"as_of": "2025-03-01"}, headers=world.doctor),
        200,
    )
    [part1] = progress["plan"]
    assert (part1["part"], part1["plan_version"], part1["status"]) == (1, 2, "on_track")
    assert (await api.get(f"{base}/education-plan", headers=world.doctor)).json()[
        "plan_version"
    ] == 2  # the refused PUT stored nothing


async def test_the_training_endpoints_are_documented_in_openapi(api) -> None:  # type: ignore[no-untyped-def]
    paths = (await ok(await api.get("/schema/openapi.json"), 200))["paths"]
    doctor = "/api/v1/doctors/{doctor_id}"
    expected = {
        f"{doctor}/learning-activities": {"get", "post"},
        f"{doctor}/learning-activities/{{activity_id}}/sign-off": {"post"},
        f"{doctor}/supervision-meetings": {"get", "post"},
        f"{doctor}/education-plan": {"get", "put"},
        "/api/v1/me/export": {"get"},
        "/api/v1/me/export/page": {"get"},
        "/saksbehandling": {"get"},
        "/saksbehandling/soknader/{application_id}": {"get"},
        "/saksbehandling/soknader/{application_id}/vedtak": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    for path in (
        "/api/v1/me/export/page",
        "/saksbehandling",
        "/saksbehandling/soknader/{application_id}",
    ):
        assert "text/html" in paths[path]["get"]["responses"]["200"]["content"], path
    form = paths["/saksbehandling/soknader/{application_id}/vedtak"]["post"]["requestBody"]
    assert "application/x-www-form-urlencoded" in form["content"]


async def test_institutions_are_listed_with_their_registrations_by_specialty(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    await set_up(api, world)
    await ok(
        await api.post(
            f"/api/v1/organisations/{HOSPITAL}/registrations",
            headers=world.admin,
            json={"specialty": "indremedisin", "valid_from": "2019-03-01"},
        )
    )
    await ok(
        await api.post(
            f"/api/v1/organisations/{MUNICIPALITY}/registrations",
            headers=world.admin,
            json={"specialty": "allmennmedisin", "valid_from": "2019-03-01"},
        )
    )
    everyone = await ok(await api.get("/api/v1/organisations", headers=world.doctor), 200)
    assert [o["org_number"] for o in everyone] == sorted([HOSPITAL, MUNICIPALITY, OTHER])
    gp = await ok(
        await api.get(
            "/api/v1/organisations", params={"specialty": "allmennmedisin"}, headers=world.hospital
        ),
        200,
    )
    assert [(o["org_number"], o["name"]) for o in gp] == [(MUNICIPALITY, "Testvik kommune")]
    [registration] = gp[0]["registrations"]
    assert registration["specialty"] == "allmennmedisin" and registration["valid_now"] is True
    bad = await api.get("/api/v1/organisations", params={"specialty": "X!"}, headers=world.admin)
    assert bad.status_code == 400 and "specialty" in bad.json()["detail"]
    assert (await api.get("/api/v1/organisations")).status_code == 401
