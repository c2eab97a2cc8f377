"""A doctor's record: registration and every write an employer makes (API.md "A doctor's
record"). Each handler turns the body and the token into one domain command; the domain
decides; :func:`services.api.writes.perform` does the rest."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, delete, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import approval_requests as requests_domain
from domain import doctor_commands as cmd
from domain.doctor_decide import decide
from domain.doctor_state import DoctorState
from domain.identifiers import check_hpr_number, check_national_id
from events.vocabulary import DIRECTORATE
from services.api import relations
from services.api.access import Access, access
from services.api.access_log import access_log_middleware
from services.api.problems import ProblemError
from services.api.schemas import (
    AbsenceIn,
    ApprovalIn,
    ApprovalRequestIn,
    AssessmentIn,
    ConfirmationIn,
    DoctorIn,
    ExceptionIn,
    ReturnIn,
    RevocationIn,
    ServicePeriodIn,
    SupervisionHoursIn,
    SupervisorIn,
    WriteResult,
)
from services.api.writes import created, expected_version, perform
from services.application import context_loaders
from services.application.aggregates import DOCTOR
from services.application.context import event_metadata
from services.application.streams import run_command
from services.clock import today
from services.store.idempotency import StoredResponse

Req = Request[Any, Any, Any]
CommandOf = Callable[[DoctorState], Any]


def principal(request: Req) -> Any:
    return request.scope["state"]["principal"]


def caller_org(request: Req) -> str:
    """The organisation acting (an organisation's client token)."""
    org = principal(request).org_number
    if org is None:
        raise ProblemError(403, "forbidden", "Forbidden", "requires an organisation's client")
    return str(org)


def own_orgs(request: Req) -> set[str]:
    p = principal(request)
    return {o for o in (p.org_number, p.parent_org_number) if o}


def require_own_org(request: Req, org_number: str, field: str = "org_number") -> None:
    if org_number not in own_orgs(request):
        raise ProblemError(
            403,
            "forbidden",
            "Forbidden",
            f"{field}: an organisation records only its own service and approvals",
            field=field,
        )


def invalid(field: str, reason: str) -> ProblemError:
    return ProblemError(400, "invalid-input", "Invalid input", f"{field}: {reason}", field=field)


async def doctor_command(
    request: Req,
    doctor_id: str,
    command_of: CommandOf,
    body: dict[str, Any],
    *,
    needs_catalogue: bool = False,
    org_numbers: set[str] | None = None,
    employer: str | None = None,
    on_behalf_of: str | None = None,
    decider: Any = decide,
) -> Response[WriteResult]:
    """Load, decide, append in one transaction; 201 with the new version as ETag."""
    expected = expected_version(request)
    metadata = event_metadata(
        principal(request), request.scope["state"].get("request_id"), on_behalf_of=on_behalf_of
    )

    async def work(conn: AsyncConnection) -> StoredResponse:
        catalogue = await context_loaders.current_catalogue(conn) if needs_catalogue else None
        organisations = (
            await context_loaders.organisations(conn, org_numbers) if org_numbers else None
        )
        # Service recorded by an organisation without a relation to the doctor is its claim
        # (RULES.md "Reach into a record"); the event goes with the fact.
        claimed = (
            await relations.relate(
                conn, doctor_id, employer, basis="service_period", status="claimed"
            )
            if employer is not None
            else []
        )

        def decision(state: DoctorState, _version: int) -> Any:
            if decider is not decide:
                decided = decider(command_of(state), state, catalogue=catalogue)
            else:
                decided = decide(
                    command_of(state), state, catalogue=catalogue, organisations=organisations
                )
            return decided + claimed if isinstance(decided, list) else decided

        outcome = await run_command(
            conn,
            DOCTOR,
            doctor_id,
            expected_version=expected,
            decide=decision,
            metadata=metadata,
        )
        return created(
            {**body, "doctor_id": doctor_id, "version": outcome.version}, version=outcome.version
        )

    return await perform(request, work)


class DoctorRegistrationController(Controller):
    path = "/api/v1/doctors"
    tags = ["a doctor's record"]  # noqa: RUF012

    @post(
        "/",
        opt=access(Access.REGISTER_DOCTOR),
        status_code=201,
        summary="Register a doctor; personal data is kept apart from the events",
    )
    async def register(self, request: Req, data: JSONBody[DoctorIn]) -> Response[WriteResult]:
        if (reason := check_hpr_number(data.hpr_number)) is not None:
            raise invalid("hpr_number", reason)
        if data.national_id is not None and (reason := check_national_id(data.national_id)):
            raise invalid("national_id", reason)
        doctor_id = str(uuid.uuid4())
        command = cmd.RegisterDoctor(
            doctor_id=doctor_id, authorised_on=data.authorised_on, registered_on=today()
        )
        metadata = event_metadata(principal(request), request.scope["state"].get("request_id"))

        async def work(conn: AsyncConnection) -> StoredResponse:
            existing = await conn.scalar(
                text("SELECT doctor_id FROM people WHERE hpr_number = :h"),
                {"h": data.hpr_number},
            )
            if existing is not None:
                return await register_known(request, conn, str(existing), data.national_id)
            await conn.execute(
                text(
                    "INSERT INTO people (doctor_id, hpr_number, national_id, name) "
                    "VALUES (:d, :h, :p, :n)"
                ),
                {"d": doctor_id, "h": data.hpr_number, "p": data.national_id, "n": data.name},
            )
            extra: list[Any] = []
            if principal(request).kind == "organisation":
                # The registering organisation may read and write the record it created.
                extra += await relations.relate(
                    conn, doctor_id, caller_org(request), basis="registration", status="confirmed"
                )
            # Someone else's national identity number never blocks this registration: the
            # conflict is recorded for the directorate, and the caller learns nothing of it.
            extra += await relations.flag_identity_conflicts(conn, doctor_id, data.national_id)

            def decision(state: DoctorState, _v: int) -> Any:
                decided = decide(command, state)
                return decided + extra if isinstance(decided, list) else decided

            outcome = await run_command(
                conn,
                DOCTOR,
                doctor_id,
                expected_version=0,
                decide=decision,
                metadata=metadata,
            )
            return created(
                {"doctor_id": doctor_id, "version": outcome.version},
                version=outcome.version,
                location=f"/api/v1/doctors/{doctor_id}",
            )

        try:
            return await perform(request, work)
        except IntegrityError as err:  # a concurrent registration of the same HPR number
            raise ProblemError(
                409,
                "already-registered",
                "Conflict",
                "hpr_number: registered by a concurrent request; retry to learn your relation",
                field="hpr_number",
            ) from err


async def register_known(
    request: Req, conn: AsyncConnection, doctor_id: str, national_id: str | None
) -> StoredResponse:
    """A registration of an HPR number someone registered already. The directorate, and an
    organisation already related to the doctor, may read the record: 409 naming it. Any
    other organisation's registration becomes its *claimed* relation (200): it may record
    its own facts and read back only those until the doctor or the directorate confirms."""
    who = principal(request)
    org = caller_org(request) if who.kind == "organisation" else None
    known = org is None or await relations.status_of(conn, doctor_id, org) is not None
    if known:
        raise ProblemError(
            409,
            "already-registered",
            "Conflict",
            f"hpr_number: this doctor is registered already as {doctor_id}",
            field="hpr_number",
        )
    assert org is not None
    events = await relations.relate(conn, doctor_id, org, basis="registration", status="claimed")
    events += await relations.flag_identity_conflicts(conn, doctor_id, national_id)
    version = await relations.append(request, conn, doctor_id, events)
    return created(
        {"doctor_id": doctor_id, "version": version, "relation": "claimed"},
        version=version,
        status=200,
        location=f"/api/v1/doctors/{doctor_id}",
    )


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
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[ServicePeriodIn]
    ) -> Response[WriteResult]:
        require_own_org(request, data.org_number)
        period_id = str(uuid.uuid4())
        command = cmd.RecordServicePeriod(
            doctor_id=doctor_id,
            period_id=period_id,
            org_number=data.org_number,
            part=data.part,
            arena=data.arena,
            position=data.position,
            fte_percent=data.fte_percent,
            start=data.start,
            end=data.end,
            specialty=data.specialty,
            open_unselected_gp=data.open_unselected_gp,
            self_created_post=data.self_created_post,
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"period_id": period_id},
            employer=data.org_number,
        )

    @post(
        "/service-periods/{period_id:str}/absences",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Log an absence in a service period (R8)",
    )
    async def absence(
        self,
        request: Req,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        data: JSONBody[AbsenceIn],
    ) -> Response[WriteResult]:
        absence_id = str(uuid.uuid4())

        def command_of(state: DoctorState) -> Any:
            self_check_period(request, state, period_id)
            return cmd.LogAbsence(
                doctor_id=doctor_id,
                period_id=period_id,
                absence_id=absence_id,
                kind=data.kind,
                start=data.start,
                end=data.end,
                percent=data.percent,
            )

        return await doctor_command(request, doctor_id, command_of, {"absence_id": absence_id})

    @post(
        "/service-periods/{period_id:str}/confirmation",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Issue the service confirmation (R7)",
    )
    async def confirmation(
        self,
        request: Req,
        doctor_id: FromPath[str],
        period_id: FromPath[str],
        data: JSONBody[ConfirmationIn],
    ) -> Response[WriteResult]:
        def command_of(state: DoctorState) -> Any:
            org = self_check_period(request, state, period_id)
            return cmd.IssueServiceConfirmation(
                doctor_id=doctor_id,
                period_id=period_id,
                org_number=org,
                issued_on=data.issued_on,
                signed_by_hpr=data.signed_by_hpr,
            )

        return await doctor_command(request, doctor_id, command_of, {"period_id": period_id})

    @post(
        "/supervisors",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Assign a veileder or clinical supervisor (R13, R14)",
    )
    async def supervisor(
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[SupervisorIn]
    ) -> Response[WriteResult]:
        command = cmd.AssignSupervisor(
            doctor_id=doctor_id,
            org_number=caller_org(request),
            hpr_number=data.hpr_number,
            role=data.role,
            valid_from=data.valid_from,
            part=data.part,
            specialty=data.specialty,
            specialist_in=data.specialist_in,
            substantial_experience=data.substantial_experience,
            external_stay=data.external_stay,
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"hpr_number": data.hpr_number, "role": data.role},
        )

    @post(
        "/assessments",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Record an assessment of a learning objective (R5)",
    )
    async def assessment(
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[AssessmentIn]
    ) -> Response[WriteResult]:
        command = cmd.AssessObjective(
            doctor_id=doctor_id,
            objective_id=data.objective_id,
            org_number=caller_org(request),
            assessor_hpr=data.assessor_hpr,
            assessor_role=data.assessor_role,
            outcome=data.outcome,
            assessed_on=data.assessed_on,
            method=data.method,
            comment=data.comment,
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"objective_id": data.objective_id},
            needs_catalogue=True,
        )

    @post(
        "/approvals",
        opt=access(Access.CONFIRMED_EMPLOYER),
        status_code=201,
        summary="Approve a learning objective on the institution's behalf (R5)",
    )
    async def approval(
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[ApprovalIn]
    ) -> Response[WriteResult]:
        require_own_org(request, data.org_number)
        command = cmd.ApproveObjective(
            doctor_id=doctor_id,
            objective_id=data.objective_id,
            org_number=data.org_number,
            approver_hpr=data.approver_hpr,
            approved_on=data.approved_on,
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"objective_id": data.objective_id},
            needs_catalogue=True,
            org_numbers={data.org_number},
        )

    @post(
        "/approvals/{objective_id:str}/revocations",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Revoke an approval (the employer that approved)",
    )
    async def revocation(
        self,
        request: Req,
        doctor_id: FromPath[str],
        objective_id: FromPath[str],
        data: JSONBody[RevocationIn],
    ) -> Response[WriteResult]:
        command = cmd.RevokeApproval(
            doctor_id=doctor_id,
            objective_id=objective_id,
            org_number=caller_org(request),
            revoked_on=today(),
            reason=data.reason,
            revoked_by_hpr=principal(request).hpr_number,
        )
        return await doctor_command(
            request, doctor_id, lambda _s: command, {"objective_id": objective_id, "revoked": True}
        )

    @post(
        "/supervision-hours",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="Log a month's supervision hours (R12)",
    )
    async def supervision_hours(
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[SupervisionHoursIn]
    ) -> Response[WriteResult]:
        command = cmd.LogSupervisionHours(
            doctor_id=doctor_id, org_number=caller_org(request), month=data.month, hours=data.hours
        )
        return await doctor_command(request, doctor_id, lambda _s: command, {"month": data.month})

    @post(
        "/exceptions",
        opt=access(Access.EMPLOYER_OR_DIRECTORATE),
        status_code=201,
        summary="Record an exception (R2 sequence, R3 part 1 first, R11, R13, R4 local FKM)",
    )
    async def exception(
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[ExceptionIn]
    ) -> Response[WriteResult]:
        who = principal(request)
        granted_by = DIRECTORATE if who.kind in ("admin", "caseworker") else caller_org(request)
        exception_id = str(uuid.uuid4())
        command = cmd.GrantException(
            doctor_id=doctor_id,
            exception_id=exception_id,
            kind=data.kind,
            granted_by=granted_by,
            granted_on=data.granted_on,
            granted_by_hpr=data.granted_by_hpr or who.hpr_number,
            period_id=data.period_id,
            supervisor_hpr=data.supervisor_hpr,
            reason=data.reason,
        )
        return await doctor_command(
            request, doctor_id, lambda _s: command, {"exception_id": exception_id}
        )


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
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[ApprovalRequestIn]
    ) -> Response[WriteResult]:
        command = requests_domain.RequestApproval(
            doctor_id=doctor_id,
            objective_id=data.objective_id,
            org_number=data.org_number,
            requested_on=today(),
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"objective_id": data.objective_id, "status": "waiting"},
            needs_catalogue=True,
            decider=requests_domain.decide,
        )

    @delete(
        "/{objective_id:str}",
        opt=access(Access.DOCTOR_SELF),
        status_code=200,
        summary="Withdraw an approval request",
    )
    async def withdraw(
        self, request: Req, doctor_id: FromPath[str], objective_id: FromPath[str]
    ) -> Response[WriteResult]:
        command = requests_domain.WithdrawApprovalRequest(
            doctor_id=doctor_id, objective_id=objective_id, withdrawn_on=today()
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"objective_id": objective_id, "status": "withdrawn"},
            decider=requests_domain.decide,
        )

    @post(
        "/{objective_id:str}/returns",
        opt=access(Access.EMPLOYER_OF_DOCTOR),
        status_code=201,
        summary="The leader sends the request back with what is missing",
    )
    async def return_request(
        self,
        request: Req,
        doctor_id: FromPath[str],
        objective_id: FromPath[str],
        data: JSONBody[ReturnIn],
    ) -> Response[WriteResult]:
        command = requests_domain.ReturnApprovalRequest(
            doctor_id=doctor_id,
            objective_id=objective_id,
            org_number=caller_org(request),
            returned_on=today(),
            comment=data.comment,
            returned_by_hpr=principal(request).hpr_number,
        )
        return await doctor_command(
            request,
            doctor_id,
            lambda _s: command,
            {"objective_id": objective_id, "status": "returned"},
            decider=requests_domain.decide,
        )


def self_check_period(request: Req, state: DoctorState, period_id: str) -> str:
    """The period must exist and be the caller's own: an employer writes about its own
    service only. Returns the period's organisation number."""
    period = state.periods.get(period_id)
    if period is None:
        raise ProblemError(
            404, "not-found", "Not found", f"no service period {period_id}", field="period_id"
        )
    require_own_org(request, period.org_number, field="period_id")
    return period.org_number


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
    async def erase(self, request: Req, doctor_id: FromPath[str]) -> WriteResult:
        async with request.app.state.engine.begin() as conn:
            erased = await conn.scalar(
                text(
                    "UPDATE people SET hpr_number = NULL, national_id = NULL, name = NULL, "
                    "erased_at = coalesce(erased_at, now()) WHERE doctor_id = :d "
                    "RETURNING doctor_id"
                ),
                {"d": doctor_id},
            )
        if erased is None:
            raise ProblemError(404, "not-found", "Not found", f"no doctor with id {doctor_id}")
        return WriteResult(doctor_id=doctor_id, status="erased")
