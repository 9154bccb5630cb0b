"""A run's progress as it trains: a line when a trial starts, epoch lines naming their trial, a result line per
trial; on a terminal (studies.run.logs.on_terminal), progress bars over the trials and over the epochs of the trial
training now instead of the start and epoch lines."""
from __future__ import annotations

import logging
import time

from tqdm import tqdm

from studies.run.logs import on_terminal

log = logging.getLogger(__name__)


def trial_name(trial) -> str:
    """How a line or bar names a trial: study/variant, arm and seed."""
    return f"{trial.study}/{trial.variant} arm={trial.arm} seed={trial.seed}"


class Bars:
    """A bar over the run's trials, and one over the epochs of the trial training now (engine=fast: the epochs
    of its stack, named by a trial of it still training)."""

    def __init__(self, total: int):
        self.trials = tqdm(total=total, desc="trials", unit="trial", position=0, dynamic_ncols=True)
        self.epochs = tqdm(total=1, desc="epochs", unit="epoch", position=1, leave=False, dynamic_ncols=True)

    def epoch(self, trial, epoch: int, epochs: int) -> None:
        if epoch <= self.epochs.n:  # the first epoch of another trial or stack
            self.epochs.reset()
        self.epochs.total = epochs
        self.epochs.set_description(trial_name(trial), refresh=False)
        self.epochs.update(epoch - self.epochs.n)

    def close(self) -> None:
        self.epochs.close()
        self.trials.close()


class LoggedProgress:
    """A record when a trial starts, per-epoch records naming their trial (a trial's first epoch, then at most
    every `every_s` seconds), and a result record per trial with the time left at the average pace so far (the
    epochs of stacks resumed from a checkpoint, trained before this run, left out of the pace); each one line
    (studies/run/logs.py). On a terminal, bars (`Bars`) show the trials and epochs on the console instead of the
    start and epoch records, which the job's log file still gets (marked `drawn_as_bars`). A context manager:
    leaving it closes the bars."""

    def __init__(self, total: int, every_s: float = 10.0):
        self.total, self.every_s = total, every_s
        self.index, self.done, self.last, self.started = 0, 0, 0.0, time.monotonic()
        self.done_before = 0.0  # trials' worth of epochs trained before this run, in stacks resumed from checkpoints
        self.bars = Bars(total) if on_terminal() else None

    def __enter__(self) -> LoggedProgress:
        return self

    def __exit__(self, *exception) -> None:
        if self.bars:
            self.bars.close()

    def say(self, text: str) -> None:
        log.info(text)

    def _drawn(self, text: str) -> None:
        """A start or epoch record: on a terminal the bars draw it on the console (studies.run.logs.Console)."""
        log.info(text, extra={"drawn_as_bars": self.bars is not None})

    def resumed(self, trials: int, epoch: int, epochs: int) -> None:
        """A stack of `trials` resumed from its checkpoint after `epoch` of `epochs`."""
        self.done_before += trials * epoch / epochs

    def trial_started(self, trial) -> None:
        self.index += 1
        self.last = time.monotonic()
        self._drawn(f"[{self.index}/{self.total}] {trial_name(trial)} ...")

    def epoch(self, trial, epoch: int, epochs: int, logs: dict) -> None:
        if self.bars:
            self.bars.epoch(trial, epoch, epochs)
        if epoch == 1 or time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            shown = " ".join(f"{k}={v:.4f}" for k, v in logs.items() if isinstance(v, (int, float)))
            self._drawn(f"    {trial_name(trial)} epoch {epoch}/{epochs} {shown}")

    def trial_done(self, result) -> None:
        """Counted apart from trial_started: engine=fast starts a whole stack before finishing any trial."""
        t, self.done = result.trial, self.done + 1
        if self.bars:
            self.bars.trials.update()
        if result.status == "failed":
            self.say(f"[done {self.done}/{self.total}] FAILED {t.arm} seed={t.seed}: {result.message}")
            return
        final = " ".join(f"{split}_{metric}={values[-1]:.4f}"
                         for (split, metric), values in sorted(result.curves.items()))
        self.say(f"[done {self.done}/{self.total}] {result.status} {t.arm} seed={t.seed}: {result.stop_epoch} epochs "
                 f"in {result.wall_time_s:.1f}s, {final}{self._time_left()}")

    def _time_left(self) -> str:
        """At the pace of the trials' worth trained in this run; nothing while that is none (a resumed stack finishes
        its trials having trained a fraction of them here)."""
        trained = self.done - self.done_before
        if trained <= 0:
            return ""
        left = (time.monotonic() - self.started) / trained * (self.total - self.done)
        return f"; about {left / 60:.0f} min left"
