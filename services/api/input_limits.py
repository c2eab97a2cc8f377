"""Bad input is a 4xx, never a 500 (issue 13): limits every request body and date meets
before any handler sees it.

- **Bodies** are UTF-8 JSON nested at most ``MAX_JSON_DEPTH`` deep (our deepest body, a
  batch item's, needs 5); anything else is a 400 naming ``body``. Checked once per request
  by the request class, so the batch's items are checked too.
- **Dates** of facts and of ``as_of`` lie in ``EARLIEST`` .. ``LATEST`` (1900-01-01 to
  2099-12-31): no doctor in the registry was authorised before 1900 and no fact is recorded
  for after 2099; outside that a date is a typo, and date arithmetic near year 1 or 9999
  would overflow. Documented in docs/architecture.md.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from litestar import Request

from services.api.problems import ProblemError

MAX_JSON_DEPTH = 32
EARLIEST = date(1900, 1, 1)
LATEST = date(2099, 12, 31)

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def bad_body(detail: str) -> ProblemError:
    return ProblemError(400, "invalid-body", "Invalid body", f"body: {detail}", field="body")


def check_body(raw: bytes) -> None:
    if not raw:
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise bad_body(f"not valid UTF-8 (byte {err.start})") from None
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub(b'""', raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            raise bad_body(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


class CheckedRequest(Request[Any, Any, Any]):
    """A request whose body is checked (UTF-8, depth) the first time it is read."""

    async def body(self) -> bytes:
        raw = await super().body()
        state = self.scope.setdefault("state", {})
        if not state.get("body_checked"):
            check_body(raw)
            state["body_checked"] = True
        return raw


def check_date(field: str, value: date | None) -> None:
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ProblemError(
            400,
            "invalid-input",
            "Invalid input",
            f"{field}: {value.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}",
            field=field,
        )


def out_of_range(value: date) -> bool:
    return not EARLIEST <= value <= LATEST
