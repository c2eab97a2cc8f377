"""The doctor asks an institution's leader to approve an objective; the doctor may withdraw
the request; the leader may send it back with a comment saying what is missing (API.md; R5
says the doctor must know early who approves). Approving the objective answers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.approval import no_achieved_assessment
from domain.copying import copy_as
from domain.doctor.checks import another_institution, no_service_at
from domain.doctor.commands import (
    RequestApproval,
    ReturnApprovalRequest,
    WithdrawApprovalRequest,
)
from domain.doctor.state import DoctorState
from domain.rejection import reject
from events.doctor import ApprovalRequested, ApprovalRequestReturned, ApprovalRequestWithdrawn

if TYPE_CHECKING:
    from domain.doctor.decide import Context, Decision


def request_approval(cmd: RequestApproval, state: DoctorState, ctx: Context) -> Decision:
    catalogue = ctx.catalogue
    version = catalogue.in_force_with(cmd.objective_id, cmd.requested_on) if catalogue else None
    if catalogue is None or version is None:
        return reject(
            "unknown_reference",
            f"no objective {cmd.objective_id} in the catalogue in force",
            field="objective_id",
            rule="R4",
        )
    only_there = "the doctor has no service at org_number; only its leader could approve"
    if (unserved := no_service_at(state, cmd.org_number, "R5", only_there)) is not None:
        return unserved
    unassessed = no_achieved_assessment(
        state,
        catalogue,
        version.version,
        cmd.objective_id,
        cmd.requested_on,
        "ask for approval after an 'achieved' assessment (R5)",
    )
    if unassessed is not None:
        return unassessed
    current = state.approval_requests.get(cmd.objective_id)
    if current is not None and current.status == "waiting":
        return reject("duplicate", "a request for this objective is waiting", field="objective_id")
    return [copy_as(ApprovalRequested, cmd)]


def withdraw_request(cmd: WithdrawApprovalRequest, state: DoctorState, _ctx: Context) -> Decision:
    if cmd.objective_id not in state.approval_requests:
        return reject(
            "unknown_reference", "no approval request for this objective", field="objective_id"
        )
    return [copy_as(ApprovalRequestWithdrawn, cmd)]


def return_request(cmd: ReturnApprovalRequest, state: DoctorState, _ctx: Context) -> Decision:
    current = state.approval_requests.get(cmd.objective_id)
    if current is None or current.status != "waiting":
        return reject(
            "unknown_reference",
            "no waiting approval request for this objective",
            field="objective_id",
        )
    elsewhere = "the request was made to another institution"
    refused = another_institution(current.org_number, cmd.org_number, elsewhere, "R5")
    if refused is not None:
        return refused
    if not cmd.comment.strip():
        return reject("invalid_value", "say what is missing", field="comment")
    return [copy_as(ApprovalRequestReturned, cmd)]
