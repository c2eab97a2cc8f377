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


def org_numbers(start: int = 900_000_000):  # type: ignore[no-untyped-def]
    """Valid organisation numbers (mod 11), in order from ``start``."""
    import itertools

    from domain.identifiers import is_valid_org_number

    return (str(n) for n in itertools.count(start) if is_valid_org_number(str(n)))


def organisation_registered(org_number: str) -> NewEvent:
    """A real domain event for tests that append straight to the store: every read model
    can decode it (a made-up type in a domain stream is what the projections dead-letter)."""
    from datetime import date

    from events import OrganisationRegistered, registry

    event = OrganisationRegistered(
        org_number=org_number,
        name=f"Direkte {org_number}",
        kind="municipality",
        registered_on=date(2025, 1, 1),
    )
    return NewEvent(
        event_id=uuid.uuid4(),
        type="organisation.registered",
        schema_version=OrganisationRegistered.schema_version,
        data=registry.encode(event),
        metadata={"request_id": str(uuid.uuid4())},
    )
