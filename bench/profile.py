"""Profile a hot path with py-spy while the benchmark load runs:
``python -m bench.profile {http_append,progress,batch,rebuild,lag,store_append,write_cost}
[--seconds N]``.

Writes ``bench/profiles/<target>.txt`` (the functions with the most samples, inclusive and
self) and ``<target>.collapsed`` (collapsed stacks; open in speedscope or flamegraph.pl).
``lag`` profiles the relay and the projector process of the lag benchmark's run, as
``lag_relay`` and ``lag_projector``; their sample counts against the seconds recorded say
how busy each process was. ``store_append`` records this process while it appends through
``eventstore.append`` from 16 clients, as the append benchmark does: the client's CPU per
append. ``write_cost`` runs the write-cost benchmark with the writes at each history length
profiled apart (pyinstrument): ``write_cost_10`` against ``write_cost_1000``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench import data_figures, generator, progress_figures
from bench.core import ROOT, Options, log, servers

OUT = Path(__file__).resolve().parent / "profiles"
TARGETS = ("http_append", "progress", "batch", "rebuild", "lag", "store_append", "write_cost")


def summarise(collapsed: Path, top: int = 45) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_s)
        total += count
        frames = [f.split(" (")[0] + " " + f.split("/")[-1].rstrip(")") for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive %  function (file:line)"]
    lines += [f"{100 * c / total:6.1f}  {f}" for f, c in inclusive.most_common(top)]
    lines += ["", "self %  function"]
    lines += [f"{100 * c / total:6.1f}  {f}" for f, c in own.most_common(top)]
    return "\n".join(lines)


def find_process(args: set[bytes], in_environment: bytes) -> int | None:
    """The pid of the process with all of ``args`` on its command line and
    ``in_environment`` in its environment."""
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmdline = set((p / "cmdline").read_bytes().split(b"\0"))
            environment = (p / "environ").read_bytes()
        except OSError:
            continue
        if args <= cmdline and in_environment in environment:
            return int(p.name)
    return None


async def profile_lag(seconds: float) -> None:
    """The lag run, with the relay and the projector recorded while the load runs."""
    from bench import lag_cost_figures

    with servers() as s:
        run = asyncio.create_task(lag_cost_figures._lag_run(s, 0, seconds + 8))
        pids: dict[str, int] = {}
        while len(pids) < 2 and not run.done():
            await asyncio.sleep(0.2)
            for role in ("relay", "projector"):
                pid = find_process({b"services.cli", role.encode()}, b"BENCH_LAG_")
                if pid:
                    pids[role] = pid
        await asyncio.sleep(4)  # past the start-up, into the steady load
        await asyncio.gather(
            *(asyncio.to_thread(record, pid, seconds, f"lag_{role}") for role, pid in pids.items())
        )
        await run
    for role in ("relay", "projector"):
        print(f"== lag_{role}", (OUT / f"lag_{role}.txt").read_text()[:3000], sep="\n")


async def profile_store_append(seconds: float, clients: int = 16) -> None:
    from bench import store_figures

    with servers() as s:
        url = await s.fresh_database("bench_store")
        load = asyncio.create_task(store_figures.store_append(url, clients, seconds + 3))
        await asyncio.sleep(1)  # past the pool's start
        await asyncio.to_thread(record, os.getpid(), seconds, "store_append")
        r = await load
        log(f"store_append {clients}c: {r.units_per_s:.0f} events/s p99 {r.p99:.1f} ms")
    print((OUT / "store_append.txt").read_text()[:4000])


def record(pid: int, seconds: float, name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    collapsed = OUT / f"{name}.collapsed"
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    subprocess.run(
        [
            spy,
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(collapsed),
            "--nonblocking",
            "--subprocesses",  # the API's workers, started by the process found
        ],
        check=True,
        capture_output=True,
    )
    (OUT / f"{name}.txt").write_text(summarise(collapsed))
    return collapsed


async def main(target: str, seconds: float, size: str) -> None:
    from bench.api_process import api_process

    if target == "lag":
        await profile_lag(seconds)
        return
    if target == "store_append":
        await profile_store_append(seconds)
        return
    if target == "write_cost":
        from bench import write_cost_figures

        with servers() as s:
            OUT.mkdir(exist_ok=True)
            for f in await write_cost_figures.write_cost(s, Options(runs=1), profile_to=OUT):
                log(f"{f.name}: {f.value:.2f} {f.unit} ({f.note})")
        return
    with servers() as s:
        url, _info = await data_figures.load_dataset(s, Options(size=size, quick=size == "quick"))
        await data_figures.fill_read_models(url, size)
        if target == "rebuild":
            proc = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "bench.rebuild_worker", url, "--budget", str(seconds)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
            )
            await asyncio.sleep(2)
            await asyncio.to_thread(record, proc.pid, seconds - 4, target)
            proc.wait()
            return
        data_dir = s.workdir / "api-var"
        data_dir.mkdir()
        doctors = await data_figures.writers(url, 640)
        tokens = data_figures.mint_tokens(data_dir, {w[1] for w in doctors})
        with api_process(url, s.nats.url, data_dir) as base:
            import urllib.request

            # The API process is the child listening on the port: its command line says so.
            pid = find_process({b"services.cli", b"api"}, base.split(":")[-1].encode())
            assert pid, "API process not found"
            urllib.request.urlopen(f"{base}/healthz").read()  # noqa: ASYNC210
            rec = asyncio.create_task(asyncio.to_thread(record, pid, seconds, target))
            if target == "http_append":
                r = await data_figures.http_append(base, doctors, tokens, 16, seconds)
            elif target == "batch":
                r = await data_figures.http_batch(base, doctors, tokens, 4, seconds)
            else:
                ids = [w[0] for w in doctors]
                r, _ = await progress_figures.progress_reads(
                    base, url, ids, tokens["caseworker"], 32, seconds
                )
            log(f"{target}: {r.units_per_s:.0f}/s p50 {r.p50:.1f} ms p99 {r.p99:.1f} ms")
            await rec
    print((OUT / f"{target}.txt").read_text())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "target",
        choices=TARGETS,
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--size", default="quick", choices=tuple(generator.SIZES))
    a = parser.parse_args()
    asyncio.run(main(a.target, a.seconds, a.size))
