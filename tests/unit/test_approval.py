"""Assessment, then approval (R5), by the right institution and arena (R4), on whose
behalf, and carry-over across catalogue versions (R4)."""

from __future__ import annotations

from domain.doctor.commands import RevokeApproval
from domain.progress import progress
from events.doctor import ObjectiveApproved
from tests.unit.builders import (
    DELEGATE_M,
    DOCTOR,
    HOSPITAL,
    LEADER_H,
    LEADER_M,
    LEADER_OTHER,
    MUNICIPALITY,
    OTHER_HOSPITAL,
    V1,
    V2,
    World,
    d,
)


def lis1_world() -> World:
    w = World()
    w.period("h1", "2020-09-01", "2021-08-31", arena="hospital")
    w.period("m1", "2021-09-01", "2022-02-28", arena="municipal")
    return w


def test_r5_approval_before_assessment_rejected() -> None:
    w = lis1_world()
    r = w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01")
    assert (r.code, r.field, r.rule) == ("rule_violation", "objective_id", "R5")


def test_r5_approval_after_not_yet_assessment_rejected() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-02-01", "achieved")
    w.assess("KLS-001", HOSPITAL, "2021-02-15", "not_yet")
    assert w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01").rule == "R5"


def test_r5_assessment_dated_after_the_approval_does_not_count() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-04-01")
    assert w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01").rule == "R5"


def test_r5_leader_approves_after_achieved_assessment() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-02-01")
    [e] = w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01")
    assert isinstance(e, ObjectiveApproved)
    assert (e.approver_hpr, e.leader_hpr, e.delegation_id, e.catalogue_version) == (
        LEADER_H,
        LEADER_H,
        None,
        V1,
    )


def test_r5_approved_twice_is_a_duplicate() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-02-01")
    w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01")
    assert w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-02").code == "duplicate"


def test_r5_leader_of_an_institution_where_the_doctor_never_served_rejected() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-02-01")
    r = w.approve("KLS-001", OTHER_HOSPITAL, LEADER_OTHER, "2021-03-01")
    assert (r.field, r.rule) == ("org_number", "R5")


def test_r5_someone_who_is_not_leader_rejected() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-02-01")
    r = w.approve("KLS-001", HOSPITAL, LEADER_OTHER, "2021-03-01")
    assert (r.field, r.rule) == ("approver_hpr", "R5")


def test_r5_unknown_objective_rejected_naming_the_field() -> None:
    w = lis1_world()
    r = w.approve("KLS-999", HOSPITAL, LEADER_H, "2021-03-01")
    assert (r.code, r.field, r.rule) == ("unknown_reference", "objective_id", "R4")


def test_r5_delegated_approval_accepted_inside_its_dates() -> None:
    w = World()
    w.period("h1", "2020-09-01", "2021-08-31", arena="hospital", fte=80)
    w.period("m0", "2021-01-01", "2021-06-30", arena="municipal", fte=20)  # delegation's months
    w.assess("KLK-002", MUNICIPALITY, "2021-01-20")
    [e] = w.approve("KLK-002", MUNICIPALITY, DELEGATE_M, "2021-06-30")
    assert (e.approver_hpr, e.leader_hpr, e.delegation_id) == (DELEGATE_M, LEADER_M, "del-1")


def test_r5_delegated_approval_rejected_outside_its_dates() -> None:
    w = lis1_world()
    w.assess("KLK-001", MUNICIPALITY, "2021-09-20")
    r = w.approve("KLK-001", MUNICIPALITY, DELEGATE_M, "2021-10-01")  # delegation ended 30 June
    assert (r.field, r.rule) == ("approver_hpr", "R5")
    [e] = w.approve("KLK-001", MUNICIPALITY, LEADER_M, "2021-10-01")
    assert e.leader_hpr == LEADER_M


def test_r5_approval_needs_service_started_by_the_approval_date() -> None:
    w = lis1_world()
    w.assess("KLK-001", MUNICIPALITY, "2021-09-20")
    # approval dated before the municipal period began
    assert w.approve("KLK-001", MUNICIPALITY, LEADER_M, "2021-08-01").rule == "R5"


