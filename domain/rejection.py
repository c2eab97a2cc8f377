"""The two kinds of "no" (RULES.md): a command that cannot be true is *rejected* with a
:class:`Rejection` and nothing is stored; a fact that happened but breaks a regulation is
recorded and shows up as a :class:`Blocker`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    from domain.doctor.state import Period

RejectionCode = Literal[
    "invalid_value",  # a field's value is impossible (end before start, FTE 0) -> 400/422
    "unknown_reference",  # names something that does not exist (period, objective) -> 422
    "duplicate",  # an id that is already used, a state already reached -> 409
    "rule_violation",  # a rule of RULES.md forbids it (rule names which) -> 422
    "not_ready",  # an application while blockers remain (R6) -> 422
    "not_entitled",  # the issuer may not issue this command (RULES.md authority) -> 403
]


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """A typed refusal. ``field`` names the command field at fault (None when the command as
    a whole is refused), ``rule`` the rule id from RULES.md where one applies. ``detail`` is
    English, for the API's problem+json ``detail``."""

    code: RejectionCode
    detail: str
    field: str | None = None
    rule: str | None = None


class Blocker(msgspec.Struct, frozen=True, kw_only=True):
    """Something standing between the doctor and final approval (or a recorded breach).

    ``message`` and ``clears_by`` are Norwegian bokmål (the doctor reads them); ``code`` is a
    stable English key; ``refs`` names the periods, objectives or exceptions concerned."""

    rule: str
    code: str
    message: str
    clears_by: str
    part: int | None = None
    refs: tuple[str, ...] = ()


def reject(
    code: RejectionCode, detail: str, *, field: str | None = None, rule: str | None = None
) -> Rejection:
    return Rejection(code=code, detail=detail, field=field, rule=rule)


def period_blocker(
    period: Period, *, rule: str, code: str, message: str, clears_by: str
) -> Blocker:
    """A blocker about one service period: its part, and the period as the reference."""
    return Blocker(
        rule=rule,
        code=code,
        part=period.part,
        refs=(period.period_id,),
        message=message,
        clears_by=clears_by,
    )
