"""The embedded default's sample catalogue and demo data: loaded through the domain, and
idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from domain.progress import progress
from services import seed
from services.read_models import states
from services.store.database import create_engine


async def test_seed_is_idempotent_and_tells_a_coherent_story(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await seed.seed_all(engine, date(2026, 11, 23))
        async with engine.connect() as conn:
            count = await conn.scalar(text("SELECT count(*) FROM events"))
        await seed.seed_all(engine, date(2026, 11, 23))
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM events")) == count
            state, _ = await states.read(conn, states.DOCTORS, seed.DEMO_DOCTOR_ID)
            catalogue, _ = await states.read(conn, states.CATALOGUES, "catalogue-annex2")
    finally:
        await engine.dispose()
    assert len(catalogue.versions) == 2
    result = progress(state, catalogue, date(2026, 11, 23))
    part1 = next(p for p in result.parts if p.part == 1)
    assert part1.approved == 24
    delegated = [o for o in part1.objectives if o.approved_by_hpr == seed.HOSPITAL_DELEGATE]
    assert delegated and all(o.on_behalf_of_leader_hpr == seed.HOSPITAL_LEADER for o in delegated)
    hospital = next(b for b in result.time if b.block == "part1_hospital")
    assert hospital.met is True
    assert result.blockers  # the municipal half-year is not done
