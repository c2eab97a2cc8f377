"""How far the feed is final: the horizon below which no event can still appear.

A reader may follow the feed ((transaction id, position) order) only up to the oldest
transaction that may still append events. ``pg_snapshot_xmin`` gives the oldest of *all*
transactions, so any write (a projector applying a batch, an access-log row) would hold the
relay back for its whole length, and projectors and relay would slow each other down. So
only transactions that append count:

- A transaction joins the feed (``join_feed()``, migration 0009: a shared advisory lock,
  which appenders never wait on) before it has a transaction id, and holds it to its end.
  A statement trigger on ``events`` joins before any row of an INSERT is formed, so an
  append that is the transaction's first write needs nothing more, whoever makes it (the
  store, older code, a manual INSERT); a transaction that wrote first and joins later is
  refused (``FeedJoinedLate``), because a reader could have passed its id in between.
  Command handlers join before anything else (``streams.once``, ``group_transaction``).
- ``horizon`` takes the statement's snapshot S, then reads which backends hold the lock and
  their transaction ids (``pg_locks``, not cached per transaction). The horizon is the
  smallest id in progress in S held by a joined transaction, or S's xmax if there is none.
  A transaction that joined and got its id before S is in progress in S and holds the lock
  while we look, or has ended before we look and is visible to the next statement; one that
  gets its id after S has one at or above S's xmax. So every event below the horizon that
  will ever exist is visible to a statement that starts after this one (READ COMMITTED).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

FEED_LOCK_CLASS = 0x6B66  # "kf": (class, 0) is the feed's shared lock (migration 0009)
JOINED_LATE = "KF001"  # the SQLSTATE join_feed() raises


class FeedJoinedLate(RuntimeError):
    """A transaction wrote before it joined the feed: a programming error, see the module's
    doc (call ``join_feed`` before the transaction's first write)."""


async def join_feed(conn: AsyncConnection) -> None:
    """Join the feed for the rest of this transaction (again is harmless); call it before the
    transaction's first write. ``eventstore.append`` does it in its own statement."""
    try:
        await conn.execute(text("SELECT join_feed()"))
    except DBAPIError as err:
        raise joined_late(err) or err from err


def joined_late(err: DBAPIError) -> FeedJoinedLate | None:
    """``err`` as a :class:`FeedJoinedLate`, if that is what the database said."""
    if getattr(err.orig, "sqlstate", None) == JOINED_LATE:
        return FeedJoinedLate(str(err.orig))
    return None


_HORIZON = text(
    """
    WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
         locks AS MATERIALIZED (SELECT * FROM pg_locks),
         joined AS (
             SELECT t.transactionid::text::bigint AS xid32
             FROM locks a JOIN locks t ON t.pid = a.pid
             WHERE a.locktype = 'advisory' AND a.classid = :c AND a.objid = 0
               AND a.objsubid = 2 AND a.granted
               AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
         )
    SELECT current_setting('transaction_isolation') AS isolation,
           coalesce(
               (SELECT min(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
                WHERE x::text::bigint % 4294967296 IN (SELECT xid32 FROM joined)),
               (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap)
           ) AS horizon
    """
)


async def horizon(conn: AsyncConnection) -> int:
    """The transaction id below which the feed is final for any statement after this one."""
    row = (await conn.execute(_HORIZON, {"c": FEED_LOCK_CLASS})).one()
    if row.isolation != "read committed":
        # A later statement must see what ended after this snapshot.
        raise RuntimeError(f"the feed is read under READ COMMITTED, not {row.isolation}")
    return int(row.horizon)
