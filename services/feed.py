"""The event feed on NATS JetStream, shared by the relay (which publishes) and the
projectors (which consume): stream definition, subjects and the wire format.

A message body is the stored event as one JSON object (the ``RecordedEvent`` fields) and
its ``Nats-Msg-Id`` header is the event id, so a re-publish inside the stream's duplicate
window is dropped by the server. Its ``Kompetanse-Previous`` header is the cursor of the
event before it in the feed: a projector whose checkpoint is that cursor knows nothing lies
in between; otherwise it reads what does from the store (feed order is a pair, so the
numbers alone cannot tell a gap).
"""

from __future__ import annotations

import msgspec
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from events.subjects import (
    STREAM_SUBJECTS,
    check_publishable,
    dead_letter_subject,
    subject_for,
)
from services.store.eventstore import Cursor, RecordedEvent

__all__ = [
    "STREAM_SUBJECTS",
    "dead_letter_subject",
    "decode",
    "encode",
    "ensure_dead_letter_stream",
    "ensure_stream",
    "is_publishable",
    "previous_of",
    "publish_headers",
    "stream_config",
    "subject_for",
    "subject_of",
]

DUPLICATE_WINDOW_SECONDS = 120.0
PREVIOUS_HEADER = "Kompetanse-Previous"

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(RecordedEvent)


def stream_config(name: str, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[STREAM_SUBJECTS],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


def dead_letter_stream_name(name: str) -> str:
    return f"{name}_DEAD_LETTERS"


def subject_of(event: RecordedEvent) -> str:
    """The event's subject; raises ``UnpublishableEvent`` for what may not go on the feed."""
    check_publishable(event.stream_type, event.stream_id, event.type)
    return subject_for(event.stream_type, event.stream_id)


def is_publishable(event: RecordedEvent) -> bool:
    """False for a dead letter of the relay: projectors step over it as the relay did, so a
    read model fed from the stream equals one rebuilt from the store."""
    try:
        check_publishable(event.stream_type, event.stream_id, event.type)
    except ValueError:
        return False
    return True


def encode(event: RecordedEvent) -> bytes:
    return _encoder.encode(event)


def decode(payload: bytes) -> RecordedEvent:
    return _decoder.decode(payload)


async def ensure_stream(js, name: str, replicas: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Create the stream, or bring its configuration up to date."""
    await _ensure(js, stream_config(name, replicas))


async def ensure_dead_letter_stream(js, name: str, replicas: int = 1) -> None:  # type: ignore[no-untyped-def]
    """The relay's dead letters of event stream ``name``, kept (limits) for operators' tools."""
    await _ensure(
        js,
        StreamConfig(
            name=dead_letter_stream_name(name),
            subjects=[dead_letter_subject(name)],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
    )


async def _ensure(js, config: StreamConfig) -> None:  # type: ignore[no-untyped-def]
    from nats.js.errors import NotFoundError

    name = config.name
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)


def publish_headers(event: RecordedEvent, previous: Cursor) -> dict[str, str]:
    return {"Nats-Msg-Id": str(event.event_id), PREVIOUS_HEADER: str(previous)}


def previous_of(headers: dict[str, str] | None) -> Cursor | None:
    """The cursor before a message's event; None when unknown (a message of older code)."""
    value = (headers or {}).get(PREVIOUS_HEADER)
    return None if value is None else Cursor.parse(value)
