"""Who did it and on whose behalf: the metadata every appended event carries.

Taken from the token and the server, never from the request body. The national identity
number of a person is never written here (the audit trail names professionals by HPR number
and clients by id).
"""

from __future__ import annotations

from typing import Any


def event_metadata(
    principal: Any, request_id: str | None, *, on_behalf_of: str | None = None
) -> dict[str, Any]:
    actor = {
        "kind": principal.kind,
        "client_id": principal.client_id,
        "org_number": principal.org_number,
        "hpr_number": principal.hpr_number,
    }
    metadata: dict[str, Any] = {
        "actor": {key: value for key, value in actor.items() if value is not None},
        "request_id": request_id,
    }
    if on_behalf_of is not None:
        metadata["on_behalf_of"] = on_behalf_of
    return metadata
