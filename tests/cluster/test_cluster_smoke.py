"""The cluster set-up in a few seconds (runs in ``make test``): three nats-server processes
from deploy/nats/nats-cluster.conf form a cluster, the event stream is created with three
replicas, and one event appended to the store is relayed and projected by the service's
own processes connected to the cluster. The full fault test is tests/cluster/test_cluster.py
(``make cluster-test``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy import text

from services import feed
from services.store import eventstore
from services.store.database import create_engine
from tests.cluster.harness import NatsCluster, Service, service_env
from tests.integration.helpers import new_event


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    cluster = NatsCluster(tmp_path / "nats")
    try:
        cluster.start()
        cluster.wait_healthy()
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.timeout(300)
async def test_three_node_cluster_relays_and_projects(
    nats_cluster: NatsCluster, database_url: str, tmp_path: Path
) -> None:
    stream = f"SMOKE_{uuid.uuid4().hex[:8].upper()}"
    nc = await nats.connect(servers=nats_cluster.urls, connect_timeout=5)
    js = nc.jetstream()
    # The stream as the runbook creates it before the services start (relay does the same).
    deadline = time.monotonic() + 120
    while True:
        try:
            await feed.ensure_stream(js, stream, 3)
            break
        except Exception:
            # JetStream's meta leader is elected a moment after the nodes are healthy.
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
    info = await js.stream_info(stream)
    assert info.config.num_replicas == 3
    assert info.cluster is not None and info.cluster.leader is not None
    assert len(info.cluster.replicas or []) == 2

    engine = create_engine(database_url)
    event = new_event(n=1)
    async with engine.begin() as conn:
        await eventstore.append(
            conn, stream_type="doctor", stream_id="smoke-1", expected_version=0, events=[event]
        )

    env = service_env(
        database_url=database_url,
        nats_url=nats_cluster.service_url(),
        stream=stream,
        data_dir=tmp_path / "var",
    )
    relay = Service("relay", 1, env, tmp_path / "relay.log")
    projector = Service("projector", 1, env, tmp_path / "projector.log", args=["stream_summary"])
    relay.start()
    try:
        # Relay first, projector second: whatever the projector does to the stream's
        # configuration when it starts is what the stream keeps (checked at the end).
        deadline = time.monotonic() + 60
        while (await js.stream_info(stream)).state.messages < 1:
            assert relay.alive(), f"relay exited:\n{relay.log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "not relayed within 60 s"
            await asyncio.sleep(0.2)
        projector.start()
        deadline = time.monotonic() + 60
        count = None
        while count is None:
            async with engine.connect() as conn:
                if await conn.scalar(text("SELECT to_regclass('stream_summaries')")):
                    count = await conn.scalar(
                        text("SELECT event_count FROM stream_summaries WHERE stream_id = 'smoke-1'")
                    )
            if count is None:
                assert relay.alive() and projector.alive(), "a service process exited"
                assert time.monotonic() < deadline, (
                    f"not projected within 60 s; relay log:\n{relay.log_path.read_text()[-3000:]}"
                    f"\nprojector log:\n{projector.log_path.read_text()[-3000:]}"
                )
                await asyncio.sleep(0.2)
        assert count == 1
        info = await js.stream_info(stream)
        assert info.state.messages == 1
        # The projector must leave the stream as the relay made it: replicated x3.
        assert info.config.num_replicas == 3, (
            "the stream lost its replicas after a projector started (feed.ensure_stream "
            "called without the replica count updates the stream to R1; see deploy/RUNBOOK.md)"
        )
    finally:
        relay.stop()
        projector.stop()
        await js.delete_stream(stream)
        await nc.close()
        await engine.dispose()
