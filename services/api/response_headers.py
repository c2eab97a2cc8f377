"""Headers every response carries (issue 13): no caching of personal data, no MIME
sniffing, and on our HTML pages a strict Content-Security-Policy that also forbids framing.
The OpenAPI UI under ``/schema`` keeps its own needs (it loads its scripts) and gets only
``nosniff``."""

from __future__ import annotations

from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from services.api.access import OPENAPI_PATH

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ALWAYS = [(b"x-content-type-options", b"nosniff")]
NOT_CACHED = [(b"cache-control", b"no-store")]
PAGE = [
    (b"content-security-policy", PAGE_CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def response_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        schema = str(scope.get("path", "")).startswith(OPENAPI_PATH)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                names = {k.lower() for k, _ in headers}
                content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                extra = list(ALWAYS)
                if not schema:
                    extra += NOT_CACHED
                    if content_type.startswith(b"text/html"):
                        extra += PAGE
                headers += [(k, v) for k, v in extra if k not in names]
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
