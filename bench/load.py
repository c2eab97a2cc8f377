"""Closed-loop load: N clients, each doing one operation after another for a fixed time."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

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


@dataclass
class _Tally:
    """One client's count of what finished inside the measured window."""

    measure_from: float
    ops: int = 0
    units: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, t0: float, units: int | None) -> None:
        """An operation begun at ``t0`` has just ended; ``units`` None: it failed (counted
        whenever it began)."""
        t1 = time.perf_counter()
        if units is None:
            self.errors += 1
        elif t0 >= self.measure_from:
            self.ops += 1
            self.units += units
            self.latencies_ms.append((t1 - t0) * 1000)


def _starts(deadline: float) -> Iterator[tuple[int, float]]:
    """(sequence number, start time) of each operation a client begins before ``deadline``."""
    for seq in itertools.count():
        t0 = time.perf_counter()
        if t0 >= deadline:
            return
        yield seq, t0


def _result(tallies: list[_Tally], measure_from: float) -> LoadResult:
    elapsed = time.perf_counter() - measure_from
    return LoadResult(
        sum(t.ops for t in tallies),
        sum(t.units for t in tallies),
        elapsed,
        [x for t in tallies for x in t.latencies_ms],
        sum(t.errors for t in tallies),
    )


async def closed_loop(
    clients: int,
    seconds: float,
    op: Callable[[int, int], Awaitable[int]],
    *,
    warmup: float = 0.5,
) -> LoadResult:
    """``op(client, seq)`` returns how many units (events) it stored. Operations finishing in
    the warm-up are not counted; the clock stops when the last in-flight operation ends."""
    measure_from = time.perf_counter() + warmup
    deadline = measure_from + seconds
    tallies = [_Tally(measure_from) for _ in range(clients)]

    async def attempt(i: int, seq: int) -> int | None:
        try:
            return await op(i, seq)
        except Exception:
            return None  # counted as an error

    async def client(i: int) -> None:
        for seq, t0 in _starts(deadline):
            tallies[i].record(t0, await attempt(i, seq))

    await asyncio.gather(*(client(i) for i in range(clients)))
    return _result(tallies, measure_from)


def threaded_closed_loop(
    clients: int,
    seconds: float,
    op: Callable[[int, int], int],
    *,
    warmup: float = 0.5,
) -> LoadResult:
    """The same with threads, for a synchronous library (a tally per thread: nothing shared)."""
    measure_from = time.perf_counter() + warmup
    deadline = measure_from + seconds
    tallies = [_Tally(measure_from) for _ in range(clients)]

    def attempt(i: int, seq: int) -> int | None:
        try:
            return op(i, seq)
        except Exception:
            return None  # counted as an error

    def client(i: int) -> None:
        for seq, t0 in _starts(deadline):
            tallies[i].record(t0, attempt(i, seq))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _result(tallies, measure_from)
