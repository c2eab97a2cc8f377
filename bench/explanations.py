"""Prose for RESULTS.md: why the figures are what they are (from the profiles in
``bench/profiles/`` and ``bench/patches/README.md``). Regenerate the page after editing
with ``python -m bench.report``."""

EXPLANATIONS: dict[str, str] = {
    "append": (
        "The raw ceiling is a plain INSERT per transaction with no lock: concurrent commits "
        "share WAL flushes (group commit), so it scales with clients. The event store takes "
        "one global advisory lock per append (positions in commit order, "
        "docs/architecture.md) and holds it across three round trips (version check, lock, "
        "INSERT) plus the COMMIT, so commits are serialised and 16 or 64 clients are no "
        "faster than one. The eventsourcing library serialises the same way (`LOCK TABLE … "
        "IN EXCLUSIVE MODE`) but issues fewer statements per append through psycopg. "
        "`store_append_*_patched` (bench/patches/0002: version check, lock and INSERT in one "
        "statement; no pool pre-ping) shows what the one-statement append gives; the "
        "structural fix is the transaction-id watermark instead of the global lock."
    ),
    "http": (
        "Profile (bench/profiles/http_append.txt): about half of the API process's samples "
        "are in the socket `send` to PostgreSQL. One single-event write issues 26 statements "
        "(8 BEGIN, 6 ROLLBACK, 2 COMMIT): 12 of them are SQLAlchemy's pool pre-ping (BEGIN, "
        "SELECT 1, ROLLBACK on each of four connection checkouts: two access checks, the "
        "command, the access log), and the access log commits a second transaction (a second "
        "fsync) per write. The API is one uvicorn process on a two-core machine it shares "
        "with PostgreSQL, the load generator and, during this run, other engineers' test "
        "suites; ≈ 5–8 ms of API CPU per write caps it far below the ceiling, and with the "
        "global append lock held across awaits, latency grows with the number of clients. "
        "The batch endpoint runs every item as a full request (own access checks, own "
        "transaction, own access-log commit), so a batch is no cheaper per event than single "
        "requests: it cannot approach the 100-rows-per-INSERT ceiling until the items share "
        "one transaction (SAVEPOINT per item)."
    ),
    "lag": (
        "The projector applies events one at a time with two round trips each (read the "
        "row, upsert it) for `domain_states`, plus the other projections, in one process on "
        "the same two cores as the appenders, relay and PostgreSQL. At 500 events/s offered "
        "it falls behind, so the lag measured is mostly queueing: it grows through the run. "
        "The batched apply that makes the rebuild fast (`rebuild_batched_*`) applies equally "
        "to the live projector's fetched batches (up to 256 messages)."
    ),
    "rebuild": (
        "`services.projector.runtime.rebuild` applies one event at a time (SELECT row, "
        "msgpack-decode the whole folded state, evolve, encode, upsert) and reads the whole "
        "store once per projection; at national scale a full rebuild would take about an "
        "hour, so each projection was stopped after its time budget and its rate taken from "
        "the events it replayed (peak RSS is then that of the partial run). "
        "`rebuild_batched_*` is bench/patches/batched_rebuild.py: one pass for all "
        "projections, each stream's row read and written once per 5,000-event batch; on the "
        "small data set it produced byte-identical read models."
    ),
    "progress": (
        "Profile (bench/profiles/progress.txt): 44 % of samples in socket writes; four "
        "connection checkouts per request (each with the three-statement pre-ping), the "
        "doctor state read and decoded twice, the catalogue (every objective of every "
        "version) decoded from its read-model row on every request (8 %, not cached as the "
        "write path caches it), and a committed access-log row — one fsync — per read. The "
        "plain SQL read of the same row shows what PostgreSQL itself needs."
    ),
    "write_cost": (
        "A write loads the snapshot (one row) plus the events after it, so the number of "
        "events read stays flat. What still grows with history is the size of the folded "
        "state: the snapshot is msgpack-decoded and re-encoded whole on every write, and the "
        "domain's decisions scan lists that grow with the number of assessments. Keeping "
        "assessments in dicts keyed by objective and writing the snapshot every N events "
        "(not every write) would flatten it."
    ),
    "general": (
        "Goals missed: HTTP single and batch append, event-store append against the "
        "eventsourcing library (the serialised lock path), projection lag, progress p99, and "
        "the rebuild rate of the current code — see each section's paragraph. The common "
        "causes are round trips (pool pre-ping, separate access checks, a separate access-log "
        "transaction), the global append lock held across several awaits, and per-event "
        "read-model writes. bench/patches/README.md lists each change precisely; the "
        "`*_patched` and `rebuild_batched_*` figures measure the ones already written. "
        "The machine: two vCPUs shared by PostgreSQL, NATS, the API, relay, projector, the "
        "load generator, and (during this run) other engineers' test suites — the load "
        "averages above show it; absolute figures are therefore conservative and the spread "
        "is wide, while ratios measured back to back in the same run are the fair comparison."
    ),
}
