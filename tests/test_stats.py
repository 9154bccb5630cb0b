import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from studies.stats.across_seeds import mean_ci, point_values


def test_mean_ci_is_the_student_t_interval():
    values = [0.30, 0.32, 0.29, 0.35, 0.31]
    summary = mean_ci(values)
    half = scipy_stats.t.ppf(0.975, 4) * np.std(values, ddof=1) / math.sqrt(5)
    assert summary["n"] == 5 and summary["mean"] == pytest.approx(0.314)
    assert summary["low"] == pytest.approx(0.314 - half) and summary["high"] == pytest.approx(0.314 + half)


def test_mean_ci_of_one_value_has_no_interval_and_ignores_nan():
    assert math.isnan(mean_ci([0.5])["low"]) and mean_ci([0.5])["mean"] == 0.5
    assert mean_ci([1.0, np.nan, 3.0])["n"] == 2


def test_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = [(s["low"] <= 1.0 <= s["high"]) for s in (mean_ci(rng.normal(1.0, 0.3, 5)) for _ in range(2000))]
    assert 0.93 <= np.mean(hits) <= 0.97


def frames():
    rows = []
    for trial, arm, curve in (("a", "x", [3.0, 2.0, 2.5]), ("b", "y", [4.0, 1.0])):
        rows += [{"trial_id": trial, "arm": arm, "seed": 0, "epoch": e, "split": "train", "metric": "loss", "value": v}
                 for e, v in enumerate(curve, start=1)]
    trials = pd.DataFrame({"trial_id": ["a", "b"], "arm": ["x", "y"], "seed": [0, 0], "stop_epoch": [3, 2]})
    return pd.DataFrame(rows), trials


@pytest.mark.parametrize("point, expected", [("final", [2.5, 1.0]), ("best", [2.0, 1.0]), ("stop", [3.0, 2.0]),
                                             ("epoch:3", [2.5, np.nan])])
def test_point_values_handle_curves_of_unequal_length(point, expected):
    epochs, trials = frames()
    values = point_values(epochs, trials, "loss", "train", point).sort_values("trial_id")["value"]
    np.testing.assert_allclose(values.to_numpy(), expected)
