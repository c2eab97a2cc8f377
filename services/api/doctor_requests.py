"""The doctor's approval requests (ask, withdraw; the leader returns them) and the
employer's corrections of what it recorded (API.md: corrections and retractions, by the
employer that recorded the period)."""

from __future__ import annotations

from litestar import Controller, Response, delete, post
from litestar.params import FromPath, JSONBody

from services.api.access import Access, access
from services.api.access_log import access_log_middleware
from services.api.dependencies import EnvelopeDep, ServicesDep
from services.api.doctors import write
from services.api.schemas import (
    ApprovalRequestIn,
    CorrectionIn,
    RetractionIn,
    ReturnIn,
    WriteResult,
)
from services.api.writes import acting_org
from services.application import commands as cmd
from services.clock import today


class ApprovalRequestsController(Controller):
    """The doctor asks a leader to approve; withdraws; the leader returns it with a comment."""

    path = "/api/v1/doctors/{doctor_id:str}/approval-requests"
    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @post(
        "/",
        opt=access(Access.DOCTOR_SELF),
        status_code=201,
        summary="Ask an institution's leader to approve an objective",
    )
    async def request_approval(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[ApprovalRequestIn],
    ) -> Response[WriteResult]:
        command = cmd.from_body(
            cmd.RequestApproval, data, doctor_id=doctor_id, requested_on=today()
        )
        echo = {"objective_id": data.objective_id, "status": "waiting"}
        return await write(services, envelope, command, echo)

    @delete(
        "/{objective_id:str}",
        opt=access(Access.DOCTOR_SELF),
        status_code=200,
        summary="Withdraw an approval request",
    )
    async def withdraw(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        objective_id: FromPath[str],
    ) -> Response[WriteResult]:
        command = cmd.WithdrawApprovalRequest(
            doctor_id=doctor_id, objective_id=objective_id, withdrawn_on=today()
        )
        echo = {"objective_id": objective_id, "status": "withdrawn"}
        return await write(services, envelope, command, echo)

    @post(
        "/{objective_id:str}/returns",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="The leader sends the request back with what is missing",
    )
    async def return_request(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        objective_id: FromPath[str],
        data: JSONBody[ReturnIn],
    ) -> Response[WriteResult]:
        command = cmd.ReturnApprovalRequest(
            doctor_id=doctor_id,
            objective_id=objective_id,
            org_number=acting_org(envelope.principal),
            returned_on=today(),
            comment=data.comment,
            returned_by_hpr=envelope.principal.hpr_number,
        )
        echo = {"objective_id": objective_id, "status": "returned"}
        return await write(services, envelope, command, echo)


class CorrectionsController(Controller):
    """Facts recorded in error: the employer that recorded the period corrects or retracts
    it, or retracts one of its absences. The handler checks the period is the caller's."""

    path = "/api/v1/doctors/{doctor_id:str}/service-periods/{period_id:str}"
    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @post(
        "/corrections",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Correct a service period (the employer that recorded it)",
    )
    async def correct(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        data: JSONBody[CorrectionIn],
    ) -> Response[WriteResult]:
        command = cmd.from_body(
            cmd.CorrectServicePeriod, data, doctor_id=doctor_id, period_id=period_id
        )
        return await write(services, envelope, command, {"period_id": period_id})

    @post(
        "/retractions",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Retract a service period recorded in error (the employer that recorded it)",
    )
    async def retract(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        data: JSONBody[RetractionIn],
    ) -> Response[WriteResult]:
        command = cmd.RetractServicePeriod(
            doctor_id=doctor_id, period_id=period_id, reason=data.reason
        )
        return await write(services, envelope, command, {"period_id": period_id})

    @post(
        "/absences/{absence_id:str}/retractions",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Retract an absence recorded in error (the employer that recorded it)",
    )
    async def retract_absence(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        absence_id: FromPath[str],
        data: JSONBody[RetractionIn],
    ) -> Response[WriteResult]:
        command = cmd.RetractAbsence(
            doctor_id=doctor_id, period_id=period_id, absence_id=absence_id, reason=data.reason
        )
        return await write(services, envelope, command, {"absence_id": absence_id})
