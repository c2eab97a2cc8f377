"""deploy/backup/: a backup of the event store restored into a fresh database, then
``kompetanse rebuild``, gives the same read models (runs in ``make test``)."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from services.embedded import postgres_bin_dir
from services.processes import all_projections
from services.projector.rebuild import rebuild
from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import Cursor
from tests.cluster.harness import DEPLOY, REPO
from tests.integration.helpers import org_numbers, organisation_registered


async def snapshot(engine, tables: list[str]) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out = {}
    async with engine.connect() as conn:
        for table in tables:
            rows = await conn.execute(text(f"SELECT row_to_json(t)::text FROM {table} t"))
            out[table] = sorted(r[0] for r in rows)
        out["events"] = [
            r[0]
            for r in await conn.execute(
                text("SELECT event_id::text || position FROM events ORDER BY position")
            )
        ]
    return out


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, check=False)
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    assert result.returncode == 0, output
    return output


@pytest.mark.timeout(180)
async def test_backup_restore_then_rebuild_gives_the_same_read_models(
    database_url: str,
    postgres_server_url: str,
    nats_server_url: str,
    stream_name: str,
    tmp_path: Path,
) -> None:
    source = create_engine(database_url)
    for org in itertools.islice(org_numbers(), 60):
        async with source.begin() as conn:
            await eventstore.append(
                conn,
                stream_type="organisation",
                stream_id=f"org-{org}",
                expected_version=0,
                events=[organisation_registered(org)],
            )
    projections = all_projections()
    await rebuild(source, *projections)
    tables = [t for p in projections for t in p.tables]
    before = await snapshot(source, tables)

    target_name = f"restore_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(postgres_server_url)
    try:
        await conn.execute(f"CREATE DATABASE {target_name}")
    finally:
        await conn.close()
    target_url = postgres_server_url.rsplit("/", 1)[0] + "/" + target_name
    backup_file = tmp_path / "events.dump"
    env = {
        **os.environ,
        "PGBIN": str(postgres_bin_dir()),
        "KOMPETANSE": f"{sys.executable} -m services.cli",
        "LOG_LEVEL": "warning",
    }
    await asyncio.to_thread(
        run, ["sh", str(DEPLOY / "backup" / "backup.sh"), database_url, str(backup_file)], env
    )
    await asyncio.to_thread(
        run, ["sh", str(DEPLOY / "backup" / "restore.sh"), target_url, str(backup_file)], env
    )
    target = create_engine(target_url)
    try:
        after = await snapshot(target, tables)
        assert after == before
        # The position sequence came along: new events continue after the restored ones.
        async with target.begin() as conn:
            recorded = await eventstore.append(
                conn,
                stream_type="organisation",
                stream_id="org-after-restore",
                expected_version=0,
                events=[organisation_registered("974589095")],
            )
        assert recorded[0].position > len(before["events"])
        # The feed was rebased (restore finish): the new event comes after every restored
        # one, where the rebuilt read models' checkpoints will find it, whatever the ids of
        # the cluster the backup came from.
        async with target.connect() as conn:
            restored_ids = set(
                await conn.scalars(text("SELECT DISTINCT transaction_id FROM events"))
            ) - {recorded[0].transaction_id}
            at = await conn.execute(
                text(
                    "SELECT transaction_id, position FROM projection_checkpoints "
                    "WHERE projection = 'stream_summary'"
                )
            )
            checkpoint = Cursor(*at.one())
            after_checkpoint = await eventstore.read_feed(conn, after=checkpoint, limit=10)
        assert restored_ids == {0}
        assert [e.event_id for e in after_checkpoint] == [recorded[0].event_id]
        # RUNBOOK "Restore from backup", step 3: reset the feed.
        await asyncio.to_thread(
            run,
            [sys.executable, str(DEPLOY / "backup" / "reset_feed.py")],
            {
                **env,
                "DATABASE_URL": target_url,
                "NATS_URL": nats_server_url,
                "KOMPETANSE_STREAM": stream_name,
            },
        )
    finally:
        await target.dispose()
        await source.dispose()
        conn = await asyncpg.connect(postgres_server_url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {target_name} WITH (FORCE)")
        finally:
            await conn.close()
