"""Processes that must not outlive the process that started them."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """This process gets SIGTERM when its parent dies, even by SIGKILL (Linux; elsewhere a
    no-op). ``run`` sets it in each child it starts; each API worker sets it too, so killing
    the API's master leaves no worker holding the port the restarted API must bind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_spawning_parent() -> None:
    """For a process started by ``multiprocessing`` (the API's workers): as
    :func:`die_with_parent`, and if the parent died before that took hold (killed while
    this process was starting), end now rather than serve on, orphaned, holding the port."""
    die_with_parent()
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        sys.exit("the process that started this worker is gone")
