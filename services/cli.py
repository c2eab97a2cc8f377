"""The command line: ``kompetanse run`` (everything, embedded default), and each process
or operator task on its own (``api``, ``relay``, ``projector``, ``migrate``, ``rebuild``,
``lag``, ``token``)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from services.config import Settings, load_settings, to_environ, with_servers
from services.logging import configure_logging, get_logger

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = get_logger("cli")
T = TypeVar("T")

EMBEDDED_PG_PORT = 54329
EMBEDDED_NATS_PORT = 42229


def start_embedded(settings: Settings, *, pg_port: int, nats_port: int):  # type: ignore[no-untyped-def]
    """Start the embedded PostgreSQL and NATS for whichever URL is not given."""
    from services.embedded import EmbeddedNats, EmbeddedPostgres

    data_dir = settings.data_path
    pg = nats_server = None
    database_url, nats_url = settings.database_url, settings.nats_url
    if database_url is None:
        pg = EmbeddedPostgres(
            data_dir / "postgres",
            pg_port,
            max_connections=settings.database_connections_needed(),
        )
        database_url = pg.start()
    if nats_url is None:
        nats_server = EmbeddedNats(data_dir / "nats", nats_port)
        nats_url = nats_server.start()
    return with_servers(settings, database_url=database_url, nats_url=nats_url), pg, nats_server


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Everything on one machine: servers (unless given), migrations, seed data, then the
    API, relay and projector processes, each restarted if it dies (services/supervisor.py).
    Ctrl-C stops every process this started."""
    from services.store.database import upgrade
    from services.supervisor import Supervisor, python_child, server_children

    settings.data_path.mkdir(parents=True, exist_ok=True)
    settings, pg, nats_server = start_embedded(
        settings, pg_port=args.pg_port, nats_port=args.nats_port
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = {**os.environ, **to_environ(settings)}
    supervisor = Supervisor(
        [python_child(role, env) for role in ("api", "relay", "projector")]
        + server_children(pg, nats_server),
        status_file=settings.data_path / "run" / "processes.json",
        health_url=settings.base_url(),
    )
    try:
        assert settings.database_url is not None
        upgrade(settings.database_url)
        supervisor.start_all()
        if args.seed and importlib.util.find_spec("services.seed") is not None:
            subprocess.run([sys.executable, "-m", "services.cli", "seed"], env=env, check=False)
        _print_banner(settings)
        while not stopping:
            supervisor.poll()
            time.sleep(0.2)
    finally:
        supervisor.stop_all()
        print("kompetanse: stopped.", flush=True)
    return 0


def _print_banner(settings: Settings) -> None:
    base = settings.base_url()
    print(
        f"""
kompetanse is running.
  API            {base}/api/v1
  OpenAPI UI     {base}/schema/swagger   (document: {base}/schema/openapi.json)
  Health         {base}/healthz   {base}/readyz
  Metrics        {base}/metrics   (Authorization: Bearer <{settings.data_path}/metrics-token>)
  Data directory {settings.data_path}
  Demo doctor's progress page (development login):
                 {base}/dev/login?hpr=9100001
  Development token (in another terminal):
      .venv/bin/kompetanse token --role organisation --org 974589095
Press Ctrl-C to stop.
""",
        flush=True,
    )


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    from services.api_server import serve

    serve(settings)
    return 0


def cmd_relay(settings: Settings, args: argparse.Namespace) -> int:
    from services.processes import run_relay

    asyncio.run(run_relay(settings))
    return 0


def cmd_projector(settings: Settings, args: argparse.Namespace) -> int:
    from services.processes import run_projectors

    asyncio.run(run_projectors(settings, args.projection or None))
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from services.store.database import upgrade

    settings, _, _ = _servers_for_tool(settings, args)
    assert settings.database_url is not None
    upgrade(settings.database_url)
    print("schema is up to date")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from services.store import restore

    async def step(engine: AsyncEngine) -> None:
        if args.step == "prepare":
            await restore.prepare(engine)
        else:
            print(f"feed rebased: {await restore.finish(engine)} restored events")

    _with_engine(settings, step)
    return 0


def _with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` with an engine on the settings' database, disposed of however it ends."""
    from services.bootstrap import engine_for

    async def go() -> T:
        engine = engine_for(settings)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _servers_for_tool(settings: Settings, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if settings.database_url is None:
        # An operator command against the embedded default: use (or start) its server.
        settings, pg, nats_server = start_embedded(
            settings, pg_port=EMBEDDED_PG_PORT, nats_port=EMBEDDED_NATS_PORT
        )
        return settings, pg, nats_server
    return settings, None, None


def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from services.processes import all_projections
    from services.projector.rebuild import rebuild

    settings, _, _ = _servers_for_tool(settings, args)
    assert settings.database_url is not None

    def bar(replayed: int, total: int) -> None:
        width = 40
        done = min(width, int(width * replayed / total)) if total else width
        sys.stdout.write(f"\r  [{'#' * done}{'.' * (width - done)}] {replayed}/{total}")
        sys.stdout.flush()

    async def rebuild_chosen(engine: AsyncEngine) -> None:
        wanted = set(args.projection)
        chosen = [p for p in all_projections() if not wanted or p.name in wanted]
        unknown = wanted - {p.name for p in chosen}
        if unknown:
            raise SystemExit(f"unknown projection: {', '.join(sorted(unknown))}")
        # One pass over the store for all of them, swapped in together.
        print(f"rebuilding {', '.join(p.name for p in chosen)}")
        cursor = await rebuild(engine, *chosen, progress=bar)
        print(f"\n  swapped in at {cursor} (transaction:position)")

    _with_engine(settings, rebuild_chosen)
    return 0


def cmd_lag(settings: Settings, args: argparse.Namespace) -> int:
    from services import feed_status
    from services.store import eventstore

    settings, _, _ = _servers_for_tool(settings, args)

    async def show(engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            found = await feed_status.checkpoints(conn)
            head = await eventstore.head(conn)
        print(f"{'consumer':<32} {'at (transaction:position)':>28} {'lag':>8}  updated")
        print(f"{'event store head':<32} {head!s:>28}")
        for c in found:
            print(f"{c.name:<32} {c.cursor!s:>28} {c.lag:>8}  {c.updated_at:%H:%M:%S}")

    _with_engine(settings, show)
    return 0


def cmd_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    """List the open dead letters; ``--ack ID ...`` or ``--ack-all`` acknowledges them (then
    ``/readyz`` stops reporting them)."""
    from services.store import dead_letters

    settings, _, _ = _servers_for_tool(settings, args)

    async def acknowledge_or_list(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            if args.ack or args.ack_all:
                ids = None if args.ack_all else [int(i) for i in args.ack]
                done = await dead_letters.acknowledge(conn, ids, by=args.by)
                print(f"acknowledged {done} dead letter(s)")
                return
            letters = await dead_letters.listed(conn, include_acknowledged=args.all)
        for d in letters:
            state = f"acknowledged by {d.acknowledged_by}" if d.acknowledged_at else "open"
            print(
                f"{d.id:>6} {d.consumer:<28} position {d.position:<10} {d.type:<32} "
                f"{d.stream_type}/{d.stream_id} {d.dead_at:%Y-%m-%d %H:%M:%S} {state}\n"
                f"       {d.reason}"
            )
        print(f"{len(letters)} dead letter(s)")

    _with_engine(settings, acknowledge_or_list)
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from services.identity.dev_issuer import main as token_main

    return int(
        token_main(args.rest, data_dir=settings.data_path, audience=settings.token_audience) or 0
    )


def cmd_import_catalogue(settings: Settings, args: argparse.Namespace) -> int:
    """Publish a catalogue version from a file (JSON, or CSV with --version/--effective-from;
    formats in docs/rules.md)."""
    from datetime import date
    from pathlib import Path

    from domain import catalogue as catalogue_domain
    from domain.catalogue_import import CatalogueFormatError, parse_csv, parse_json
    from services.aggregates import CATALOGUE, catalogue_stream
    from services.application.streams import run_command
    from services.errors import CommandRejected

    settings, _, _ = _servers_for_tool(settings, args)
    path = Path(args.file)
    try:
        if path.suffix.lower() == ".csv":
            if not (args.version and args.effective_from):
                print("a CSV catalogue needs --version and --effective-from", file=sys.stderr)
                return 2
            changes = Path(args.changes).read_text(encoding="utf-8") if args.changes else None
            command = parse_csv(
                path.read_text(encoding="utf-8"),
                version=args.version,
                effective_from=date.fromisoformat(args.effective_from),
                changes_csv=changes,
            )
        else:
            command = parse_json(path.read_bytes())
    except (CatalogueFormatError, ValueError, OSError) as err:
        print(f"cannot read {path}: {err}", file=sys.stderr)
        return 2

    async def publish(engine: AsyncEngine) -> int:
        async with engine.begin() as conn:
            outcome = await run_command(
                conn,
                CATALOGUE,
                catalogue_stream(command.catalogue_id),
                expected_version=None,
                decide=lambda s, _v: catalogue_domain.decide(command, s),
                metadata={"actor": {"kind": "operator"}, "source": path.name},
            )
        return outcome.version

    try:
        version = _with_engine(settings, publish)
    except CommandRejected as rejected:
        print(f"refused: {rejected}", file=sys.stderr)
        return 1
    print(
        f"published {command.version}: {len(command.objectives)} objectives "
        f"(catalogue stream version {version})"
    )
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from services.seed import seed

    assert settings.database_url is not None
    asyncio.run(seed(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kompetanse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run everything (embedded servers unless URLs are set)")
    run.add_argument("--pg-port", type=int, default=EMBEDDED_PG_PORT)
    run.add_argument("--nats-port", type=int, default=EMBEDDED_NATS_PORT)
    run.add_argument("--no-seed", dest="seed", action="store_false")
    run.set_defaults(func=cmd_run)
    sub.add_parser("api", help="serve the HTTP API").set_defaults(func=cmd_api)
    sub.add_parser("relay", help="relay the event store to JetStream").set_defaults(func=cmd_relay)
    projector = sub.add_parser("projector", help="run the projectors")
    projector.add_argument("projection", nargs="*")
    projector.set_defaults(func=cmd_projector)
    sub.add_parser("migrate", help="upgrade the database schema").set_defaults(func=cmd_migrate)
    restore = sub.add_parser("restore", help="the steps around pg_restore (restore.sh)")
    restore.add_argument("step", choices=["prepare", "finish"])
    restore.set_defaults(func=cmd_restore)
    rebuild = sub.add_parser("rebuild", help="rebuild read models from the event store")
    rebuild.add_argument("projection", nargs="*")
    rebuild.set_defaults(func=cmd_rebuild)
    sub.add_parser("lag", help="show projection lag per consumer").set_defaults(func=cmd_lag)
    dead = sub.add_parser("dead-letters", help="list or acknowledge events consumers stepped over")
    dead.add_argument("--ack", nargs="+", metavar="ID", help="acknowledge these dead letters")
    dead.add_argument("--ack-all", action="store_true", help="acknowledge every open one")
    dead.add_argument("--all", action="store_true", help="list acknowledged ones too")
    dead.add_argument("--by", default=getpass.getuser(), help="who acknowledges")
    dead.set_defaults(func=cmd_dead_letters)
    importer = sub.add_parser("import-catalogue", help="publish a catalogue version from a file")
    importer.add_argument("file")
    importer.add_argument("--version")
    importer.add_argument("--effective-from")
    importer.add_argument("--changes", help="CSV of old_id,new_id,stricter")
    importer.set_defaults(func=cmd_import_catalogue)
    sub.add_parser("seed", help="load the sample catalogue and demo data").set_defaults(
        func=cmd_seed
    )
    token = sub.add_parser("token", help="mint a development token", add_help=False)
    token.add_argument("rest", nargs=argparse.REMAINDER)
    token.set_defaults(func=cmd_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["token"]:
        # The token command owns its options (--role, --org, ...).
        args = argparse.Namespace(func=cmd_token, rest=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
