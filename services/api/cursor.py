"""Opaque pagination cursors: clients pass them back unchanged and never parse them."""

from __future__ import annotations

import base64
from typing import Annotated

from litestar.params import QueryParameter

from services.api.problems import ProblemError

# The two query parameters of every paged list: ?cursor= (from the last page) and ?limit=.
Cursor = Annotated[str | None, QueryParameter(name="cursor")]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]


def encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "p" or not value.isascii() or not value.isdigit() or len(value) > 18:
            raise ValueError(raw)  # positions and ids are bigint: at most 18 digits here
        return int(value)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProblemError(
            400,
            "invalid-cursor",
            "Invalid cursor",
            "cursor is not one this API handed out",
            field="cursor",
        ) from err
