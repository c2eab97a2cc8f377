"""RFC 9457 problem details: every error the API returns has this shape."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from services.errors import (
    ApplicationError,
    CommandRejected,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
)
from services.logging import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://kompetanse.no/problems/"


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    rule: str | None = None
    errors: list[dict[str, Any]] | None = None
    blockers: list[dict[str, Any]] | None = None


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        blockers: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = Problem(
            type=TYPE_BASE + slug,
            title=title,
            status=status,
            detail=detail,
            field=field,
            rule=rule,
            blockers=blockers,
        )
        self.headers = headers or {}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Unprocessable request"),
    429: ("too-many-requests", "Too many requests"),
}


def handle_problem(request: Request[Any, Any, Any], exc: ProblemError) -> Response[Any]:
    problem = msgspec.structs.replace(exc.problem, instance=request.url.path)
    return problem_response(problem, exc.headers)


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED_FIELD = re.compile(r"field `([^`]+)`")
_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*): ")


def _body_field(error: dict[str, Any]) -> dict[str, Any]:
    """msgspec names the body parameter (``data``) as the key; name the field at fault
    instead: the path msgspec gives, the unknown or missing field, or the field a
    ``__post_init__`` check names."""
    if error.get("source") != "body" or error.get("key") != "data":
        return error
    message = str(error.get("message", ""))
    field = "body"
    if (at := _AT_PATH.search(message)) is not None:
        field, message = at.group(1) or "body", message[: at.start()]
    elif (named := _NAMED_FIELD.search(message)) is not None:
        field = named.group(1)
    elif (prefix := _FIELD_PREFIX.match(message)) is not None:
        field, message = prefix.group(1), message[prefix.end() :]
    return {**error, "key": field, "message": message}


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = [_body_field(e) for e in (exc.extra or []) if isinstance(e, dict)]
    fields = [str(e.get("key")) for e in errors if e.get("key")]
    detail = str(exc.detail)
    if errors and errors[0].get("message"):
        detail = f"{errors[0].get('key', 'body')}: {errors[0]['message']}"
    return problem_response(
        Problem(
            type=TYPE_BASE + "invalid-input",
            title="Invalid input",
            status=400,
            detail=detail,
            instance=request.url.path,
            field=fields[0] if fields else None,
            errors=errors or None,
        )
    )


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    slug, title = _TITLES.get(exc.status_code, ("error", "Error"))
    return problem_response(
        Problem(
            type=TYPE_BASE + slug,
            title=title,
            status=exc.status_code,
            detail=str(exc.detail),
            instance=request.url.path,
        ),
        dict(exc.headers or {}),
    )


def rejection_problem(exc: CommandRejected) -> ProblemError:
    """A domain rejection as problem+json naming its field or rule."""
    rejection = exc.rejection
    code, field, rule = rejection.code, rejection.field, rejection.rule
    status = 404 if code.startswith("unknown_") and field is None else 422
    if code == "duplicate":
        status = 409
    if code == "not_entitled":  # RULES.md authority: not this caller's to record
        status = 403
    detail = rejection.detail
    if rule:  # name the rule once, in front
        detail = detail.replace(f" ({rule})", "").replace(f"({rule})", "").strip()
    prefix = f"{rule}: " if rule and not detail.startswith(rule) else ""
    return ProblemError(
        status,
        code.replace("_", "-"),
        "Command rejected",
        prefix + detail,
        field=field,
        rule=rule,
        blockers=exc.blockers,
    )


# The application's answers instead of a result, by kind: (status, title).
_APPLICATION_ERRORS: dict[type[ApplicationError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    Forbidden: (403, "Forbidden"),
    Conflict: (409, "Conflict"),
    Invalid: (400, "Invalid input"),
}


def application_problem(exc: ApplicationError) -> ProblemError:
    status, title = _APPLICATION_ERRORS.get(type(exc), (400, "Invalid input"))
    if exc.code == "invalid-org-number":
        title = "Invalid organisation number"
    return ProblemError(status, exc.code, title, exc.detail, field=exc.field)


def problem_of(exc: Exception) -> ProblemError | None:
    """The problem an expected failure answers with (None: not one of ours)."""
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, CommandRejected):
        return rejection_problem(exc)
    if isinstance(exc, ApplicationError):
        return application_problem(exc)
    return None


def handle_rejected(request: Request[Any, Any, Any], exc: CommandRejected) -> Response[Any]:
    return handle_problem(request, rejection_problem(exc))


def handle_application(request: Request[Any, Any, Any], exc: ApplicationError) -> Response[Any]:
    return handle_problem(request, application_problem(exc))


def handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    get_logger("api").error("api.unhandled", error=repr(exc), exc_info=exc)
    return problem_response(
        Problem(
            type=TYPE_BASE + "internal",
            title="Internal error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )
    )


EXCEPTION_HANDLERS = {
    ProblemError: handle_problem,
    CommandRejected: handle_rejected,
    ApplicationError: handle_application,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_internal,
}
