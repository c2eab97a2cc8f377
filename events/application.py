"""Events of an application for specialist approval (stream type ``application``, stream
id = ``application_id``)."""

from __future__ import annotations

from datetime import date

import msgspec

from events.base import Event, register_union
from events.vocabulary import ApplicationOutcome


class ApplicationSubmitted(Event, frozen=True, kw_only=True, tag="application.submitted"):
    application_id: str
    doctor_id: str
    specialty: str
    submitted_on: date
    rule_set_id: str
    catalogue_version: str
    # SHA-256 of the evidence bundle frozen at submission (stored beside the events);
    # added after v1 with a default, so no upcaster is needed.
    content_hash: str = ""


class DecisionFacts(msgspec.Struct, frozen=True, kw_only=True):
    """The directorate's decision: the event records it and the command that asks for it
    (``domain.application.DecideApplication``) carries the same fields. Not an event itself
    and not registered."""

    application_id: str
    outcome: ApplicationOutcome
    reason: str
    decided_on: date
    decided_by_hpr: str | None = None


class ApplicationDecided(
    DecisionFacts, Event, frozen=True, kw_only=True, tag="application.decided"
):
    pass


ApplicationEvent = ApplicationSubmitted | ApplicationDecided
APPLICATION_EVENTS = register_union(ApplicationEvent)
