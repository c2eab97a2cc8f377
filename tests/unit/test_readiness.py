"""Readiness for final approval (R6) and the blockers behind it: time (R1, R9, R11),
sequence (R2, R3), confirmations (R7), supervision (R12, R13, R14), self-created posts (R15);
the two rule sets on the same history."""

from __future__ import annotations

from datetime import date

from domain import application
from domain.catalogue import path_objectives
from domain.doctor.commands import (
    AssignSupervisor,
    GrantException,
    IssueServiceConfirmation,
    LogAbsence,
    LogSupervisionHours,
)
from domain.progress import progress, readiness
from domain.rulesets import IN_FORCE, PROPOSED_2024
from events.application import ApplicationDecided, ApplicationSubmitted
from tests.unit.builders import (
    DOCTOR,
    HOSPITAL,
    LEADER_H,
    LEADER_M,
    MUNICIPALITY,
    OTHER_HOSPITAL,
    World,
    d,
    ids,
    sample_catalogue,
)

AS_OF = d("2026-05-01")


def veileder(
    w: World, org: str, part: int, on: str, specialty: str | None = None, **kw: object
) -> None:
    w.ok(
        AssignSupervisor(
            doctor_id=DOCTOR,
            org_number=org,
            hpr_number=f"3{part}{org[:3]}",
            role="veileder",
            valid_from=d(on),
            part=part,  # type: ignore[arg-type]
            specialty=specialty,
            **kw,  # type: ignore[arg-type]
        )
    )


def confirm(w: World, period_id: str, org: str, on: str) -> None:
    w.ok(
        IssueServiceConfirmation(
            doctor_id=DOCTOR,
            period_id=period_id,
            org_number=org,
            issued_on=d(on),
            signed_by_hpr=LEADER_H,
        )
    )


def complete_path(specialty: str = "indremedisin") -> World:
    """A doctor who has done everything for indremedisin under the sample catalogue v1."""
    w = World(authorised_on=date(2019, 6, 1))
    w.catalogue = sample_catalogue(versions=1)
    w.period("h1", "2019-09-01", "2020-08-31", arena="hospital")
    w.period("m1", "2020-09-01", "2021-02-28", arena="municipal")
    w.period("p2", "2021-03-01", "2023-02-28", part=2, arena=None, specialty=specialty)
    w.period("p3", "2023-03-01", "2026-03-31", part=3, arena=None, specialty=specialty)
    veileder(w, HOSPITAL, 1, "2019-09-01")
    veileder(w, MUNICIPALITY, 1, "2020-09-01")
    veileder(w, HOSPITAL, 2, "2021-03-01", specialty, specialist_in=specialty)
    veileder(w, HOSPITAL, 3, "2023-03-01", specialty, specialist_in=specialty)
    version = w.catalogue.versions[0]
    for o in path_objectives(version, specialty):
        if o.part == 1:
            # R5: assessed inside the service at the institution, then approved.
            org, leader, on, approved_on = (
                (HOSPITAL, LEADER_H, "2020-08-01", "2020-08-15")
                if o.arena == "hospital"
                else (MUNICIPALITY, LEADER_M, "2021-02-01", "2021-02-15")
            )
            w.assess(o.id, org, on)
            assert isinstance(w.approve(o.id, org, leader, approved_on), list)
        else:
            w.assess(o.id, HOSPITAL, "2026-01-10")
            assert isinstance(w.approve(o.id, HOSPITAL, LEADER_H, "2026-02-01"), list)
    confirm(w, "h1", HOSPITAL, "2020-09-05")
    confirm(w, "m1", MUNICIPALITY, "2021-03-05")
    confirm(w, "p2", HOSPITAL, "2023-03-05")
    confirm(w, "p3", HOSPITAL, "2026-04-05")
    return w


def test_r6_complete_path_is_ready() -> None:
    w = complete_path()
    r = readiness(w.state, w.catalogue, "indremedisin", AS_OF)
    assert r.blockers == () and r.ready
    assert r.rule_set_id == IN_FORCE.id


