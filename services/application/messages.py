"""What goes into a handler besides the command, and what comes out.

``Envelope``: who acts (the typed principal from the token), the request id for the audit
trail, the idempotency key and the ``If-Match`` version. ``Reply``: the answer a handler
stores with the idempotency key, so a retry gets it back byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection  # at run time: the API reads these hints

from services.identity.principal import Principal
from services.store.idempotency import StoredResponse as Reply
from services.store.idempotency import request_hash

__all__ = ["AccessNote", "Envelope", "Group", "IdempotentRequest", "Reply", "created"]
__all__ += ["request_hash"]


@dataclass(eq=False)  # one request's note: compared by identity
class AccessNote:
    """A write's access-log row, all but its status: written with the reply's status in the
    command's own transaction (``services.application.streams``). ``written`` once that
    transaction committed; whoever logs the request otherwise writes nothing more."""

    row: dict[str, object]
    written: bool = False


@dataclass
class Group:
    """Several commands about one doctor in one transaction (a batch's items): each runs in
    a savepoint of ``connection``. ``notes``: the access-log rows written with them, marked
    written when the group commits (``streams.group_transaction``)."""

    connection: AsyncConnection
    notes: list[AccessNote] = field(default_factory=list)
    # The access rows of the stored commands, inserted in one statement before the commit.
    rows: list[dict[str, object]] = field(default_factory=list)
    # Streams whose lock the transaction holds: taken once, held to the commit. A lock taken
    # in a savepoint that rolls back is released with it, so it counts only once the
    # command's savepoint is released (``locking``, moved here by ``streams.in_group``).
    locked: set[str] = field(default_factory=set)
    locking: set[str] = field(default_factory=set)
    # Idempotency keys (acting party, key) that no request had used when the batch began:
    # their lookup is skipped. One used since (a concurrent request, an earlier item) makes
    # the remembering fail in the item's savepoint, and the stored answer is given.
    unused_keys: frozenset[tuple[str, str]] = frozenset()
    # Each stream's state after the group's last stored command, for the next one that
    # names no version (``states_after``: this command's, kept once its savepoint is
    # released; all dropped when a command fails, so the next one reads the store). A stale
    # one cannot store anything: the append checks the version, and the conflict is retried
    # on a fresh read.
    # (state, version, events folded on top of its snapshot)
    states: dict[str, tuple[Any, int, int]] = field(default_factory=dict)
    states_after: dict[str, tuple[Any, int, int]] = field(default_factory=dict)
    # Context a decision reads and no command of the group changes (the catalogue, the
    # caller's institutions): read once per group.
    context: dict[object, object] = field(default_factory=dict)


@dataclass(frozen=True)
class IdempotentRequest:
    principal: str
    key: str
    fingerprint: bytes


@dataclass(frozen=True)
class Envelope:
    principal: Principal
    request_id: str | None = None
    idempotency: IdempotentRequest | None = None
    expected_version: int | None = None
    access: AccessNote | None = None  # the access-log row that goes with the command
    group: Group | None = None  # run inside this group's transaction (a batch), not its own

    def metadata(self, *, on_behalf_of: str | None = None) -> dict[str, Any]:
        """Who did it and on whose behalf, for every appended event: from the token and
        the server, never the body. A person's national identity number is never here."""
        p = self.principal
        actor = {
            "kind": p.kind,
            "client_id": p.client_id,
            "org_number": p.org_number,
            "hpr_number": p.hpr_number,
        }
        metadata: dict[str, Any] = {
            "actor": {key: value for key, value in actor.items() if value is not None},
            "request_id": self.request_id,
        }
        if on_behalf_of is not None:
            metadata["on_behalf_of"] = on_behalf_of
        return metadata


def created(
    body: Mapping[str, Any],
    *,
    version: int | None = None,
    status: int = 201,
    location: str | None = None,
) -> Reply:
    headers: dict[str, str] = {}
    if version is not None:
        headers["etag"] = f'"{version}"'
    if location is not None:
        headers["location"] = location
    return Reply(status, msgspec.json.encode(body), headers)
