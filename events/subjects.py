"""Subject naming on NATS JetStream, and what makes an event publishable at all.

``kompetanse.events.<stream_type>.<stream_id>``; a consumer of one stream type filters on
``kompetanse.events.<stream_type>.>``, the stream itself holds ``STREAM_SUBJECTS``.

The event store checks ``check_publishable`` before it commits anything, so an event that
could not be put on a subject never enters the record. One that is there anyway (older code,
a manual insert) is a dead letter: the relay publishes it on ``dead_letter_subject`` of its
own stream and moves on, instead of stopping the feed for everyone behind it.
"""

from __future__ import annotations

import re
from typing import Final

SUBJECT_PREFIX: Final = "kompetanse.events"
STREAM_SUBJECTS: Final = "kompetanse.events.>"
DEAD_LETTER_PREFIX: Final = "kompetanse.dead-letters"
STREAM_TYPES: Final = frozenset({"doctor", "organisation", "catalogue", "application"})

# A NATS token must not contain ".", "*", ">" or whitespace; ids are restricted further.
_SAFE_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Event types are dotted names ("doctor.objective_approved"); they travel in the body only.
_EVENT_TYPE: Final = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class UnpublishableEvent(ValueError):
    """An event that cannot be put on the feed: refused at append, dead-lettered by the relay."""


def check_publishable(stream_type: str, stream_id: str, event_type: str) -> None:
    """Raise :class:`UnpublishableEvent` naming the part at fault."""
    _check_stream(stream_type, stream_id)
    if not _EVENT_TYPE.fullmatch(event_type):
        raise UnpublishableEvent(
            f"event type {event_type!r} must be dotted lower-case names, e.g. 'doctor.registered'"
        )


def _check_stream_type(stream_type: str) -> None:
    if stream_type not in STREAM_TYPES:
        raise UnpublishableEvent(
            f"unknown stream type {stream_type!r} (one of {', '.join(sorted(STREAM_TYPES))})"
        )


def _check_stream(stream_type: str, stream_id: str) -> None:
    _check_stream_type(stream_type)
    if not _SAFE_TOKEN.fullmatch(stream_id):
        raise UnpublishableEvent(
            f"stream id {stream_id!r} must be 1-128 letters, digits, '-' or '_'"
        )


def subject_for(stream_type: str, stream_id: str) -> str:
    """The subject an event of stream ``stream_type``/``stream_id`` is published on."""
    _check_stream(stream_type, stream_id)
    return f"{SUBJECT_PREFIX}.{stream_type}.{stream_id}"


def subjects_of_type(stream_type: str) -> str:
    """The filter subject for every stream of one type."""
    _check_stream_type(stream_type)
    return f"{SUBJECT_PREFIX}.{stream_type}.>"


def dead_letter_subject(stream_name: str) -> str:
    """Where the relay of event stream ``stream_name`` puts what it cannot publish."""
    return f"{DEAD_LETTER_PREFIX}.{stream_name}"