def test_r6_one_objective_not_approved_blocks_with_its_id() -> None:
    w = complete_path()
    w.state = type(w.state)(
        **{
            **{f: getattr(w.state, f) for f in w.state.__struct_fields__},
            "approvals": tuple(a for a in w.state.approvals if a.objective_id != "IND-003"),
        }
    )
    r = readiness(w.state, w.catalogue, "indremedisin", AS_OF)
    assert not r.ready
    [b] = r.blockers
    assert (b.rule, b.part, b.refs) == ("R6", 3, ("IND-003",))
    assert "ikke godkjent" in b.message


def test_r6_application_refused_while_not_ready_then_submitted_and_decided() -> None:
    w = complete_path()
    cmd = application.SubmitApplication(
        application_id="app-1", doctor_id=DOCTOR, specialty="indremedisin", submitted_on=AS_OF
    )
    not_ready = readiness(w.state, w.catalogue, "indremedisin", d("2025-01-01"))
    rejected = application.decide(cmd, application.ApplicationState(), readiness=not_ready)
    assert not isinstance(rejected, list) and rejected.rule == "R6" and rejected.code == "not_ready"
    events = application.decide(
        cmd,
        application.ApplicationState(),
        readiness=readiness(w.state, w.catalogue, "indremedisin", AS_OF),
    )
    assert isinstance(events, list) and isinstance(events[0], ApplicationSubmitted)
    state = application.evolve(application.ApplicationState(), events[0])
    decided = application.decide(
        application.DecideApplication(
            application_id="app-1", outcome="approved", reason="Alle krav oppfylt", decided_on=AS_OF
        ),
        state,
    )
    assert isinstance(decided, list) and isinstance(decided[0], ApplicationDecided)
    state = application.evolve(state, decided[0])
    again = application.decide(
        application.DecideApplication(
            application_id="app-1", outcome="rejected", reason="x", decided_on=AS_OF
        ),
        state,
    )
    assert not isinstance(again, list) and again.code == "duplicate"


def test_r7_missing_service_confirmation_blocks() -> None:
    w = complete_path()
    w.state = type(w.state)(
        **{
            **{f: getattr(w.state, f) for f in w.state.__struct_fields__},
            "confirmations": {k: v for k, v in w.state.confirmations.items() if k != "m1"},
        }
    )
    r = readiness(w.state, w.catalogue, "indremedisin", AS_OF)
    assert [(b.rule, b.refs) for b in r.blockers] == [("R7", ("m1",))]


def test_r1_hospital_year_short_after_40_days_sick_leave() -> None:
    w = World()
    w.period("h1", "2025-01-01", "2025-12-31", arena="hospital")
    w.ok(
        LogAbsence(
            doctor_id=DOCTOR,
            period_id="h1",
            absence_id="a1",
            kind="sick_leave",
            start=d("2025-03-01"),
            end=d("2025-04-09"),
        )
    )
    p = progress(w.state, w.catalogue, d("2026-01-01"))
    hospital = next(t for t in p.time if t.block == "part1_hospital")
    assert (hospital.counted_days, hospital.required_days, hospital.remaining_days) == (
        361.5,
        365,
        3.5,
    )
    assert (
        hospital.deductible_absence_days,
        hospital.absence_allowed_days,
        hospital.absence_deducted_days,
    ) == (40, 36.5, 3.5)
    assert hospital.met is False
    r1 = [b for b in p.blockers if b.code == "part1_hospital_time"]
    assert r1 and r1[0].rule == "R1" and "3,5 dager" in r1[0].clears_by


def test_r2_municipal_lis1_before_the_hospital_year_flagged_not_rejected() -> None:
    w = World()
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal")
    w.period("h1", "2025-07-01", "2026-06-30", arena="hospital")  # recorded: no rejection
    p = progress(w.state, w.catalogue, d("2026-07-01"))
    [b] = [b for b in p.blockers if b.rule == "R2"]
    assert b.refs == ("m1",) and b.code == "lis1_sequence"


