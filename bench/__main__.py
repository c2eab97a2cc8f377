"""``python -m bench [--quick] [--size small|national] [--only GROUP ...]``.

Starts its own PostgreSQL and NATS (temporary directory), runs every figure several times,
and writes ``bench/RESULTS.md`` and ``bench/results.json`` (``--out DIR`` elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench.core import Figure, Options, log, machine, servers, versions
from bench.explanations import EXPLANATIONS

GROUPS = ("append", "lag", "write_cost", "data", "rebuild", "http", "progress")


async def run_all(opts: Options, out_dir: Path, argv: list[str]) -> int:
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "quick": opts.quick,
        "argv": argv,
        "machine": machine(),
        "runs": opts.runs,
        "seconds_per_run": opts.duration,
    }
    figures, failures = await _measure(opts, meta)
    meta["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["total_seconds"] = time.perf_counter() - started
    meta["finished_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    meta["failed_sections"] = failures
    md, js = report.write(
        figures, meta=meta, out_dir=out_dir, explanations=None if opts.quick else EXPLANATIONS
    )
    log(f"wrote {md} and {js}")
    for f in figures:
        print(_summary_line(f))
    if failures:
        log(f"sections that failed: {', '.join(failures)}")
        return 1
    return 0


async def _measure(opts: Options, meta: dict[str, Any]) -> tuple[list[Figure], list[str]]:
    """Every group asked for, each a section of its own: one that fails is named in
    ``failures`` and the others still run."""
    from bench import data_figures, lag_cost_figures, store_figures, write_cost_figures

    figures: list[Figure] = []
    failures: list[str] = []

    async def section(name: str, coro: Any) -> None:
        log(f"== {name}")
        try:
            figures.extend(await coro)
        except Exception:
            failures.append(name)
            log(f"{name} FAILED:\n{traceback.format_exc()}")

    with servers() as s:
        meta["versions"] = await versions(s)
        if opts.wants("append"):
            await section("append", store_figures.run(s, opts))
        if opts.wants("lag"):
            await section("lag", lag_cost_figures.lag(s, opts))
        if opts.wants("write_cost"):
            await section("write_cost", write_cost_figures.write_cost(s, opts))
        if not any(opts.wants(g) for g in ("data", "rebuild", "http", "progress")):
            return figures, failures
        url, info = await data_figures.load_dataset(s, opts)
        meta["dataset"] = info
        figures.append(
            Figure(
                "dataset_events",
                "events",
                [info["events"]],
                group="data",
                note=f"{info['doctors']} doctors generated through the domain's commands",
            )
        )
        fill = await data_figures.fill_read_models(url, opts.size)
        log(f"read models filled in {fill:.0f} s")
        await section("data", data_figures.bytes_per_event(url, opts))
        if opts.wants("http") or opts.wants("progress"):
            await section("http", data_figures.http_figures(s, url, opts, info))
        if opts.wants("rebuild"):
            await section(
                "rebuild", asyncio.to_thread(data_figures.rebuild, url, opts, info["events"])
            )
    return figures, failures


def _summary_line(f: Figure) -> str:
    goal = (
        f"  goal {f.goal}: {'met' if f.met else 'MISSED' if f.met is False else '-'}"
        if f.goal
        else ""
    )
    ratio = f"  ({f.ratio:.2f} x {f.against})" if f.ratio is not None else ""
    return f"  {f.name:<40} {f.value:>12.2f} {f.unit:<10} ±{f.spread:.2f}{ratio}{goal}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny runs, no goals")
    parser.add_argument("--size", choices=("small", "national"), default="national")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per timed run")
    parser.add_argument("--only", nargs="*", choices=GROUPS, default=[])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    opts = Options(
        quick=args.quick,
        size=args.size,
        runs=args.runs or (1 if args.quick else 3),
        duration=args.seconds or (1.0 if args.quick else 5.0),
        only=set(args.only),
    )
    if args.only and ("http" in args.only) != ("progress" in args.only):
        opts.only |= {"http", "progress"}  # measured together on the loaded API
    return asyncio.run(run_all(opts, args.out, argv))


if __name__ == "__main__":
    sys.exit(main())
