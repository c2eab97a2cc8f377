"""Reset the NATS feed after a restore: delete the event stream and with it the projectors'
durable consumers, and clear the relay checkpoint, so the relay republishes the restored
events and nothing published before the restore (events the backup does not have) can
reach a read model.

    DATABASE_URL=... NATS_URL=... KOMPETANSE_STREAM=KOMPETANSE_EVENTS \
        .venv/bin/python deploy/backup/reset_feed.py

Run it with the relay and projectors stopped, after restore.sh (which rebuilt the read
models, so the projectors' checkpoints are at the restored head and they skip the
republished events). Used by tests/cluster/test_backup_restore.py and RUNBOOK.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import nats
from nats.js.errors import NotFoundError
from sqlalchemy import text

from services.config import load_settings
from services.natsconn import servers_from_url
from services.store.database import create_engine


async def reset(database_url: str, nats_url: str, stream: str) -> None:
    nc = await nats.connect(servers=servers_from_url(nats_url), connect_timeout=5)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM relay_checkpoints"))
    finally:
        await engine.dispose()
    print(f"stream {stream} deleted, relay checkpoint cleared: the relay republishes")


def main() -> int:
    settings = load_settings()
    if not (settings.database_url and settings.nats_url):
        print("set DATABASE_URL and NATS_URL", file=sys.stderr)
        return 2
    asyncio.run(reset(settings.database_url, settings.nats_url, settings.stream_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
