"""Benchmarks at national scale (issue 6): ``python -m bench [--quick] [--size small|national]``.

Every figure is measured against its ceiling or rival in the same run, on the same
PostgreSQL and NATS (started here, in a temporary directory, with the durability settings
of production: ``fsync = on``, ``synchronous_commit = on``). Results go to
``bench/RESULTS.md`` and ``bench/results.json``. Benchmarks print figures; tests never time
things (``tests/integration/test_bench_smoke.py`` only runs the quick mode).
"""
