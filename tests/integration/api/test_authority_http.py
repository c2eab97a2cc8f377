"""The findings of issue "Authority and provenance" over HTTP, against real PostgreSQL: each
fact only from the party entitled to it (refused with nothing stored), facts that lose their
basis flagged, time anchors, and the lifecycle endpoints (corrections, retractions,
withdrawal of an exception, the end of a supervisor assignment, R16 registrations)."""

from __future__ import annotations

from typing import Any

from tests.integration.api.flow import (
    HOSPITAL,
    LEADER_H,
    MUNICIPALITY,
    VEILEDER,
    World,
    ok,
    set_up,
)


async def problem(response: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


async def version(api: Any, base: str, world: World) -> int:
    events = await ok(await api.get(f"{base}/events", headers=world.admin), 200)
    return len(events["items"])


async def blockers(api: Any, base: str, world: World, query: str = "") -> list[dict[str, Any]]:
    progress = await ok(await api.get(f"{base}/progress{query}", headers=world.hospital), 200)
    return list(progress["blockers"])


def codes(items: list[dict[str, Any]]) -> set[str]:
    return {b["code"] for b in items}


async def period(api: Any, base: str, headers: dict[str, str], **body: Any) -> str:
    fields: dict[str, Any] = {
        "org_number": HOSPITAL,
        "part": 1,
        "arena": "hospital",
        "position": "LIS1",
        "fte_percent": 100,
        "start": "2023-07-01",
        "end": "2024-06-30",
    }
    fields.update(body)
    created = await ok(await api.post(f"{base}/service-periods", headers=headers, json=fields))
    return str(created["period_id"])


async def test_R3_an_employer_cannot_waive_part_1_and_the_directorate_can_withdraw(
    api: Any, issuer: Any
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital, part=3, arena=None, specialty="indremedisin", end=None)
    before = await version(api, base, world)
    turnus = {"kind": "turnus_approved", "granted_on": "2023-07-01", "reason": "turnus"}
    await problem(
        await api.post(f"{base}/exceptions", headers=world.hospital, json=turnus), 403, "R3"
    )
    assert await version(api, base, world) == before  # nothing stored
    assert "part1_not_complete" in codes(await blockers(api, base, world))
    granted = await ok(await api.post(f"{base}/exceptions", headers=world.admin, json=turnus))
    assert "part1_not_complete" not in codes(await blockers(api, base, world))
    exception = f"{base}/exceptions/{granted['exception_id']}"
    await problem(
        await api.request("DELETE", exception, headers=world.hospital, json={"reason": "x"}), 403
    )
    await ok(
        await api.request(
            "DELETE",
            exception,
            headers=world.admin,
            json={"reason": "gitt ved en feil", "withdrawn_on": "2024-01-01"},
        ),
        200,
    )
    assert "part1_not_complete" in codes(await blockers(api, base, world))


async def test_R11_R13_dispensations_only_from_the_directorate(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(
        api,
        base,
        world.municipality,
        org_number=MUNICIPALITY,
        part=3,
        arena=None,
        specialty="allmennmedisin",
        fte_percent=40,
        open_unselected_gp=True,
        end=None,
    )
    for kind, extra, rule in (
        ("gp_fte_dispensation", {}, "R11"),
        ("veileder_dispensation", {"supervisor_hpr": VEILEDER, "valid_to": "2025-12-31"}, "R13"),
    ):
        body = {"kind": kind, "granted_on": "2023-08-01", "reason": "egen", **extra}
        await problem(
            await api.post(f"{base}/exceptions", headers=world.municipality, json=body), 403, rule
        )
        await ok(await api.post(f"{base}/exceptions", headers=world.admin, json=body))
    # "tidsavgrenset": a veileder dispensation without an end is refused.
    await problem(
        await api.post(
            f"{base}/exceptions",
            headers=world.admin,
            json={
                "kind": "veileder_dispensation",
                "granted_on": "2023-08-01",
                "reason": "x",
                "supervisor_hpr": VEILEDER,
            },
        ),
        422,
        "R13",
    )


async def test_R2_no_exception_under_the_rules_in_force(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    municipal = await period(
        api,
        base,
        world.municipality,
        org_number=MUNICIPALITY,
        arena="municipal",
        start="2023-07-01",
        end="2023-12-31",
    )
    body = {
        "kind": "sequence_part1",
        "granted_on": "2023-07-01",
        "reason": "erfaren",
        "period_id": municipal,
    }
    # Not a self-created post: neither the municipality nor the directorate may record it.
    await problem(
        await api.post(f"{base}/exceptions", headers=world.municipality, json=body), 403, "R2"
    )
    await problem(await api.post(f"{base}/exceptions", headers=world.admin, json=body), 403, "R2")
    assert "lis1_sequence" in codes(await blockers(api, base, world, "?as_of=2024-01-01"))


async def test_R5_assessments_that_cannot_count_are_refused(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital)
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={"hpr_number": VEILEDER, "role": "veileder", "valid_from": "2023-07-01"},
        )
    )

    def assessment(**kw: Any) -> dict[str, Any]:
        body = {
            "objective_id": "KLS-001",
            "assessor_hpr": VEILEDER,
            "assessor_role": "veileder",
            "outcome": "achieved",
            "assessed_on": "2024-01-10",
        }
        body.update(kw)
        return body

    before = await version(api, base, world)
    for body in (
        assessment(assessor_role="other", assessor_hpr="1000099"),
        assessment(assessor_hpr="1000099", assessor_role="clinical_supervisor"),
        assessment(assessor_hpr=LEADER_H, assessor_role="leader"),
        assessment(assessed_on="2020-05-01"),  # years before any service there
        assessment(objective_id="ALM-001"),  # another specialty's objective
    ):
        await problem(
            await api.post(f"{base}/assessments", headers=world.hospital, json=body), 422, "R5"
        )
    assert await version(api, base, world) == before
    await ok(await api.post(f"{base}/assessments", headers=world.hospital, json=assessment()))
    await ok(
        await api.post(
            f"{base}/approvals",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "approver_hpr": LEADER_H,
                "org_number": HOSPITAL,
                "approved_on": "2024-02-01",
            },
        )
    )


