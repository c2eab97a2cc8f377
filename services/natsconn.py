"""The NATS server list from one setting.

``NATS_URL`` may name several servers of a cluster, comma-separated
(``nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222``). nats-py takes a list for
that (a comma-separated string is parsed as one malformed URL), so every place that
connects passes ``servers_from_url(settings.nats_url)``. The client also learns the
cluster's other nodes from the server it reaches, but the initial connection can only use
the servers it is given: listing all of them lets a process start while one node is down.
"""

from __future__ import annotations


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
