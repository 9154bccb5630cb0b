"""Where a process's wall time goes: named phases (import, config, planning, data, build, compile, train, evaluate,
store, judge, report), timed exclusively. A phase entered inside another pauses it (a report's store reads count as
store, not report), so the phases never overlap and their sum is at most the time the process ran; what no phase
claims is the rest (Hydra's own start of each job, routing, leases, logging). `make reproduce` prints and
records them (studies/run/reproduce.py).
"""
from __future__ import annotations

import time
import weakref
from collections import defaultdict
from contextlib import contextmanager


class Phases:
    """Seconds per phase name, each charged only while its phase is the innermost one running."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.running: list[str] = []
        self.since = time.perf_counter()

    def _charge(self) -> None:
        """Give the time since the last change to the innermost running phase."""
        now = time.perf_counter()
        if self.running:
            self.seconds[self.running[-1]] += now - self.since
        self.since = now

    @contextmanager
    def timed(self, name: str):
        """A context manager (or a decorator) charging the time inside it to phase `name`."""
        self._charge()
        self.running.append(name)
        try:
            yield
        finally:
            self._charge()
            self.running.pop()


PHASES = Phases()  # the process's: the harness, the engines and the store charge it wherever they run
timed = PHASES.timed
_signatures = weakref.WeakKeyDictionary()  # a compiled program's owner -> the argument shapes it has run on


def first_call(owner, signature: tuple, phase: str) -> str:
    """"compile" the first time `owner` (what holds a compiled program: an engine=fast stack) runs with arguments
    of `signature` (their shapes: new ones are traced and compiled, seconds against the milliseconds of a call),
    else `phase`. That first call's own run is counted as compilation too."""
    seen = _signatures.setdefault(owner, set())
    if signature in seen:
        return phase
    seen.add(signature)
    return "compile"
