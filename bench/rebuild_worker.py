"""Run in a subprocess by the rebuild figure, so its peak RSS is its own:
``python -m bench.rebuild_worker DATABASE_URL [--budget SECONDS] [projection ...]``.

Rebuilds each projection with ``services.projector.runtime.rebuild`` (fresh tables, replay,
swap). A projection still replaying after ``--budget`` seconds is stopped (its ``__rebuild``
tables are left behind; the live ones are untouched) and its rate taken from the events it
replayed. Prints one JSON line.
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
    from services.projector.runtime import rebuild
    from services.store.database import create_engine

    engine = create_engine(url, pool_size=2)
    projections: dict[str, dict[str, object]] = {}
    try:
        async with engine.connect() as conn:
            total = int(await conn.scalar(text("SELECT count(*) FROM events")))
        for projection in all_projections():
            if names and projection.name not in names:
                continue
            t0 = time.perf_counter()
            reached = [0]

            def progress(
                replayed: int, _total: int, t0: float = t0, reached: list[int] = reached
            ) -> None:
                reached[0] = replayed
                if time.perf_counter() - t0 > budget:
                    raise OverBudget()

            complete = True
            try:
                await rebuild(engine, projection, progress=progress)
                reached[0] = total
            except OverBudget:
                complete = False
            seconds = time.perf_counter() - t0
            events = reached[0]
            projections[projection.name] = {
                "seconds": seconds,
                "events": events,
                "events_per_s": events / seconds,
                "complete": complete,
            }
    finally:
        await engine.dispose()
    return {
        "projections": projections,
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
