"""How many API workers, and the connections they need (issue 14)."""

from __future__ import annotations

from pathlib import Path

from services.config import cpu_count, load_settings, to_environ
from services.embedded import EmbeddedPostgres


def test_workers_default_to_the_cores_and_follow_the_setting() -> None:
    assert load_settings({}).api_worker_count() == cpu_count()
    three = load_settings({"KOMPETANSE_API_WORKERS": "3"})
    assert three.api_worker_count() == 3
    # run hands its settings to the API process it starts: the same count arrives there.
    assert load_settings(to_environ(three)).api_worker_count() == 3
    assert "KOMPETANSE_API_WORKERS" not in to_environ(load_settings({}))


def test_connections_needed_cover_every_workers_pool() -> None:
    settings = load_settings({"KOMPETANSE_API_WORKERS": "16", "KOMPETANSE_DB_POOL_SIZE": "10"})
    # 16 pools of 10 + 10 overflow, the relay's and projector's 14, 20 for tools.
    assert settings.database_connections_needed() == 16 * 20 + 14 + 20


def test_embedded_postgres_gets_enough_connections_never_fewer_than_before(
    tmp_path: Path,
) -> None:
    many = EmbeddedPostgres(tmp_path / "a", 5432, max_connections=354)
    assert "-c max_connections=354" in many._server_options()
    few = EmbeddedPostgres(tmp_path / "b", 5432, max_connections=74)
    assert "-c max_connections=300" in few._server_options()
    assert "max_connections" not in EmbeddedPostgres(tmp_path / "c", 5432)._server_options()
