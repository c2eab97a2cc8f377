"""RULES.md "Who may record what (authority)", line by line: the entitled party is accepted,
every other party is refused (``not_entitled``, naming the rule) with nothing stored, and
the flags that follow appear and clear."""

from __future__ import annotations

from datetime import date
from typing import get_args

import msgspec
import pytest

from domain import organisation
from domain.authority import (
    DIRECTORATE_ISSUER,
    Issuer,
    doctor_issuer,
    organisation_issuer,
)
from domain.doctor.commands import (
    ApproveObjective,
    AssessObjective,
    AssignSupervisor,
    CorrectServicePeriod,
    DoctorCommand,
    EndSupervisorAssignment,
    GrantException,
    IssueServiceConfirmation,
    LogAbsence,
    LogSupervisionHours,
    RecordEducationPlan,
    RecordGroupSupervision,
    RecordServicePeriod,
    RetractAbsence,
    RetractServicePeriod,
    RevokeApproval,
    WithdrawException,
)
from domain.progress import progress
from domain.rejection import Rejection
from domain.rulesets import IN_FORCE, PROPOSED_2024
from tests.unit.builders import (
    DOCTOR,
    HOSPITAL,
    LEADER_H,
    MUNICIPALITY,
    OTHER_HOSPITAL,
    VEILEDER,
    World,
    d,
    ids,
)

H = organisation_issuer(HOSPITAL)
M = organisation_issuer(MUNICIPALITY)
OTHER = organisation_issuer(OTHER_HOSPITAL)
HDIR = DIRECTORATE_ISSUER
DOC = doctor_issuer(DOCTOR)
EVERYONE = {"hospital": H, "municipality": M, "other": OTHER, "directorate": HDIR, "doctor": DOC}


def others(*entitled: Issuer) -> list[Issuer]:
    return [i for i in EVERYONE.values() if i not in entitled]


def refused(w: World, command: object, issuer: Issuer, rule: str | None = None) -> Rejection:
    r = w.rejected(command, issuer)  # type: ignore[arg-type]
    assert r.code == "not_entitled", r
    if rule is not None:
        assert r.rule == rule, r
    return r


def lis1() -> World:
    w = World()
    w.period("h1", "2020-09-01", "2021-08-31", arena="hospital")
    w.period("m1", "2021-09-01", "2022-02-28", arena="municipal")
    return w


def period_cmd(org: str, arena: str | None, part: int = 1, **kw: object) -> RecordServicePeriod:
    fields: dict[str, object] = {
        "doctor_id": DOCTOR,
        "period_id": "new",
        "org_number": org,
        "part": part,
        "arena": arena,
        "position": "LIS",
        "fte_percent": 100,
        "start": d("2023-01-01"),
        "end": d("2023-12-31"),
    }
    fields.update(kw)
    return RecordServicePeriod(**fields)  # type: ignore[arg-type]


# --- the table: every command names who may issue it ---------------------------------------


def test_every_doctor_command_names_who_may_issue_it() -> None:
    unnamed = [c.__name__ for c in get_args(DoctorCommand) if "issued_by" not in vars(c)]
    assert unnamed == []


def test_R6_a_command_that_names_no_issuer_is_refused_for_everyone() -> None:
    class Unlisted(RecordServicePeriod, frozen=True, kw_only=True, tag="unlisted"):
        issued_by = None  # type: ignore[assignment]

    w = World()
    command = Unlisted(**msgspec.structs.asdict(period_cmd(HOSPITAL, "hospital")))
    for issuer in EVERYONE.values():
        r = refused(w, command, issuer, "R6")
        assert "Unlisted" in r.detail
    w.ok(period_cmd(HOSPITAL, "hospital"), H)


# --- service periods, absences, confirmations, hours, plans ---------------------------------


