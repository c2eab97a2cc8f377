"""Liveness (issue #10): a relay or projector is wedged when its event loop stops, or when
work is pending and nothing moves for the bound while NATS answers; a frozen NATS is a
reason to wait, not to restart. The NATS side is a real server, frozen with SIGSTOP."""

from __future__ import annotations

import os
import signal
import threading
import time

from services.embedded import EmbeddedNats
from services.watchdog import Watchdog, database_answers, nats_answers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watchdog(clock: Clock, answers: bool = True) -> Watchdog:
    return Watchdog(
        "test",
        stall_seconds=30,
        nats_url="nats://127.0.0.1:1",
        clock=clock,
        answers=lambda _nats, _db: answers,
    )


def test_pending_work_that_never_moves_is_wedged_only_past_the_bound() -> None:
    clock = Clock()
    dog = watchdog(clock)
    relay = dog.track("relay")
    relay.pending(True)
    clock.now += 29
    dog.beat()
    assert dog.wedged() is None
    clock.now += 2
    dog.beat()
    reason = dog.wedged()
    assert reason is not None and "relay" in reason and "NATS and PostgreSQL answer" in reason


def test_progress_and_idleness_keep_it_alive() -> None:
    clock = Clock()
    dog = watchdog(clock)
    track = dog.track("doctor_states")
    for _ in range(10):
        track.pending(True)
        clock.now += 20
        track.progressed()  # slow but moving
        dog.beat()
        assert dog.wedged() is None
    track.pending(False)
    clock.now += 300  # idle for long: nothing pending, nothing wrong
    dog.beat()
    assert dog.wedged() is None


def test_lag_while_nats_does_not_answer_is_waited_out() -> None:
    clock = Clock()
    dog = watchdog(clock, answers=False)
    dog.track("relay").pending(True)
    clock.now += 120
    dog.beat()
    assert dog.wedged() is None


def test_an_event_loop_that_stops_turning_is_wedged() -> None:
    clock = Clock()
    dog = watchdog(clock, answers=False)
    clock.now += 31
    assert "event loop" in (dog.wedged() or "")


def test_nats_answers_follows_a_real_server_frozen_and_thawed(own_nats: EmbeddedNats) -> None:
    assert nats_answers(own_nats.url)
    assert own_nats.process is not None
    os.kill(own_nats.process.pid, signal.SIGSTOP)
    try:
        assert not nats_answers(own_nats.url, timeout=0.5)
    finally:
        os.kill(own_nats.process.pid, signal.SIGCONT)
    assert nats_answers(own_nats.url)
    assert not nats_answers("nats://127.0.0.1:1", timeout=0.5)


def test_database_answers_follows_a_real_server(postgres_server_url: str) -> None:
    assert database_answers(postgres_server_url)
    assert not database_answers("postgresql://postgres@127.0.0.1:1/postgres", timeout=0.5)


def test_the_watch_thread_ends_a_wedged_process(own_nats: EmbeddedNats) -> None:
    """The thread, not the loop, decides: the event loop here is never run at all."""
    ended = threading.Event()
    reasons: list[str] = []

    def on_wedged(reason: str) -> None:
        reasons.append(reason)
        ended.set()

    dog = Watchdog("test", stall_seconds=1, nats_url=own_nats.url, on_wedged=on_wedged)
    dog.track("relay").pending(True)
    thread = threading.Thread(target=dog._watch, daemon=True)
    started = time.monotonic()
    thread.start()
    assert ended.wait(10), "the watchdog did not end the wedged process"
    assert time.monotonic() - started >= 1
    assert reasons and ("relay" in reasons[0] or "event loop" in reasons[0])
