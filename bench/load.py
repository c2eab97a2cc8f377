"""Closed-loop load: N clients, each doing one operation after another for a fixed time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.core import percentile


@dataclass
class LoadResult:
    ops: int
    units: int  # events (an op may carry several)
    seconds: float
    latencies_ms: list[float]
    errors: int = 0

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    @property
    def units_per_s(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


async def closed_loop(
    clients: int,
    seconds: float,
    op: Callable[[int, int], Awaitable[int]],
    *,
    warmup: float = 0.5,
) -> LoadResult:
    """``op(client, seq)`` returns how many units (events) it stored. Operations finishing in
    the warm-up are not counted; the clock stops when the last in-flight operation ends."""
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds
    latencies: list[float] = []
    counts = [0, 0, 0]  # ops, units, errors

    async def client(i: int) -> None:
        seq = 0
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline:
                return
            try:
                units = await op(i, seq)
            except Exception:
                counts[2] += 1
                units = -1
            t1 = time.perf_counter()
            seq += 1
            if t0 >= measure_from and units >= 0:
                counts[0] += 1
                counts[1] += units
                latencies.append((t1 - t0) * 1000)

    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - measure_from
    return LoadResult(counts[0], counts[1], elapsed, latencies, counts[2])


def threaded_closed_loop(
    clients: int,
    seconds: float,
    op: Callable[[int, int], int],
    *,
    warmup: float = 0.5,
) -> LoadResult:
    """The same with threads, for a synchronous library."""
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    counts = [[0, 0, 0] for _ in range(clients)]

    def client(i: int) -> None:
        seq = 0
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline:
                return
            try:
                units = op(i, seq)
            except Exception:
                counts[i][2] += 1
                units = -1
            t1 = time.perf_counter()
            seq += 1
            if t0 >= measure_from and units >= 0:
                counts[i][0] += 1
                counts[i][1] += units
                latencies[i].append((t1 - t0) * 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - measure_from
    return LoadResult(
        sum(c[0] for c in counts),
        sum(c[1] for c in counts),
        elapsed,
        [x for lat in latencies for x in lat],
        sum(c[2] for c in counts),
    )
