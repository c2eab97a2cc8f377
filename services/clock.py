"""The one place the services read the clock. The domain never does: dates come in as
arguments. "Today" is the Norwegian calendar date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def today() -> date:
    return datetime.now(OSLO).date()
