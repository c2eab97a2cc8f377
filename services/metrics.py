"""Prometheus metrics shared by the processes (each process exposes its own registry; the
API's workers share theirs through files, see :func:`exposition`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector


def exposition(multiprocess_dir: str | None) -> bytes:
    """This process's metrics; with several API workers (``multiprocess_dir`` set, where
    each worker writes its values), those of all of them: a scrape is answered by any one
    worker, and must count every worker's requests."""
    if multiprocess_dir is None:
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


HTTP_REQUESTS = Counter(
    "kompetanse_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "kompetanse_http_request_seconds", "HTTP request latency", ["method", "route"]
)
EVENTS_APPENDED = Counter("kompetanse_events_appended_total", "Events appended", ["type"])
EVENTS_RELAYED = Counter("kompetanse_events_relayed_total", "Events published to JetStream")
RELAY_DUPLICATES = Counter(
    "kompetanse_relay_duplicates_total", "Publishes the server dropped as duplicates"
)
RELAY_RETRIES = Counter(
    "kompetanse_relay_batch_retries_total", "Batches published again after lost or refused acks"
)
DEAD_LETTERS = Counter(
    "kompetanse_dead_letters_total",
    "Events a consumer could not handle and stepped over (see kompetanse dead-letters)",
    ["consumer"],
)
RELAY_POSITION = Gauge("kompetanse_relay_position", "Last position relayed")
EVENTS_PROJECTED = Counter(
    "kompetanse_events_projected_total", "Events applied to read models", ["projection"]
)
EVENTS_FROM_STORE = Counter(
    "kompetanse_events_projected_from_store_total",
    "Events a projector read from the store because the feed had stalled",
    ["projection"],
)
EVENTS_SKIPPED = Counter(
    "kompetanse_events_skipped_total", "Redelivered events skipped", ["projection"]
)
PROJECTION_POSITION = Gauge(
    "kompetanse_projection_position", "Last position applied", ["projection"]
)
READ_MODEL_QUERIES = Counter(
    "kompetanse_read_model_queries_total",
    "Read-model queries by where they ran (replica when fresh enough, else primary)",
    ["target"],
)
PROGRESS_CACHE = Counter(
    "kompetanse_progress_cache_total",
    "Progress reads answered from the per-process cache (hit) or computed (miss); "
    "hit rate = hit / (hit + miss)",
    ["result"],
)
