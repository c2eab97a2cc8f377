"""The read side's pure functions: a doctor's progress ``as_of`` a date, and readiness for an
application in a specialty (R6, R7)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import msgspec

from domain.approval import approvals_in_effect, latest_assessments
from domain.blockers import all_blockers
from domain.catalogue import Catalogue, path_objectives
from domain.doctor.state import DoctorState
from domain.organisation import OrganisationState
from domain.rejection import Blocker
from domain.rulesets import RuleSet, rule_set_in_force
from domain.supervision import SupervisionReport, supervision_report
from domain.time_requirements import BlockName, BlockReport, TotalReport, block_report, total_report
from domain.training_rules import GroupSupervisionReport, group_supervision_report
from domain.training_year import (
    MeetingSummary,
    ObjectiveActivity,
    PartPlanStatus,
    activities_by_objective,
    meeting_summary,
    plan_status,
)

ObjectiveStatusName = Literal["approved", "assessed_achieved", "assessed_not_yet", "open"]


class ObjectiveStatus(msgspec.Struct, frozen=True, kw_only=True):
    objective_id: str
    title: str
    part: int
    common: bool
    arena: str | None
    status: ObjectiveStatusName
    assessed_on: date | None = None
    assessed_by_hpr: str | None = None
    assessed_under_version: str | None = None
    approved_on: date | None = None
    approved_by_hpr: str | None = None
    on_behalf_of_leader_hpr: str | None = None
    approved_at_org: str | None = None
    approved_under_version: str | None = None
    # An approval under an older version that did not carry over (the objective became
    # stricter): it must be assessed and approved again.
    needs_reapproval: bool = False
    # The learning activities serving it, with their sign-off, and those its assessment cited.
    activities: tuple[ObjectiveActivity, ...] = ()
    cited_activity_ids: tuple[str, ...] = ()


class PartProgress(msgspec.Struct, frozen=True, kw_only=True):
    part: int
    approved: int
    total: int
    objectives: tuple[ObjectiveStatus, ...]


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    doctor_id: str
    as_of: date
    rule_set_id: str
    catalogue_version: str | None
    specialty: str | None
    parts: tuple[PartProgress, ...]
    time: tuple[BlockReport, ...]
    total: TotalReport
    supervision: SupervisionReport | None
    blockers: tuple[Blocker, ...]
    group_supervision: GroupSupervisionReport | None = None  # R18
    supervision_meetings: MeetingSummary = MeetingSummary()  # R12 meetings, R18 group
    plan: tuple[PartPlanStatus, ...] = ()  # R17: plan against reality per part


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    ready: bool
    specialty: str
    as_of: date
    rule_set_id: str
    catalogue_version: str | None
    blockers: tuple[Blocker, ...]


def infer_specialty(state: DoctorState, as_of: date) -> str | None:
    """The specialty of the latest part-2/3 period, if any."""
    periods = sorted(
        (p for p in state.periods.values() if p.part >= 2 and p.specialty and p.start <= as_of),
        key=lambda p: p.start,
    )
    return periods[-1].specialty if periods else None


def objective_statuses(
    state: DoctorState, catalogue: Catalogue, as_of: date, specialty: str | None
) -> tuple[str | None, list[PartProgress]]:
    version = catalogue.version_on(as_of)
    if version is None:
        return None, []
    by_part: dict[int, list[ObjectiveStatus]] = {}
    approvals = approvals_in_effect(state, catalogue, version.version, as_of)
    assessments = latest_assessments(state, catalogue, version.version, as_of)
    activities = activities_by_objective(state, as_of)
    # Objectives with an approval active on the date under the id it was recorded with.
    recorded_active = {a.objective_id for a in state.approvals if a.active_on(as_of)}
    for o in path_objectives(version, specialty):
        approval = approvals.get(o.id)
        assessment = assessments.get(o.id)
        status: ObjectiveStatusName = "open"
        if approval is not None:
            status = "approved"
        elif assessment is not None:
            status = "assessed_achieved" if assessment.outcome == "achieved" else "assessed_not_yet"
        stale = approval is None and o.id in recorded_active
        by_part.setdefault(o.part, []).append(
            ObjectiveStatus(
                objective_id=o.id,
                title=o.title,
                part=o.part,
                common=o.specialty is None,
                arena=o.arena,
                status=status,
                assessed_on=assessment.assessed_on if assessment else None,
                assessed_by_hpr=assessment.assessor_hpr if assessment else None,
                assessed_under_version=assessment.catalogue_version if assessment else None,
                approved_on=approval.approved_on if approval else None,
                approved_by_hpr=approval.approver_hpr if approval else None,
                on_behalf_of_leader_hpr=approval.leader_hpr if approval else None,
                approved_at_org=approval.org_number if approval else None,
                approved_under_version=approval.catalogue_version if approval else None,
                needs_reapproval=stale,
                activities=activities.get(o.id, ()),
                cited_activity_ids=state.citations.get(o.id, ()) if assessment else (),
            )
        )
    parts = [
        PartProgress(
            part=part,
            approved=sum(1 for s in items if s.status == "approved"),
            total=len(items),
            objectives=tuple(items),
        )
        for part, items in sorted(by_part.items())
    ]
    return version.version, parts


BLOCKS: tuple[BlockName, ...] = (
    "part1_hospital",
    "part1_municipal",
    "part2",
    "part3",
    "gp_open_unselected",
)


def progress(
    state: DoctorState,
    catalogue: Catalogue,
    as_of: date,
    *,
    rules: RuleSet | None = None,
    specialty: str | None = None,
    organisations: Mapping[str, OrganisationState] | None = None,
) -> Progress:
    """A doctor's progress on ``as_of`` (facts dated after it are left out). ``rules``
    defaults to the set in force on ``as_of``; pass ``PROPOSED_2024`` for "what if".
    ``specialty`` defaults to that of the latest part-2/3 period. ``organisations`` (the
    doctor's institutions) lets R16 be judged."""
    rules = rules or rule_set_in_force(as_of)
    specialty = specialty or infer_specialty(state, as_of)
    version, parts = objective_statuses(state, catalogue, as_of, specialty)
    blocks = [
        block_report(state, b, as_of, rules)
        for b in BLOCKS
        if b != "gp_open_unselected" or specialty == rules.gp_specialty
    ]
    return Progress(
        doctor_id=state.doctor_id,
        as_of=as_of,
        rule_set_id=rules.id,
        catalogue_version=version,
        specialty=specialty,
        parts=tuple(parts),
        time=tuple(blocks),
        total=total_report(state, as_of, rules),
        supervision=supervision_report(state, specialty, as_of, rules) if specialty else None,
        blockers=tuple(
            all_blockers(state, catalogue, rules, as_of, specialty, organisations=organisations)
        ),
        group_supervision=group_supervision_report(state, specialty, as_of, rules),
        supervision_meetings=meeting_summary(state, as_of),
        plan=plan_status(
            state,
            as_of,
            frozenset(
                o.objective_id for p in parts for o in p.objectives if o.status == "approved"
            ),
        ),
    )


def readiness(
    state: DoctorState,
    catalogue: Catalogue,
    specialty: str,
    as_of: date,
    *,
    rules: RuleSet | None = None,
    organisations: Mapping[str, OrganisationState] | None = None,
) -> Readiness:
    """R6: ready for final approval in ``specialty`` when no blocker remains: all objectives
    of the path approved, the time requirements met (R1, R9, R11), supervision (R12), the
    service confirmations present (R7), and no unresolved breach (R2, R3, R13-R15)."""
    rules = rules or rule_set_in_force(as_of)
    version = catalogue.version_on(as_of)
    blockers = all_blockers(
        state,
        catalogue,
        rules,
        as_of,
        specialty,
        organisations=organisations,
        for_application=True,
    )
    return Readiness(
        ready=not blockers,
        specialty=specialty,
        as_of=as_of,
        rule_set_id=rules.id,
        catalogue_version=version.version if version else None,
        blockers=tuple(blockers),
    )
