"""A doctor's record: registration and every write an employer makes (API.md "A doctor's
record"). Each route parses the body into one command and hands it to its handler; the
application layer does the rest (context, relations, idempotency, one transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from litestar import Controller, Response, delete, post
from litestar.params import FromPath, JSONBody

from services.api.access import Access, access
from services.api.access_log import access_log_middleware
from services.api.dependencies import EnvelopeDep, ServicesDep
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
from services.api.writes import acting_org, json_response
from services.application import commands as cmd
from services.clock import today


async def write(
    services: ServicesDep,
    envelope: EnvelopeDep,
    command: cmd.DoctorCommand,
    echo: Mapping[str, object],
    *,
    status: int = 201,
) -> Response[WriteResult]:
    """201 (or ``status``) with the echo, the doctor id and the new version (also as
    ETag)."""
    return json_response(await services.doctors.handle(command, envelope, echo, status=status))


class DoctorRegistrationController(Controller):
    path = "/api/v1/doctors"
    tags = ["a doctor's record"]  # noqa: RUF012

    @post(
        "/",
        opt=access(Access.REGISTER_DOCTOR),
        status_code=201,
        summary="Register a doctor; personal data is kept apart from the events",
    )
    async def register(
        self, services: ServicesDep, envelope: EnvelopeDep, data: JSONBody[DoctorIn]
    ) -> Response[WriteResult]:
        doctor_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.RegisterDoctor, data, doctor_id=doctor_id, registered_on=today()
        )
        person = cmd.Person(
            hpr_number=data.hpr_number, national_id=data.national_id, name=data.name
        )
        return json_response(await services.doctors.register(command, person, envelope))


class DoctorWritesController(Controller):
    path = "/api/v1/doctors/{doctor_id:str}"
    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @post(
        "/service-periods",
        opt=access(Access.NEW_OR_CURRENT_EMPLOYER),
        status_code=201,
        summary="Record a service period (the employer)",
    )
    async def service_period(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[ServicePeriodIn],
    ) -> Response[WriteResult]:
        period_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.RecordServicePeriod, data, doctor_id=doctor_id, period_id=period_id
        )
        return await write(services, envelope, command, {"period_id": period_id})

    @post(
        "/service-periods/{period_id:str}/absences",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Log an absence in a service period (R8)",
    )
    async def absence(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        data: JSONBody[AbsenceIn],
    ) -> Response[WriteResult]:
        absence_id = str(uuid.uuid4())
        command = cmd.LogAbsence(
            doctor_id=doctor_id,
            period_id=period_id,
            absence_id=absence_id,
            kind=data.kind,
            start=data.start,
            end=data.end,
            percent=data.percent,
        )
        return await write(services, envelope, command, {"absence_id": absence_id})

    @post(
        "/service-periods/{period_id:str}/confirmation",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Issue the service confirmation (R7)",
    )
    async def confirmation(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        data: JSONBody[ConfirmationIn],
    ) -> Response[WriteResult]:
        # Issued in the name of the period's employer (the handler checks it is the caller).
        command = cmd.IssueServiceConfirmation(
            doctor_id=doctor_id,
            period_id=period_id,
            org_number=acting_org(envelope.principal),
            issued_on=data.issued_on,
            signed_by_hpr=data.signed_by_hpr,
        )
        return await write(services, envelope, command, {"period_id": period_id})

    @post(
        "/supervisors",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Assign a veileder or clinical supervisor (R13, R14)",
    )
    async def supervisor(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[SupervisorIn],
    ) -> Response[WriteResult]:
        org = acting_org(envelope.principal)
        assignment_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.AssignSupervisor,
            data,
            doctor_id=doctor_id,
            org_number=org,
            assignment_id=assignment_id,
        )
        echo = {"hpr_number": data.hpr_number, "role": data.role, "assignment_id": assignment_id}
        return await write(services, envelope, command, echo)

    @post(
        "/supervisors/{assignment_id:str}/end",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="End a supervisor assignment (the assigning institution; R13, R14)",
    )
    async def end_supervisor(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        assignment_id: FromPath[str],
        data: JSONBody[SupervisorEndIn],
    ) -> Response[WriteResult]:
        command = cmd.EndSupervisorAssignment(
            doctor_id=doctor_id,
            assignment_id=assignment_id,
            org_number=acting_org(envelope.principal),
            valid_to=data.valid_to,
        )
        echo = {"assignment_id": assignment_id, "ended": True}
        return await write(services, envelope, command, echo)

    @post(
        "/assessments",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Record an assessment of a learning objective (R5)",
    )
    async def assessment(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[AssessmentIn],
    ) -> Response[WriteResult]:
        org = acting_org(envelope.principal)
        command = cmd.from_body(cmd.AssessObjective, data, doctor_id=doctor_id, org_number=org)
        return await write(services, envelope, command, {"objective_id": data.objective_id})

    @post(
        "/approvals",
        opt=access(Access.CONFIRMED_EMPLOYER),
        status_code=201,
        summary="Approve a learning objective on the institution's behalf (R5)",
    )
    async def approval(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[ApprovalIn],
    ) -> Response[WriteResult]:
        command = cmd.from_body(cmd.ApproveObjective, data, doctor_id=doctor_id)
        return await write(services, envelope, command, {"objective_id": data.objective_id})

    @post(
        "/approvals/{objective_id:str}/revocations",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Revoke an approval (the employer that approved)",
    )
    async def revocation(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        objective_id: FromPath[str],
        data: JSONBody[RevocationIn],
    ) -> Response[WriteResult]:
        command = cmd.RevokeApproval(
            doctor_id=doctor_id,
            objective_id=objective_id,
            org_number=acting_org(envelope.principal),
            revoked_on=today(),
            reason=data.reason,
            revoked_by_hpr=envelope.principal.hpr_number,
        )
        echo = {"objective_id": objective_id, "revoked": True}
        return await write(services, envelope, command, echo)

    @post(
        "/supervision-hours",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Log a month's supervision hours (R12)",
    )
    async def supervision_hours(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[SupervisionHoursIn],
    ) -> Response[WriteResult]:
        command = cmd.LogSupervisionHours(
            doctor_id=doctor_id,
            org_number=acting_org(envelope.principal),
            month=data.month,
            hours=data.hours,
        )
        return await write(services, envelope, command, {"month": data.month})

    @post(
        "/exceptions",
        opt=access(Access.EMPLOYER_OR_DIRECTORATE),
        status_code=201,
        summary="Record an exception (R2 sequence, R3 part 1 first, R11, R13, R4 local FKM)",
    )
    async def exception(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[ExceptionIn],
    ) -> Response[WriteResult]:
        who = envelope.principal
        directorate = who.kind in ("admin", "caseworker")
        exception_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.GrantException,
            data,
            doctor_id=doctor_id,
            exception_id=exception_id,
            granted_by=cmd.DIRECTORATE if directorate else acting_org(who),
            granted_by_hpr=data.granted_by_hpr or who.hpr_number,
        )
        return await write(services, envelope, command, {"exception_id": exception_id})

    @delete(
        "/exceptions/{exception_id:str}",
        opt=access(Access.EMPLOYER_OR_DIRECTORATE),
        status_code=200,
        summary="Withdraw an exception or status (its grantor), with a reason",
    )
    async def withdraw_exception(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        exception_id: FromPath[str],
        data: JSONBody[WithdrawalIn],
    ) -> Response[WriteResult]:
        who = envelope.principal
        directorate = who.kind in ("admin", "caseworker")
        command = cmd.WithdrawException(
            doctor_id=doctor_id,
            exception_id=exception_id,
            withdrawn_by=cmd.DIRECTORATE if directorate else acting_org(who),
            withdrawn_on=data.withdrawn_on or today(),
            reason=data.reason,
            withdrawn_by_hpr=who.hpr_number,
        )
        echo = {"exception_id": exception_id, "withdrawn": True}
        return await write(services, envelope, command, echo, status=200)


class ErasureController(Controller):
    """Erase a doctor's personal data (name, national identity number, HPR number). Events
    never held it, so the record, its audit trail and the access log stay intact and keep
    referring to the internal id."""

    path = "/api/v1/doctors/{doctor_id:str}/erasure"
    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @post(
        "/",
        opt=access(Access.ADMIN),
        status_code=200,
        summary="Erase the personal data kept apart from the events (directorate admin)",
    )
    async def erase(self, services: ServicesDep, doctor_id: FromPath[str]) -> WriteResult:
        await services.doctors.erase(doctor_id)
        return WriteResult(doctor_id=doctor_id, status="erased")
