"""Profile the API with pyinstrument while the nightly sync runs:
``python -m bench.profile_sync [--facts N] [--size quick|small]``.

Writes ``bench/profiles/nightly_sync.txt`` (pyinstrument's call tree of the API process,
one worker, from start to its clean stop). Run as a module by ``api_process`` it is the API itself:
``python -m bench.profile_sync api`` serves under the profiler.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from bench import data_figures, generator, sync_figures
from bench.core import Options, log, servers

OUT = Path(__file__).resolve().parent / "profiles"


def serve_profiled() -> int:
    from pyinstrument import Profiler

    from services.cli import main as cli_main

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    # uvicorn raises the signal again once it has shut down: end with SystemExit, so the
    # profile below is written.
    signal.signal(signal.SIGTERM, stop)
    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        return cli_main(["api"])
    finally:
        session = profiler.stop()
        session.save(os.environ["PROFILE_OUT"] + ".session")  # fast: rendered by the caller


async def main(facts: int, size: str) -> None:
    from bench.api_process import api_process

    OUT.mkdir(exist_ok=True)
    out = OUT / "nightly_sync.txt"
    os.environ["PROFILE_OUT"] = str(out)
    os.environ["BENCH_SYNC_FACTS"] = str(facts)
    with servers() as s:
        opts = Options(size=size, quick=size == "quick")
        url, _info = await data_figures.load_dataset(s, opts)
        await data_figures.fill_read_models(url, size)
        data_dir = s.workdir / "api-var"
        data_dir.mkdir()
        doctors = await data_figures.writers(url, 640)
        org = max({w[1] for w in doctors}, key=lambda o: sum(w[1] == o for w in doctors))
        tokens = data_figures.mint_tokens(data_dir, {org})
        # One worker: pyinstrument sees the process it runs in, and with several workers
        # that is only uvicorn's supervisor.
        with api_process(url, s.nats.url, data_dir, module="bench.profile_sync", workers=1) as base:
            figures = await sync_figures.nightly_sync(base, url, org, tokens[org], opts, 1)
        for f in figures:
            log(f"{f.name}: {f.value:.1f} {f.unit} ({f.note})")
    print(render(out)[:20000])


def render(out: Path) -> str:
    """The saved session as pyinstrument's call tree, in ``out``."""
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    saved = Path(str(out) + ".session")
    renderer = ConsoleRenderer(unicode=True, color=False, show_all=False, short_mode=True)
    out.write_text(renderer.render(Session.load(str(saved))))
    saved.unlink()
    return out.read_text()


if __name__ == "__main__":
    if sys.argv[1:] == ["api"]:
        sys.exit(serve_profiled())
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=2000)
    parser.add_argument("--size", default="quick", choices=tuple(generator.SIZES))
    a = parser.parse_args()
    asyncio.run(main(a.facts, a.size))
