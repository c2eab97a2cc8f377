"""Small helpers shared by the integration tests."""

from __future__ import annotations

import uuid

from services.store.eventstore import NewEvent


def new_event(type_: str = "test.happened", **data: object) -> NewEvent:
    import msgspec

    return NewEvent(
        event_id=uuid.uuid4(),
        type=type_,
        schema_version=1,
        data=msgspec.json.encode({"type": type_, **data}),
        metadata={"request_id": str(uuid.uuid4())},
    )
