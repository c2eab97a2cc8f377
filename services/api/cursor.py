"""Opaque pagination cursors: clients pass them back unchanged and never parse them."""

from __future__ import annotations

import base64
from typing import Annotated, NamedTuple

from litestar.params import QueryParameter

from services.api.problems import ProblemError

# The two query parameters of every paged list: ?cursor= (from the last page) and ?limit=.
Cursor = Annotated[str | None, QueryParameter(name="cursor")]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]


class Paging(NamedTuple):
    """A paged list's request: ``cursor`` as the last page handed it out, and ``limit``."""

    cursor: str | None
    limit: int

    def after(self) -> int:
        """The position the last page ended at (0 for the first page): :func:`decode`."""
        return decode(self.cursor)

    def after_in_feed(self) -> tuple[int, int]:
        """The place in the feed order the last page ended at: :func:`decode_feed`."""
        return decode_feed(self.cursor)


def paging_of(cursor_: Cursor = None, limit: Limit = 100) -> Paging:
    """The dependency ``paging``: the two query parameters, declared once."""
    return Paging(cursor_, limit)


def encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    prefix, values = _parts(cursor)
    if prefix != "p" or len(values) != 1:
        raise _invalid(cursor)
    return values[0]


def encode_feed(transaction_id: int, position: int) -> str:
    """A place in the feed order (transaction id, position): for lists ordered by the
    event that last changed each row."""
    return base64.urlsafe_b64encode(f"f:{transaction_id}:{position}".encode()).decode().rstrip("=")


def decode_feed(cursor: str | None) -> tuple[int, int]:
    """:func:`encode_feed`'s pair; a position cursor handed out before the feed order
    (``p:N``) reads as (0, N): its list then repeats rows, never skips them."""
    if not cursor:
        return (0, 0)
    prefix, values = _parts(cursor)
    if prefix == "p" and len(values) == 1:
        return (0, values[0])
    if prefix != "f" or len(values) != 2:
        raise _invalid(cursor)
    return (values[0], values[1])


def _parts(cursor: str) -> tuple[str, list[int]]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as err:
        raise _invalid(cursor) from err
    prefix, *values = raw.split(":")
    # Positions, ids and transaction ids are bigint: at most 18 digits here.
    if not values or not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in values):
        raise _invalid(cursor)
    return prefix, [int(v) for v in values]


def _invalid(cursor: str) -> ProblemError:
    return ProblemError(
        400,
        "invalid-cursor",
        "Invalid cursor",
        "cursor is not one this API handed out",
        field="cursor",
    )
