"""Backing off while a failure goes on, and saying so once rather than four times a second."""

from __future__ import annotations

from typing import Any


class Backoff:
    """Pauses that double from ``first`` to ``most``; the first failure of a run is logged
    as a warning, the ones that repeat it only every tenth time."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self._pause = first
        self._failures = 0
        self._last: str | None = None

    def reset(self) -> None:
        self._pause = self.first
        self._failures = 0
        self._last = None

    def next(self) -> float:
        pause = self._pause
        self._pause = min(self._pause * 2, self.most)
        return pause

    def log(self, logger: Any, event: str, err: BaseException, **context: Any) -> None:
        self._failures += 1
        error = repr(err)
        if error != self._last or self._failures % 10 == 0:
            logger.warning(event, error=error, failures=self._failures, **context)
        self._last = error
