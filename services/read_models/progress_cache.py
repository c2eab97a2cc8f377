"""Computed progress, kept per API process and invalidated by version, so never stale.

A doctor's progress is a pure function of the doctor's state, the catalogue, the
organisations of the doctor's service periods (R16: their registrations), the rule set, the
specialty asked for and the date. The states are each a stream's fold at a version, and a
committed (stream, version) always names the same events: so an answer computed from the
doctor's stream at version d, the catalogue's at c and each organisation's at o_i holds for
as long as those streams are still at those versions. A read asks the event store for the
current versions of exactly those streams (one query); if they are unchanged the cached
answer is returned, else it is computed again and replaces the entry.

Bounded: an LRU of ``max_entries`` answers. Per process: with several API workers each has
its own cache (a doctor's reads spread over workers warm each of them; correctness does not
depend on which worker answers, since every hit is checked against the store's versions).
Never share one cache between queries inside an uncommitted transaction and queries outside
it: a version seen there may be rolled back and reused by another event.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services import metrics

V = TypeVar("V")


@dataclass(frozen=True)
class Key:
    doctor_id: str
    as_of: date
    rule_set_id: str | None
    specialty: str | None


@dataclass(frozen=True)
class Entry(Generic[V]):
    versions: Mapping[str, int]  # stream id -> the version the answer was computed at
    value: V


class ProgressCache(Generic[V]):
    def __init__(self, max_entries: int = 2_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Entry[V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def candidate(self, key: Key) -> Entry[V] | None:
        """The entry to check against the store's current versions (not yet a hit)."""
        return self._entries.get(key)

    def hit(self, key: Key, entry: Entry[V]) -> V:
        self._entries.move_to_end(key)
        self.hits += 1
        metrics.PROGRESS_CACHE.labels("hit").inc()
        return entry.value

    def store(self, key: Key, versions: Mapping[str, int], value: V) -> None:
        self.misses += 1
        metrics.PROGRESS_CACHE.labels("miss").inc()
        if self.max_entries <= 0:
            return
        self._entries[key] = Entry(dict(versions), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


async def stream_versions(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, int]:
    """The current version of each stream (0 for one without events), in one statement."""
    rows = await conn.execute(
        text(
            "SELECT s.id, (SELECT max(e.version) FROM events e WHERE e.stream_id = s.id) AS v "
            "FROM unnest(CAST(:ids AS text[])) AS s(id)"
        ),
        {"ids": stream_ids},
    )
    return {row.id: row.v or 0 for row in rows}