@pytest.mark.parametrize("issuer", others(H), ids=lambda i: i.kind + str(i.org_number))
def test_R7_service_period_recorded_by_its_employer_only(issuer: Issuer) -> None:
    w = World()
    refused(w, period_cmd(HOSPITAL, "hospital"), issuer, "R7")
    w.ok(period_cmd(HOSPITAL, "hospital"), H)


def test_R1_hospital_period_at_a_municipality_is_refused() -> None:
    """Finding: a 'hospital' period at a municipality counted as hospital time."""
    w = World()
    refused(w, period_cmd(MUNICIPALITY, "hospital"), M, "R1")
    refused(w, period_cmd(HOSPITAL, "municipal"), H, "R1")
    w.ok(period_cmd(MUNICIPALITY, "municipal"), M)
    w.ok(period_cmd(HOSPITAL, "hospital", period_id="h", start=d("2024-01-01"), end=None), H)


def test_R1_an_unregistered_organisation_records_no_service() -> None:
    w = World()
    stranger = organisation_issuer("911111111")
    refused(w, period_cmd("911111111", None, part=3, specialty="indremedisin"), stranger, "R1")


def test_R7_correction_and_retraction_by_the_recording_employer_only() -> None:
    w = lis1()
    correct = CorrectServicePeriod(
        doctor_id=DOCTOR,
        period_id="h1",
        org_number=HOSPITAL,
        part=1,
        arena="hospital",
        position="LIS",
        fte_percent=50,
        start=d("2020-09-01"),
        end=d("2021-08-31"),
    )
    for issuer in others(H):
        refused(w, correct, issuer, "R7")
    # The municipality cannot take the hospital's period over by naming itself.
    moved = msgspec.structs.replace(correct, org_number=MUNICIPALITY)
    refused(w, moved, M, "R7")
    retract = RetractServicePeriod(doctor_id=DOCTOR, period_id="h1", reason="feil")
    for issuer in others(H):
        refused(w, retract, issuer, "R7")
    w.ok(correct, H)
    w.ok(retract, H)
    assert "h1" not in w.state.periods


def _fields(cmd: object) -> dict[str, object]:
    return {f: getattr(cmd, f) for f in cmd.__struct_fields__}  # type: ignore[attr-defined]


def test_R8_absences_logged_and_retracted_by_the_periods_employer_only() -> None:
    w = lis1()
    log = LogAbsence(
        doctor_id=DOCTOR,
        period_id="h1",
        absence_id="a1",
        kind="sick_leave",
        start=d("2021-01-04"),
        end=d("2021-01-08"),
    )
    for issuer in others(H):
        refused(w, log, issuer, "R8")
    w.ok(log, H)
    retract = RetractAbsence(doctor_id=DOCTOR, absence_id="a1", reason="feil")
    for issuer in others(H):
        refused(w, retract, issuer, "R8")
    w.ok(retract, H)


def confirmation(period_id: str, org: str, on: str) -> IssueServiceConfirmation:
    return IssueServiceConfirmation(
        doctor_id=DOCTOR, period_id=period_id, org_number=org, issued_on=d(on), signed_by_hpr="1"
    )


def test_R7_confirmation_by_the_employer_for_completed_service_only() -> None:
    """Finding: a confirmation issued on day 1 of a 12-month period was accepted."""
    w = lis1()
    for issuer in others(H):
        refused(w, confirmation("h1", HOSPITAL, "2021-09-01"), issuer, "R7")
    early = w.rejected(confirmation("h1", HOSPITAL, "2020-09-01"), H)
    assert (early.code, early.rule, early.field) == ("rule_violation", "R7", "issued_on")
    w.period("p3", "2022-03-01", None, part=3, arena=None, specialty="indremedisin")
    running = w.rejected(confirmation("p3", HOSPITAL, "2023-03-01"), H)
    assert (running.rule, running.field) == ("R7", "period_id")
    w.ok(confirmation("h1", HOSPITAL, "2021-08-31"), H)


