"""Who may issue which command (RULES.md "Who may record what (authority)").

Every command comes with its :class:`Issuer`, the party on whose authority it is recorded
(from the token, never from the body). :func:`authorise` refuses a command whose issuer is
not entitled to it with a ``not_entitled`` rejection naming the rule; nothing is stored.

Each command names who may issue it (``issued_by`` in :mod:`domain.doctor.commands`, one of
the entitlements below), so a new command says it where it is declared. Lines of RULES.md
and where they are checked:
- service periods, absences, confirmations, supervision hours, plans, supervisors, group
  supervision: the employer whose service it is, for its own service only; the arena fits
  the organisation's kind (:func:`arena_fits`);
- corrections and retractions: the employer that recorded the period (or absence);
- assessments (R5): recorded by the institution where the doctor serves, by the doctor's
  appointed veileder or a supervisør at that institution, dated inside the doctor's service
  there (:func:`domain.assessment_rules.assessment_problem`);
- approvals (R5): the institution's leader or a delegate of a leader in office
  (:func:`domain.organisation.authority`), for an objective of the doctor's catalogue
  version and specialty (:func:`domain.assessment_rules.in_doctors_path`), after a counting
  assessment that is not the approver's own unless the approver is the appointed veileder
  (:func:`domain.approval.counting_assessment`);
- exceptions and statuses: their single granting body (:data:`domain.statuses.GRANTORS`),
  withdrawn only by whoever granted them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from domain.doctor.state import DoctorState
from domain.organisation import OrganisationState
from domain.rejection import Rejection, reject
from domain.statuses import GRANTORS, part1_employers, self_created_post_orgs
from events import doctor as facts
from events import training
from events.record import Facts
from events.vocabulary import DIRECTORATE

if TYPE_CHECKING:
    from domain.doctor.commands import Command

IssuerKind = Literal["organisation", "directorate", "doctor"]

# The organisation kind each arena belongs to (hospital service at a health trust or
# hospital, municipal service at a municipality).
ARENA_KIND: dict[str, str] = {"hospital": "hospital_trust", "municipal": "municipality"}


class Issuer(msgspec.Struct, frozen=True, kw_only=True):
    """The party a command is issued by. An organisation's client may act for its own
    organisation number and its parent's (HelseID ``orgnr_parent`` / ``orgnr_child``)."""

    kind: IssuerKind
    org_number: str | None = None
    parent_org_number: str | None = None
    hpr_number: str | None = None
    doctor_id: str | None = None

    def acts_for(self, org_number: str) -> bool:
        return self.kind == "organisation" and org_number in (
            self.org_number,
            self.parent_org_number,
        )

    @property
    def party(self) -> str:
        """How the issuer is named in ``granted_by`` / ``withdrawn_by``."""
        if self.kind == "directorate":
            return DIRECTORATE
        return self.org_number or ""


DIRECTORATE_ISSUER = Issuer(kind="directorate")
Orgs = Mapping[str, OrganisationState]


def organisation_issuer(org_number: str, hpr_number: str | None = None) -> Issuer:
    return Issuer(kind="organisation", org_number=org_number, hpr_number=hpr_number)


def doctor_issuer(doctor_id: str) -> Issuer:
    return Issuer(kind="doctor", doctor_id=doctor_id)


def refuse(detail: str, rule: str, field: str | None = None) -> Rejection:
    return reject("not_entitled", detail, field=field, rule=rule)


def arena_fits(arena: str | None, org: OrganisationState | None) -> bool:
    """Hospital service at a health trust, municipal service at a municipality; a part-2/3
    period without an arena fits any registered institution."""
    if org is None or not org.registered:
        return False
    return arena is None or ARENA_KIND.get(arena) == org.kind


def _employer(
    issuer: Issuer, org_number: str, rule: str, field: str = "org_number"
) -> Rejection | None:
    if not issuer.acts_for(org_number):
        # The refusal names no organisation: it tells the caller nothing about the record.
        return refuse("only the employer records this, for its own service only", rule, field)
    return None


def _period_employer(
    issuer: Issuer, state: DoctorState, period_id: str, rule: str
) -> Rejection | None:
    period = state.periods.get(period_id)
    if period is None:
        return None  # decide rejects the unknown reference
    return _employer(issuer, period.org_number, rule, "period_id")


Entitlement = Callable[[Any, Issuer, DoctorState, Orgs], Rejection | None]
"""Who may issue a command: ``(command, issuer, state, organisations) -> refusal or None``.
Each command names its own as ``issued_by`` (:mod:`domain.doctor.commands`)."""


EXCEPTION_RULE: dict[str, str] = {
    "turnus_approved": "R3",
    "part1_first_foreign": "R3",
    "foreign_credit": "R3",
    "eu_eos_exemption": "R19",
    "gp_fte_dispensation": "R11",
    "veileder_dispensation": "R13",
    "sequence_part1": "R2",
    "local_fkm_agreement": "R4",
}


def grantor(
    command: facts.ExceptionFacts, issuer: Issuer, state: DoctorState, _o: Orgs
) -> Rejection | None:
    """The exception's single granting body (:data:`domain.statuses.GRANTORS`)."""
    rule = EXCEPTION_RULE.get(command.kind, "R3")
    if command.granted_by != issuer.party:
        return refuse("granted_by must be the issuer itself", rule, "granted_by")
    body = GRANTORS.get(command.kind)
    if body == "directorate":
        if issuer.kind != "directorate":
            return refuse(f"{command.kind} is granted by Helsedirektoratet alone", rule, "kind")
        return None
    if issuer.kind != "organisation":
        return refuse(
            f"{command.kind} is not the directorate's: it is recorded by the institutions "
            "concerned",
            rule,
            "kind",
        )
    if body == "self_created_post":
        posts = self_created_post_orgs(state)
        period = state.periods.get(command.period_id or "")
        if period is None or not period.self_created_post or period.part != 1:
            return refuse(
                "an R2 exception names a self-created LIS1 post (period_id) (R15)",
                rule,
                "period_id",
            )
        if not any(issuer.acts_for(o) for o in posts):
            return refuse(
                "only the municipality and the hospital of the self-created post record the "
                "R2 exception",
                rule,
                "kind",
            )
        return None
    if body == "part1_employer":
        if not any(issuer.acts_for(o) for o in part1_employers(state)):
            return refuse(
                "a local agreement is recorded by the doctor's part-1 hospital or municipality",
                rule,
                "kind",
            )
        return None
    return refuse(f"no one may grant {command.kind}", rule, "kind")


