"""Development only (the embedded default's own issuer): a browser has no way to send a bearer
token, so ``/dev/login`` mints a doctor's token with the development issuer and keeps it in
an HttpOnly cookie, which is accepted for GET requests only. Never mounted when a real
issuer (HelseID) is configured."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.params import QueryParameter
from litestar.response import Redirect

from services.api.access import Access, access
from services.api.authentication import COOKIE
from services.api.dependencies import services_of
from services.api.problems import ProblemError


class DevLoginController(Controller):
    path = "/dev"
    include_in_schema = False

    @get("/login", opt=access(Access.PUBLIC))
    async def login(
        self,
        request: Request[Any, Any, Any],
        hpr: Annotated[str, QueryParameter(pattern=r"^[1-9]\d{0,8}$")],
    ) -> Response[Any]:
        from services.identity.dev_issuer import DevIssuer

        settings = services_of(request.app.state).settings
        if settings.token_issuer is not None:
            raise ProblemError(404, "not-found", "Not found", "no development login here")
        issuer = DevIssuer(settings.data_path, audience=settings.token_audience)
        token = issuer.mint("doctor", hpr_number=hpr, ttl_seconds=8 * 3600)
        return Redirect(
            "/api/v1/me/progress/page",
            cookies=[
                Cookie(
                    key=COOKIE,
                    value=token,
                    httponly=True,
                    samesite="strict",
                    path="/api/v1/me",
                    max_age=8 * 3600,
                )
            ],
        )
