"""Errors say what is wrong for the caller's role and name the rule once (issue 13)."""

from __future__ import annotations

from tests.integration.api.flow import HOSPITAL, LEADER_H, World, set_up

APPROVAL = {
    "objective_id": "KLS-001",
    "approver_hpr": LEADER_H,
    "org_number": HOSPITAL,
    "approved_on": "2024-06-01",
}


async def test_errors_name_the_caller_s_problem_the_field_and_the_rule_once(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    approvals = f"/api/v1/doctors/{doctor_id}/approvals"
    # A doctor posting an approval is told approvals are the employer's, not that the doctor
    # has no service at "your organisation".
    by_doctor = await api.post(approvals, headers=world.doctor, json=APPROVAL)
    assert by_doctor.status_code == 403
    assert "organisation's client" in by_doctor.json()["detail"]
    assert "service period" not in by_doctor.json()["detail"]
    # An R5 rejection names R5 once.
    no_assessment = await api.post(approvals, headers=world.hospital, json=APPROVAL)
    assert no_assessment.status_code == 422, no_assessment.text
    problem = no_assessment.json()
    assert problem["rule"] == "R5" and problem["detail"].count("R5") == 1, problem
    # An unknown, a missing and a mistyped body field are named, not "data".
    for body, field in [
        ({**APPROVAL, "approverhpr": "1"}, "approverhpr"),
        ({k: v for k, v in APPROVAL.items() if k != "org_number"}, "org_number"),
        ({**APPROVAL, "approved_on": 20240601}, "approved_on"),
        ({**APPROVAL, "approved_on": "9999-12-31"}, "approved_on"),
    ]:
        bad = await api.post(approvals, headers=world.hospital, json=body)
        assert bad.status_code == 400 and bad.json()["field"] == field, bad.text
        assert bad.json()["detail"].startswith(field + ":")