def test_R12_supervision_hours_by_the_employer_only() -> None:
    w = lis1()
    hours = LogSupervisionHours(doctor_id=DOCTOR, org_number=HOSPITAL, month="2021-01", hours=4)
    for issuer in others(H):
        refused(w, hours, issuer, "R12")
    w.ok(hours, H)


def test_R17_plan_by_the_employer_only_and_the_flag_clears() -> None:
    w = lis1()
    on = d("2022-03-01")
    assert "missing_education_plan" in [b.code for b in progress(w.state, w.catalogue, on).blockers]
    plan = RecordEducationPlan(doctor_id=DOCTOR, org_number=HOSPITAL, recorded_on=d("2020-09-01"))
    for issuer in others(H):
        refused(w, plan, issuer, "R17")
    w.ok(plan, H)
    w.ok(RecordEducationPlan(doctor_id=DOCTOR, org_number=MUNICIPALITY, recorded_on=on), M)
    assert "R17" not in ids(progress(w.state, w.catalogue, on).blockers)


def test_R18_group_supervision_by_the_employer_inside_its_service() -> None:
    w = lis1()
    session = RecordGroupSupervision(
        doctor_id=DOCTOR, org_number=MUNICIPALITY, held_on=d("2021-10-05"), minutes=90
    )
    for issuer in others(M):
        refused(w, session, issuer, "R18")
    w.ok(session, M)
    outside = RecordGroupSupervision(
        doctor_id=DOCTOR, org_number=MUNICIPALITY, held_on=d("2023-10-05"), minutes=90
    )
    assert w.rejected(outside, M).rule == "R18"


# --- supervisors ----------------------------------------------------------------------------


