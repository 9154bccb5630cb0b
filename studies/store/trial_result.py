"""What an engine hands back for one trial (`TrialResult`) and the helpers both engines build it with; apart from
the engines so that the store, which keeps results, and the engines, which make them, import it from below both.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from studies.config.settings import TrialSpec

TRAIN_EVALUATION = "train_eval"  # the split of train.evaluate_train: training data evaluated in inference mode


@dataclass
class TrialResult:
    trial: TrialSpec
    curves: dict  # (split, metric) -> one value per epoch run
    final: dict  # metric -> value from evaluate() on the test set after training (+ predict_argmax_accuracy)
    stop_epoch: int  # epochs actually run (1-based number of the last one)
    best_epoch: int | None  # 1-based epoch of the best monitored value
    wall_time_s: float
    device: str
    status: str = "ok"  # ok | diverged (a non-finite loss: curves kept up to there) | failed (an exception)
    message: str = ""
    artifacts: list = field(default_factory=list)  # files the engine wrote (e.g. best_model.keras)
    sizes: dict = field(default_factory=dict)  # samples actually used: train, val, test


def failed_result(trial: TrialSpec, error: Exception, device: str) -> TrialResult:
    """A trial that raised: stored as failed with its message, so the study goes on and a rerun retries it."""
    return TrialResult(trial, {}, {}, 0, None, 0.0, device, status="failed",
                       message=f"{type(error).__name__}: {error}".splitlines()[0][:500])


def outcome_status(curves: dict) -> str:
    """diverged when any training loss is NaN or infinite, ok otherwise."""
    losses = curves.get(("train", "loss"), [])
    return "diverged" if any(not math.isfinite(value) for value in losses) else "ok"


def split_metric(log_key: str, validation_name: str) -> tuple[str, str]:
    """A Keras log key (loss, val_accuracy, train_eval_accuracy...) -> the (split, metric) its curve is
    stored under."""
    for prefix, split in (("val_", validation_name), (f"{TRAIN_EVALUATION}_", TRAIN_EVALUATION)):
        if log_key.startswith(prefix):
            return split, log_key[len(prefix):]
    return "train", log_key


def best_epoch(values, monitor: str) -> int | None:
    """1-based epoch of the best value of `monitor`, by EarlyStopping's own rule for mode="auto"."""
    if not values:
        return None
    pick = np.argmax if "acc" in monitor else np.argmin
    return int(pick(values)) + 1
