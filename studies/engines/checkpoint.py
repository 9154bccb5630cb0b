"""Checkpoints of a running stack (engine=fast): all it needs to go on, bit for bit, after a kill.

One file per stack, named by its trials in stack order, written atomically (`studies.store.atomic`: a temporary file,
fsync, rename) at an epoch's end once `engine.checkpoint_seconds` have passed since the last one, and deleted
when the harness has stored the stack's trials. It holds the stacked weights with the optimizer's state
and batch-norm statistics, the epoch reached (batch orders and dropout masks are functions of seed and
step, so that is their position), the curves so far, and each replica's and callback's state. A file
that cannot be used is named in one line and set aside as `*.unusable`; the stack then starts over.
"""
from __future__ import annotations

import hashlib
import pickle
import time
from pathlib import Path

import numpy as np

from studies.store.atomic import atomic_file

FORMAT = 1
PLAIN = (bool, int, float, str, type(None), np.ndarray, np.generic)


def plain_state(thing) -> dict:
    """An object's attributes that are data (numbers, strings, arrays, lists of them): a Keras callback's
    or a replica's state, without its model, functions or other objects it is wired to."""
    def plain(value):
        return isinstance(value, PLAIN) or (isinstance(value, (list, tuple)) and all(map(plain, value)))
    return {name: value for name, value in vars(thing).items() if plain(value)}


def restore_state(thing, state: dict) -> None:
    for name, value in state.items():
        setattr(thing, name, value)


class Checkpoints:
    """The checkpoint files of one engine run, in `folder`; `every_seconds=None` writes none."""

    def __init__(self, folder: Path, every_seconds: float | None, say):
        self.folder, self.every_seconds, self.say = Path(folder), every_seconds, say
        self.last = time.monotonic()

    def path(self, trial_ids: list) -> Path:
        digest = hashlib.sha256("\n".join(trial_ids).encode()).hexdigest()[:20]
        return self.folder / f"stack-{digest}.pkl"

    def due(self) -> bool:
        return self.every_seconds is not None and time.monotonic() - self.last >= self.every_seconds

    def save(self, trial_ids: list, state: dict) -> None:
        with atomic_file(self.path(trial_ids)) as sink:
            pickle.dump({"format": FORMAT, "trial_ids": trial_ids, **state}, sink, pickle.HIGHEST_PROTOCOL)
        self.last = time.monotonic()

    def load(self, trial_ids: list, check) -> dict | None:
        """The stack's last checkpoint, or None when there is none or it cannot be used; `check(state)`
        raises ValueError when the state does not fit the stack."""
        path = self.path(trial_ids)
        if not path.is_file():
            return None
        try:
            with open(path, "rb") as source:
                state = pickle.load(source)
            if state.get("format") != FORMAT or state.get("trial_ids") != trial_ids:
                raise ValueError(f"written for other trials or by another version (format {state.get('format')})")
            check(state)
            return state
        except Exception as error:  # truncated, garbage, foreign: the stack starts over without it
            path.replace(path.with_suffix(".unusable"))
            self.say(f"    checkpoint {path} cannot be used ({type(error).__name__}: {error}); set aside as "
                     f"{path.with_suffix('.unusable').name}, the stack starts over")
            return None

    def remove(self, trial_ids: list) -> None:
        self.path(trial_ids).unlink(missing_ok=True)
