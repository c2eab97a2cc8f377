"""Real servers for the whole suite: one PostgreSQL and one NATS from the same wheels as
the embedded default, in a temporary directory isolated from ``make run``'s data.

Set ``KOMPETANSE_TEST_DATABASE_URL`` / ``KOMPETANSE_TEST_NATS_URL`` to use external ones.
Each test that asks for ``database_url`` gets a fresh, migrated database cloned from a
template, and each ``stream_name`` is unique, so tests do not see each other's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from services.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from services.store.database import upgrade

TEMPLATE_DB = "kompetanse_template"


@pytest.fixture(scope="session")
def servers_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: pytest prunes old runs' directories, which would pull the
    # data directory from under a server of a concurrent test run.
    path = Path(tempfile.mkdtemp(prefix="kompetanse-test-servers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url(servers_dir: Path) -> Iterator[str]:
    external = os.environ.get("KOMPETANSE_TEST_DATABASE_URL")
    if external:
        yield external
        return
    pg = EmbeddedPostgres(servers_dir / "postgres", free_port(), extra_conf={"fsync": "off"})
    url = pg.start()
    yield url
    pg.stop(mode="immediate")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def template_database(postgres_server_url: str) -> str:
    async def create() -> None:
        conn = await asyncpg.connect(postgres_server_url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
            await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        finally:
            await conn.close()

    asyncio.run(create())
    url = _with_database(postgres_server_url, TEMPLATE_DB)
    upgrade(url)
    return url


@pytest.fixture
async def database_url(postgres_server_url: str, template_database: str) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres_server_url)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
    finally:
        await conn.close()
    yield _with_database(postgres_server_url, name)
    conn = await asyncpg.connect(postgres_server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def nats_server_url(servers_dir: Path) -> Iterator[str]:
    external = os.environ.get("KOMPETANSE_TEST_NATS_URL")
    if external:
        yield external
        return
    server = EmbeddedNats(servers_dir / "nats", free_port())
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
async def stream_name(nats_server_url: str) -> AsyncIterator[str]:
    """A stream of the test's own, deleted afterwards: JetStream refuses two streams with
    overlapping subjects, and every stream here takes ``kompetanse.events.>``."""
    import nats
    from nats.js.errors import NotFoundError

    name = f"TEST_{uuid.uuid4().hex[:10].upper()}"
    yield name
    nc = await nats.connect(nats_server_url)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS server of the test's own, for tests that stop and restart it."""
    server = EmbeddedNats(tmp_path / "nats", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api_settings(database_url: str, nats_server_url: str, stream_name: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from services.config import Settings

    return Settings(
        database_url=database_url,
        nats_url=nats_server_url,
        stream_name=stream_name,
        data_dir=str(tmp_path / "var"),
        rate_limit_per_minute=100_000,
        public_base_url="http://testserver.local",  # the test client's address (DPoP htu)
    )


@pytest.fixture
def issuer(api_settings):  # type: ignore[no-untyped-def]
    """The development issuer the API under test trusts."""
    from services.identity.dev_issuer import DevIssuer

    return DevIssuer(api_settings.data_path, audience=api_settings.token_audience)


@pytest.fixture
async def api(api_settings):  # type: ignore[no-untyped-def]
    """The whole HTTP app in-process (lifespan included) against the real servers."""
    from litestar.testing import AsyncTestClient

    from services.api.app import create_app

    app = create_app(api_settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client
