"""An application for specialist approval (R6): submitted only when ready, then decided by
the directorate."""

from __future__ import annotations

from datetime import date
from typing import Literal, assert_never

import msgspec

from domain.copying import copy_as
from domain.progress import Readiness
from domain.rejection import Rejection, reject
from events import application as ev


class ApplicationState(msgspec.Struct, frozen=True, kw_only=True):
    application_id: str = ""
    doctor_id: str = ""
    specialty: str = ""
    status: Literal["none", "submitted", "approved", "rejected", "more_information_needed"] = "none"
    submitted_on: date | None = None
    rule_set_id: str | None = None
    catalogue_version: str | None = None


def evolve(state: ApplicationState, event: ev.ApplicationEvent) -> ApplicationState:
    match event:
        case ev.ApplicationSubmitted():
            return copy_as(ApplicationState, event, status="submitted")
        case ev.ApplicationDecided():
            return msgspec.structs.replace(state, status=event.outcome)
        case _:
            assert_never(event)


class SubmitApplication(msgspec.Struct, frozen=True, kw_only=True, tag="submit"):
    application_id: str
    doctor_id: str
    specialty: str
    submitted_on: date
    content_hash: str = ""


class DecideApplication(ev.DecisionFacts, frozen=True, kw_only=True, tag="decide"):
    pass


ApplicationCommand = SubmitApplication | DecideApplication


Decision = list[ev.ApplicationEvent] | Rejection


def _submit(
    command: SubmitApplication, state: ApplicationState, readiness: Readiness | None
) -> Decision:
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
        copy_as(
            ev.ApplicationSubmitted,
            command,
            rule_set_id=readiness.rule_set_id,
            catalogue_version=readiness.catalogue_version or "",
        )
    ]


def _decide(command: DecideApplication, state: ApplicationState) -> Decision:
    if state.status == "none":
        return reject("unknown_reference", "no such application", field="application_id")
    if state.status in ("approved", "rejected"):
        return reject("duplicate", "application already decided", field="outcome")
    if not command.reason.strip():
        return reject("invalid_value", "reason is empty", field="reason")
    if state.submitted_on is not None and command.decided_on < state.submitted_on:
        return reject("invalid_value", "decided_on is before submission", field="decided_on")
    return [copy_as(ev.ApplicationDecided, command)]


def decide(
    command: ApplicationCommand,
    state: ApplicationState,
    *,
    readiness: Readiness | None = None,
) -> Decision:
    """``readiness`` (from :func:`domain.progress.readiness` for the doctor, specialty and
    date) is required to submit."""
    match command:
        case SubmitApplication():
            return _submit(command, state, readiness)
        case DecideApplication():
            return _decide(command, state)
        case _:
            assert_never(command)
