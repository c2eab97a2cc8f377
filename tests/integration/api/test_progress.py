"""Progress over HTTP: who may read it, what it says, and as it stood on a past date."""

from __future__ import annotations

from tests.integration.api.flow import HOSPITAL, LEADER_H, VEILEDER, World, appoint, ok, set_up


async def record_hospital_year(api, world, doctor_id: str) -> None:  # type: ignore[no-untyped-def]
    base = f"/api/v1/doctors/{doctor_id}"
    period = await ok(
        await api.post(
            f"{base}/service-periods",
            headers=world.hospital,
            json={
                "org_number": HOSPITAL,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2024-01-01",
                "end": "2024-12-31",
            },
        )
    )
    await ok(
        await api.post(
            f"{base}/service-periods/{period['period_id']}/absences",
            headers=world.hospital,
            json={"kind": "sick_leave", "start": "2024-03-01", "end": "2024-03-10"},
        )
    )
    await appoint(api, base, world.hospital, "2024-01-01")
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
    await ok(
        await api.post(
            f"{base}/approvals",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "approver_hpr": LEADER_H,
                "org_number": HOSPITAL,
                "approved_on": "2024-06-01",
            },
        )
    )


def objective(progress: dict, objective_id: str) -> dict:  # type: ignore[type-arg]
    for part in progress["parts"]:
        for item in part["objectives"]:
            if item["objective_id"] == objective_id:
                return item  # type: ignore[no-any-return]
    raise AssertionError(f"{objective_id} not in progress")


async def test_progress_now_and_as_of_a_past_date(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await record_hospital_year(api, world, doctor_id)
    now = await api.get(f"/api/v1/doctors/{doctor_id}/progress", headers=world.doctor)
    assert now.status_code == 200, now.text
    body = now.json()
    # registered, the hospital's relation, period, absence, veileder, assessment, approval
    assert now.headers["etag"] == '"7"'
    assert objective(body, "KLS-001")["status"] == "approved"
    assert objective(body, "KLS-001")["approved_by_hpr"] == LEADER_H
    hospital = next(b for b in body["time"] if b["block"] == "part1_hospital")
    assert hospital["calendar_days"] == 366  # 2024 is a leap year
    assert hospital["deductible_absence_days"] == 10
    assert hospital["absence_deducted_days"] == 0  # within 10 % (R8)
    assert any(b["rule"] == "R1" for b in body["blockers"])  # no municipal half-year yet
    past = (
        await api.get(
            f"/api/v1/doctors/{doctor_id}/progress?as_of=2024-05-25", headers=world.doctor
        )
    ).json()
    assert objective(past, "KLS-001")["status"] == "assessed_achieved"
    assert past["as_of"] == "2024-05-25"
    mine = await api.get("/api/v1/me/progress", headers=world.doctor)
    assert mine.status_code == 200 and mine.json()["doctor_id"] == doctor_id


async def test_progress_readers(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await record_hospital_year(api, world, doctor_id)
    path = f"/api/v1/doctors/{doctor_id}/progress"
    for headers, status in [
        (world.doctor, 200),
        (world.hospital, 200),
        (world.caseworker, 200),
        (world.admin, 200),
        (world.municipality, 403),
        (world.other_org, 403),
        (world.other_doctor, 403),
    ]:
        assert (await api.get(path, headers=headers)).status_code == status
    assert (await api.get("/api/v1/me/progress", headers=world.hospital)).status_code == 403


async def test_what_if_under_the_2024_proposal(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    path = f"/api/v1/doctors/{doctor_id}/progress"
    proposed = await api.get(f"{path}?rule_set=proposed-2024", headers=world.doctor)
    assert proposed.status_code == 200, proposed.text
    unknown = await api.get(f"{path}?rule_set=nonsense", headers=world.doctor)
    assert unknown.status_code == 400 and unknown.json()["field"] == "rule_set"


async def test_worklist_and_progress_page(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await ok(
        await api.post(
            f"{base}/service-periods",
            headers=world.hospital,
            json={
                "org_number": HOSPITAL,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2020-01-01",
            },
        )
    )
    # A supervisør assesses (R5); the doctor still has no veileder (R14, the work list).
    await appoint(api, base, world.hospital, "2020-01-01", role="clinical_supervisor")
    await ok(
        await api.post(
            f"{base}/assessments",
            headers=world.hospital,
            json={
                "objective_id": "KLS-002",
                "assessor_hpr": VEILEDER,
                "assessor_role": "clinical_supervisor",
                "outcome": "achieved",
                "assessed_on": "2020-05-20",
            },
        )
    )
    worklist = await api.get(f"/api/v1/organisations/{HOSPITAL}/worklist", headers=world.hospital)
    assert worklist.status_code == 200, worklist.text
    body = worklist.json()
    assert [i["doctor_id"] for i in body["in_service"]] == [doctor_id]
    assert [i["doctor_id"] for i in body["without_veileder"]] == [doctor_id]
    assert [i["objective_id"] for i in body["assessed_not_approved"]] == ["KLS-002"]
    assert [i["doctor_id"] for i in body["without_plan"]] == [doctor_id]  # R17
    assert (
        await api.get(f"/api/v1/organisations/{HOSPITAL}/worklist", headers=world.municipality)
    ).status_code == 403
    page = await api.get("/api/v1/me/progress/page", headers=world.doctor)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Min spesialistutdanning" in page.text and "Test Testesen" in page.text
    assert "KLS-002" in page.text


async def test_application_refused_with_blockers_while_not_ready_R6(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    await record_hospital_year(api, world, doctor_id)
    response = await api.post(
        f"/api/v1/doctors/{doctor_id}/applications",
        headers=world.doctor,
        json={"specialty": "allmennmedisin"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["rule"] == "R6"
    rules = {b["rule"] for b in problem["blockers"]}
    assert {"R1", "R6"} <= rules, rules
    assert all(b["message"] and b["clears_by"] for b in problem["blockers"])
    # Only the doctor applies; nobody else may, and the queue is the caseworkers'.
    for headers in (world.hospital, world.other_doctor, world.caseworker):
        refused = await api.post(
            f"/api/v1/doctors/{doctor_id}/applications",
            headers=headers,
            json={"specialty": "allmennmedisin"},
        )
        assert refused.status_code == 403
    assert (await api.get("/api/v1/applications", headers=world.caseworker)).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert (await api.get("/api/v1/applications", headers=world.doctor)).status_code == 403