def test_r2_no_exception_exists_under_the_rules_in_force() -> None:
    """RULES.md R2: another order "vil kreve at det fastsettes unntak"; none is made, so a
    recorded exception (even the directorate's) leaves the flag."""
    w = World()
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal")
    w.period("h1", "2025-07-01", "2026-06-30", arena="hospital")
    w.ok(
        GrantException(
            doctor_id=DOCTOR,
            exception_id="x1",
            kind="sequence_part1",
            granted_by="helsedirektoratet",
            granted_on=d("2024-12-01"),
            period_id="m1",
        )
    )
    assert "R2" in ids(progress(w.state, w.catalogue, d("2026-07-01")).blockers)
    assert "R2" in ids(
        progress(w.state, w.catalogue, d("2026-07-01"), rules=PROPOSED_2024).blockers
    )


def test_r2_in_order_service_is_not_flagged() -> None:
    w = World()
    w.period("h1", "2024-01-01", "2024-12-31", arena="hospital")
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal")
    assert "R2" not in ids(progress(w.state, w.catalogue, d("2025-07-01")).blockers)


def sequence_exception(w: World, exception_id: str, granted_by: str) -> None:
    w.ok(
        GrantException(
            doctor_id=DOCTOR,
            exception_id=exception_id,
            kind="sequence_part1",
            granted_by=granted_by,
            granted_on=d("2024-12-01"),
            period_id="m1",
        )
    )


def test_r2_exception_for_a_self_created_post_needs_municipality_and_hospital_2024() -> None:
    w = World()
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal", self_created_post=True)
    w.period("h1", "2025-07-01", "2026-06-30", arena="hospital", self_created_post=True)
    on = d("2025-07-01")
    sequence_exception(w, "x1", MUNICIPALITY)
    # The municipality alone does not clear it, under either rule set.
    assert "R2" in ids(progress(w.state, w.catalogue, on, rules=PROPOSED_2024).blockers)
    sequence_exception(w, "x2", HOSPITAL)
    assert "R2" in ids(progress(w.state, w.catalogue, on, rules=IN_FORCE).blockers)
    assert "R2" not in ids(progress(w.state, w.catalogue, on, rules=PROPOSED_2024).blockers)


def test_r2_exception_from_an_org_outside_the_self_created_post_is_not_honoured() -> None:
    w = World()
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal", self_created_post=True)
    w.period("h1", "2025-07-01", "2026-06-30", arena="hospital")  # not self-created
    sequence_exception(w, "x1", MUNICIPALITY)
    sequence_exception(w, "x2", OTHER_HOSPITAL)
    sequence_exception(w, "x3", "helsedirektoratet")
    on = d("2025-07-01")
    assert "R2" in ids(progress(w.state, w.catalogue, on, rules=PROPOSED_2024).blockers)


def test_r15_self_created_post_flagged_under_the_rules_in_force_only() -> None:
    w = World()
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal", self_created_post=True)
    assert "R15" in ids(progress(w.state, w.catalogue, d("2025-07-01"), rules=IN_FORCE).blockers)
    assert "R15" not in ids(
        progress(w.state, w.catalogue, d("2025-07-01"), rules=PROPOSED_2024).blockers
    )


def test_r3_part_3_before_part_1_complete_flagged() -> None:
    w = World()
    w.period("h1", "2024-01-01", "2024-12-31", arena="hospital")
    w.period("p3", "2025-01-01", None, part=3, arena=None, specialty="indremedisin")
    [b] = [b for b in progress(w.state, w.catalogue, d("2025-03-01")).blockers if b.rule == "R3"]
    assert b.refs == ("p3",)


