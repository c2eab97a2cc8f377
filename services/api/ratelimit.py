"""A token bucket per acting party (not per IP: hospitals' integrations share gateways;
not per client: one vendor's client acts for many organisations, one app for many doctors).
See :mod:`services.api.acting_party`.

The buckets are rows on the primary (``services.store.rate_buckets``), not memory of this
process: with several API workers (and instances) a party's requests land on any of them,
and the limit must count them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.application.rate_limits import RateBuckets


@dataclass(frozen=True)
class Grant:
    granted: int  # how many of the tokens asked for were taken
    retry_after: int | None  # when not all: seconds until the next token


@dataclass
class RateLimiter:
    per_minute: int
    buckets: RateBuckets

    async def take(self, client: str, cost: int = 1) -> Grant:
        """Spend up to ``cost`` tokens of ``client``'s bucket."""
        taken = await self.buckets.take(client, cost, self.per_minute)
        if taken.granted >= cost:
            return Grant(taken.granted, None)
        rate = self.per_minute / 60.0
        return Grant(taken.granted, max(1, math.ceil((1.0 - taken.tokens_left) / rate)))
