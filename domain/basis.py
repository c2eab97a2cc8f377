"""Facts that lose their basis are flagged, not kept silently (RULES.md authority:
"Corrections" and "Confirmations").

- An approval rests on service at its institution in the objective's part (and arena) that
  had begun by the approval date, and on a counting "achieved" assessment (R5). A later
  correction or retraction that takes either away leaves the approval on record but flags
  it (R5, naming the objective) until it is revoked or the facts support it again.
- A service confirmation states the period and its absences as they stood when issued (R7).
  A later correction of either makes it stale (flagged) until a new one is issued; undoing
  the correction makes it valid again.
- An application claims all the doctor's service: every period it counts must be completed
  and confirmed (R7), so an open or still running period blocks the application.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from domain.approval import counting_assessment, served_for
from domain.catalogue import Catalogue
from domain.doctor.state import Approval, DoctorState, confirmed_absences
from domain.rejection import Blocker, period_blocker

ConfirmationStatus = Literal["missing", "stale", "valid"]


def approval_basis_problem(
    state: DoctorState, catalogue: Catalogue, approval: Approval
) -> str | None:
    """Why an approval no longer rests on the facts (None: it does)."""
    version = catalogue.get(approval.catalogue_version)
    objective = version.objectives.get(approval.objective_id) if version else None
    if objective is None:
        return None  # catalogue carry-over is R4's business, not the basis'
    if not served_for(state, objective, approval.org_number, approval.approved_on):
        return (
            f"ingen tjeneste i del {objective.part} ved {approval.org_number} "
            f"før godkjenningen {approval.approved_on.isoformat()}"
        )
    acting = frozenset({approval.approver_hpr, approval.leader_hpr})
    found = counting_assessment(
        state,
        catalogue,
        approval.catalogue_version,
        approval.objective_id,
        approval.approved_on,
        acting,
    )
    if found is None or found.outcome != "achieved":
        return "ingen tellende vurdering som oppnådd før godkjenningen"
    return None


def approval_basis_blockers(state: DoctorState, catalogue: Catalogue, as_of: date) -> list[Blocker]:
    """R5: approvals in effect on ``as_of`` that lost their basis."""
    out = []
    for a in state.approvals:
        if not a.active_on(as_of):
            continue
        problem = approval_basis_problem(state, catalogue, a)
        if problem is None:
            continue
        out.append(
            Blocker(
                rule="R5",
                code="approval_lost_basis",
                refs=(a.objective_id,),
                message=(
                    f"Godkjenningen av {a.objective_id} ({a.org_number}, "
                    f"{a.approved_on.isoformat()}) mangler grunnlag: {problem}."
                ),
                clears_by=(
                    "Virksomheten trekker godkjenningen tilbake, eller tjenesten og "
                    "vurderingen som den bygger på, registreres riktig."
                ),
            )
        )
    return out


def confirmation_status(state: DoctorState, period_id: str) -> ConfirmationStatus:
    """R7: whether the period's confirmation still states the facts as they are."""
    c = state.confirmations.get(period_id)
    if c is None:
        return "missing"
    if c.period is not None and c.period != state.periods.get(period_id):
        return "stale"
    if c.period is not None and c.absences != confirmed_absences(state, period_id):
        return "stale"
    return "valid"


def stale_confirmation_blockers(state: DoctorState, as_of: date) -> list[Blocker]:
    out = []
    for p in sorted(state.periods.values(), key=lambda p: p.start):
        if p.start > as_of or confirmation_status(state, p.period_id) != "stale":
            continue
        out.append(
            period_blocker(
                p,
                rule="R7",
                code="stale_confirmation",
                message=(
                    "Bekreftelsen på gjennomført tjeneste gjelder ikke lenger: perioden eller "
                    f"fraværet ved {p.org_number} er rettet etter at den ble utstedt."
                ),
                clears_by="Arbeidsgiveren utsteder en ny bekreftelse for den rettede tjenesten.",
            )
        )
    return out


def unconfirmed_service_blockers(state: DoctorState, as_of: date) -> list[Blocker]:
    """R7 for an application: service still running (open, or ending after ``as_of``)
    cannot be confirmed yet, so it cannot be claimed."""
    return [
        period_blocker(
            p,
            rule="R7",
            code="service_not_completed",
            message=(
                f"Tjenesten ved {p.org_number} fra {p.start.isoformat()} er ikke avsluttet og "
                "bekreftet; søknaden kan bare bygge på bekreftet tjeneste."
            ),
            clears_by=(
                "Arbeidsgiveren registrerer sluttdato og utsteder bekreftelse på gjennomført "
                "tjeneste."
            ),
        )
        for p in sorted(state.periods.values(), key=lambda p: p.start)
        if p.start <= as_of and (p.end is None or p.end > as_of)
    ]
