"""Recently loaded stream states, kept per process (write side).

A write loads its stream's state: the snapshot, decoded, plus the events after it. For a
long record the decode dominates (a doctor with 1,000 events: a 78 kB snapshot, about
1.7 ms of msgpack decoding per write; bench/profiles/write_cost_1000.txt), and a record
being worked on is written again soon. So each process keeps the states it loaded, by
store, snapshot schema and stream, with the id of the event each was folded to. A later
load reads only the events after that one, and uses the kept state only if the store
still holds that very event at that version: a store restored or recreated under the same
address then reads as a miss, never as a stale state.

Only states read from the store are kept, never one a command has just decided: that
command's transaction may still roll back. Bounded by ``KOMPETANSE_STATE_CACHE_SIZE``
streams (least recently used go first; 0 turns it off).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

DEFAULT_SIZE = 256

Key = tuple[str, str, str]  # (store, snapshot schema, stream id)


@dataclass(frozen=True)
class KeptState:
    version: int
    event_id: uuid.UUID  # the stream's event at ``version``
    state: Any  # the aggregate's state type; immutable (frozen msgspec Structs)


class StateCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._kept: OrderedDict[Key, KeptState] = OrderedDict()

    def get(self, key: Key) -> KeptState | None:
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
        return kept

    def keep(self, key: Key, kept: KeptState) -> None:
        if self.size <= 0:
            return
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def forget(self, key: Key) -> None:
        self._kept.pop(key, None)

    def resize(self, size: int) -> None:
        self.size = size
        while len(self._kept) > max(size, 0):
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