async def test_R5_R7_corrections_flag_approvals_and_confirmations_that_lost_their_basis(
    api: Any, issuer: Any
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    period_id = await period(api, base, world.hospital)
    # A confirmation on day 1 of a 12-month period is refused (R7).
    await problem(
        await api.post(
            f"{base}/service-periods/{period_id}/confirmation",
            headers=world.hospital,
            json={"issued_on": "2023-07-01", "signed_by_hpr": LEADER_H},
        ),
        422,
        "R7",
    )
    await ok(
        await api.post(
            f"{base}/service-periods/{period_id}/confirmation",
            headers=world.hospital,
            json={"issued_on": "2024-07-01", "signed_by_hpr": LEADER_H},
        )
    )
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={"hpr_number": VEILEDER, "role": "veileder", "valid_from": "2023-07-01"},
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
                "assessed_on": "2023-09-10",
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
                "approved_on": "2023-10-01",
            },
        )
    )
    assert not {"approval_lost_basis", "stale_confirmation"} & codes(
        await blockers(api, base, world, "?as_of=2024-08-01")
    )
    corrected = {
        "org_number": HOSPITAL,
        "part": 1,
        "arena": "hospital",
        "position": "LIS1",
        "fte_percent": 50,
        "start": "2023-11-01",
        "end": "2024-06-30",
        "reason": "feil startdato og stillingsprosent",
    }
    correction = f"{base}/service-periods/{period_id}/corrections"
    await problem(await api.post(correction, headers=world.municipality, json=corrected), 403)
    await ok(await api.post(correction, headers=world.hospital, json=corrected))
    flagged = await blockers(api, base, world, "?as_of=2024-08-01")
    assert {"approval_lost_basis", "stale_confirmation"} <= codes(flagged)
    [lost] = [b for b in flagged if b["code"] == "approval_lost_basis"]
    assert lost["rule"] == "R5" and lost["refs"] == ["KLS-001"]
    # The exact reversal: the flags clear.
    original = {
        **corrected,
        "fte_percent": 100,
        "start": "2023-07-01",
        "reason": "tilbake",
    }
    await ok(await api.post(correction, headers=world.hospital, json=original))
    assert not {"approval_lost_basis", "stale_confirmation"} & codes(
        await blockers(api, base, world, "?as_of=2024-08-01")
    )
    # Retraction: the approval loses its basis again.
    await ok(
        await api.post(
            f"{base}/service-periods/{period_id}/retractions",
            headers=world.hospital,
            json={"reason": "registrert på feil lege"},
        )
    )
    assert "approval_lost_basis" in codes(await blockers(api, base, world, "?as_of=2024-08-01"))


