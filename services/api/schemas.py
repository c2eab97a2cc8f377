"""Request and response bodies of the public contract (API.md), as msgspec Structs.

Unknown fields are refused (``forbid_unknown_fields``): a typo in an integration must not
be silently dropped. Field constraints here are the shape of the input; the rules of the
regulation are the domain's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from events.vocabulary import (
    AbsenceKind,
    ApplicationOutcome,
    Arena,
    AssessmentOutcome,
    AssessorRole,
    ExceptionKind,
    OrganisationKind,
    Part,
    SupervisorRole,
)
from services.api.input_limits import EARLIEST, LATEST, out_of_range

# Free text: no control characters but tab and line breaks (PostgreSQL cannot store NUL in
# JSON, and nothing a person writes contains them).
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=PRINTABLE)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=PRINTABLE)]
Comment = Annotated[str, msgspec.Meta(max_length=4000, pattern=PRINTABLE)]
OrgNumber = Annotated[str, msgspec.Meta(pattern=r"^\d{9}$", examples=["974589095"])]
HprNumber = Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d{0,8}$", examples=["1234567"])]
NationalId = Annotated[str, msgspec.Meta(pattern=r"^\d{11}$")]
ObjectiveId = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", examples=["KLS-001"])
]
RecordId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Percent = Annotated[int, msgspec.Meta(ge=1, le=100)]
Month = Annotated[
    str, msgspec.Meta(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", examples=["2025-03"])
]
Specialty = Annotated[
    str, msgspec.Meta(pattern=r"^[a-zæøå][a-zæøå0-9_-]{1,59}$", examples=["allmennmedisin"])
]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    def __post_init__(self) -> None:
        # Dates of facts lie in a plausible range (services.api.input_limits).
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, date) and out_of_range(value):
                raise ValueError(f"{name}: {value.isoformat()} is outside {EARLIEST}..{LATEST}")


# Organisations ---------------------------------------------------------------------------
class OrganisationIn(Body):
    org_number: OrgNumber
    name: ShortText
    kind: OrganisationKind


class LeaderIn(Body):
    hpr_number: HprNumber
    valid_from: date
    valid_to: date | None = None


class DelegationIn(Body):
    leader_hpr: HprNumber
    delegate_hpr: HprNumber
    valid_from: date
    valid_to: date | None = None


# A doctor's record -------------------------------------------------------------------------
class DoctorIn(Body):
    hpr_number: HprNumber
    authorised_on: date
    national_id: NationalId | None = None
    name: ShortText | None = None


class ServicePeriodIn(Body):
    org_number: OrgNumber
    part: Part
    position: ShortText
    fte_percent: Percent
    start: date
    arena: Arena | None = None  # part 1: hospital or municipal
    end: date | None = None
    specialty: Specialty | None = None
    open_unselected_gp: bool = False
    self_created_post: bool = False


class CorrectionIn(ServicePeriodIn):
    """The corrected fields of a service period (all of them), and why."""

    reason: Comment = ""


class RetractionIn(Body):
    """A fact recorded in error is retracted, with the reason."""

    reason: Text


class AbsenceIn(Body):
    kind: AbsenceKind
    start: date
    end: date
    percent: Percent = 100


class ConfirmationIn(Body):
    issued_on: date
    signed_by_hpr: HprNumber


class SupervisorIn(Body):
    hpr_number: HprNumber
    role: SupervisorRole
    valid_from: date
    part: Part = 1
    specialty: Specialty | None = None
    specialist_in: Specialty | None = None  # R13: the supervisor's own specialty
    substantial_experience: bool = False  # R13 (2024 proposal)
    external_stay: bool = False  # R13: long stay outside the responsible institution


class AssessmentIn(Body):
    objective_id: ObjectiveId
    assessor_hpr: HprNumber
    assessor_role: AssessorRole
    outcome: AssessmentOutcome
    assessed_on: date
    method: ShortText | None = None
    comment: Comment | None = None
    # The learning activities the assessment rests on (issue 15).
    activity_ids: Annotated[tuple[RecordId, ...], msgspec.Meta(max_length=50)] = ()


class ApprovalIn(Body):
    objective_id: ObjectiveId
    approver_hpr: HprNumber
    org_number: OrgNumber
    approved_on: date


class RevocationIn(Body):
    reason: Text


class ApprovalRequestIn(Body):
    objective_id: ObjectiveId
    org_number: OrgNumber


class ReturnIn(Body):
    comment: Text


class SupervisionHoursIn(Body):
    month: Month
    hours: Annotated[float, msgspec.Meta(ge=0, le=400)]


class ExceptionIn(Body):
    kind: ExceptionKind
    granted_on: date
    reason: Text
    granted_by_hpr: HprNumber | None = None
    period_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = None
    supervisor_hpr: HprNumber | None = None
    valid_from: date | None = None  # default: granted_on
    valid_to: date | None = None  # required for veileder_dispensation (R13, tidsavgrenset)
    credit_months: Annotated[int, msgspec.Meta(ge=1, le=78)] | None = None  # foreign_credit


class WithdrawalIn(Body):
    """Withdrawal of an exception by its grantor, with the reason."""

    reason: Text
    withdrawn_on: date | None = None  # default: today


class SupervisorEndIn(Body):
    valid_to: date


class RegistrationIn(Body):
    """R16: registered as utdanningsvirksomhet for ``specialty`` by the directorate."""

    specialty: Specialty
    valid_from: date
    valid_to: date | None = None


class RegistrationEndIn(Body):
    ended_on: date


class ApplicationIn(Body):
    specialty: Specialty


class DecisionIn(Body):
    outcome: ApplicationOutcome
    reason: Text


# Catalogue ---------------------------------------------------------------------------------
class ObjectiveIn(Body):
    id: ObjectiveId
    part: Part
    title: Text
    specialty: Specialty | None = None  # None: a common competence objective (FKM)
    arena: Arena | None = None  # part 1: for FKM, the published distribution


class CarryOverIn(Body):
    old_id: ObjectiveId
    new_id: ObjectiveId | None = None  # None: removed
    stricter: bool = False


class CatalogueVersionIn(Body):
    version: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
    effective_from: date
    objectives: Annotated[list[ObjectiveIn], msgspec.Meta(min_length=1, max_length=10000)]
    carry_over: list[CarryOverIn] = []
    label: Annotated[str, msgspec.Meta(max_length=200)] = ""


# Answers ----------------------------------------------------------------------------------
class WriteResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a write answers: the ids it created or touched and the stream's new version
    (also in the ``ETag`` header)."""

    version: int | None = None
    doctor_id: str | None = None
    activity_id: str | None = None
    meeting_id: str | None = None
    org_number: str | None = None
    period_id: str | None = None
    absence_id: str | None = None
    exception_id: str | None = None
    objective_id: str | None = None
    delegation_id: str | None = None
    assignment_id: str | None = None
    registration_id: str | None = None
    withdrawn: bool | None = None
    retracted: bool | None = None
    application_id: str | None = None
    content_hash: str | None = None
    hpr_number: str | None = None
    role: str | None = None
    month: str | None = None
    status: str | None = None
    revoked: bool | None = None
    ended: bool | None = None
    objectives: int | None = None
    catalogue_version: str | None = None


class ApplicationOut(msgspec.Struct, kw_only=True):
    """An application with the evidence bundle as it stood when submitted."""

    application_id: str
    status: str
    content_hash: str
    bundle: dict[str, Any]
    # Every decision with its reason, oldest first (the doctor reads them here too).
    decisions: list[dict[str, Any]] = []


class Page(msgspec.Struct, kw_only=True):
    items: list[Any]
    next_cursor: str | None = None
