"""Write routes declared once each: a URL, its access rule and the function that turns the
path's ids and the body into the command it sends. Most writes to a doctor's record or an
organisation are nothing more; :class:`WriteRoutes` makes their Litestar route handlers
(the same as hand-written ones: name, summary, parameters, body type, status) so that each
module only says, per URL, who may send what::

    DOCTOR_WRITES = WriteRoutes("/api/v1/doctors/{doctor_id:str}", to_doctor, logged=True)

    @DOCTOR_WRITES.post("/approvals", Access.CONFIRMED_EMPLOYER)
    def approval(doctor_id: str, data: ApprovalIn) -> Sent:
        \"""Approve a learning objective on the institution's behalf (R5)\"""
        command = cmd.from_body(cmd.ApproveObjective, data, doctor_id=doctor_id)
        return Sent(command, {"objective_id": data.objective_id})

The builder's docstring is the route's summary; its parameters are the path's ids (as
``FromPath[str]``), ``data`` (the JSON body, of the type it declares) and ``who`` (the
caller). The handler a builder becomes takes ``services``, ``envelope``, the ids and
``data`` in that order, as the batch (services/api/batch.py) calls it."""

from __future__ import annotations

import inspect
import re
import typing
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from litestar import HttpMethod, Response, Router
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.types import Middleware

from services.api.access import Access, access
from services.api.access_log import access_log_middleware
from services.api.dependencies import EnvelopeDep, ServicesDep
from services.api.route import summary_of
from services.api.schemas import WriteResult
from services.api.writes import json_response
from services.application import commands as cmd
from services.application.messages import Envelope, Reply
from services.bootstrap import Services

_PATH_ID = re.compile(r"\{(\w+):str\}")
_GIVEN = ("data", "who")  # what a builder may ask for besides the path's ids


def new_id() -> str:
    """The id of what a write creates (minted here, echoed in the answer)."""
    return str(uuid.uuid4())


class Sent(NamedTuple):
    """The command a write sends and the fields its answer echoes."""

    command: Any
    echo: Mapping[str, object]


def creates(
    command_type: type[Any],
    data: Any,
    id_field: str,
    echo: Mapping[str, object] | None = None,
    **fields: Any,
) -> Sent:
    """A write that creates something: the command built from the body and ``fields``, with
    a new id as its ``id_field``; the answer echoes that id first, then ``echo``."""
    created_id = new_id()
    command = cmd.from_body(command_type, data, **fields, **{id_field: created_id})
    return Sent(command, {id_field: created_id, **(echo or {})})


Send = Callable[[Services, Any, Envelope, Mapping[str, object], int], Awaitable[Reply]]


async def to_doctor(
    services: Services, command: Any, envelope: Envelope, echo: Mapping[str, object], status: int
) -> Reply:
    """A doctor's command: 201 (or ``status``) with the echo, the doctor id and the new
    version (also as ETag)."""
    return await services.doctors.handle(command, envelope, echo, status=status)


async def to_organisation(
    services: Services, command: Any, envelope: Envelope, echo: Mapping[str, object], status: int
) -> Reply:
    return await services.institutions.organisation(command, envelope, echo, status=status)


def handler_signature(builder: Callable[..., Sent], path: str) -> inspect.Signature:
    """``services``, ``envelope``, the path's ids and ``data``, as a hand-written handler
    declares them (the OpenAPI document lists them in this order)."""
    wanted = inspect.signature(builder).parameters
    hints = typing.get_type_hints(builder)
    missing = set(_PATH_ID.findall(path)) - set(wanted)
    if missing:
        raise TypeError(f"write route {builder.__name__} does not take {sorted(missing)}")
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        inspect.Parameter("services", kind, annotation=ServicesDep),
        inspect.Parameter("envelope", kind, annotation=EnvelopeDep),
    ]
    params += [
        inspect.Parameter(name, kind, annotation=FromPath[str])
        for name in wanted
        if name not in _GIVEN
    ]
    if "data" in wanted:
        body = typing.cast(Any, JSONBody)[hints["data"]]  # JSONBody[<the builder's body type>]
        params.append(inspect.Parameter("data", kind, annotation=body))
    return inspect.Signature(params, return_annotation=Response[WriteResult])


@dataclass
class WriteRoutes:
    """The write routes under one path, each sending its command to ``send``; ``logged``:
    each is a write to a doctor's record, in the record's access log."""

    path: str
    send: Send
    tags: list[str] = field(default_factory=list)
    logged: bool = False
    handlers: list[HTTPRouteHandler] = field(default_factory=list)

    def post(self, path: str, rule: Access) -> Callable[[Callable[..., Sent]], Callable[..., Sent]]:
        return self._route(HttpMethod.POST, path, rule, 201)

    def delete(
        self, path: str, rule: Access
    ) -> Callable[[Callable[..., Sent]], Callable[..., Sent]]:
        return self._route(HttpMethod.DELETE, path, rule, 200)

    def _route(
        self, method: HttpMethod, path: str, rule: Access, status: int
    ) -> Callable[[Callable[..., Sent]], Callable[..., Sent]]:
        def declare(builder: Callable[..., Sent]) -> Callable[..., Sent]:
            self.handlers.append(self._handler(builder, method, path, rule, status))
            return builder

        return declare

    def _handler(
        self,
        builder: Callable[..., Sent],
        method: HttpMethod,
        path: str,
        rule: Access,
        status: int,
    ) -> HTTPRouteHandler:
        signature = handler_signature(builder, self.path + path)
        asks_who = "who" in inspect.signature(builder).parameters
        send = self.send

        async def handle(
            services: Services, envelope: Envelope, **given: Any
        ) -> Response[WriteResult]:
            if asks_who:
                given["who"] = envelope.principal
            sent = builder(**given)
            return json_response(await send(services, sent.command, envelope, sent.echo, status))

        handle.__name__ = handle.__qualname__ = builder.__name__
        handle.__module__ = builder.__module__
        handle.__signature__ = signature  # type: ignore[attr-defined]
        handle.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        handle.__annotations__["return"] = signature.return_annotation
        route = HTTPRouteHandler(
            path=path,
            http_method=method,
            opt=access(rule),
            status_code=status,
            summary=summary_of(builder),
        )
        return route(handle)

    def router(self, *others: HTTPRouteHandler) -> Router:
        """The routes as Litestar mounts them (it copies them for each app), with ``others``
        under the same path (a read of a URL written here must be in the same router). By
        name, the order Litestar gives a controller's handlers: the OpenAPI document lists
        them so."""
        middleware: list[Middleware] = [access_log_middleware] if self.logged else []
        handlers = sorted([*self.handlers, *others], key=lambda h: h.handler_name)
        return Router(
            path=self.path,
            route_handlers=handlers,
            tags=self.tags,
            middleware=middleware,
        )
