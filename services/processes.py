"""Entry points of the long-running processes (API, relay, projectors).

Each process builds its own adapters here, from settings: this is the one place where
engine, NATS and projections are wired together (the "bootstrap").
"""

from __future__ import annotations

import asyncio
import signal

from services.config import Settings
from services.logging import get_logger
from services.store.database import create_engine

log = get_logger("processes")


def all_projections() -> list:  # type: ignore[type-arg]
    from services.projector.read_models import training_projections
    from services.projector.stream_summary import StreamSummary

    return [StreamSummary(), *training_projections()]


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_relay(settings: Settings) -> None:
    from services.relay.relay import Relay

    assert settings.database_url and settings.nats_url
    stop = asyncio.Event()
    _stop_on_signals(stop)
    engine = create_engine(settings.database_url, pool_size=3)
    relay = Relay(
        engine,
        settings.nats_url,
        stream_name=settings.stream_name,
        replicas=settings.stream_replicas,
        batch_size=settings.relay_batch_size,
        idle_poll_seconds=settings.relay_idle_poll_seconds,
    )
    try:
        await relay.run(stop)
    finally:
        await engine.dispose()


async def run_projectors(settings: Settings, names: list[str] | None = None) -> None:
    from services.projector.runtime import Projector

    assert settings.database_url and settings.nats_url
    stop = asyncio.Event()
    _stop_on_signals(stop)
    engine = create_engine(settings.database_url, pool_size=4)
    projectors = [
        Projector(
            engine,
            settings.nats_url,
            projection,
            stream_name=settings.stream_name,
            batch_size=settings.projector_batch_size,
            replicas=settings.stream_replicas,
        )
        for projection in all_projections()
        if names is None or projection.name in names
    ]
    from services.projector.integration import publish_outbox

    try:
        await asyncio.gather(
            *(p.run(stop) for p in projectors),
            publish_outbox(engine, settings.nats_url, stop, replicas=settings.stream_replicas),
        )
    finally:
        await engine.dispose()
