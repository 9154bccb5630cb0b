"""Across-seed statistics: means with Student-t 95% confidence intervals (scipy.stats).

With the handful of seeds a study runs (5 by default) a bootstrap interval is too narrow; the t interval
assumes roughly normal per-seed values, which final losses and accuracies of independent seeds are.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from scipy import stats

from studies.config.features import CURVE_FEATURES, curve_feature, is_feature, run_feature

CONFIDENCE = 0.95
INTERVALS = ("Intervals are 95% Student-t intervals of a mean over n independent seeds: t rather than a bootstrap "
             "because n is small (5 by default), where a bootstrap interval is too narrow. Where early stopping "
             "leaves curves of unequal length, an epoch's mean and band cover only the seeds still training then.")


def mean_ci(values, confidence: float = CONFIDENCE) -> dict:
    """mean, sd, n and the t confidence interval of the mean; the interval is NaN for n < 2."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    if n > 1 and sd > 0:
        low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sd / math.sqrt(n))
    else:
        low = high = mean if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "n": n, "low": float(low), "high": float(high)}


def t_interval(values) -> tuple[float, float]:
    """For seaborn's `errorbar=`: the band drawn around each mean."""
    summary = mean_ci(values)
    return summary["low"], summary["high"]


def lower_is_better(metric: str) -> bool:
    return "loss" in metric or "error" in metric


def curve_of(epochs: pd.DataFrame, metric: str, split: str) -> pd.DataFrame:
    """The per-epoch rows of one (metric, split); split "train-test" is the train minus test gap."""
    if split == "train-test":
        keys = ["trial_id", "arm", "seed", "epoch"]
        train, test = (curve_of(epochs, metric, s).set_index(keys)["value"] for s in ("train", "test"))
        return (train - test).dropna().rename("value").reset_index()
    return epochs[(epochs["metric"] == metric) & (epochs["split"] == split)]


def point_values(epochs: pd.DataFrame, trials: pd.DataFrame, metric: str, split: str, point: str) -> pd.DataFrame:
    """One value per trial: `final` (last epoch run), `best` (min of losses, max otherwise), `best_epoch`
    (the epoch of that best), `stop` (the stop epoch), `evaluate` (evaluate() after training), `size` (samples
    in the split), `epoch:N` (NaN where the trial stopped earlier), or a curve feature (studies/config/features.py).
    Columns: trial_id, arm, seed, value."""
    keys = ["trial_id", "arm", "seed"]
    if is_feature(point):
        if point in CURVE_FEATURES:
            return curve_feature(curve_of(epochs, metric, split), point)
        return run_feature(trials, metric, point)
    if point == "stop":
        return trials[keys].assign(value=trials["stop_epoch"].astype(float))
    if point == "evaluate":
        return trials[keys].assign(value=[json.loads(f).get(metric, math.nan) for f in trials["final_json"]])
    if point == "size":
        return trials[keys].assign(value=[float(json.loads(s).get(split, math.nan)) for s in trials["sizes_json"]])
    curve = curve_of(epochs, metric, split).sort_values("epoch")
    grouped = curve.groupby(keys)["value"]
    lowest = lower_is_better(metric) and split != "train-test"
    if point == "final":
        values = grouped.last()
    elif point == "best":
        values = grouped.min() if lowest else grouped.max()
    elif point == "best_epoch":
        best_rows = grouped.idxmin() if lowest else grouped.idxmax()
        values = curve.loc[best_rows.values].set_index(keys)["epoch"].astype(float)
    else:
        at = int(point.split(":")[1])
        values = curve[curve["epoch"] == at].set_index(keys)["value"].reindex(grouped.last().index)
    return values.rename("value").reset_index()
