"""The training year in the record (issue 15): learning activities and their sign-off, and
supervision meetings, written by the doctor or an employer and read by whoever may read
the record. A meeting's notes are read only by the doctor and the veileder's organisation;
everyone else (other employers, the directorate) sees that the meeting took place."""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response
from litestar.params import FromPath, JSONBody, QueryParameter

from events.training import ActivityKind, MeetingKind
from events.vocabulary import Arena, Part
from services.api.access import Access
from services.api.access_log import access_log_middleware
from services.api.dependencies import EnvelopeDep, PrincipalDep, ServicesDep
from services.api.problems import ProblemError
from services.api.route import get, post, put
from services.api.schemas import (
    Body,
    Comment,
    HprNumber,
    ObjectiveId,
    OrgNumber,
    Percent,
    Text,
    WriteResult,
)
from services.api.write_routes import Sent, WriteRoutes, creates, new_id, to_doctor
from services.api.writes import acting_org, json_response
from services.application import commands as cmd
from services.clock import today
from services.identity.principal import Principal
from services.read_models.training import ActivityView, MeetingView, NotesReader, PlanView

DOCTOR = "doctor"
Notes = Annotated[str, msgspec.Meta(min_length=1, max_length=8000, pattern=r"^[^\x00]*$")]


class LearningActivityIn(Body):
    kind: ActivityKind
    date: datetime.date
    objective_ids: Annotated[tuple[ObjectiveId, ...], msgspec.Meta(min_length=1, max_length=50)]
    description: Text


class SignOffIn(Body):
    signed_by_hpr: HprNumber
    signed_on: datetime.date
    comment: Comment | None = None


class SupervisionMeetingIn(Body):
    held_on: datetime.date
    minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)]
    kind: MeetingKind
    veileder_hpr: HprNumber
    notes: Notes | None = None


class PlanPeriodIn(Body):
    part: Part
    org_number: OrgNumber
    start: datetime.date
    end: datetime.date
    fte_percent: Percent
    arena: Arena | None = None
    objective_ids: Annotated[tuple[ObjectiveId, ...], msgspec.Meta(max_length=200)] = ()


class EducationPlanIn(Body):
    periods: Annotated[tuple[PlanPeriodIn, ...], msgspec.Meta(min_length=1, max_length=50)]


class PlanWritten(msgspec.Struct, kw_only=True):
    doctor_id: str
    org_number: str
    plan_version: int
    version: int


def recorded_by(principal: Principal) -> str:
    """The doctor (a person's token: the access rule has made sure it is the doctor's own)
    or the employer's organisation."""
    return DOCTOR if principal.kind == "person" else acting_org(principal)


def notes_reader(principal: Principal) -> NotesReader:
    """The doctor reads every note; an organisation those of its own veiledere; the
    directorate none (it sees that the meeting took place)."""
    if principal.kind == "person":
        return NotesReader(doctor=True)
    if principal.kind == "organisation":
        return NotesReader(orgs=frozenset(principal.own_orgs()))
    return NotesReader()


# The doctor's training year; a read of a URL written here is in the same router.
TRAINING_RECORD = WriteRoutes(
    "/api/v1/doctors/{doctor_id:str}", to_doctor, tags=["the training year"], logged=True
)


@TRAINING_RECORD.post("/learning-activities", Access.DOCTOR_SELF_OR_EMPLOYER)
def learning_activity(doctor_id: str, data: LearningActivityIn, who: Principal) -> Sent:
    """Record a learning activity (the doctor or an employer); answers activity_id"""
    return creates(
        cmd.RecordLearningActivity,
        data,
        "activity_id",
        doctor_id=doctor_id,
        recorded_by=recorded_by(who),
    )


@TRAINING_RECORD.post("/learning-activities/{activity_id:str}/sign-off", Access.EMPLOYER_OF_DOCTOR)
def sign_off(doctor_id: str, activity_id: str, data: SignOffIn, who: Principal) -> Sent:
    """Record the sign-off of a learning activity by the supervisør who saw it"""
    command = cmd.from_body(
        cmd.SignOffLearningActivity,
        data,
        doctor_id=doctor_id,
        activity_id=activity_id,
        org_number=acting_org(who),
    )
    return Sent(command, {"activity_id": activity_id})


@post("/supervision-meetings", Access.DOCTOR_SELF_OR_EMPLOYER, status_code=201)
async def supervision_meeting(
    services: ServicesDep,
    envelope: EnvelopeDep,
    doctor_id: FromPath[str],
    data: JSONBody[SupervisionMeetingIn],
) -> Response[WriteResult]:
    """Record a supervision meeting (R12, R18); its notes are kept apart from the events and read
    only by the doctor and the veileder's organisation"""
    meeting_id = new_id()
    by = recorded_by(envelope.principal)
    command = cmd.from_body(
        cmd.RecordSupervisionMeeting,
        data,
        doctor_id=doctor_id,
        meeting_id=meeting_id,
        recorded_by=by,
        has_notes=bool(data.notes),
        org_number=None if by == DOCTOR else by,
    )
    reply = await services.training.record_meeting(
        command, data.notes, envelope, {"meeting_id": meeting_id}
    )
    return json_response(reply)


@get("/learning-activities", Access.DOCTOR_RECORD)
async def learning_activities(
    services: ServicesDep, doctor_id: FromPath[str]
) -> list[ActivityView]:
    """The doctor's learning activities with their sign-off"""
    return await services.training_reads.activities(doctor_id)


@get("/supervision-meetings", Access.DOCTOR_RECORD)
async def supervision_meetings(
    services: ServicesDep, principal: PrincipalDep, doctor_id: FromPath[str]
) -> list[MeetingView]:
    """The supervision meetings held; notes only for the doctor and the veileder's organisation"""
    return await services.training_reads.meetings(doctor_id, notes_reader(principal))


class EducationPlanController(Controller):
    """R17: each employer writes the individual education plan for its own service; every
    PUT makes a new ``plan_version``; the doctor and the employers read any version."""

    path = "/api/v1/doctors/{doctor_id:str}/education-plan"
    tags = ["the training year"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @put("/", Access.EMPLOYER_OF_DOCTOR, status_code=200)
    async def write_plan(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[EducationPlanIn],
    ) -> Response[PlanWritten]:
        """Write the individual education plan for the employer's own service (R17)"""
        command = cmd.RecordEducationPlan(
            doctor_id=doctor_id,
            org_number=acting_org(envelope.principal),
            recorded_on=today(),
            periods=tuple(
                msgspec.convert(msgspec.to_builtins(p), cmd.PlanPeriod) for p in data.periods
            ),
        )
        reply = await services.training.record_plan(command, envelope)
        response = json_response(reply)
        response.status_code = 200
        return response

    @get("/", Access.DOCTOR_SELF_OR_EMPLOYER)
    async def read_plan(
        self,
        services: ServicesDep,
        doctor_id: FromPath[str],
        version: Annotated[int | None, QueryParameter(ge=1, le=1_000_000)] = None,
    ) -> PlanView:
        """The individual education plan (R17), the latest or ?version=N"""
        plan = await services.training_reads.plan(doctor_id, version)
        if plan is None:
            raise ProblemError(
                404,
                "not-found",
                "Not found",
                "version: no such plan version" if version else "no education plan yet (R17)",
            )
        return plan
