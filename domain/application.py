"""An application for specialist approval (R6): submitted only when ready, then decided by
the directorate."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from domain.progress import Readiness
from domain.rejection import Rejection, reject
from events.application import ApplicationDecided, ApplicationEvent, ApplicationSubmitted
from events.vocabulary import ApplicationOutcome


class ApplicationState(msgspec.Struct, frozen=True, kw_only=True):
    application_id: str = ""
    doctor_id: str = ""
    specialty: str = ""
    status: Literal["none", "submitted", "approved", "rejected", "more_information_needed"] = "none"
    submitted_on: date | None = None
    rule_set_id: str | None = None
    catalogue_version: str | None = None


def evolve(state: ApplicationState, event: ApplicationEvent) -> ApplicationState:
    match event:
        case ApplicationSubmitted():
            return ApplicationState(
                application_id=event.application_id,
                doctor_id=event.doctor_id,
                specialty=event.specialty,
                status="submitted",
                submitted_on=event.submitted_on,
                rule_set_id=event.rule_set_id,
                catalogue_version=event.catalogue_version,
            )
        case ApplicationDecided():
            return msgspec.structs.replace(state, status=event.outcome)
    return state


class SubmitApplication(msgspec.Struct, frozen=True, kw_only=True, tag="submit"):
    application_id: str
    doctor_id: str
    specialty: str
    submitted_on: date
    content_hash: str = ""


class DecideApplication(msgspec.Struct, frozen=True, kw_only=True, tag="decide"):
    application_id: str
    outcome: ApplicationOutcome
    reason: str
    decided_on: date
    decided_by_hpr: str | None = None


ApplicationCommand = SubmitApplication | DecideApplication


def decide(
    command: ApplicationCommand,
    state: ApplicationState,
    *,
    readiness: Readiness | None = None,
) -> list[ApplicationEvent] | Rejection:
    """``readiness`` (from :func:`domain.progress.readiness` for the doctor, specialty and
    date) is required to submit."""
    match command:
        case SubmitApplication():
            if state.status != "none":
                return reject("duplicate", "application already submitted", field="application_id")
            if readiness is None or readiness.specialty != command.specialty:
                raise ValueError("SubmitApplication needs the readiness for its specialty")
            if not readiness.ready:
                rules = sorted({b.rule for b in readiness.blockers}, key=lambda r: int(r[1:]))
                return reject(
                    "not_ready",
                    "not ready for specialist approval: blockers under " + ", ".join(rules),
                    rule="R6",
                )
            return [
                ApplicationSubmitted(
                    application_id=command.application_id,
                    doctor_id=command.doctor_id,
                    specialty=command.specialty,
                    submitted_on=command.submitted_on,
                    rule_set_id=readiness.rule_set_id,
                    catalogue_version=readiness.catalogue_version or "",
                    content_hash=command.content_hash,
                )
            ]
        case DecideApplication():
            if state.status == "none":
                return reject("unknown_reference", "no such application", field="application_id")
            if state.status in ("approved", "rejected"):
                return reject("duplicate", "application already decided", field="outcome")
            if not command.reason.strip():
                return reject("invalid_value", "reason is empty", field="reason")
            if state.submitted_on is not None and command.decided_on < state.submitted_on:
                return reject(
                    "invalid_value", "decided_on is before submission", field="decided_on"
                )
            return [
                ApplicationDecided(
                    application_id=command.application_id,
                    outcome=command.outcome,
                    reason=command.reason,
                    decided_on=command.decided_on,
                    decided_by_hpr=command.decided_by_hpr,
                )
            ]
    raise TypeError(f"not an application command: {command!r}")