def test_r4_part1_common_objective_by_the_wrong_arena_rejected() -> None:
    w = lis1_world()
    # FKM-040 is distributed to the municipal half-year in the sample
    w.assess("FKM-040", HOSPITAL, "2021-02-01")
    r = w.approve("FKM-040", HOSPITAL, LEADER_H, "2021-03-01")
    assert (r.field, r.rule) == ("org_number", "R4")


def test_r4_local_agreement_lets_the_hospital_approve_a_municipal_common_objective() -> None:
    from domain.doctor.commands import GrantException

    w = lis1_world()
    w.ok(
        GrantException(
            doctor_id=DOCTOR,
            exception_id="x1",
            kind="local_fkm_agreement",
            granted_by=HOSPITAL,
            granted_on=d("2020-09-01"),
        )
    )
    w.assess("FKM-040", HOSPITAL, "2021-02-01")
    assert isinstance(w.approve("FKM-040", HOSPITAL, LEADER_H, "2021-03-01"), list)


def test_r5_revocation_by_the_approving_institution() -> None:
    w = lis1_world()
    w.assess("KLS-001", HOSPITAL, "2021-02-01")
    w.approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01")
    cmd = RevokeApproval(
        doctor_id=DOCTOR,
        objective_id="KLS-001",
        org_number=MUNICIPALITY,
        revoked_on=d("2021-04-01"),
        reason="feil",
    )
    assert w.rejected(cmd).rule == "R5"
    w.ok(
        RevokeApproval(
            doctor_id=DOCTOR,
            objective_id="KLS-001",
            org_number=HOSPITAL,
            revoked_on=d("2021-04-01"),
            reason="registrert feil",
        )
    )
    status = {
        o.objective_id: o
        for p in progress(w.state, w.catalogue, d("2021-05-01")).parts
        for o in p.objectives
    }
    assert status["KLS-001"].status == "assessed_achieved"
    before = {
        o.objective_id: o
        for p in progress(w.state, w.catalogue, d("2021-03-15")).parts
        for o in p.objectives
    }
    assert before["KLS-001"].status == "approved"


def test_r4_approval_carries_over_where_the_objective_did_not_become_stricter() -> None:
    w = World()
    w.period("h1", "2023-09-01", "2024-08-31", arena="hospital", fte=90)
    w.period("m0", "2023-09-01", "2024-08-31", arena="municipal", fte=10)
    w.period("m1", "2024-09-01", "2025-02-28", arena="municipal")
    for oid in ("KLS-003", "KLK-012"):
        w.assess(oid, HOSPITAL if oid.startswith("KLS") else MUNICIPALITY, "2024-01-10")
    w.approve("KLS-003", HOSPITAL, LEADER_H, "2024-02-01")
    w.approve("KLK-012", MUNICIPALITY, LEADER_M, "2024-02-01")
    assert {a.catalogue_version for a in w.state.approvals} == {V1}
    after = {
        o.objective_id: o
        for p in progress(w.state, w.catalogue, d("2024-10-01")).parts
        for o in p.objectives
    }
    assert after["KLS-003"].status == "approved"  # reworded, not stricter: carried over
    assert after["KLS-003"].approved_under_version == V1
    assert after["KLK-012"].status == "open"  # stricter: assess and approve again
    assert after["KLK-012"].needs_reapproval
    # re-assessment under v2 then approval under v2
    w.assess("KLK-012", MUNICIPALITY, "2024-10-10")
    [e] = w.approve("KLK-012", MUNICIPALITY, LEADER_M, "2024-10-20")
    assert e.catalogue_version == V2


def test_r4_assessment_under_the_old_version_does_not_allow_approval_of_a_stricter_objective() -> (
    None
):
    w = World()
    w.period("m1", "2024-03-01", "2024-12-31", arena="municipal")
    w.assess("KLK-012", MUNICIPALITY, "2024-08-01")
    assert w.approve("KLK-012", MUNICIPALITY, LEADER_M, "2024-09-10").rule == "R5"
