"""The evidence bundle of an application (R6, R7), frozen at submission.

Everything the directorate needs to decide, as it stood that day: every approved objective
with approver, accountable leader, institution and date; every service period with its
confirmation and the counted time per block; supervision; the rule set and catalogue
version used. Its content hash is the SHA-256 of its canonical JSON (sorted keys), carried
by the ``application.submitted`` event, so any later change would show.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import msgspec

from domain.catalogue import Catalogue
from domain.doctor.state import DoctorState
from domain.progress import Progress

_canonical = msgspec.json.Encoder(order="sorted")


def build(
    application_id: str,
    specialty: str,
    submitted_on: date,
    state: DoctorState,
    catalogue: Catalogue,
    progress: Progress,
) -> dict[str, Any]:
    approved = []
    for part in progress.parts:
        for objective in part.objectives:
            if objective.status == "approved":
                approved.append(
                    {
                        "objective_id": objective.objective_id,
                        "title": objective.title,
                        "part": part.part,
                        "approved_on": objective.approved_on,
                        "approver_hpr": objective.approved_by_hpr,
                        "on_behalf_of_leader_hpr": objective.on_behalf_of_leader_hpr,
                        "org_number": objective.approved_at_org,
                        "catalogue_version": objective.approved_under_version,
                    }
                )
    periods = []
    for period in sorted(state.periods.values(), key=lambda p: (p.start, p.period_id)):
        confirmation = state.confirmations.get(period.period_id)
        periods.append(
            {
                **msgspec.to_builtins(period),
                "absences": [msgspec.to_builtins(a) for a in state.absences_of(period.period_id)],
                "confirmation": msgspec.to_builtins(confirmation) if confirmation else None,
            }
        )
    built: dict[str, Any] = msgspec.to_builtins(
        {
            "application_id": application_id,
            "doctor_id": state.doctor_id,
            "specialty": specialty,
            "submitted_on": submitted_on,
            "rule_set": progress.rule_set_id,
            "catalogue_version": progress.catalogue_version,
            "approved_objectives": approved,
            "service_periods": periods,
            "counted_time": progress.time,
            "total_time": progress.total,
            "supervision": progress.supervision,
            "exceptions": list(state.exceptions.values()),
        }
    )
    return built


def encode(bundle: dict[str, Any]) -> bytes:
    return _canonical.encode(bundle)


def content_hash(encoded: bytes) -> str:
    return "sha256:" + hashlib.sha256(encoded).hexdigest()