def test_r3_turnus_or_foreign_education_exceptions_clear_it() -> None:
    for kind in ("turnus_approved", "part1_first_foreign"):
        w = World()
        w.period("p3", "2025-01-01", None, part=3, arena=None, specialty="indremedisin")
        w.ok(
            GrantException(
                doctor_id=DOCTOR,
                exception_id="x1",
                kind=kind,
                granted_by="helsedirektoratet",
                granted_on=d("2024-12-01"),
            )
        )
        blockers = ids(progress(w.state, w.catalogue, d("2025-03-01")).blockers)
        assert "R3" not in blockers
        if kind == "turnus_approved":
            assert "R1" not in [
                b.rule
                for b in progress(w.state, w.catalogue, d("2025-03-01")).blockers
                if b.part == 1
            ]


def test_r9_six_and_a_half_years_minimum() -> None:
    w = complete_path()
    short = readiness(w.state, w.catalogue, "indremedisin", d("2026-02-01"))
    assert "R9" in ids(short.blockers)
    assert "R9" not in ids(readiness(w.state, w.catalogue, "indremedisin", AS_OF).blockers)
    p = progress(w.state, w.catalogue, AS_OF)
    assert p.total.met and p.total.required_days == (d("2026-03-01") - d("2019-09-01")).days


def gp_world(fte: int) -> World:
    w = World()
    w.catalogue = sample_catalogue(versions=1)
    w.period(
        "gp",
        "2021-01-01",
        "2025-12-31",
        part=3,
        arena=None,
        fte=fte,
        specialty="allmennmedisin",
        open_unselected_gp=True,
    )
    return w


def test_r11_rule_sets_differ_on_gp_time_below_50_percent() -> None:
    w = gp_world(fte=40)  # five years at 40 % = two years at full time
    in_force = progress(w.state, w.catalogue, d("2026-01-01"), rules=IN_FORCE)
    proposed = progress(w.state, w.catalogue, d("2026-01-01"), rules=PROPOSED_2024)
    assert "R11" in ids(in_force.blockers)  # the 50 % floor: none of it counts
    assert "R11" not in ids(proposed.blockers)  # no floor, time extended (R10)
    gp = next(t for t in proposed.time if t.block == "gp_open_unselected")
    assert gp.met and gp.counted_days >= (gp.required_days or 0)


def test_r11_at_50_percent_counts_under_both_and_dispensation_lifts_the_floor() -> None:
    w = gp_world(fte=50)
    # two years from 1 Jan 2021 = 730 days; at 50 % that takes 1460 calendar days
    assert "R11" in ids(progress(w.state, w.catalogue, d("2024-12-29"), rules=IN_FORCE).blockers)
    assert "R11" not in ids(
        progress(w.state, w.catalogue, d("2024-12-30"), rules=IN_FORCE).blockers
    )
    w2 = gp_world(fte=40)
    w2.ok(
        GrantException(
            doctor_id=DOCTOR,
            exception_id="x1",
            kind="gp_fte_dispensation",
            granted_by="helsedirektoratet",
            granted_on=d("2020-12-01"),
        )
    )
    assert "R11" not in ids(
        progress(w2.state, w2.catalogue, d("2026-01-01"), rules=IN_FORCE).blockers
    )


def supervision_world(hours_per_year: dict[int, float]) -> World:
    w = World()
    w.period(
        "gp",
        "2023-01-01",
        "2024-12-31",
        part=3,
        arena=None,
        specialty="allmennmedisin",
        open_unselected_gp=True,
    )
    for year, hours in hours_per_year.items():
        for month in range(1, 13):
            w.ok(
                LogSupervisionHours(
                    doctor_id=DOCTOR,
                    org_number=HOSPITAL,
                    month=f"{year}-{month:02d}",
                    hours=hours / 12,
                )
            )
    return w


def test_r12_rule_sets_differ_on_uneven_supervision_hours() -> None:
    w = supervision_world({2023: 60, 2024: 30})  # 90 h over two years, 30 h in 2024
    in_force = progress(w.state, w.catalogue, d("2025-01-01"), rules=IN_FORCE)
    proposed = progress(w.state, w.catalogue, d("2025-01-01"), rules=PROPOSED_2024)
    [b] = [b for b in in_force.blockers if b.rule == "R12"]
    assert b.refs == ("2024",)
    assert "R12" not in ids(proposed.blockers)
    assert in_force.supervision is not None and in_force.supervision.required_hours == 84
    assert proposed.supervision is not None and proposed.supervision.hours == 90