def registrar(
    _c: facts.RegistrationFacts, i: Issuer, _s: DoctorState, _o: Orgs
) -> Rejection | None:
    if i.kind not in ("organisation", "directorate"):
        return refuse("a doctor is registered by an organisation or the directorate", "R6")
    return None


def service_employer(
    c: facts.ServicePeriodFacts, i: Issuer, _s: DoctorState, o: Orgs
) -> Rejection | None:
    """R7: the employer, for its own service, at an organisation of the arena's kind (R1)."""
    refused = _employer(i, c.org_number, "R7")
    if refused is None and not arena_fits(c.arena, o.get(c.org_number)):
        refused = refuse(
            f"{c.arena} service is not recorded at an organisation of this kind "
            "(hospital service at a health trust, municipal at a municipality)",
            "R1",
            "arena",
        )
    return refused


def correcting_employer(
    c: facts.CorrectionFacts, i: Issuer, s: DoctorState, o: Orgs
) -> Rejection | None:
    """R7: as :func:`service_employer`, and the employer that recorded the period."""
    return (
        _employer(i, c.org_number, "R7")
        or _period_employer(i, s, c.period_id, "R7")
        or service_employer(c, i, s, o)
    )


def period_employer(rule: str) -> Entitlement:
    """The employer that recorded the command's ``period_id``."""

    def check(c: Any, i: Issuer, s: DoctorState, _o: Orgs) -> Rejection | None:
        return _period_employer(i, s, c.period_id, rule)

    return check


def absence_employer(
    c: facts.AbsenceRetractionFacts, i: Issuer, s: DoctorState, _o: Orgs
) -> Rejection | None:
    """R8: the employer of the period the absence was logged in."""
    absence = s.absences.get(c.absence_id)
    return None if absence is None else _period_employer(i, s, absence.period_id, "R8")


def supervisor_employer(
    c: facts.SupervisorEndFacts, i: Issuer, s: DoctorState, _o: Orgs
) -> Rejection | None:
    """R14: the organisation that made the assignment ends it."""
    found = next((x for x in s.supervisors if x.assignment_id == c.assignment_id), None)
    return None if found is None else _employer(i, found.org_number, "R14", "assignment_id")


def plan_employer(c: training.PlanFacts, i: Issuer, s: DoctorState, _o: Orgs) -> Rejection | None:
    """R17: an employer of the doctor, for itself."""
    refused = _employer(i, c.org_number, "R17")
    if refused is None and not s.serves_at(c.org_number):
        refused = refuse("the plan is made by the doctor's employer", "R17", "org_number")
    return refused


def the_doctor(c: Facts, i: Issuer, _s: DoctorState, _o: Orgs) -> Rejection | None:
    """R5: the doctor, in its own record (approval requests)."""
    if i.kind != "doctor" or i.doctor_id != c.doctor_id:
        return refuse("only the doctor asks for, or withdraws, an approval", "R5")
    return None


def withdrawing_grantor(
    c: facts.ExceptionWithdrawalFacts, i: Issuer, s: DoctorState, _o: Orgs
) -> Rejection | None:
    """Whoever granted the exception, and no one else, withdraws it."""
    x = s.exceptions.get(c.exception_id)
    if x is None:
        return None
    if c.withdrawn_by != i.party or x.granted_by != i.party:
        rule = EXCEPTION_RULE.get(x.kind, "R3")
        return refuse("only the grantor withdraws an exception", rule, "exception_id")
    return None


def employer(rule: str) -> Entitlement:
    """The command's ``org_number`` must be the issuer's own."""

    def check(c: Any, i: Issuer, _s: DoctorState, _o: Orgs) -> Rejection | None:
        return _employer(i, c.org_number, rule)

    return check


def doctor_or_employer(c: Any, i: Issuer, s: DoctorState, _o: Orgs) -> Rejection | None:
    """The training year (issue 15): the doctor records an activity or a meeting in its own
    record, or an employer for its own service (``recorded_by`` names which)."""
    if c.recorded_by == "doctor":
        if i.kind != "doctor" or i.doctor_id != c.doctor_id:
            return refuse("only the doctor records in the doctor's name", "R5", "recorded_by")
        return None
    refused = _employer(i, c.recorded_by, "R5")
    if refused is None and not s.serves_at(c.recorded_by):
        refused = refuse("the doctor has no service at this institution", "R5", "org_number")
    return refused


def authorise(
    command: Command,
    issuer: Issuer,
    state: DoctorState,
    organisations: Mapping[str, OrganisationState],
) -> Rejection | None:
    """None when ``issuer`` may issue ``command``; else the refusal (nothing is stored). A
    command type that names no ``issued_by`` is refused for everyone."""
    # Read from the class: a function read through an instance would be bound to it.
    entitled = getattr(type(command), "issued_by", None)
    if entitled is None:
        return refuse(f"no one may issue {type(command).__name__}", "R6")
    refused: Rejection | None = entitled(command, issuer, state, organisations)
    return refused
