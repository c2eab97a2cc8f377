"""Cached progress (issue 14): a repeated read is answered from the cache, and any change the
answer depends on — a new event of the doctor, a catalogue revision, an organisation's
registration (R16), another date — is recomputed. Every answer, hit or not, is compared with
progress computed afresh by queries without a cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import msgspec
import pytest

from services.api.dependencies import services_of
from services.bootstrap import Services, bootstrap
from services.config import Settings
from services.read_models.progress_cache import ProgressCache
from services.read_models.queries import Queries
from tests.integration.api.flow import HOSPITAL, VEILEDER, World, appoint, ok, set_up
from tests.integration.api.test_authority_http import codes, period

ON = date(2024, 9, 1)


@pytest.fixture
async def services(api_settings: Settings) -> AsyncIterator[Services]:
    own = bootstrap(api_settings, pool_size=2)
    yield own
    await own.close()


class Reads:
    """Cached queries beside uncached ones on the app's database (services of the test's
    own: the app's engine belongs to the test client's event loop)."""

    def __init__(self, services: Services) -> None:
        self.cache: ProgressCache[Any] = ProgressCache()
        self.cached = Queries(services.reads, self.cache)
        self.fresh = Queries(services.reads, ProgressCache(max_entries=0))

    async def read(self, doctor_id: str, on: date = ON) -> dict[str, Any]:
        """The cached answer, checked against one computed afresh."""
        view = await self.cached.progress(doctor_id, on, None, None)
        fresh = await self.fresh.progress(doctor_id, on, None, None)
        assert msgspec.to_builtins(view.progress) == msgspec.to_builtins(fresh.progress)
        assert (view.version, view.approval_requests) == (fresh.version, fresh.approval_requests)
        return dict(msgspec.json.decode(msgspec.json.encode(view.progress)))

    def counts(self) -> tuple[int, int]:
        return self.cache.hits, self.cache.misses


def status_of(progress: dict[str, Any], objective_id: str) -> str:
    return str(
        next(
            o["status"]
            for p in progress["parts"]
            for o in p["objectives"]
            if o["objective_id"] == objective_id
        )
    )


async def test_a_repeated_read_is_a_hit_and_a_new_event_recomputes(
    api: Any, issuer: Any, services: Services
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital, start="2024-01-01", end=None)
    await appoint(api, base, world.hospital, "2024-01-01")
    reads = Reads(services)
    first = await reads.read(doctor_id)
    assert reads.counts() == (0, 1)
    assert await reads.read(doctor_id) == first
    assert reads.counts() == (1, 1)
    # Through HTTP: the app's own cache answers the route the second time.
    app_cache = services_of(api.app.state).queries.progress_cache
    url = f"{base}/progress?as_of=2024-09-01"
    for _ in range(2):
        body = await ok(await api.get(url, headers=world.hospital), 200)
        assert body["parts"] == first["parts"]
    assert (app_cache.hits, app_cache.misses) == (1, 1)

    await ok(
        await api.post(
            f"{base}/assessments",
            headers=world.hospital,
            json={
                "objective_id": "KLS-002",
                "assessor_hpr": VEILEDER,
                "assessor_role": "veileder",
                "outcome": "achieved",
                "assessed_on": "2024-05-20",
            },
        )
    )
    after = await reads.read(doctor_id)
    assert reads.counts() == (1, 2)
    assert status_of(first, "KLS-002") == "open"
    assert status_of(after, "KLS-002") == "assessed_achieved"

    other_day = await reads.read(doctor_id, date(2024, 5, 1))  # before the assessment
    assert reads.counts() == (1, 3)
    assert status_of(other_day, "KLS-002") == "open"
    assert (await reads.read(doctor_id, date(2024, 5, 1))) == other_day
    assert reads.counts() == (2, 3)


async def test_a_catalogue_revision_recomputes(api: Any, issuer: Any, services: Services) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    reads = Reads(services)
    before = await reads.read(doctor_id)
    await reads.read(doctor_id)
    assert reads.counts() == (1, 1)
    revision = {
        "version": "2024-01",
        "effective_from": "2024-01-01",
        "label": "SAMPLE revision (test)",
        "objectives": [
            {"id": "KLS-001", "part": 1, "arena": "hospital", "title": "Akutt syk pasient"},
            {"id": "KLS-003", "part": 1, "arena": "hospital", "title": "Ny"},
        ],
        "carry_over": [],
    }
    await ok(await api.post("/api/v1/catalogue/versions", headers=world.admin, json=revision))
    after = await reads.read(doctor_id)
    assert reads.counts() == (1, 2)
    assert (before["catalogue_version"], after["catalogue_version"]) == ("2020-03", "2024-01")
    assert status_of(after, "KLS-003") == "open"


async def test_an_organisation_registration_recomputes_R16(
    api: Any, issuer: Any, services: Services
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await period(api, base, world.hospital, part=3, arena=None, specialty="indremedisin", end=None)
    reads = Reads(services)
    flagged = await reads.read(doctor_id)
    await reads.read(doctor_id)
    assert reads.counts() == (1, 1)
    assert "institution_not_registered" in codes(flagged["blockers"])
    await ok(
        await api.post(
            f"/api/v1/organisations/{HOSPITAL}/registrations",
            headers=world.admin,
            json={"specialty": "indremedisin", "valid_from": "2019-03-01"},
        )
    )
    cleared = await reads.read(doctor_id)
    assert reads.counts() == (1, 2)
    assert "institution_not_registered" not in codes(cleared["blockers"])


async def test_the_cache_is_bounded(api: Any, issuer: Any, services: Services) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    small: ProgressCache[Any] = ProgressCache(max_entries=2)
    queries = Queries(services.reads, small)
    for day in (1, 2, 3):
        await queries.progress(doctor_id, date(2024, 1, day), None, None)
    assert len(small) == 2
    await queries.progress(doctor_id, date(2024, 1, 1), None, None)  # evicted: computed again
    assert (small.hits, small.misses, len(small)) == (0, 4, 2)
    await queries.progress(doctor_id, date(2024, 1, 3), None, None)
    assert (small.hits, small.misses) == (1, 4)
