"""Steady-state epochs of a real engine run, one at a time, for pytest-benchmark.

An engine trains a whole run in one call and reports each epoch's end to its `progress` object. The
stepper runs that call in a thread whose `progress.epoch` waits at every epoch end, so the main thread
can let exactly one epoch run and time it: the engine is measured through its public API, the first
epoch (graph tracing, XLA compilation) is kept out of the timings, and other work can be timed between
two epochs of the same run.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class EpochStepper:
    """`train(progress)` runs in a thread and pauses at each epoch end; `step()` runs one more epoch."""

    def __init__(self, train: Callable[[object], None]):
        self._resume, self._paused = threading.Semaphore(0), threading.Semaphore(0)
        self._error: BaseException | None = None
        self._finished = False
        self._thread = threading.Thread(target=self._run, args=(train,), daemon=True)
        self._thread.start()
        self._wait()  # the first epoch, which compiles

    def _run(self, train) -> None:
        try:
            train(self)
        except BaseException as error:  # re-raised in the main thread
            self._error = error
        finally:
            self._finished = True
            self._paused.release()

    def _wait(self) -> None:
        self._paused.acquire()
        if self._error is not None:
            raise self._error

    def epoch(self, *args) -> None:
        """The engine's progress callback (training thread): hold until the next step() or finish()."""
        self._paused.release()
        self._resume.acquire()

    def say(self, text: str) -> None:
        """The engine's other progress callback: nothing to time."""

    def resumed(self, *args) -> None:
        """The same (a stepped run writes no checkpoints to resume from)."""

    def step(self) -> None:
        """Run one epoch; fails if training ended before it."""
        if self._finished:
            raise RuntimeError("the run has no epochs left: give its trials more epochs than steps")
        self._resume.release()
        self._wait()

    def timed_step(self) -> float:
        started = time.perf_counter()
        self.step()
        return time.perf_counter() - started

    def finish(self) -> None:
        """Let the run end (its remaining epochs and final evaluation) and wait for it."""
        while not self._finished:
            self._resume.release()
            self._wait()
        self._thread.join()
