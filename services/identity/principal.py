"""Who is calling: the ``Principal`` built from a validated access token's claims.

Scopes and HelseID claim names are defined here and nowhere else.

How ``kind`` is derived (deterministic, from scopes first, then claims):

1. The token must carry exactly one of our role scopes (``ROLE_SCOPES``). None: refused
   ("missing required scope"). Several: refused ("conflicting role scopes") - a client asks
   for the one role it acts in, so an admin token is never silently also a caseworker
   token, nor an organisation's token also a person's.
2. ``kompetanse:admin`` -> ``admin``; ``kompetanse:caseworker`` -> ``caseworker``
   (Helsedirektoratet's own clients; no further claims required).
3. ``kompetanse:integration`` -> ``organisation``: requires a valid ``orgnr_parent``
   (and, if present, a valid ``orgnr_child``).
4. ``kompetanse:doctor`` -> ``person``: requires an HPR number and/or a national identity
   number (``pid``), each valid in form.

Organisation numbers: HelseID's ``orgnr_parent`` is the legal entity that owns the client,
``orgnr_child`` the sub-unit it acts for. ``org_number`` is the acting unit (the child when
present, else the parent); both are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import msgspec

from domain.identifiers import check_hpr_number, check_national_id, check_org_number
from services.identity.errors import Unauthenticated

SCOPE_INTEGRATION: Final = "kompetanse:integration"  # an organisation's machine client
SCOPE_DOCTOR: Final = "kompetanse:doctor"  # a person: own record, own application
SCOPE_CASEWORKER: Final = "kompetanse:caseworker"  # Helsedirektoratet caseworker
SCOPE_ADMIN: Final = "kompetanse:admin"  # Helsedirektoratet admin
ROLE_SCOPES: Final = frozenset({SCOPE_INTEGRATION, SCOPE_DOCTOR, SCOPE_CASEWORKER, SCOPE_ADMIN})

CLAIM_ORGNR_PARENT: Final = "helseid://claims/client/claims/orgnr_parent"
CLAIM_ORGNR_CHILD: Final = "helseid://claims/client/claims/orgnr_child"
CLAIM_HPR_NUMBER: Final = "helseid://claims/hpr/hpr_number"
CLAIM_PID: Final = "helseid://claims/identity/pid"

Kind = Literal["organisation", "person", "caseworker", "admin"]

_KIND_OF_SCOPE: Final[dict[str, Kind]] = {
    SCOPE_ADMIN: "admin",
    SCOPE_CASEWORKER: "caseworker",
    SCOPE_INTEGRATION: "organisation",
    SCOPE_DOCTOR: "person",
}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller. ``pid`` (national identity number) lives only in memory:
    it is masked in ``repr`` and left out of ``log_fields``; never log or persist it."""

    kind: Kind
    client_id: str | None = None
    subject: str | None = None
    org_number: str | None = None  # the acting unit: orgnr_child if present, else parent
    parent_org_number: str | None = None  # orgnr_parent: the legal entity
    child_org_number: str | None = None  # orgnr_child: the sub-unit, when present
    hpr_number: str | None = None
    pid: str | None = None
    scopes: frozenset[str] = frozenset()

    def own_orgs(self) -> frozenset[str]:
        """The acting unit and its legal entity: an institution may be registered as
        either, so an organisation acts for both."""
        return frozenset(o for o in (self.org_number, self.parent_org_number) if o)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.log_fields().items())
        return f"Principal({fields}, pid={'***' if self.pid else None})"

    def log_fields(self) -> dict[str, Any]:
        """Everything safe to log (all but ``pid``)."""
        return {
            "kind": self.kind,
            "client_id": self.client_id,
            "subject": self.subject,
            "org_number": self.org_number,
            "parent_org_number": self.parent_org_number,
            "child_org_number": self.child_org_number,
            "hpr_number": self.hpr_number,
            "scopes": sorted(self.scopes),
        }


def _string_claim(claims: Mapping[str, Any], name: str, label: str) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # some issuers emit numeric identifiers as JSON numbers
    if not isinstance(value, str):
        raise Unauthenticated(f"malformed {label} claim")
    return value


def kind_of(scopes: frozenset[str]) -> Kind:
    roles = scopes & ROLE_SCOPES
    if not roles:
        raise Unauthenticated("missing required scope")
    if len(roles) > 1:
        raise Unauthenticated("conflicting role scopes")
    return _KIND_OF_SCOPE[next(iter(roles))]


def principal_from_claims(claims: Mapping[str, Any], scopes: frozenset[str]) -> Principal:
    """Build the principal from validated claims, or raise ``Unauthenticated``."""
    kind = kind_of(scopes)
    parent = _string_claim(claims, CLAIM_ORGNR_PARENT, "organisation number")
    child = _string_claim(claims, CLAIM_ORGNR_CHILD, "organisation number")
    hpr = _string_claim(claims, CLAIM_HPR_NUMBER, "HPR number")
    pid = _string_claim(claims, CLAIM_PID, "national identity number")
    for org in (parent, child):
        if org is not None and check_org_number(org) is not None:
            raise Unauthenticated("invalid organisation number claim")
    if hpr is not None and check_hpr_number(hpr) is not None:
        raise Unauthenticated("invalid HPR number claim")
    if pid is not None and check_national_id(pid) is not None:
        raise Unauthenticated("invalid national identity number claim")
    if kind == "organisation" and parent is None:
        raise Unauthenticated("organisation token without organisation number")
    if kind == "person" and hpr is None and pid is None:
        raise Unauthenticated("person token without HPR number or national identity number")
    return Principal(
        kind=kind,
        client_id=_string_claim(claims, "client_id", "client_id"),
        subject=_string_claim(claims, "sub", "sub"),
        org_number=child or parent,
        parent_org_number=parent,
        child_org_number=child,
        hpr_number=hpr,
        pid=pid,
        scopes=scopes,
    )