def assign(
    org: str, hpr: str, role: str = "veileder", part: int = 1, **kw: object
) -> AssignSupervisor:
    return AssignSupervisor(
        doctor_id=DOCTOR,
        org_number=org,
        hpr_number=hpr,
        role=role,  # type: ignore[arg-type]
        valid_from=kw.pop("valid_from", d("2020-09-01")),  # type: ignore[arg-type]
        part=part,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_R14_supervisor_assigned_and_ended_by_the_employer_only() -> None:
    w = lis1()
    cmd = assign(HOSPITAL, VEILEDER)
    for issuer in others(H):
        refused(w, cmd, issuer, "R14")
    refused(w, assign(OTHER_HOSPITAL, VEILEDER), H, "R14")  # not for another institution
    [event] = w.ok(cmd, H)
    end = EndSupervisorAssignment(
        doctor_id=DOCTOR,
        assignment_id=event.assignment_id,  # type: ignore[union-attr]
        org_number=HOSPITAL,
        valid_to=d("2021-08-31"),
    )
    for issuer in others(H):
        refused(w, end, issuer, "R14")
    w.ok(end, H)
    assert w.state.supervisors[0].valid_to == d("2021-08-31")


def test_R13_unqualified_veileder_replaced_by_a_qualified_one_clears() -> None:
    """Finding: the R13 blocker stayed for good because assignments could not end."""
    w = World()
    w.period("p3", "2024-01-01", None, part=3, arena=None, specialty="indremedisin")
    [first] = w.ok(
        assign(HOSPITAL, "4000001", part=3, specialty="indremedisin", valid_from=d("2024-01-01")),
        H,
    )
    on = d("2024-06-01")
    assert "veileder_not_qualified" in [b.code for b in progress(w.state, w.catalogue, on).blockers]
    w.ok(
        EndSupervisorAssignment(
            doctor_id=DOCTOR,
            assignment_id=first.assignment_id,  # type: ignore[union-attr]
            org_number=HOSPITAL,
            valid_to=d("2024-04-30"),
        ),
        H,
    )
    blockers = progress(w.state, w.catalogue, on).blockers
    assert "missing_veileder" in [b.code for b in blockers]  # none in office now
    w.ok(
        assign(
            HOSPITAL,
            "4000002",
            part=3,
            specialty="indremedisin",
            specialist_in="indremedisin",
            valid_from=d("2024-05-01"),
        ),
        H,
    )
    assert "R13" not in ids(progress(w.state, w.catalogue, on).blockers)


# --- assessments and approvals (R5) ---------------------------------------------------------


def assess(org: str, hpr: str, role: str, on: str, objective: str = "KLS-001") -> AssessObjective:
    return AssessObjective(
        doctor_id=DOCTOR,
        objective_id=objective,
        org_number=org,
        assessor_hpr=hpr,
        assessor_role=role,  # type: ignore[arg-type]
        outcome="achieved",
        assessed_on=d(on),
    )


def approve(objective: str, org: str, approver: str, on: str) -> ApproveObjective:
    return ApproveObjective(
        doctor_id=DOCTOR,
        objective_id=objective,
        org_number=org,
        approver_hpr=approver,
        approved_on=d(on),
    )


def test_R5_assessment_by_the_appointed_veileder_or_a_supervisor_inside_service() -> None:
    w = lis1()
    w.ok(assign(HOSPITAL, VEILEDER), H)
    w.ok(assign(HOSPITAL, "5000001", role="clinical_supervisor"), H)
    for issuer in others(H):
        refused(w, assess(HOSPITAL, VEILEDER, "veileder", "2021-02-01"), issuer, "R5")
    # Role "other", an unassigned assessor, a leader who is not the veileder: refused.
    for hpr, role in (
        ("5000001", "other"),
        ("5999999", "clinical_supervisor"),
        (LEADER_H, "leader"),
    ):
        r = w.rejected(assess(HOSPITAL, hpr, role, "2021-02-01"), H)
        assert (r.code, r.rule, r.field) == ("rule_violation", "R5", "assessor_hpr")
    # Dated years before any service there (finding).
    r = w.rejected(assess(HOSPITAL, VEILEDER, "veileder", "2020-05-01"), H)
    assert (r.rule, r.field) == ("R5", "assessed_on")
    w.ok(assess(HOSPITAL, VEILEDER, "veileder", "2021-02-01"), H)
    w.ok(assess(HOSPITAL, "5000001", "clinical_supervisor", "2021-02-02", "KLS-002"), H)


def test_R5_the_approvers_own_assessment_counts_only_if_he_is_the_veileder() -> None:
    """Finding: an 'achieved' assessment by the approving leader himself was enough."""
    w = lis1()
    w.ok(assign(HOSPITAL, LEADER_H, role="clinical_supervisor"), H)
    w.ok(assess(HOSPITAL, LEADER_H, "clinical_supervisor", "2021-02-01"), H)
    r = w.rejected(approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01"), H)
    assert (r.rule, r.field) == ("R5", "objective_id")
    w.ok(assign(HOSPITAL, LEADER_H, role="veileder"), H)
    w.ok(approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01"), H)


def test_R5_approval_of_another_specialtys_objective_refused() -> None:
    """Finding: an approval rested on an assessment of another specialty's objective."""
    w = World(authorised_on=date(2019, 1, 1))
    w.period("p3", "2021-01-01", "2024-12-31", part=3, arena=None, specialty="indremedisin")
    w.ok(
        assign(
            HOSPITAL,
            VEILEDER,
            part=3,
            specialty="indremedisin",
            specialist_in="indremedisin",
            valid_from=d("2021-01-01"),
        ),
        H,
    )
    r = w.rejected(assess(HOSPITAL, VEILEDER, "veileder", "2022-01-01", "ALM-001"), H)
    assert (r.rule, r.field) == ("R5", "objective_id")
    w.ok(assess(HOSPITAL, VEILEDER, "veileder", "2022-01-01", "IND-001"), H)
    w.ok(approve("IND-001", HOSPITAL, LEADER_H, "2022-02-01"), H)


def test_R5_approval_and_revocation_by_the_institution_itself_only() -> None:
    w = lis1()
    w.assess("KLS-001", HOSPITAL, "2021-02-01")
    for issuer in others(H):
        refused(w, approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01"), issuer, "R5")
    w.ok(approve("KLS-001", HOSPITAL, LEADER_H, "2021-03-01"), H)
    revoke = RevokeApproval(
        doctor_id=DOCTOR,
        objective_id="KLS-001",
        org_number=HOSPITAL,
        revoked_on=d("2021-04-01"),
        reason="feil",
    )
    for issuer in others(H):
        refused(w, revoke, issuer, "R5")
    w.ok(revoke, H)


def test_R5_delegate_needs_a_leader_in_office() -> None:
    w = lis1()
    orgs = dict(w.orgs)
    orgs[HOSPITAL] = _hospital_with_ended_leader()
    w.orgs = orgs
    w.assess("KLS-001", HOSPITAL, "2021-01-10")
    r = w.rejected(approve("KLS-001", HOSPITAL, "1000009", "2021-03-01"), H)
    assert (r.rule, r.field) == ("R5", "approver_hpr")
    w.ok(approve("KLS-001", HOSPITAL, "1000009", "2021-01-15"), H)


def _hospital_with_ended_leader() -> organisation.OrganisationState:
    state = organisation.OrganisationState()
    for c in (
        organisation.RegisterOrganisation(
            org_number=HOSPITAL, name="H", kind="hospital_trust", registered_on=d("2015-01-01")
        ),
        organisation.AppointLeader(
            org_number=HOSPITAL,
            hpr_number="1000008",
            valid_from=d("2015-01-01"),
            valid_to=d("2021-01-31"),
        ),
        organisation.GrantDelegation(
            org_number=HOSPITAL,
            delegation_id="del-9",
            leader_hpr="1000008",
            delegate_hpr="1000009",
            valid_from=d("2020-01-01"),
        ),
    ):
        events = organisation.decide(c, state)
        assert isinstance(events, list), events
        state = organisation.fold(state, events)
    return state


# --- exceptions and statuses ----------------------------------------------------------------

DIRECTORATE_KINDS = (
    "turnus_approved",
    "part1_first_foreign",
    "foreign_credit",
    "eu_eos_exemption",
    "gp_fte_dispensation",
    "veileder_dispensation",
)


def grant(kind: str, by: Issuer, exception_id: str = "x1", **kw: object) -> GrantException:
    extra: dict[str, object] = {}
    if kind == "veileder_dispensation":
        extra = {"supervisor_hpr": VEILEDER, "valid_to": d("2026-12-31")}
    if kind == "foreign_credit":
        extra = {"credit_months": 12}
    extra.update(kw)
    return GrantException(
        doctor_id=DOCTOR,
        exception_id=exception_id,
        kind=kind,  # type: ignore[arg-type]
        granted_by=by.party or "doctor",
        granted_on=d("2021-01-01"),
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("kind", DIRECTORATE_KINDS)
def test_R3_R11_R13_R19_statuses_are_the_directorates_alone(kind: str) -> None:
    w = lis1()
    rule = {"gp_fte_dispensation": "R11", "veileder_dispensation": "R13", "eu_eos_exemption": "R19"}
    for issuer in others(HDIR):
        refused(w, grant(kind, issuer), issuer, rule.get(kind, "R3"))
    w.ok(grant(kind, HDIR), HDIR)
    withdraw = WithdrawException(
        doctor_id=DOCTOR,
        exception_id="x1",
        withdrawn_by="helsedirektoratet",
        withdrawn_on=d("2022-01-01"),
        reason="feil",
    )
    for issuer in others(HDIR):
        refused(w, msgspec.structs.replace(withdraw, withdrawn_by=issuer.party), issuer)
    w.ok(withdraw, HDIR)


def test_R3_turnus_recorded_by_a_hospital_waives_nothing() -> None:
    """Finding: a hospital recorded turnus_approved and part 1 disappeared."""
    w = World()
    w.period("p3", "2021-01-01", None, part=3, arena=None, specialty="indremedisin")
    w.ok(grant("turnus_approved", H))  # stored before authority was checked
    blockers = ids(progress(w.state, w.catalogue, d("2022-01-01")).blockers)
    assert "R3" in blockers and "R1" in blockers
    w.ok(grant("turnus_approved", HDIR, "x2"), HDIR)
    blockers = ids(progress(w.state, w.catalogue, d("2022-01-01")).blockers)
    assert "R3" not in blockers
    assert not any(
        b.code.startswith("part1_")
        for b in progress(w.state, w.catalogue, d("2022-01-01")).blockers
    )


def test_R3_turnus_withdrawn_brings_part_1_back_from_that_date() -> None:
    w = World()
    w.period("p3", "2021-01-01", None, part=3, arena=None, specialty="indremedisin")
    w.ok(grant("turnus_approved", HDIR), HDIR)
    w.ok(
        WithdrawException(
            doctor_id=DOCTOR,
            exception_id="x1",
            withdrawn_by="helsedirektoratet",
            withdrawn_on=d("2023-01-01"),
            reason="gitt ved en feil",
        ),
        HDIR,
    )
    assert "R3" not in ids(progress(w.state, w.catalogue, d("2022-06-01")).blockers)
    assert "R3" in ids(progress(w.state, w.catalogue, d("2023-06-01")).blockers)


def test_R11_dispensation_from_a_municipality_is_not_honoured() -> None:
    from domain.time_requirements import block_report

    w = World(authorised_on=date(2019, 1, 1))
    w.period(
        "gp",
        "2021-01-01",
        "2023-12-31",
        part=3,
        arena=None,
        specialty="allmennmedisin",
        org_number=MUNICIPALITY,
        fte=40,
        open_unselected_gp=True,
    )
    on = d("2024-01-01")
    w.ok(grant("gp_fte_dispensation", M))
    assert block_report(w.state, "gp_open_unselected", on, IN_FORCE).counted_days == 0
    w.ok(grant("gp_fte_dispensation", HDIR, "x2"), HDIR)
    assert block_report(w.state, "gp_open_unselected", on, IN_FORCE).counted_days > 0


def test_R13_dispensation_from_a_municipality_is_not_honoured_and_expires() -> None:
    w = World(authorised_on=date(2019, 1, 1))
    w.period("gp", "2021-01-01", None, part=3, arena=None, specialty="allmennmedisin")
    w.ok(
        assign(HOSPITAL, VEILEDER, part=3, specialty="allmennmedisin", valid_from=d("2021-01-01")),
        H,
    )
    on = d("2022-01-01")
    w.ok(grant("veileder_dispensation", M))
    assert "R13" in ids(progress(w.state, w.catalogue, on).blockers)
    w.ok(grant("veileder_dispensation", HDIR, "x2", valid_to=d("2022-12-31")), HDIR)
    assert "R13" not in ids(progress(w.state, w.catalogue, on).blockers)
    assert "R13" in ids(progress(w.state, w.catalogue, d("2023-01-02")).blockers)
    # The 2024 proposal abolishes the directorate's dispensation (§ 25 fjerde ledd).
    assert "R13" in ids(progress(w.state, w.catalogue, on, rules=PROPOSED_2024).blockers)


def test_R13_dispensation_without_an_end_is_refused() -> None:
    w = lis1()
    r = w.rejected(grant("veileder_dispensation", HDIR, valid_to=None), HDIR)
    assert (r.field, r.rule) == ("valid_to", "R13")


def test_R2_exception_recorded_only_by_the_self_created_posts_institutions() -> None:
    w = World()
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal", self_created_post=True)
    w.period("h1", "2025-07-01", "2026-06-30", arena="hospital", self_created_post=True)
    cmd = GrantException(
        doctor_id=DOCTOR,
        exception_id="x1",
        kind="sequence_part1",
        granted_by=MUNICIPALITY,
        granted_on=d("2024-12-01"),
        period_id="m1",
    )
    for issuer in (OTHER, HDIR, DOC):
        refused(w, msgspec.structs.replace(cmd, granted_by=issuer.party), issuer, "R2")
    w.ok(cmd, M)
    w.ok(msgspec.structs.replace(cmd, exception_id="x2", granted_by=HOSPITAL), H)
    on = d("2026-07-01")
    assert "R2" in ids(progress(w.state, w.catalogue, on, rules=IN_FORCE).blockers)
    assert "R2" not in ids(progress(w.state, w.catalogue, on, rules=PROPOSED_2024).blockers)


def test_R19_eu_eos_exemption_waives_part_1_objectives_from_the_directorate_only() -> None:
    w = World(authorised_on=date(2018, 1, 1))
    w.period("p3", "2018-06-01", None, part=3, arena=None, specialty="indremedisin")
    on = d("2021-01-01")

    def part1_objectives_missing() -> bool:
        return any(
            b.code == "objectives_not_approved" and b.part == 1
            for b in progress(w.state, w.catalogue, on).blockers
        )

    assert part1_objectives_missing()
    w.ok(grant("eu_eos_exemption", H))
    assert part1_objectives_missing()
    w.ok(grant("eu_eos_exemption", HDIR, "x2", valid_from=d("2018-06-01")), HDIR)
    assert not part1_objectives_missing()
    assert "R3" not in ids(progress(w.state, w.catalogue, on).blockers)


def test_R9_foreign_credit_counts_from_the_directorate_only() -> None:
    """§32 / §18 third paragraph: credit was recorded but never evaluated."""
    from domain.time_requirements import total_report

    w = World(authorised_on=date(2019, 1, 1))
    w.period("p3", "2021-01-01", None, part=3, arena=None, specialty="indremedisin")
    on = d("2022-01-01")
    before = total_report(w.state, on, IN_FORCE)
    w.ok(grant("foreign_credit", H, credit_months=24))
    assert total_report(w.state, on, IN_FORCE) == before
    w.ok(grant("foreign_credit", HDIR, "x2", credit_months=24), HDIR)
    after = total_report(w.state, on, IN_FORCE)
    assert after.foreign_credit_months == 24
    assert after.required_days is not None and before.required_days is not None
    assert after.required_days < before.required_days
    r = w.rejected(grant("foreign_credit", HDIR, "x3", credit_months=None), HDIR)
    assert r.field == "credit_months"


# --- organisations (R5, R16) ----------------------------------------------------------------


def test_R16_registration_by_the_directorate_only() -> None:
    hospital = World().orgs[HOSPITAL]
    cmd = organisation.RegisterForSpecialty(
        org_number=HOSPITAL,
        registration_id="r1",
        specialty="indremedisin",
        valid_from=d("2019-03-01"),
    )
    for kind, org in (("organisation", HOSPITAL), ("organisation", MUNICIPALITY), ("doctor", None)):
        r = organisation.decide(cmd, hospital, issuer_kind=kind, issuer_org=org)
        assert isinstance(r, Rejection) and (r.code, r.rule) == ("not_entitled", "R16")
    assert isinstance(organisation.decide(cmd, hospital, issuer_kind="directorate"), list)


def test_R5_leaders_and_delegations_by_the_organisation_itself_only() -> None:
    hospital = World().orgs[HOSPITAL]
    cmd = organisation.AppointLeader(
        org_number=HOSPITAL, hpr_number="1", valid_from=d("2020-01-01")
    )
    for kind, org in (("organisation", MUNICIPALITY), ("directorate", None), ("doctor", None)):
        r = organisation.decide(cmd, hospital, issuer_kind=kind, issuer_org=org)
        assert isinstance(r, Rejection) and (r.code, r.rule) == ("not_entitled", "R5")
    assert isinstance(
        organisation.decide(cmd, hospital, issuer_kind="organisation", issuer_org=HOSPITAL), list
    )
