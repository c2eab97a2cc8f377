"""The doctor's approval requests (ask, withdraw; the leader returns them) and the
employer's corrections of what it recorded (API.md: corrections and retractions, by the
employer that recorded the period)."""

from __future__ import annotations

from services.api.access import Access
from services.api.schemas import (
    ApprovalRequestIn,
    CorrectionIn,
    RetractionIn,
    ReturnIn,
)
from services.api.write_routes import Sent, WriteRoutes, to_doctor
from services.api.writes import acting_org
from services.application import commands as cmd
from services.clock import today
from services.identity.principal import Principal

# The doctor asks a leader to approve; withdraws; the leader returns it with a comment.
APPROVAL_REQUESTS = WriteRoutes(
    "/api/v1/doctors/{doctor_id:str}/approval-requests",
    to_doctor,
    tags=["a doctor's record"],
    logged=True,
)

# Facts recorded in error: the employer that recorded the period corrects or retracts it, or
# retracts one of its absences. The handler checks the period is the caller's.
CORRECTIONS = WriteRoutes(
    "/api/v1/doctors/{doctor_id:str}/service-periods/{period_id:str}",
    to_doctor,
    tags=["a doctor's record"],
    logged=True,
)


@APPROVAL_REQUESTS.post("/", Access.DOCTOR_SELF)
def request_approval(doctor_id: str, data: ApprovalRequestIn) -> Sent:
    """Ask an institution's leader to approve an objective"""
    command = cmd.from_body(cmd.RequestApproval, data, doctor_id=doctor_id, requested_on=today())
    return Sent(command, {"objective_id": data.objective_id, "status": "waiting"})


@APPROVAL_REQUESTS.delete("/{objective_id:str}", Access.DOCTOR_SELF)
def withdraw(doctor_id: str, objective_id: str) -> Sent:
    """Withdraw an approval request"""
    command = cmd.WithdrawApprovalRequest(
        doctor_id=doctor_id, objective_id=objective_id, withdrawn_on=today()
    )
    return Sent(command, {"objective_id": objective_id, "status": "withdrawn"})


@APPROVAL_REQUESTS.post("/{objective_id:str}/returns", Access.EMPLOYER_OF_DOCTOR)
def return_request(doctor_id: str, objective_id: str, data: ReturnIn, who: Principal) -> Sent:
    """The leader sends the request back with what is missing"""
    command = cmd.from_body(
        cmd.ReturnApprovalRequest,
        data,
        doctor_id=doctor_id,
        objective_id=objective_id,
        org_number=acting_org(who),
        returned_on=today(),
        returned_by_hpr=who.hpr_number,
    )
    return Sent(command, {"objective_id": objective_id, "status": "returned"})


@CORRECTIONS.post("/corrections", Access.EMPLOYER_OF_DOCTOR)
def correct(doctor_id: str, period_id: str, data: CorrectionIn) -> Sent:
    """Correct a service period (the employer that recorded it)"""
    command = cmd.from_body(
        cmd.CorrectServicePeriod, data, doctor_id=doctor_id, period_id=period_id
    )
    return Sent(command, {"period_id": period_id})


@CORRECTIONS.post("/retractions", Access.EMPLOYER_OF_DOCTOR)
def retract(doctor_id: str, period_id: str, data: RetractionIn) -> Sent:
    """Retract a service period recorded in error (the employer that recorded it)"""
    command = cmd.from_body(
        cmd.RetractServicePeriod, data, doctor_id=doctor_id, period_id=period_id
    )
    return Sent(command, {"period_id": period_id})


@CORRECTIONS.post("/absences/{absence_id:str}/retractions", Access.EMPLOYER_OF_DOCTOR)
def retract_absence(doctor_id: str, period_id: str, absence_id: str, data: RetractionIn) -> Sent:
    """Retract an absence recorded in error (the employer that recorded it)"""
    command = cmd.from_body(
        cmd.RetractAbsence, data, doctor_id=doctor_id, period_id=period_id, absence_id=absence_id
    )
    return Sent(command, {"absence_id": absence_id})
