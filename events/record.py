"""What every fact on a doctor's record carries (stream type ``doctor``): the record's id,
and for the facts about one of the doctor's objectives at an institution, which objective
and which institution. Bases of the ``...Facts`` Structs of :mod:`events.doctor`,
:mod:`events.training` and :mod:`events.relations`; not events themselves and not registered.

A base's fields come first in every payload built on it, so a base holds only fields that
lead each of its payloads, in the order they are written.
"""

from __future__ import annotations

import msgspec


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    doctor_id: str


class ObjectiveFacts(Facts, frozen=True, kw_only=True):
    """A fact about one objective of the doctor's at one institution: its assessment, the
    activities the assessment cites, its approval revoked, a request for approval and its
    return."""

    objective_id: str
    org_number: str
