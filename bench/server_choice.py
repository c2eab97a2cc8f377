"""Which server runs the API's workers: uvicorn or Granian, measured on the same machine,
data set and worker count (docs/architecture.md, "Several API processes", records the
figures and the choice).

    python -m bench.server_choice [--seconds 10] [--rounds 2] [--workers N] [--size quick]

Each round starts the API under each server in turn (alternating, so a drift in the
machine's load touches both alike) and measures single appends at 64 clients and progress
reads at 32; the load average is printed beside each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from bench import data_figures, progress_figures
from bench.api_process import api_process
from bench.core import Options, log, servers
from services.config import cpu_count

SERVERS = ("uvicorn", "granian")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def one_round(s: Any, url: str, server: str, workers: int, seconds: float) -> list[str]:
    data_dir = s.workdir / f"api-{server}"
    data_dir.mkdir(exist_ok=True)
    doctors = await data_figures.writers(url, 640)
    tokens = data_figures.mint_tokens(data_dir, {w[1] for w in doctors})
    ids = [w[0] for w in doctors]
    with api_process(url, s.nats.url, data_dir, workers=workers, server=server) as base:
        await data_figures.http_append(base, doctors, tokens, 64, 2.0)  # warm up
        before = load_average()
        append = await data_figures.http_append(base, doctors, tokens, 64, seconds)
        reads, _sql = await progress_figures.progress_reads(
            base, url, ids, tokens["caseworker"], 32, seconds
        )
        after = load_average()
    return [
        f"{server:<8} append 64c {append.units_per_s:7.0f} ev/s p50 {append.p50:6.1f} "
        f"p99 {append.p99:6.1f} ms err {append.errors}",
        f"{'':<8} progress 32c {reads.ops_per_s:5.0f}/s p50 {reads.p50:6.1f} "
        f"p99 {reads.p99:6.1f} ms err {reads.errors}   load {before} -> {after}",
    ]


async def main(seconds: float, rounds: int, workers: int, size: str) -> None:
    lines = [f"workers {workers}, {os.cpu_count()} cores, {seconds:.0f} s per figure"]
    with servers() as s:
        url, _info = await data_figures.load_dataset(s, Options(size=size, quick=size == "quick"))
        await data_figures.fill_read_models(url, size)
        for round_no in range(rounds):
            order = SERVERS if round_no % 2 == 0 else SERVERS[::-1]
            for server in order:
                log(f"round {round_no + 1}: {server}")
                result = await one_round(s, url, server, workers, seconds)
                lines += result
                for line in result:
                    log(line)
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=cpu_count())
    parser.add_argument("--size", default="quick")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds, args.workers, args.size))
