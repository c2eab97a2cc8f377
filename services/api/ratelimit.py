"""A token bucket per acting party (not per IP: hospitals' integrations share gateways;
not per client: one vendor's client acts for many organisations, one app for many doctors).
See :mod:`services.api.acting_party`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, client: str) -> int | None:
        """Spend one token; ``None`` if allowed, else the seconds to wait."""
        now = self.clock()
        capacity = float(self.per_minute)
        rate = capacity / 60.0
        tokens, last = self._buckets.get(client, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))
        self._buckets[client] = (tokens - 1.0, now)
        return None
