"""Entry points of the long-running processes (API, relay, projectors).

Each process builds its own adapters here, from settings: this is the one place where
engine, NATS and projections are wired together (the "bootstrap").
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

from services.bootstrap import engine_for
from services.config import Settings
from services.logging import get_logger
from services.watchdog import Watchdog

log = get_logger("processes")


def all_projections() -> list:  # type: ignore[type-arg]
    from services.projector.read_models import training_projections
    from services.projector.stream_summary import StreamSummary

    return [StreamSummary(), *training_projections()]


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def _watchdog(settings: Settings, process: str) -> Watchdog:
    assert settings.nats_url
    return Watchdog(
        process,
        stall_seconds=settings.stall_seconds,
        nats_url=settings.nats_url,
        database_url=settings.database_url,
    )


async def run_relay(settings: Settings) -> None:
    from services.relay.relay import Relay

    assert settings.database_url and settings.nats_url
    stop = asyncio.Event()
    _stop_on_signals(stop)
    engine = engine_for(settings, pool_size=3)
    watchdog = _watchdog(settings, "relay")
    relay = Relay(
        engine,
        settings.nats_url,
        stream_name=settings.stream_name,
        replicas=settings.stream_replicas,
        batch_size=settings.relay_batch_size,
        idle_poll_seconds=settings.relay_idle_poll_seconds,
        liveness=watchdog.track("relay"),
    )
    try:
        await _until_first_done(relay.run(stop), watchdog.run(stop), stop=stop)
    finally:
        await engine.dispose()


async def _until_first_done(*work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_projectors(settings: Settings, names: list[str] | None = None) -> None:
    from services.projector.runtime import Projector

    assert settings.database_url and settings.nats_url
    stop = asyncio.Event()
    _stop_on_signals(stop)
    engine = engine_for(settings, pool_size=4)
    watchdog = _watchdog(settings, "projector")
    projectors = [
        Projector(
            engine,
            settings.nats_url,
            projection,
            stream_name=settings.stream_name,
            batch_size=settings.projector_batch_size,
            replicas=settings.stream_replicas,
            liveness=watchdog.track(projection.name),
        )
        for projection in all_projections()
        if names is None or projection.name in names
    ]
    from services.projector.integration import publish_outbox

    try:
        await asyncio.gather(
            *(p.run(stop) for p in projectors),
            publish_outbox(engine, settings.nats_url, stop, replicas=settings.stream_replicas),
            watchdog.run(stop),
        )
    finally:
        await engine.dispose()
