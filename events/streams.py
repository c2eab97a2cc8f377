"""Which stream an event belongs to: (stream type, stream id)."""

from __future__ import annotations

from events.application import ApplicationDecided, ApplicationSubmitted
from events.base import Event, type_name
from events.catalogue import CatalogueVersionPublished
from events.subjects import subject_for


def stream_type_of(event_type: str) -> str:
    """``doctor.absence_logged`` -> ``doctor``."""
    return event_type.split(".", 1)[0]


def stream_of(event: Event) -> tuple[str, str]:
    """The stream an event is appended to: doctor events by ``doctor_id``, organisation events
    by ``org_number``, catalogue events by ``catalogue_id``, applications by
    ``application_id``."""
    stream_type = stream_type_of(type_name(type(event)))
    match event:
        case ApplicationSubmitted() | ApplicationDecided():
            return stream_type, event.application_id
        case CatalogueVersionPublished():
            return stream_type, event.catalogue_id
    for field in ("doctor_id", "org_number"):
        value = getattr(event, field, None)
        if isinstance(value, str):
            return stream_type, value
    raise ValueError(f"no stream id on {type(event).__name__}")


def subject_of(event: Event) -> str:
    return subject_for(*stream_of(event))
