"""Run in a subprocess by the rebuild figure, so its peak RSS is its own:
``python -m bench.rebuild_worker DATABASE_URL [--budget SECONDS] [projection ...]``.

Rebuilds all projections (or those named) with ``services.projector.rebuild.rebuild``: one
pass over the store into fresh tables of every projection, then the swap. A rebuild still
replaying after ``--budget`` seconds is stopped (its ``__rebuild`` tables are left behind;
the live ones are untouched) and its rate taken from the events it replayed. Prints one JSON
line: events/s over the whole store, where the time went, peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time


class OverBudget(Exception):
    pass


async def main(url: str, names: list[str], budget: float) -> dict[str, object]:
    from sqlalchemy import text

    from services.processes import all_projections
    from services.projector.rebuild import rebuild
    from services.store.database import create_engine

    engine = create_engine(url, pool_size=2)
    chosen = [p for p in all_projections() if not names or p.name in names]
    seconds: dict[str, float] = {}
    reached = [0]
    try:
        async with engine.connect() as conn:
            total = int(await conn.scalar(text("SELECT count(*) FROM events")))
        t0 = time.perf_counter()

        def progress(replayed: int, _total: int) -> None:
            reached[0] = replayed
            if time.perf_counter() - t0 > budget:
                raise OverBudget()

        complete = True
        try:
            await rebuild(engine, *chosen, progress=progress, seconds=seconds)
            reached[0] = total
        except OverBudget:
            complete = False
        elapsed = time.perf_counter() - t0
    finally:
        await engine.dispose()
    events = reached[0]
    return {
        "projections": [p.name for p in chosen],
        "events": events,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "complete": complete,
        "seconds_in": {k: round(v, 2) for k, v in seconds.items()},
        "events_in_store": total,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


if __name__ == "__main__":
    from services.logging import configure_logging

    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("projection", nargs="*")
    parser.add_argument("--budget", type=float, default=120.0)
    args = parser.parse_args()
    configure_logging("warning", True)
    result = asyncio.run(main(args.url, args.projection, args.budget))
    print(json.dumps(result), flush=True)
