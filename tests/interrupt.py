"""The studybench CLI with one pause point, so that a test kills it in a known state on any machine:

    python -m tests.interrupt POINT N MARKER -- CLI ARGUMENTS...

POINT is `stored` (once the N-th trial is stored), `checkpoint` (once the N-th stack checkpoint is on
disk) or `checkpoint_write` (inside the N-th checkpoint write: its temporary file written, not yet
renamed). There the process creates the file MARKER and sleeps until a signal ends it: the test waits for
MARKER, an event, instead of guessing how long training takes. POINT `full_disk` pauses nothing: from the
N-th file the trial store writes on, each write creates MARKER and raises OSError(ENOSPC), as a full disk does.
"""
from __future__ import annotations

import errno
import faulthandler
import functools
import os
import pickle
import signal
import sys
import time
from pathlib import Path

from studies.engines import checkpoint
from studies.run import cli
from studies.store import trial_store as store
from studies.store.trial_store import TrialStore


def pausing(function, calls: int, marker: Path):
    """`function`, which after its `calls`-th call creates `marker` and sleeps forever."""
    count = 0

    @functools.wraps(function)
    def wrapper(*arguments, **keywords):
        nonlocal count
        result = function(*arguments, **keywords)
        count += 1
        if count == calls:
            marker.touch()
            while True:
                time.sleep(0.1)  # Python code: SIGINT and SIGTERM act at once
        return result
    return wrapper


def filling(function, calls: int, marker: Path):
    """`function`, which from its `calls`-th call on creates `marker` and raises a full disk's OSError."""
    count = 0

    @functools.wraps(function)
    def wrapper(*arguments, **keywords):
        nonlocal count
        count += 1
        if count >= calls:
            marker.touch()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(arguments[-1]))
        return function(*arguments, **keywords)
    return wrapper


class PausingPickle:
    """The `pickle` module as studies.engines.checkpoint sees it, pausing after its `calls`-th dump."""

    def __init__(self, calls: int, marker: Path):
        self.dump = pausing(pickle.dump, calls, marker)

    def __getattr__(self, name):
        return getattr(pickle, name)


def main() -> None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a test that waited too long asks where we are
    # Ctrl-C as in a terminal: started from a background job (nohup, `&`, some CI runners) a process inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler, so SIGINT would do nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    point, calls, marker = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    assert sys.argv[4] == "--", "usage: python -m tests.interrupt POINT N MARKER -- CLI ARGUMENTS..."
    if point == "stored":
        TrialStore.write = pausing(TrialStore.write, calls, marker)
    elif point == "checkpoint":
        checkpoint.Checkpoints.save = pausing(checkpoint.Checkpoints.save, calls, marker)
    elif point == "checkpoint_write":
        checkpoint.pickle = PausingPickle(calls, marker)
    elif point == "full_disk":
        store.write_atomic = filling(store.write_atomic, calls, marker)
    else:
        raise SystemExit(f"unknown pause point {point!r}; valid: stored, checkpoint, checkpoint_write, full_disk")
    sys.argv = [sys.argv[0], *sys.argv[5:]]
    cli.main()


if __name__ == "__main__":
    main()
