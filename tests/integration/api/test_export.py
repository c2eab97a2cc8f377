""" "Last ned min utdanning" (issue 15): the doctor's whole record as JSON and as a printable
page (rendered in headless Chromium); for the doctor's own token only."""

from __future__ import annotations

from tests.e2e.browser import render
from tests.integration.api.flow import HOSPITAL, VEILEDER, World, ok, set_up
from tests.integration.api.test_training_record import NOTES, hospital_year


async def doctor_with_a_year(api, world: World) -> str:  # type: ignore[no-untyped-def]
    doctor_id = await set_up(api, world)
    await hospital_year(api, world, doctor_id)
    base = f"/api/v1/doctors/{doctor_id}"
    made = await ok(
        await api.post(
            f"{base}/learning-activities",
            headers=world.doctor,
            json={
                "kind": "course",
                "date": "2024-02-01",
                "objective_ids": ["KLS-001"],
                "description": "Kurs i akuttmedisin",
            },
        )
    )
    await ok(
        await api.post(
            f"{base}/learning-activities/{made['activity_id']}/sign-off",
            headers=world.hospital,
            json={"signed_by_hpr": VEILEDER, "signed_on": "2024-02-02"},
        )
    )
    await ok(
        await api.post(
            f"{base}/supervision-meetings",
            headers=world.hospital,
            json={
                "held_on": "2024-02-05",
                "minutes": 60,
                "kind": "individual",
                "veileder_hpr": VEILEDER,
                "notes": NOTES,
            },
        )
    )
    return doctor_id


async def test_the_doctor_exports_the_whole_record_as_json(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await doctor_with_a_year(api, world)
    await ok(await api.get(f"/api/v1/doctors/{doctor_id}/progress", headers=world.hospital), 200)
    record = await ok(await api.get("/api/v1/me/export", headers=world.doctor), 200)
    assert record["doctor_id"] == doctor_id and record["name"] == "Test Testesen"
    types = [e["type"] for e in record["events"]]
    assert types[0] == "doctor.registered"
    assert "doctor.learning_activity_signed_off" in types
    assert "doctor.supervision_meeting_held" in types
    assert [e["version"] for e in record["events"]] == list(range(1, len(types) + 1))
    assert record["progress"]["doctor_id"] == doctor_id
    [activity] = record["activities"]
    assert activity["description"] == "Kurs i akuttmedisin" and activity["signed_off"] is True
    [meeting] = record["meetings"]
    assert meeting["notes"] == NOTES  # the doctor's own notes go with the export
    assert any(
        a["org_number"] == HOSPITAL and a["action"] == "read:progress" for a in record["access_log"]
    ), record["access_log"]
    for other in (world.hospital, world.caseworker, world.admin):
        assert (await api.get("/api/v1/me/export", headers=other)).status_code == 403
    stranger = await api.get("/api/v1/me/export", headers=world.other_doctor)
    assert stranger.status_code == 200 and stranger.json()["meetings"] == []


async def test_the_printable_export_page(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    await doctor_with_a_year(api, world)
    response = await api.get("/api/v1/me/export/page", headers=world.doctor)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    dom = render(response.text, "export-page")
    for text in ("Min utdanning", "Kurs i akuttmedisin", "Individuell veiledning", NOTES):
        assert text in dom, text
    assert "doctor.learning_activity_recorded" in dom and "Innsynslogg" in dom
    assert (await api.get("/api/v1/me/export/page", headers=world.caseworker)).status_code == 403
