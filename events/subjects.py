"""Subject naming on NATS JetStream: one subject per stream, grouped by stream type.

``kompetanse.events.<stream_type>.<stream_id>``; a consumer of one stream type filters on
``kompetanse.events.<stream_type>.>``, the stream itself holds ``STREAM_SUBJECTS``.
"""

from __future__ import annotations

import re
from typing import Final

SUBJECT_PREFIX: Final = "kompetanse.events"
STREAM_SUBJECTS: Final = "kompetanse.events.>"
STREAM_TYPES: Final = frozenset({"doctor", "organisation", "catalogue", "application"})

# A NATS token must not contain ".", "*", ">" or whitespace; ids are restricted further.
_SAFE_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]+")


def subject_for(stream_type: str, stream_id: str) -> str:
    """The subject an event of stream ``stream_type``/``stream_id`` is published on."""
    if stream_type not in STREAM_TYPES:
        raise ValueError(f"unknown stream type {stream_type!r}")
    if not _SAFE_TOKEN.fullmatch(stream_id):
        raise ValueError("stream id must be letters, digits, '-' or '_' only")
    return f"{SUBJECT_PREFIX}.{stream_type}.{stream_id}"


def subjects_of_type(stream_type: str) -> str:
    """The filter subject for every stream of one type."""
    if stream_type not in STREAM_TYPES:
        raise ValueError(f"unknown stream type {stream_type!r}")
    return f"{SUBJECT_PREFIX}.{stream_type}.>"