async def test_R7_open_never_confirmed_part_3_blocks_the_application(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(
        api, base, world.hospital, part=3, arena=None, specialty="allmennmedisin", end=None
    )
    refused = await problem(
        await api.post(
            f"{base}/applications", headers=world.doctor, json={"specialty": "allmennmedisin"}
        ),
        422,
        "R6",
    )
    assert "service_not_completed" in {b["code"] for b in refused["blockers"]}


async def test_time_anchors_R3_R9_R1_over_http(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)  # authorised 2023-06-15
    base = f"/api/v1/doctors/{doctor_id}"
    # A LIS1 period from 2015 is refused: LIS1 exists from 1 March 2017.
    await problem(
        await api.post(
            f"{base}/service-periods",
            headers=world.hospital,
            json={
                "org_number": HOSPITAL,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2015-01-01",
                "end": "2015-12-31",
            },
        ),
        422,
        "R3",
    )
    # A "hospital" period at a municipality is refused.
    await problem(
        await api.post(
            f"{base}/service-periods",
            headers=world.municipality,
            json={
                "org_number": MUNICIPALITY,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2023-07-01",
            },
        ),
        403,
        "R1",
    )
    # Service before authorisation does not count.
    await period(api, base, world.hospital, start="2023-01-01", end="2023-12-31")
    progress = await ok(
        await api.get(f"{base}/progress?as_of=2024-01-01", headers=world.doctor), 200
    )
    hospital = next(b for b in progress["time"] if b["block"] == "part1_hospital")
    assert hospital["calendar_days"] == 200  # 15 June - 31 December 2023


async def test_R13_supervisor_assignment_ends_and_its_blocker_clears(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital, part=3, arena=None, specialty="indremedisin", end=None)
    first = await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={
                "hpr_number": "1000011",
                "role": "veileder",
                "valid_from": "2023-07-01",
                "part": 3,
                "specialty": "indremedisin",
            },
        )
    )
    assert "veileder_not_qualified" in codes(await blockers(api, base, world, "?as_of=2024-01-01"))
    end = f"{base}/supervisors/{first['assignment_id']}/end"
    await problem(
        await api.post(end, headers=world.municipality, json={"valid_to": "2023-12-31"}), 403
    )
    await ok(await api.post(end, headers=world.hospital, json={"valid_to": "2023-12-31"}))
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={
                "hpr_number": "1000012",
                "role": "veileder",
                "valid_from": "2024-01-01",
                "part": 3,
                "specialty": "indremedisin",
                "specialist_in": "indremedisin",
            },
        )
    )
    assert "R13" not in {b["rule"] for b in await blockers(api, base, world, "?as_of=2024-02-01")}


async def test_R16_registrations_by_the_directorate_clear_the_flag(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital, part=3, arena=None, specialty="indremedisin", end=None)
    assert "institution_not_registered" in codes(await blockers(api, base, world))
    registration = {"specialty": "indremedisin", "valid_from": "2019-03-01"}
    path = f"/api/v1/organisations/{HOSPITAL}/registrations"
    await problem(await api.post(path, headers=world.hospital, json=registration), 403)
    created = await ok(await api.post(path, headers=world.admin, json=registration))
    assert "institution_not_registered" not in codes(await blockers(api, base, world))
    await ok(
        await api.post(
            f"{path}/{created['registration_id']}/end",
            headers=world.admin,
            json={"ended_on": "2024-06-30"},
        )
    )
    assert "institution_not_registered" in codes(
        await blockers(api, base, world, "?as_of=2024-08-01")
    )


