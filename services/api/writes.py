"""A handler's reply as the HTTP response (the same bytes a retry with the idempotency key
gets back), and the acting organisation of a token."""

from __future__ import annotations

from typing import Any

from litestar import Response

from services.api.problems import ProblemError
from services.application.messages import Reply
from services.identity.principal import Principal


def json_response(reply: Reply) -> Response[Any]:
    return Response(
        content=reply.body,
        status_code=reply.status_code,
        media_type="application/json",
        headers=reply.headers,
    )


def acting_org(principal: Principal) -> str:
    """The organisation acting (an organisation's client token)."""
    if principal.org_number is None:
        raise ProblemError(403, "forbidden", "Forbidden", "requires an organisation's client")
    return principal.org_number
