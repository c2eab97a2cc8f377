"""Where one progress read's time goes, in process, one reader (no HTTP, no contention):
``python -m bench.progress_steps [--size quick|small] [--profile]``.

Times each step of ``Queries.progress`` plus the JSON body for every doctor of the data set,
cold (first read of each doctor) and warm (the same doctors again), and with ``--profile``
writes a pyinstrument report of cold reads (dates not asked before) to
``bench/profiles/progress_steps.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec

from bench import data_figures, generator
from bench.core import Options, log, percentile, servers
from bench.world import TODAY

OUT = Path(__file__).resolve().parent / "profiles"


async def read_all(services: Any, doctor_ids: list[str], on: date) -> list[float]:
    timings = []
    for doctor_id in doctor_ids:
        t0 = time.perf_counter()
        view = await services.queries.progress(doctor_id, on, None, None)
        msgspec.json.encode(msgspec.to_builtins(view.progress))
        await services.queries.applications_of(doctor_id)
        timings.append((time.perf_counter() - t0) * 1000)
    return timings


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name}: n={len(values)} p50 {percentile(values, 50):.2f} ms "
        f"p99 {percentile(values, 99):.2f} ms mean {sum(values) / len(values):.2f} ms"
    )


async def main(size: str, profile: bool) -> None:
    from services.bootstrap import bootstrap
    from services.config import Settings

    with servers() as s:
        url, _ = await data_figures.load_dataset(s, Options(size=size, quick=size == "quick"))
        await data_figures.fill_read_models(url, size)
        services = bootstrap(Settings(database_url=url), pool_size=4)
        try:
            from sqlalchemy import text

            async with services.engine.connect() as conn:
                ids = list((await conn.scalars(text("SELECT stream_id FROM doctor_states"))).all())
            on = TODAY
            log(summary("cold", await read_all(services, ids, on)))
            log(summary("warm", await read_all(services, ids, on)))
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005, async_mode="enabled")
                profiler.start()
                timings = []
                for back in range(1, 4):  # cold: dates not asked before
                    timings += await read_all(services, ids, on - timedelta(days=back))
                profiler.stop()
                log(summary("profiled", timings))
                OUT.mkdir(exist_ok=True)
                (OUT / "progress_steps.txt").write_text(
                    profiler.output_text(unicode=False, color=False, show_all=False)
                )
                print((OUT / "progress_steps.txt").read_text())
        finally:
            await services.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="quick", choices=tuple(generator.SIZES))
    parser.add_argument("--profile", action="store_true")
    a = parser.parse_args()
    asyncio.run(main(a.size, a.profile))
