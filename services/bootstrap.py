"""The one place where the adapters are built: engine, command handlers and read-model
queries, from settings. The API (in its lifespan), the relay, the projectors and the CLI
all start here, so each process is wired the same way (cosmicpython's ``bootstrap``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services import aggregates
from services.application.access_log import AccessLog
from services.application.applications import ApplicationHandlers
from services.application.doctors import DoctorHandlers
from services.application.institutions import InstitutionHandlers
from services.application.messages import Group, IdempotentRequest
from services.application.proofs import ProofLog
from services.application.rate_limits import RateBuckets
from services.application.relations import RelationHandlers
from services.application.streams import group_transaction, unused_keys
from services.application.training import TrainingHandlers
from services.config import Settings
from services.read_models.casework import CaseworkReads
from services.read_models.decisions import Decisions
from services.read_models.progress_cache import ProgressCache
from services.read_models.queries import Queries
from services.read_models.records import Records
from services.read_models.relations import RelationQueries
from services.read_models.routing import ReadRouter
from services.read_models.training import TrainingReads
from services.store.database import create_engine


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    doctors: DoctorHandlers
    training: TrainingHandlers
    institutions: InstitutionHandlers
    applications: ApplicationHandlers
    queries: Queries
    records: Records
    training_reads: TrainingReads
    casework: CaseworkReads
    proofs: ProofLog
    rate_buckets: RateBuckets
    relations: RelationHandlers
    relation_queries: RelationQueries
    decisions: Decisions
    reads: ReadRouter
    access_log: AccessLog

    @contextlib.asynccontextmanager
    async def group(
        self, unused: frozenset[tuple[str, str]] = frozenset()
    ) -> AsyncIterator[tuple[Group, Queries]]:
        """One transaction for several commands about one doctor (a batch), and the read
        side's checks on that transaction: they see the earlier commands' writes (a claimed
        relation, say) as a request after a committed one would. ``unused``: idempotency
        keys known unused when the batch began (:meth:`unused_keys`)."""
        async with group_transaction(self.engine, unused) as group:
            yield group, self.queries.within(group.connection)

    async def unused_keys(
        self, requests: Sequence[IdempotentRequest]
    ) -> frozenset[tuple[str, str]]:
        return await unused_keys(self.engine, requests)

    async def close(self) -> None:
        await self.access_log.close()  # before the engine goes: buffered rows are written
        await self.engine.dispose()
        if self.reads.replica is not None:
            await self.reads.replica.dispose()


def engine_for(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    if settings.database_url is None:
        raise ValueError("DATABASE_URL must be set")
    return create_engine(settings.database_url, pool_size=pool_size or settings.db_pool_size)


def bootstrap(settings: Settings, *, pool_size: int | None = None) -> Services:
    aggregates.snapshot_every = max(1, settings.snapshot_every)
    aggregates.recent_states.resize(settings.state_cache_size)
    engine = engine_for(settings, pool_size=pool_size)
    replica = None
    if settings.database_replica_url:
        replica = create_engine(
            settings.database_replica_url, pool_size=pool_size or settings.db_pool_size
        )
    reads = ReadRouter(engine, replica, settings.replica_max_lag_seconds)
    return Services(
        settings=settings,
        engine=engine,
        doctors=DoctorHandlers(engine),
        training=TrainingHandlers(engine),
        institutions=InstitutionHandlers(engine),
        applications=ApplicationHandlers(engine),
        queries=Queries(reads, ProgressCache(settings.progress_cache_size)),
        records=Records(engine),
        training_reads=TrainingReads(engine),
        casework=CaseworkReads(engine),
        proofs=ProofLog(engine),
        rate_buckets=RateBuckets(engine),
        relations=RelationHandlers(engine),
        relation_queries=RelationQueries(engine),
        decisions=Decisions(engine),
        reads=reads,
        access_log=AccessLog(engine, max_delay=settings.access_log_flush_seconds),
    )
