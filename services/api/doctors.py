"""A doctor's record: registration and every write an employer makes (API.md "A doctor's
record"). Each route parses the body into one command and hands it to its handler; the
application layer does the rest (context, relations, idempotency, one transaction)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response
from litestar.params import FromPath, JSONBody

from services.api.access import Access
from services.api.dependencies import EnvelopeDep, ServicesDep
from services.api.route import RecordController, post
from services.api.schemas import (
    AbsenceIn,
    ApprovalIn,
    AssessmentIn,
    ConfirmationIn,
    DoctorIn,
    ExceptionIn,
    RevocationIn,
    ServicePeriodIn,
    SupervisionHoursIn,
    SupervisorEndIn,
    SupervisorIn,
    WithdrawalIn,
    WriteResult,
)
from services.api.write_routes import Sent, WriteRoutes, creates, new_id, to_doctor
from services.api.writes import acting_org, json_response
from services.application import commands as cmd
from services.clock import today
from services.identity.principal import Principal


class DoctorRegistrationController(Controller):
    path = "/api/v1/doctors"
    tags = ["a doctor's record"]  # noqa: RUF012

    @post("/", Access.REGISTER_DOCTOR, status_code=201)
    async def register(
        self, services: ServicesDep, envelope: EnvelopeDep, data: JSONBody[DoctorIn]
    ) -> Response[WriteResult]:
        """Register a doctor; personal data is kept apart from the events"""
        doctor_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.RegisterDoctor, data, doctor_id=doctor_id, registered_on=today()
        )
        person = cmd.Person(
            hpr_number=data.hpr_number, national_id=data.national_id, name=data.name
        )
        return json_response(await services.doctors.register(command, person, envelope))


DOCTOR_WRITES = WriteRoutes(
    "/api/v1/doctors/{doctor_id:str}", to_doctor, tags=["a doctor's record"], logged=True
)


def granted_by(who: Principal) -> str:
    """The directorate (its admins and caseworkers) or the employer's organisation."""
    return cmd.DIRECTORATE if who.kind in ("admin", "caseworker") else acting_org(who)


@DOCTOR_WRITES.post("/service-periods", Access.NEW_OR_CURRENT_EMPLOYER)
def service_period(doctor_id: str, data: ServicePeriodIn) -> Sent:
    """Record a service period (the employer)"""
    return creates(cmd.RecordServicePeriod, data, "period_id", doctor_id=doctor_id)


@DOCTOR_WRITES.post("/service-periods/{period_id:str}/absences", Access.EMPLOYER_OF_DOCTOR)
def absence(doctor_id: str, period_id: str, data: AbsenceIn) -> Sent:
    """Log an absence in a service period (R8)"""
    return creates(cmd.LogAbsence, data, "absence_id", doctor_id=doctor_id, period_id=period_id)


@DOCTOR_WRITES.post("/service-periods/{period_id:str}/confirmation", Access.EMPLOYER_OF_DOCTOR)
def confirmation(doctor_id: str, period_id: str, data: ConfirmationIn, who: Principal) -> Sent:
    """Issue the service confirmation (R7)"""
    # Issued in the name of the period's employer (the handler checks it is the caller).
    org = acting_org(who)
    command = cmd.from_body(
        cmd.IssueServiceConfirmation, data, doctor_id=doctor_id, period_id=period_id, org_number=org
    )
    return Sent(command, {"period_id": period_id})


@DOCTOR_WRITES.post("/supervisors", Access.EMPLOYER_OF_DOCTOR)
def supervisor(doctor_id: str, data: SupervisorIn, who: Principal) -> Sent:
    """Assign a veileder or clinical supervisor (R13, R14)"""
    assignment_id = new_id()
    command = cmd.from_body(
        cmd.AssignSupervisor,
        data,
        doctor_id=doctor_id,
        org_number=acting_org(who),
        assignment_id=assignment_id,
    )
    echo = {"hpr_number": data.hpr_number, "role": data.role, "assignment_id": assignment_id}
    return Sent(command, echo)


