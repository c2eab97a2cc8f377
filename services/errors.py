"""What a handler answers instead of a result. The API maps each to problem+json; nothing
here knows HTTP, but each kind has one obvious status (named in the comment)."""

from __future__ import annotations

from domain.rejection import Rejection


class ApplicationError(Exception):
    """Base: ``code`` is a stable key, ``detail`` names the field or rule at fault."""

    code = "error"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code is not None:
            self.code = code


class NotFound(ApplicationError):  # 404
    code = "not-found"


class Forbidden(ApplicationError):  # 403
    code = "forbidden"


class Conflict(ApplicationError):  # 409: stale If-Match, key reused, already registered
    code = "conflict"


class CommandRejected(Exception):
    """The domain said no (a typed :class:`Rejection`); nothing was stored. 404/409/422."""

    def __init__(self, rejection: Rejection, blockers: list[dict[str, object]] | None = None):
        # A test double may reject with a plain string: say what it said.
        super().__init__(getattr(rejection, "detail", str(rejection)))
        self.rejection = rejection
        self.blockers = blockers


class Invalid(ApplicationError):  # 400: a value the API schema cannot check (check digits)
    code = "invalid-input"
