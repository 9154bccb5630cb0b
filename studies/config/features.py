"""Curve features: what an article reads off a figure, computed from a run's stored curve by a stated rule.

An article says "overfitting from about epoch 60" or "test accuracy swings up and down" by looking at its
figure; a claim names the feature as its `point` and these rules compute it per trial, so that the reading is
written down and tested (tests/test_features.py, on hand-made curves whose answer is known):
- `mean`: the curve's mean over the epochs run, i.e. the area under it per epoch. "Converges faster" is read
  off the whole training curve, not its last point.
- `separation_epoch`: where train and test curves part for good: the first epoch from which the train - test
  gap, averaged over the SEPARATION_WINDOW epochs ending there, stays above SEPARATION_GAP to the end of the
  run. A run whose curves never part gets its length + 1: later than anything the run shows.
- `separated`: 1 where the run's curves part (a `separation_epoch` within the run), else 0.
- `turn_up_epoch`: where a loss that first falls turns up for good: the epoch of the minimum of the curve
  smoothed by a centred moving average of TURN_WINDOW epochs (an eye reads the trend, not single-epoch noise).
- `falls`: how many times the curve falls by more than FALL from one epoch to the next (an accuracy that
  "swings up and down").
- `epochs_after_best`: stop epoch minus the epoch of the monitored value's best (EarlyStopping's patience at
  work); NaN where the run used all its epochs, where EarlyStopping cannot have stopped it.
- `evaluate_gap:METRIC`: evaluate()'s value of the claim's metric minus that of METRIC, per run (predict +
  argmax against evaluate's accuracy).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

SEPARATION_GAP = 0.0  # train accuracy above test accuracy: the train curve runs above the test curve
SEPARATION_WINDOW = 5  # epochs: a gap that opens for one epoch and closes again is noise, not overfitting
TURN_WINDOW = 21  # epochs: the centred moving average the turn of a noisy loss is read from
FALL = 0.01  # one point of accuracy: the smallest fall visible on a 0-1 axis
ROUNDING = 1e-6  # float32 metrics: 0.85 - 0.84 is 0.01000005 as stored, a fall of exactly FALL, not more
CURVE_FEATURES = ("mean", "separation_epoch", "separated", "turn_up_epoch", "falls")
RUN_FEATURES = ("epochs_after_best",)  # from the trial's stop and best epochs
FEATURES = CURVE_FEATURES + RUN_FEATURES + ("evaluate_gap:METRIC",)
KEYS = ["trial_id", "arm", "seed"]


def is_feature(point: str) -> bool:
    return point in CURVE_FEATURES + RUN_FEATURES or point.startswith("evaluate_gap:")


def separation_epoch(gap: np.ndarray) -> float:
    """The 1-based epoch from which the windowed gap stays above SEPARATION_GAP; len(gap) + 1 if never."""
    windowed = pd.Series(gap).rolling(SEPARATION_WINDOW, min_periods=1).mean().to_numpy()
    below = np.flatnonzero(~(windowed > SEPARATION_GAP))
    start = below[-1] + 1 if len(below) else 0
    return float(start + 1) if start < len(gap) else float(len(gap) + 1)


def turn_up_epoch(curve: np.ndarray) -> float:
    smoothed = pd.Series(curve).rolling(TURN_WINDOW, center=True, min_periods=1).mean()
    return float(smoothed.to_numpy().argmin() + 1)


def falls(curve: np.ndarray) -> float:
    return float(np.sum(-np.diff(curve) > FALL + ROUNDING))


RULES = {"mean": lambda curve: float(np.mean(curve)), "separation_epoch": separation_epoch,
         "separated": lambda gap: float(separation_epoch(gap) <= len(gap)), "turn_up_epoch": turn_up_epoch,
         "falls": falls}


def curve_feature(curve: pd.DataFrame, point: str) -> pd.DataFrame:
    """Per trial, the feature `point` of its curve (rows of trial_id, arm, seed, epoch, value)."""
    ordered = curve.sort_values("epoch")
    values = ordered.groupby(KEYS)["value"].apply(lambda run: RULES[point](run.to_numpy(dtype=float)))
    return values.rename("value").reset_index()


def epochs_after_best(trials: pd.DataFrame) -> pd.Series:
    limit = [json.loads(config)["train"]["epochs"] for config in trials["config_json"]]
    gap = (trials["stop_epoch"] - trials["best_epoch"]).astype(float)
    return gap.where(trials["stop_epoch"].to_numpy() < np.asarray(limit), math.nan)


def evaluate_gap(trials: pd.DataFrame, metric: str, other: str) -> list[float]:
    finals = [json.loads(final) for final in trials["final_json"]]
    return [final.get(metric, math.nan) - final.get(other, math.nan) for final in finals]


def run_feature(trials: pd.DataFrame, metric: str, point: str) -> pd.DataFrame:
    """Per trial, a feature of its stored result rather than of a curve."""
    if point == "epochs_after_best":
        return trials[KEYS].assign(value=epochs_after_best(trials).to_numpy())
    return trials[KEYS].assign(value=evaluate_gap(trials, metric, point.split(":", 1)[1]))
