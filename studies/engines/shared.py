"""What both engines do around their own training loop: a trial's Keras callbacks (early stopping, the best-model
checkpoint, the trial's own), the metric they monitor, and the `TrialResult` assembled from the curves."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from studies.config.settings import TrialSpec
from studies.data.splits import Splits
from studies.engines.labels import predicted_classes
from studies.engines.model import make_callbacks
from studies.runtime.provenance import device
from studies.store.trial_result import TrialResult, best_epoch, outcome_status, split_metric


def trial_callbacks(trial: TrialSpec, artifacts_dir: Path) -> tuple[list, list]:
    """The trial's EarlyStopping, its best-model ModelCheckpoint and its own train.callbacks, in that order, and the
    files they write."""
    callbacks, artifacts, stopping = [], [], trial.train.early_stopping
    if stopping is not None:
        callbacks.append(keras.callbacks.EarlyStopping(**dataclasses.asdict(stopping)))
    if trial.train.checkpoint_best:
        path = artifacts_dir / trial.trial_id / "best_model.keras"
        path.parent.mkdir(parents=True, exist_ok=True)
        monitor = stopping.monitor if stopping else "val_loss"
        callbacks.append(keras.callbacks.ModelCheckpoint(str(path), monitor=monitor, save_best_only=True))
        artifacts.append(str(path))
    return callbacks + make_callbacks(trial.train.callbacks, trial), artifacts


def monitored_metric(trial: TrialSpec, splits: Splits) -> str:
    """The Keras log key whose best epoch a result records: early stopping's, else the validation or training loss."""
    stopping = trial.train.early_stopping
    return stopping.monitor if stopping else ("val_loss" if splits.validation is not None else "loss")


def prediction_scores(trial: TrialSpec, splits: Splits, predict: Callable[[], np.ndarray]) -> dict:
    """{"predict_argmax_accuracy": ...} of the test predictions `predict()` gives, for a class target; else {} (and
    nothing predicted)."""
    if trial.dataset.target != "class":
        return {}
    return {"predict_argmax_accuracy": float(np.mean(predicted_classes(predict()) == splits.y_test))}


def finished_result(trial: TrialSpec, splits: Splits, curves: dict, final: dict, stop_epoch: int, wall_time_s: float,
                    artifacts: list) -> TrialResult:
    """A trial trained to its end (or to a non-finite loss: diverged), with its best epoch of `monitored_metric`."""
    monitor = monitored_metric(trial, splits)
    monitored = curves.get(split_metric(monitor, splits.validation_name))
    return TrialResult(trial, curves, final, stop_epoch, best_epoch(monitored, monitor), wall_time_s, device(),
                       status=outcome_status(curves), artifacts=artifacts, sizes=splits.sizes)
