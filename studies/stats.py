"""Across-seed statistics: means with Student-t 95% confidence intervals (scipy.stats).

With the handful of seeds a study runs (5 by default) a bootstrap interval is too narrow; the t interval
assumes roughly normal per-seed values, which final losses and accuracies of independent seeds are.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


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


def point_values(epochs: pd.DataFrame, trials: pd.DataFrame, metric: str, split: str, point: str) -> pd.DataFrame:
    """One value per trial: `final` (last epoch run), `best` (min of losses, max otherwise), `stop`
    (the stop epoch itself) or `epoch:N` (NaN where the trial stopped earlier). Columns: arm, seed, value."""
    if point == "stop":
        return trials[["trial_id", "arm", "seed"]].assign(value=trials["stop_epoch"].astype(float))
    curve = epochs[(epochs["metric"] == metric) & (epochs["split"] == split)]
    grouped = curve.sort_values("epoch").groupby(["trial_id", "arm", "seed"])["value"]
    if point == "final":
        values = grouped.last()
    elif point == "best":
        values = grouped.min() if lower_is_better(metric) else grouped.max()
    else:
        at = int(point.split(":")[1])
        values = curve[curve["epoch"] == at].set_index(["trial_id", "arm", "seed"])["value"]
        values = values.reindex(grouped.last().index)
    return values.reset_index()
