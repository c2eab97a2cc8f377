"""The one place where the adapters are built: engine, command handlers and read-model
queries, from settings. The API (in its lifespan), the relay, the projectors and the CLI
all start here, so each process is wired the same way (cosmicpython's ``bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services.application.applications import ApplicationHandlers
from services.application.doctors import DoctorHandlers
from services.application.institutions import InstitutionHandlers
from services.application.proofs import ProofLog
from services.application.rate_limits import RateBuckets
from services.application.relations import RelationHandlers
from services.application.training import TrainingHandlers
from services.config import Settings
from services.read_models.casework import CaseworkReads
from services.read_models.decisions import Decisions
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

    async def close(self) -> None:
        await self.engine.dispose()
        if self.reads.replica is not None:
            await self.reads.replica.dispose()


def engine_for(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    if settings.database_url is None:
        raise ValueError("DATABASE_URL must be set")
    return create_engine(settings.database_url, pool_size=pool_size or settings.db_pool_size)


def bootstrap(settings: Settings, *, pool_size: int | None = None) -> Services:
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
        queries=Queries(reads),
        records=Records(engine),
        training_reads=TrainingReads(engine),
        casework=CaseworkReads(engine),
        proofs=ProofLog(engine),
        rate_buckets=RateBuckets(engine),
        relations=RelationHandlers(engine),
        relation_queries=RelationQueries(engine),
        decisions=Decisions(engine),
        reads=reads,
    )