async def test_R8_reported_lis1_widening_does_not_reach_part_3_over_http(
    api: Any, issuer: Any
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(
        api,
        base,
        world.hospital,
        part=3,
        arena=None,
        specialty="indremedisin",
        start="2023-07-01",
        end="2024-06-30",
    )
    progress = await ok(
        await api.get(
            f"{base}/progress?as_of=2024-07-01&rule_set=reported-lis1-2019", headers=world.doctor
        ),
        200,
    )
    part3 = next(b for b in progress["time"] if b["block"] == "part3")
    assert part3["absence_allowed_days"] == 36.6  # 10 % of 366 days, no LIS1 extra days


async def test_R2_under_the_2024_proposal_only_both_institutions_of_the_post_clear_it(
    api: Any, issuer: Any
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    municipal = await period(
        api,
        base,
        world.municipality,
        org_number=MUNICIPALITY,
        arena="municipal",
        start="2023-07-01",
        end="2023-12-31",
        self_created_post=True,
    )
    await period(
        api, base, world.hospital, start="2024-01-01", end="2024-12-31", self_created_post=True
    )
    body = {
        "kind": "sequence_part1",
        "granted_on": "2023-07-01",
        "reason": "relevant erfaring",
        "period_id": municipal,
    }
    proposed = "?as_of=2025-01-01&rule_set=proposed-2024"
    await problem(await api.post(f"{base}/exceptions", headers=world.other_org, json=body), 403)
    await ok(await api.post(f"{base}/exceptions", headers=world.municipality, json=body))
    assert "lis1_sequence" in codes(await blockers(api, base, world, proposed))
    await ok(await api.post(f"{base}/exceptions", headers=world.hospital, json=body))
    assert "lis1_sequence" not in codes(await blockers(api, base, world, proposed))
    assert "lis1_sequence" in codes(await blockers(api, base, world, "?as_of=2025-01-01"))


async def test_R5_the_approving_leaders_own_assessment_does_not_count(
    api: Any, issuer: Any
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital)
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=world.hospital,
            json={
                "hpr_number": LEADER_H,
                "role": "clinical_supervisor",
                "valid_from": "2023-07-01",
            },
        )
    )
    await ok(
        await api.post(
            f"{base}/assessments",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "assessor_hpr": LEADER_H,
                "assessor_role": "clinical_supervisor",
                "outcome": "achieved",
                "assessed_on": "2023-09-01",
            },
        )
    )
    await problem(
        await api.post(
            f"{base}/approvals",
            headers=world.hospital,
            json={
                "objective_id": "KLS-001",
                "approver_hpr": LEADER_H,
                "org_number": HOSPITAL,
                "approved_on": "2023-10-01",
            },
        ),
        422,
        "R5",
    )


async def test_R19_and_foreign_credit_from_the_directorate_only(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(
        api, base, world.hospital, part=3, arena=None, specialty="allmennmedisin", end=None
    )
    exemption = {"kind": "eu_eos_exemption", "granted_on": "2023-07-01", "reason": "EØS"}
    credit = {
        "kind": "foreign_credit",
        "granted_on": "2023-07-01",
        "reason": "§ 32",
        "credit_months": 24,
    }
    for body, rule in ((exemption, "R19"), (credit, "R3")):
        await problem(
            await api.post(f"{base}/exceptions", headers=world.hospital, json=body), 403, rule
        )
    query = "?as_of=2024-01-01&specialty=allmennmedisin"
    before = await ok(await api.get(f"{base}/progress{query}", headers=world.doctor), 200)
    assert any(
        b["code"] == "objectives_not_approved" and b["part"] == 1 for b in before["blockers"]
    )
    await ok(await api.post(f"{base}/exceptions", headers=world.admin, json=exemption))
    await ok(await api.post(f"{base}/exceptions", headers=world.admin, json=credit))
    after = await ok(await api.get(f"{base}/progress{query}", headers=world.doctor), 200)
    assert not any(
        b["code"] == "objectives_not_approved" and b["part"] == 1 for b in after["blockers"]
    )
    assert after["total"]["foreign_credit_months"] == 24
    assert after["total"]["required_days"] < before["total"]["required_days"]
