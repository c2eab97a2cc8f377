"""The acting parties' rate-limit buckets, shared by every API worker and instance: the API
asks here, the table is the store's (``services.store.rate_buckets``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import rate_buckets
from services.store.rate_buckets import Taken


class RateBuckets:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def take(self, party: str, cost: int, per_minute: int) -> Taken:
        return await rate_buckets.take(self._engine, party, cost, per_minute)
