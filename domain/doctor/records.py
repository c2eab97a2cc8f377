"""The facts a doctor's state holds, one frozen Struct per kind (the training year's are in
:mod:`domain.doctor.training_records`). They are the snapshot's shape, versioned with it
(``snapshot_schema``), not with the events: an event's facts and its piece of state look
alike but change apart, so each is written out here (:func:`domain.copying.copy_as` copies
between them)."""

from __future__ import annotations

from datetime import date

import msgspec

from events.vocabulary import Arena, Part


class Period(msgspec.Struct, frozen=True, kw_only=True):
    period_id: str
    org_number: str
    part: Part
    arena: Arena | None
    position: str
    fte_percent: int
    start: date
    end: date | None
    specialty: str | None = None
    open_unselected_gp: bool = False
    self_created_post: bool = False


class Absence(msgspec.Struct, frozen=True, kw_only=True):
    absence_id: str
    period_id: str
    kind: str
    start: date
    end: date
    percent: int


class ConfirmedAbsence(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    start: date
    end: date
    percent: int


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    """R7. ``period`` and ``absences`` are the facts as they stood when it was issued: a later
    correction that changes them makes the confirmation stale (:mod:`domain.basis`)."""

    period_id: str
    issued_on: date
    signed_by_hpr: str
    period: Period | None = None
    absences: tuple[ConfirmedAbsence, ...] = ()


class Supervisor(msgspec.Struct, frozen=True, kw_only=True):
    assignment_id: str = ""
    org_number: str
    hpr_number: str
    role: str
    valid_from: date
    part: Part
    specialty: str | None = None
    specialist_in: str | None = None
    substantial_experience: bool = False
    external_stay: bool = False
    valid_to: date | None = None  # R13: an ended assignment holds up to this day

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


# Stored as an array, not a map: a long record holds thousands, and field names would be
# half of the snapshot's bytes (decoded on every write).
class Assessment(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    objective_id: str
    catalogue_version: str
    org_number: str
    assessor_hpr: str
    assessor_role: str
    outcome: str
    assessed_on: date
    seq: int = 0  # order of recording among all the doctor's assessments (ties on a day)


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    objective_id: str
    catalogue_version: str
    org_number: str
    approver_hpr: str
    leader_hpr: str
    delegation_id: str | None
    approved_on: date
    revoked_on: date | None = None
    revoke_reason: str | None = None

    def active_on(self, on: date) -> bool:
        return self.approved_on <= on and (self.revoked_on is None or on < self.revoked_on)


class ExceptionRecord(msgspec.Struct, frozen=True, kw_only=True):
    exception_id: str
    kind: str
    granted_by: str
    granted_on: date
    valid_from: date | None = None
    valid_to: date | None = None
    granted_by_hpr: str | None = None
    period_id: str | None = None
    supervisor_hpr: str | None = None
    credit_months: int | None = None
    reason: str = ""
    withdrawn_on: date | None = None
    withdraw_reason: str | None = None

    def in_force(self, on: date) -> bool:
        """Valid on ``on``: inside its validity period and not withdrawn by then."""
        start = self.valid_from or self.granted_on
        if on < start or (self.valid_to is not None and on > self.valid_to):
            return False
        return self.withdrawn_on is None or on < self.withdrawn_on


class GroupSession(msgspec.Struct, frozen=True, kw_only=True):
    org_number: str
    held_on: date
    minutes: int


class SupervisionEntry(msgspec.Struct, frozen=True, kw_only=True):
    month: str
    org_number: str
    hours: float


class ApprovalRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A doctor's request that a leader approve an objective: waiting, or returned with a
    comment. Withdrawn and approved requests are gone."""

    objective_id: str
    org_number: str
    requested_on: date
    status: str = "waiting"  # waiting | returned
    comment: str | None = None
    returned_on: date | None = None
