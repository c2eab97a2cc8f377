"""The one error of the identity layer."""

from __future__ import annotations


class Unauthenticated(Exception):
    """The request is not authenticated. ``reason`` is short and safe to return to the
    caller: it never contains token contents or personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
