"""Engines train trials and hand back their per-epoch curves; the harness stores them.

An engine gets all pending trials of a study at once (so a later engine may train them together) and
yields one `TrialResult` per trial as soon as it is finished. Study modules never see which engine ran.

Engines are found by name in a registry: the built-in ones, declared here so that they work whether or not this
package's entry points are installed, and any that an installed package registers under the entry-points group
`studybench.engines` (`name = "package.module:EngineClass"`, a class taking `(settings, results_dir)`).

The Keras side of a trial lives here too: the model, optimizer and callbacks from specs (`model`) and Keras 2.2's
optimizers (`legacy_optimizers`). May import `config`, `runtime`, `data` and `store`.
"""
from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterator
from typing import Protocol

from studies.config.settings import ConfigError, TrialSpec
from studies.data.splits import Splits
from studies.store.trial_result import TrialResult

ENTRY_POINTS_GROUP = "studybench.engines"
BUILT_IN = {"keras": "studies.engines.keras_fit:KerasFitEngine", "fast": "studies.engines.fast:FastEngine"}


class Progress(Protocol):
    def epoch(self, trial: TrialSpec, epoch: int, epochs: int, logs: dict) -> None: ...

    def say(self, text: str) -> None: ...

    def resumed(self, trials: int, epoch: int, epochs: int) -> None:
        """A stack of `trials` resumed from a checkpoint after `epoch` of `epochs` (the time left counts without
        them)."""


class Engine(Protocol):
    name: str
    fallback: bool  # where unsupported() can name a reason: true runs such trials on engine=keras, false stops

    def unsupported(self, trial: TrialSpec) -> str | None:
        """Why the engine cannot run `trial` (None: it can), known before any data is loaded; the harness then
        runs it on engine=keras, or stops (fallback false)."""

    def run(self, trials: list[TrialSpec], splits_for: Callable[[TrialSpec], Splits],
            progress: Progress) -> Iterator[TrialResult]: ...


def registered_engines() -> dict[str, importlib.metadata.EntryPoint]:
    """Engine name -> where its class is: the built-in engines and the installed entry points of
    `studybench.engines` (this package's own register the built-ins again, to the same classes)."""
    engines = {name: importlib.metadata.EntryPoint(name, value, ENTRY_POINTS_GROUP) for name, value in BUILT_IN.items()}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINTS_GROUP):
        if entry.name in engines and engines[entry.name].value != entry.value:
            raise ConfigError(f"engine {entry.name!r} is registered twice, as {engines[entry.name].value} and as "
                              f"{entry.value} (entry points group {ENTRY_POINTS_GROUP}); give one another name")
        engines[entry.name] = entry
    return engines


def make_engine(settings: dict, results_dir) -> Engine:
    """The engine `settings` name; it keeps its files (artifacts, checkpoints) under `results_dir`."""
    name, engines = settings.get("name"), registered_engines()
    if name not in engines:
        raise ConfigError(f"unknown engine {name!r}; valid: {', '.join(sorted(engines))}")
    return engines[name].load()(settings, results_dir)
