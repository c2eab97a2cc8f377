"""Prose for RESULTS.md: why the figures are what they are (from the profiles in
``bench/profiles/``). Regenerate the page after editing
with ``python -m bench.report``."""

EXPLANATIONS: dict[str, str] = {
    "summary": (
        "Measured on HEAD after the profile's first fixes landed (no pool pre-ping; version "
        "check, global lock and INSERT in one statement; snapshot before the append; one "
        "access query; progress reusing the cached catalogue; projector and rebuild folding "
        "a batch per stream). **Met:** rebuild peak RSS. Projection lag p99 is under 250 ms "
        "(≈ 210 ms, from ≈ 7.8 s before), but at the ~320 events/s the appenders sustained, "
        "not the 500 offered, so it is counted as not met (see Lag). "
        "**Missed:** HTTP append (single and batch), event-store append against the "
        "`eventsourcing` library, progress p99, write cost at 1,000 events, and the rebuild "
        "rate of a bounded national run (see Rebuild). The common cause is the one global "
        "append lock (every append serialised, commits cannot share WAL flushes) plus about "
        "5–8 ms of Python CPU per API request on a two-core machine that PostgreSQL, the load "
        "generator and — during this run — other engineers' test suites shared (load "
        "averages below): absolute figures are low and spreads wide; ratios measured back to "
        "back are the fair comparison. `bench/history/` holds the run before the fixes."
    ),
    "append": (
        "The raw ceiling is a plain INSERT per transaction with no lock: concurrent commits "
        "share WAL flushes (group commit), so it scales with clients. The event store takes "
        "one global advisory lock per append (positions in commit order, "
        "docs/architecture.md) and holds it through the INSERT and the COMMIT's fsync, so "
        "appends are serialised and 16 or 64 clients are no faster than one. The "
        "`eventsourcing` library serialises the same way (`LOCK TABLE … IN EXCLUSIVE "
        "MODE`) with a leaner client (psycopg, fewer statements); the two are within noise "
        "of each other, far from the 1.5× goal. With 100 events per append the lock is paid "
        "once per 100 and the store leads the library. Reaching 1.5× needs the structural "
        "change DESIGN.md calls the fast answer: the transaction-id watermark "
        "(`pg_current_xact_id()` per event, relay reading below `pg_snapshot_xmin`) instead "
        "of the global lock, so commits group like the raw ceiling's."
    ),
    "http": (
        "Profile (bench/profiles/http_append.txt, before the fixes): about half of the API "
        "process's samples were in the socket `send` to PostgreSQL; one write issued 26 "
        "statements (12 of them pool pre-ping) and two commits. The fixes brought that to "
        "~16 statements, but one uvicorn process still spends ≈ 5–8 ms of CPU per write "
        "(SQLAlchemy statement handling, Litestar, ES256 token verification, the domain), "
        "and the global append lock, held across the commit, serialises writers: latency "
        "grows linearly with clients (queueing), throughput stays near 1/(CPU per request). "
        "The access-log row of a write now goes in the command's transaction (one commit "
        "per write instead of two) and reads' rows are written in batches. The batch "
        "endpoint runs each doctor's items in one transaction with a SAVEPOINT per item "
        "(one commit per doctor, the stream lock, catalogue, institutions and state read "
        "once per doctor). The nightly sync (`nightly_sync_seconds`: 20,000 facts, 500 a "
        "request, 4 in flight) is limited by the API's CPU per item, not by commits: the "
        "profile (bench/profiles/nightly_sync.txt, `python -m bench.profile_sync`) shows "
        "each item still issuing six statements (access check, SAVEPOINT, snapshot, append, "
        "idempotency key, RELEASE), each costing up to a millisecond of SQLAlchemy/asyncpg "
        "CPU in one uvicorn process on this loaded machine, and about 40 % of the wall time "
        "idle, waiting for PostgreSQL and for the global append lock, which a group holds "
        "from its first append to its commit, so concurrent batches serialise. "
        "Several API workers and the watermark instead of the lock are what remain."
    ),
    "lag": (
        "With the projector folding a fetched batch per stream (one read and one write per "
        "touched row) the lag fell from seconds (run before the fixes: p99 ≈ 7.8 s, "
        "bench/history/) to about 0.2 s. The appenders — 16 workers, one event per "
        "transaction through `eventstore.append` — reached only the rate in "
        "`projection_lag_load`, not the 500 events/s offered: single-event appends are "
        "serialised by the global lock and shared the two cores with the relay, the "
        "projector, PostgreSQL and other work. So the goal is met at the load reached, not "
        "demonstrated at 500 events/s."
    ),
    "rebuild": (
        "Each projection's rebuild is bounded in time (BENCH_REBUILD_BUDGET seconds per "
        "projection, 60 in this run; the default is now 300): at national scale a projection "
        "still replaying then is stopped, its rate taken from the events it replayed, and "
        "`rebuild_events_per_s` combines the projections as one full rebuild would (total "
        "time = Σ events / rate); peak RSS is that of the bounded run. Per projection (see "
        "the note): `domain_states`, now folding a batch per stream, replays at ≈ 38,700 "
        "events/s and `applications` at ≈ 62,600, but `stream_summary` (one upsert per "
        "event, ≈ 4,000/s) and `part1_completion` (a query per approval, ≈ 2,000/s) are still "
        "per event and dominate the total: giving `stream_summary` and `part1_completion` a "
        "batch path and replaying the store once for all projections is what meets the goal."
    ),
    "progress": (
        "Profile (bench/profiles/progress.txt, before the fixes): 44 % of samples in socket "
        "writes (four connection checkouts, each with a three-statement pre-ping), the "
        "doctor state read twice and the catalogue decoded on every request. After the "
        "fixes a read is still ≈ 10 ms of API CPU (computing progress over the catalogue "
        "for the doctor's path, JSON encoding) plus a committed access-log row — one fsync "
        "— per read; with 32 readers on one process that queues to hundreds of ms. The "
        "plain SQL read of the same row shows what PostgreSQL itself needs. To reach 20 ms: "
        "buffer read-access log rows (one multi-row INSERT every ~100 ms), run several API "
        "workers, and cache computed progress per (doctor version, catalogue version, day)."
    ),
    "write_cost": (
        "A write loads the snapshot (one row) plus the events after it, so the number of "
        "events read stays flat (10 → 100 is flat). What still grows is the size of the "
        "folded state: the snapshot is msgpack-decoded and re-encoded whole on every write, "
        "and the domain's decisions scan collections that grow with the number of "
        "assessments. Writing the snapshot every N events instead of every write, and "
        "keeping assessments indexed by objective in the state, would flatten it."
    ),
    "data": (
        "Bytes per event: about three quarters heap (JSONB payload and metadata, uuid, "
        "stream id as text, timestamps), a quarter indexes (primary key, unique event id, "
        "unique (stream_id, version))."
    ),
}
