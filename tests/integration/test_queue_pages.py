"""The caseworkers' queue pages in feed order (migration 0011): an application that changes
after a page was read is on a later page, even when its event's position is lower than the
page's last (positions are taken at INSERT; the feed and the projector follow transaction
ids). Real PostgreSQL; the cursors as the API hands them out."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import dataset_writer
from events.application import ApplicationDecided, ApplicationSubmitted
from events.base import Event
from services.api import cursor
from services.api.problems import ProblemError
from services.read_models import applications
from services.read_models.records import Records
from services.store.database import create_engine
from services.store.eventstore import RecordedEvent


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def recorded(event: Event, stream_id: str, version: int, tx: int, position: int) -> RecordedEvent:
    (new,) = dataset_writer.new_events([event])
    return RecordedEvent(
        position=position,
        transaction_id=tx,
        event_id=new.event_id,
        stream_type="application",
        stream_id=stream_id,
        version=version,
        type=new.type,
        schema_version=new.schema_version,
        data=msgspec.Raw(new.data),
        metadata=new.metadata,
        recorded_at=datetime.now(UTC),
    )


def submitted(application_id: str, tx: int, position: int) -> RecordedEvent:
    event = ApplicationSubmitted(
        application_id=application_id,
        doctor_id=str(uuid.uuid4()),
        specialty="indremedisin",
        submitted_on=date(2026, 1, 5),
        rule_set_id="2019",
        catalogue_version="2019-1",
    )
    return recorded(event, application_id, 1, tx, position)


def decided(application_id: str, tx: int, position: int) -> RecordedEvent:
    event = ApplicationDecided(
        application_id=application_id,
        outcome="more_information_needed",
        reason="Mangler attest",
        decided_on=date(2026, 2, 1),
    )
    return recorded(event, application_id, 2, tx, position)


async def page(records: Records, after: str | None) -> tuple[list[str], str | None]:
    """One page of one, as the API cuts it: the ids and the next cursor."""
    rows = await records.queue(None, cursor.decode_feed(after), 1)
    last = rows[0] if len(rows) > 1 else None
    following = cursor.encode_feed(last.last_transaction_id, last.last_position) if last else None
    return [r.application_id for r in rows[:1]], following


async def test_a_row_changed_after_a_page_was_read_is_on_a_later_page(
    engine: AsyncEngine,
) -> None:
    first, second, third = (f"app-{uuid.uuid4().hex[:8]}" for _ in range(3))
    records = Records(engine)
    async with engine.begin() as conn:
        for n, application_id in enumerate((first, second, third)):
            await applications.apply(
                conn, submitted(application_id, tx=9_000_001 + n, position=900_100 * (n + 1)), ""
            )
    seen, after = await page(records, None)
    more, after = await page(records, after)
    assert seen + more == [first, second] and after is not None
    # The first is decided by a transaction later in the feed whose event was inserted
    # before the second's: its position is lower than the last row read. (Paged by
    # position, the rest of the queue left it out.)
    async with engine.begin() as conn:
        await applications.apply(conn, decided(first, tx=9_000_009, position=900_150), "")
    rest = []
    while after is not None:
        ids, after = await page(records, after)
        rest += ids
    assert rest == [third, first]


def test_feed_cursors_round_trip_and_old_position_cursors_repeat_rather_than_skip() -> None:
    assert cursor.decode_feed(cursor.encode_feed(12_345, 678)) == (12_345, 678)
    assert cursor.decode_feed(None) == (0, 0)
    assert cursor.decode_feed(cursor.encode(678)) == (0, 678)
    for raw in ("not one", "f:1", "f:-1:1", "f:1:2:3", "q:1:2", "f:1:1234567890123456789"):
        bad = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        with pytest.raises(ProblemError):
            cursor.decode_feed(bad)
    with pytest.raises(ProblemError):
        cursor.decode(cursor.encode_feed(1, 2))  # a feed cursor is not a position cursor