def test_r12_exactly_42_hours_a_year_is_enough_41_is_not() -> None:
    assert "R12" not in ids(
        progress(
            supervision_world({2023: 42, 2024: 42}).state, sample_catalogue(), d("2025-01-01")
        ).blockers
    )
    assert "R12" in ids(
        progress(
            supervision_world({2023: 42, 2024: 41}).state, sample_catalogue(), d("2025-01-01")
        ).blockers
    )


def test_r12_does_not_apply_to_hospital_specialties() -> None:
    w = complete_path()
    assert readiness(w.state, w.catalogue, "indremedisin", AS_OF).ready


def test_r13_veileder_without_the_specialty_flagged_for_asa_under_in_force_rules() -> None:
    w = gp_world(fte=100)
    veileder(w, HOSPITAL, 3, "2021-01-01", "allmennmedisin", substantial_experience=True)
    assert "R13" in ids(progress(w.state, w.catalogue, d("2022-01-01"), rules=IN_FORCE).blockers)
    assert "R13" not in ids(
        progress(w.state, w.catalogue, d("2022-01-01"), rules=PROPOSED_2024).blockers
    )
    hpr = w.state.supervisors[0].hpr_number
    w.ok(
        GrantException(
            doctor_id=DOCTOR,
            exception_id="x1",
            kind="veileder_dispensation",
            granted_by="helsedirektoratet",
            granted_on=d("2021-01-01"),
            valid_to=d("2022-12-31"),
            supervisor_hpr=hpr,
        )
    )
    assert "R13" not in ids(
        progress(w.state, w.catalogue, d("2022-01-01"), rules=IN_FORCE).blockers
    )
    # "tidsavgrenset": after its validity the flag is back.
    assert "R13" in ids(progress(w.state, w.catalogue, d("2023-02-01"), rules=IN_FORCE).blockers)


def test_r13_hospital_specialty_needs_a_specialist_in_it_unless_external_stay() -> None:
    w = World()
    w.period("p3", "2025-01-01", None, part=3, arena=None, specialty="indremedisin")
    veileder(w, HOSPITAL, 3, "2025-01-01", "indremedisin", specialist_in="kirurgi")
    assert "veileder_not_qualified" in [
        b.code for b in progress(w.state, w.catalogue, d("2025-02-01")).blockers
    ]
    veileder(
        w, HOSPITAL, 3, "2025-01-02", "indremedisin", specialist_in="kirurgi", external_stay=True
    )
    codes = [b.code for b in progress(w.state, w.catalogue, d("2025-02-01")).blockers]
    assert codes.count("veileder_not_qualified") == 1


def test_r14_part_1_without_a_veileder_from_the_municipality_flagged() -> None:
    w = World()
    w.period("h1", "2024-01-01", "2024-12-31", arena="hospital")
    w.period("m1", "2025-01-01", "2025-06-30", arena="municipal")
    veileder(w, HOSPITAL, 1, "2024-01-01")
    [b] = [b for b in progress(w.state, w.catalogue, d("2025-02-01")).blockers if b.rule == "R14"]
    assert b.refs == ("m1",) and b.code == "missing_veileder"
    veileder(w, MUNICIPALITY, 1, "2025-01-01")
    assert "R14" not in ids(progress(w.state, w.catalogue, d("2025-02-01")).blockers)


def test_progress_as_of_leaves_out_later_facts() -> None:
    w = complete_path()
    early = progress(w.state, w.catalogue, d("2020-06-01"))
    assert early.specialty is None
    assert [p.part for p in early.parts] == [1]
    assert early.parts[0].approved == 0
    late = progress(w.state, w.catalogue, AS_OF)
    assert late.specialty == "indremedisin"
    assert all(p.approved == p.total for p in late.parts)
