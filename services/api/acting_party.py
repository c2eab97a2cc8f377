"""Who owns an idempotency key and a rate-limit bucket: the acting party (API.md
conventions), never the client alone.

- an organisation's client: the client *together with* the organisation it acts for (a
  vendor's one client acting for hospitals A and B is two parties);
- a person: the person (HPR number, else the token's pseudonymous subject, else a digest of
  the national identity number, which is never stored or logged as such);
- the directorate: the client and the person using it.
"""

from __future__ import annotations

import hashlib
from typing import Any


def acting_party(principal: Any) -> str:
    kind = principal.kind
    client = principal.client_id or "-"
    if kind == "organisation":
        parent = principal.parent_org_number or "-"
        return f"organisation:{client}:{parent}:{principal.org_number or '-'}"
    if kind == "person":
        if principal.hpr_number:
            return f"person:hpr:{principal.hpr_number}"
        if principal.subject:
            return f"person:sub:{principal.subject}"
        digest = hashlib.sha256(b"kompetanse-acting-party\0" + (principal.pid or "").encode())
        return f"person:pid:{digest.hexdigest()[:32]}"
    who = principal.hpr_number or principal.subject or "-"
    return f"{kind}:{client}:{who}"
