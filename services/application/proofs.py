"""DPoP proofs seen by any API instance (RFC 9449 replay protection across instances): the
API asks here, the table is the store's (``services.store.dpop_replay``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import dpop_replay


class ProofLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def first_use(self, key: str, expires_at: float) -> bool:
        """True the first time ``key`` is seen (remembered until ``expires_at``)."""
        return await dpop_replay.remember(self._engine, key, expires_at)
