"""Profile a hot path with py-spy while the benchmark load runs:
``python -m bench.profile {http_append,progress,batch,rebuild} [--seconds N]``.

Writes ``bench/profiles/<target>.txt`` (the functions with the most samples, inclusive and
self) and ``<target>.collapsed`` (collapsed stacks; open in speedscope or flamegraph.pl).
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
        with api_process(url, s.nats_url, data_dir) as base:
            import urllib.request

            pid = None
            # The API process is the child listening on the port: find it by its command line.
            for p in Path("/proc").iterdir():  # noqa: ASYNC240
                if p.name.isdigit():
                    try:
                        cmd = (p / "cmdline").read_bytes().split(b"\0")
                        env = (p / "environ").read_bytes()
                    except OSError:
                        continue
                    if (
                        b"services.cli" in cmd
                        and b"api" in cmd
                        and base.split(":")[-1].encode() in env
                    ):
                        pid = int(p.name)
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
    parser.add_argument("target", choices=("http_append", "progress", "batch", "rebuild"))
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--size", default="quick", choices=tuple(generator.SIZES))
    a = parser.parse_args()
    asyncio.run(main(a.target, a.seconds, a.size))
