"""The route decorators of the API: Litestar's ``get``, ``post``, ``put`` and ``delete`` with
the access rule as a required argument (services/api/access.py; no route without one) and
the handler's docstring as its OpenAPI summary, on one line::

    @get("/events", Access.DOCTOR_SELF_OR_DIRECTORATE)
    async def events(self, services: ServicesDep, doctor_id: FromPath[str]) -> Page:
        \"""The audit trail: every event with who, when and on whose behalf\"""

Every other option (``status_code``, ``media_type``, ``middleware``) is Litestar's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import litestar
from litestar import Controller
from litestar.handlers import HTTPRouteHandler

from services.api.access import Access, access
from services.api.access_log import access_log_middleware

Declare = Callable[[Callable[..., Any]], HTTPRouteHandler]


def summary_of(fn: Callable[..., Any]) -> str:
    """The docstring, on one line: the route's OpenAPI summary."""
    if not fn.__doc__:
        raise TypeError(f"route {fn.__name__} needs a docstring: its summary")
    return " ".join(fn.__doc__.split())


def _declare(method: type[HTTPRouteHandler], path: str, rule: Access, options: Any) -> Declare:
    def route(fn: Callable[..., Any]) -> HTTPRouteHandler:
        return method(path, opt=access(rule), summary=summary_of(fn), **options)(fn)

    return route


def get(path: str, rule: Access, **options: Any) -> Declare:
    return _declare(litestar.get, path, rule, options)


def post(path: str, rule: Access, **options: Any) -> Declare:
    return _declare(litestar.post, path, rule, options)


def put(path: str, rule: Access, **options: Any) -> Declare:
    return _declare(litestar.put, path, rule, options)


def delete(path: str, rule: Access, **options: Any) -> Declare:
    return _declare(litestar.delete, path, rule, options)


class RecordController(Controller):
    """Routes of a doctor's record: tagged so in the OpenAPI document, and each request to
    one is a row of the record's access log (services/api/access_log.py)."""

    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012
