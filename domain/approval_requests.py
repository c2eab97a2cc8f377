"""The doctor asks a leader to approve an objective; the doctor may withdraw the request;
the leader may send it back with a comment saying what is missing (API.md; R5 says the
doctor must know early who approves). Approving the objective answers the request."""

from __future__ import annotations

from datetime import date

import msgspec

from domain.approval import latest_assessment
from domain.catalogue import Catalogue
from domain.doctor_state import DoctorState
from domain.rejection import Rejection, reject
from events.doctor import ApprovalRequested, ApprovalRequestReturned, ApprovalRequestWithdrawn


class RequestApproval(msgspec.Struct, frozen=True, kw_only=True, tag="request_approval"):
    doctor_id: str
    objective_id: str
    org_number: str
    requested_on: date


class WithdrawApprovalRequest(msgspec.Struct, frozen=True, kw_only=True, tag="withdraw_request"):
    doctor_id: str
    objective_id: str
    withdrawn_on: date


class ReturnApprovalRequest(msgspec.Struct, frozen=True, kw_only=True, tag="return_request"):
    doctor_id: str
    objective_id: str
    org_number: str
    returned_on: date
    comment: str
    returned_by_hpr: str | None = None


RequestCommand = RequestApproval | WithdrawApprovalRequest | ReturnApprovalRequest
Decision = list[ApprovalRequested | ApprovalRequestWithdrawn | ApprovalRequestReturned]


def decide(
    command: RequestCommand, state: DoctorState, *, catalogue: Catalogue | None = None
) -> Decision | Rejection:
    if not state.registered:
        return reject("unknown_reference", "doctor not registered", field="doctor_id")
    current = state.approval_requests.get(command.objective_id)
    match command:
        case RequestApproval():
            version = catalogue.version_on(command.requested_on) if catalogue else None
            if (
                catalogue is None
                or version is None
                or (command.objective_id not in version.objectives)
            ):
                return reject(
                    "unknown_reference",
                    f"no objective {command.objective_id} in the catalogue in force",
                    field="objective_id",
                    rule="R4",
                )
            if not any(p.org_number == command.org_number for p in state.periods.values()):
                return reject(
                    "rule_violation",
                    "the doctor has no service at org_number; only its leader could approve (R5)",
                    field="org_number",
                    rule="R5",
                )
            assessed = latest_assessment(
                state,
                catalogue,
                version.version,
                command.objective_id,
                command.requested_on,
            )
            if assessed is None or assessed.outcome != "achieved":
                return reject(
                    "rule_violation",
                    "ask for approval after an 'achieved' assessment (R5)",
                    field="objective_id",
                    rule="R5",
                )
            if current is not None and current.status == "waiting":
                return reject(
                    "duplicate", "a request for this objective is waiting", field="objective_id"
                )
            return [
                ApprovalRequested(
                    doctor_id=command.doctor_id,
                    objective_id=command.objective_id,
                    org_number=command.org_number,
                    requested_on=command.requested_on,
                )
            ]
        case WithdrawApprovalRequest():
            if current is None:
                return reject(
                    "unknown_reference",
                    "no approval request for this objective",
                    field="objective_id",
                )
            return [
                ApprovalRequestWithdrawn(
                    doctor_id=command.doctor_id,
                    objective_id=command.objective_id,
                    withdrawn_on=command.withdrawn_on,
                )
            ]
        case ReturnApprovalRequest():
            if current is None or current.status != "waiting":
                return reject(
                    "unknown_reference",
                    "no waiting approval request for this objective",
                    field="objective_id",
                )
            if current.org_number != command.org_number:
                return reject(
                    "rule_violation",
                    "the request was made to another institution",
                    field="org_number",
                    rule="R5",
                )
            if not command.comment.strip():
                return reject("invalid_value", "say what is missing", field="comment")
            return [
                ApprovalRequestReturned(
                    doctor_id=command.doctor_id,
                    objective_id=command.objective_id,
                    org_number=command.org_number,
                    returned_on=command.returned_on,
                    comment=command.comment,
                    returned_by_hpr=command.returned_by_hpr,
                )
            ]
    raise TypeError(f"not an approval-request command: {command!r}")
