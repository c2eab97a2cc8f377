"""Events of the training year in a doctor's record (issue 15): learning activities and
their sign-offs, the activities an assessment rests on, and supervision meetings.

They belong to the doctor's stream (``doctor.*``) and are members of
:data:`events.doctor.DoctorEvent`. A meeting's notes are free text a doctor and veileder
write about the doctor, so they are personal data: they never enter an event. The event
says only that notes exist (``has_notes``); the text is kept in the erasable table
``meeting_notes`` by ``meeting_id`` (DESIGN: personal data stays out of events).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

import msgspec

from events.base import Event
from events.record import Facts, ObjectiveFacts
from events.vocabulary import Arena, Part

ActivityKind = Literal["course", "procedure", "rotation", "teaching", "e-learning", "other"]
MeetingKind = Literal["individual", "group"]
RECORDED_BY_DOCTOR = "doctor"


class TrainingYearEvent(Event, frozen=True, kw_only=True):
    """Base of the training year's events: :func:`domain.doctor.state.evolve` hands them all
    to the training year's own fold (:mod:`domain.doctor.training_records`)."""


class ActivityFacts(Facts, frozen=True, kw_only=True):
    activity_id: str
    kind: ActivityKind
    date: date
    objective_ids: tuple[str, ...]
    description: str
    recorded_by: str  # the employer's organisation number, or "doctor"


class SignOffFacts(Facts, frozen=True, kw_only=True):
    """The supervisør who saw the activity signs it off; the employer records it."""

    activity_id: str
    org_number: str
    signed_by_hpr: str
    signed_on: date
    comment: str | None = None


class CitationFacts(ObjectiveFacts, frozen=True, kw_only=True):
    """The activities an assessment rests on (recorded with the assessment)."""

    assessed_on: date
    activity_ids: tuple[str, ...]


class MeetingFacts(Facts, frozen=True, kw_only=True):
    meeting_id: str
    held_on: date
    minutes: int
    kind: MeetingKind
    veileder_hpr: str
    recorded_by: str  # the employer's organisation number, or "doctor"
    has_notes: bool = False  # the notes themselves are in ``meeting_notes``, never here


class LearningActivityRecorded(
    ActivityFacts,
    TrainingYearEvent,
    frozen=True,
    kw_only=True,
    tag="doctor.learning_activity_recorded",
):
    pass


class LearningActivitySignedOff(
    SignOffFacts,
    TrainingYearEvent,
    frozen=True,
    kw_only=True,
    tag="doctor.learning_activity_signed_off",
):
    pass


class AssessmentEvidenceCited(
    CitationFacts,
    TrainingYearEvent,
    frozen=True,
    kw_only=True,
    tag="doctor.assessment_evidence_cited",
):
    pass


class SupervisionMeetingHeld(
    MeetingFacts,
    TrainingYearEvent,
    frozen=True,
    kw_only=True,
    tag="doctor.supervision_meeting_held",
):
    org_number: str  # the veileder's organisation: it (and the doctor) may read the notes


class PlanPeriod(msgspec.Struct, frozen=True, kw_only=True):
    """One planned period of the individual education plan (R17)."""

    part: Part
    arena: Arena | None = None
    org_number: str
    start: date
    end: date  # inclusive
    fte_percent: int
    objective_ids: tuple[str, ...] = ()


class PlanFacts(Facts, frozen=True, kw_only=True):
    org_number: str  # the employer writing the plan for its own service
    recorded_on: date
    periods: tuple[PlanPeriod, ...] = ()


class EducationPlanRecorded(
    PlanFacts, TrainingYearEvent, frozen=True, kw_only=True, tag="doctor.education_plan_recorded"
):
    """R17: an employer writes (a new version of) the doctor's individual education plan
    for its own service. ``plan_version`` counts every plan written for the doctor, by any
    employer; the plan at version N is each employer's latest periods up to N.

    v2 adds ``periods`` (the plan's content); a v1 payload (only that a plan exists, from
    the authority issue) is lifted with no periods (:mod:`events.upcasters`)."""

    schema_version: ClassVar[int] = 2

    plan_version: int = 1


TrainingEvent = (
    LearningActivityRecorded
    | LearningActivitySignedOff
    | AssessmentEvidenceCited
    | SupervisionMeetingHeld
    | EducationPlanRecorded
)
