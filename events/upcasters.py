"""Upcasters: each lifts a raw payload of one event type by one schema version.

They work on the raw dict before it becomes a Struct, so a stored payload is never
rewritten. Every schema change that msgspec cannot absorb (a renamed field, a changed type)
adds one function here and golden fixtures under ``tests/unit/golden/``.
"""

from __future__ import annotations

from events.base import RawPayload, registry


@registry.upcaster("doctor.service_period_recorded", 1)
def service_period_recorded_v1_to_v2(raw: RawPayload) -> RawPayload:
    """v1 named the employer ``employer`` and gave ``fte`` as a fraction (0.6); v2 names it
    ``org_number`` and gives ``fte_percent`` as an integer percent (60)."""
    out = dict(raw)
    out["org_number"] = out.pop("employer")
    out["fte_percent"] = round(float(out.pop("fte")) * 100)
    return out


@registry.upcaster("doctor.supervisor_assigned", 1)
def supervisor_assigned_v1_to_v2(raw: RawPayload) -> RawPayload:
    """v1 had no ``assignment_id``; the id derived from the assignment's own fields is stable
    (the same v1 payload always gets the same id) and fits a path segment."""
    out = dict(raw)
    role = "v" if out.get("role") == "veileder" else "s"
    out["assignment_id"] = f"v1-{out['org_number']}-{out['hpr_number']}-{role}-{out['valid_from']}"
    return out


@registry.upcaster("doctor.exception_granted", 1)
def exception_granted_v1_to_v2(raw: RawPayload) -> RawPayload:
    """v1 had no validity period: it holds from ``granted_on``, open-ended."""
    out = dict(raw)
    out["valid_from"] = out["granted_on"]
    return out
