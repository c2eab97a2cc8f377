"""The event feed on NATS JetStream, shared by the relay (which publishes) and the
projectors (which consume): stream definition, subjects and the wire format.

A message body is the stored event as one JSON object (the ``RecordedEvent`` fields) and
its ``Nats-Msg-Id`` header is the event id, so a re-publish inside the stream's duplicate
window is dropped by the server.
"""

from __future__ import annotations

import msgspec
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from events.subjects import STREAM_SUBJECTS, subject_for
from services.store.eventstore import RecordedEvent

__all__ = ["STREAM_SUBJECTS", "decode", "encode", "ensure_stream", "stream_config", "subject_for"]

DUPLICATE_WINDOW_SECONDS = 120.0

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


def encode(event: RecordedEvent) -> bytes:
    return _encoder.encode(event)


def decode(payload: bytes) -> RecordedEvent:
    return _decoder.decode(payload)


async def ensure_stream(js, name: str, replicas: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Create the stream, or bring its configuration up to date."""
    from nats.js.errors import NotFoundError

    config = stream_config(name, replicas)
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
