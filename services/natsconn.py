"""Connecting to NATS: the server list from one setting, and the connection the relay and
the projectors keep open.

``NATS_URL`` may name several servers of a cluster, comma-separated
(``nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222``). nats-py takes a list for
that (a comma-separated string is parsed as one malformed URL), so every place that
connects passes ``servers_from_url(settings.nats_url)``. The client also learns the
cluster's other nodes from the server it reaches, but the initial connection can only use
the servers it is given: listing all of them lets a process start while one node is down.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats
from nats.aio.client import Client as NatsClient


def servers_from_url(url: str) -> list[str]:
    """``"nats://a:4222, b:4222"`` → ``["nats://a:4222", "nats://b:4222"]`` (a bare
    ``host:port`` gets ``nats://``; empty items are dropped)."""
    servers = []
    for item in url.split(","):
        item = item.strip()
        if not item:
            continue
        if "://" not in item:
            item = f"nats://{item}"
        servers.append(item)
    if not servers:
        raise ValueError("NATS_URL names no server")
    return servers


async def connect_feed_client(url: str, name: str) -> NatsClient:
    """A connection for a process that lives on the feed: it reconnects for ever, quickly,
    and notices a silent server within about ten seconds (two missed pings five seconds
    apart), so a frozen node is left for another one."""
    return await nats.connect(
        servers_from_url(url),
        name=name,
        connect_timeout=2,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.25,
        ping_interval=5,
        max_outstanding_pings=2,
    )


async def close_quietly(nc: NatsClient | None) -> None:
    """Close ``nc`` if it is open, giving up after two seconds and ignoring any error: a
    frozen server must not hold a process up on its way out."""
    if nc is not None and not nc.is_closed:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), 2.0)