@DOCTOR_WRITES.post("/supervisors/{assignment_id:str}/end", Access.EMPLOYER_OF_DOCTOR)
def end_supervisor(
    doctor_id: str, assignment_id: str, data: SupervisorEndIn, who: Principal
) -> Sent:
    """End a supervisor assignment (the assigning institution; R13, R14)"""
    command = cmd.from_body(
        cmd.EndSupervisorAssignment,
        data,
        doctor_id=doctor_id,
        assignment_id=assignment_id,
        org_number=acting_org(who),
    )
    return Sent(command, {"assignment_id": assignment_id, "ended": True})


@DOCTOR_WRITES.post("/assessments", Access.EMPLOYER_OF_DOCTOR)
def assessment(doctor_id: str, data: AssessmentIn, who: Principal) -> Sent:
    """Record an assessment of a learning objective (R5)"""
    org = acting_org(who)
    command = cmd.from_body(cmd.AssessObjective, data, doctor_id=doctor_id, org_number=org)
    return Sent(command, {"objective_id": data.objective_id})


@DOCTOR_WRITES.post("/approvals", Access.CONFIRMED_EMPLOYER)
def approval(doctor_id: str, data: ApprovalIn) -> Sent:
    """Approve a learning objective on the institution's behalf (R5)"""
    command = cmd.from_body(cmd.ApproveObjective, data, doctor_id=doctor_id)
    return Sent(command, {"objective_id": data.objective_id})


@DOCTOR_WRITES.post("/approvals/{objective_id:str}/revocations", Access.EMPLOYER_OF_DOCTOR)
def revocation(doctor_id: str, objective_id: str, data: RevocationIn, who: Principal) -> Sent:
    """Revoke an approval (the employer that approved)"""
    command = cmd.from_body(
        cmd.RevokeApproval,
        data,
        doctor_id=doctor_id,
        objective_id=objective_id,
        org_number=acting_org(who),
        revoked_on=today(),
        revoked_by_hpr=who.hpr_number,
    )
    return Sent(command, {"objective_id": objective_id, "revoked": True})


@DOCTOR_WRITES.post("/supervision-hours", Access.EMPLOYER_OF_DOCTOR)
def supervision_hours(doctor_id: str, data: SupervisionHoursIn, who: Principal) -> Sent:
    """Log a month's supervision hours (R12)"""
    org = acting_org(who)
    command = cmd.from_body(cmd.LogSupervisionHours, data, doctor_id=doctor_id, org_number=org)
    return Sent(command, {"month": data.month})


@DOCTOR_WRITES.post("/exceptions", Access.EMPLOYER_OR_DIRECTORATE)
def exception(doctor_id: str, data: ExceptionIn, who: Principal) -> Sent:
    """Record an exception (R2 sequence, R3 part 1 first, R11, R13, R4 local FKM)"""
    return creates(
        cmd.GrantException,
        data,
        "exception_id",
        doctor_id=doctor_id,
        granted_by=granted_by(who),
        granted_by_hpr=data.granted_by_hpr or who.hpr_number,
    )


@DOCTOR_WRITES.delete("/exceptions/{exception_id:str}", Access.EMPLOYER_OR_DIRECTORATE)
def withdraw_exception(
    doctor_id: str, exception_id: str, data: WithdrawalIn, who: Principal
) -> Sent:
    """Withdraw an exception or status (its grantor), with a reason"""
    command = cmd.from_body(
        cmd.WithdrawException,
        data,
        doctor_id=doctor_id,
        exception_id=exception_id,
        withdrawn_by=granted_by(who),
        withdrawn_on=data.withdrawn_on or today(),
        withdrawn_by_hpr=who.hpr_number,
    )
    return Sent(command, {"exception_id": exception_id, "withdrawn": True})


class ErasureController(RecordController):
    """Erase a doctor's personal data (name, national identity number, HPR number). Events
    never held it, so the record, its audit trail and the access log stay intact and keep
    referring to the internal id."""

    path = "/api/v1/doctors/{doctor_id:str}/erasure"

    @post("/", Access.ADMIN, status_code=200)
    async def erase(self, services: ServicesDep, doctor_id: FromPath[str]) -> WriteResult:
        """Erase the personal data kept apart from the events (directorate admin)"""
        await services.doctors.erase(doctor_id)
        return WriteResult(doctor_id=doctor_id, status="erased")
