"""Time to a target (studies/beyond/time_to_target.py): first epochs from curves, runs that never reach it kept as
censored, and the Kaplan-Meier median's interval."""
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from studies.beyond.time_to_target import NEVER, Target, epochs_to_target, median_time, study_target
from studies.config.settings import ConfigError


def stored(curves: dict, split: str = "test", metric: str = "accuracy", budget: int = 5):
    """Epoch rows and trial rows as the store gives them, one trial per (arm, seed) -> curve."""
    epochs = pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": seed, "epoch": epoch, "split": split,
                            "metric": metric, "value": value}
                           for (arm, seed), curve in curves.items() for epoch, value in enumerate(curve, start=1)])
    trials = pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": seed,
                            "config_json": json.dumps({"train": {"epochs": budget}})} for arm, seed in curves])
    return epochs, trials


def test_the_first_epoch_reaching_the_target_and_never_for_a_run_that_does_not():
    epochs, trials = stored({("a", 0): [0.5, 0.8, 0.7], ("a", 1): [0.5, 0.6, 0.7], ("a", 2): [0.9]})
    runs = epochs_to_target(epochs, trials, Target("accuracy", "test", 0.8)).set_index("seed")
    assert list(runs["epoch"]) == [2.0, NEVER, 1.0]  # run 2 stopped after 1 epoch, at the target already
    assert list(runs["budget"]) == [5, 5, 5]


def test_a_loss_target_is_reached_at_or_below_it():
    epochs, trials = stored({("a", 0): [2.0, 1.0, 0.4]}, metric="loss")
    assert epochs_to_target(epochs, trials, Target("loss", "test", 1.0))["epoch"].tolist() == [2.0]


def test_the_median_is_never_when_more_than_half_never_reach_the_target():
    found = median_time([1, 2, 3, 4, NEVER, NEVER, NEVER, NEVER, NEVER], budget=10)
    assert found["median"] == NEVER and found["high"] == NEVER
    assert median_time([NEVER] * 4, budget=10) == {"median": NEVER, "low": NEVER, "high": NEVER}
    assert median_time([1, 2, 3, 4, 5, NEVER, NEVER, NEVER, NEVER], budget=10)["median"] == 5  # 5 of 9 reach it


def greenwood_log_log(times: list, confidence: float = 0.95) -> tuple:
    """The Kaplan-Meier survival function of uncensored distinct `times` (n runs, those beyond never) and its
    log-log band, from the textbook formulas (Greenwood's variance), apart from scipy."""
    n, z = len(times), stats.norm.ppf((1 + confidence) / 2)
    survival, low, high, at_risk, greenwood = [], [], [], n, 0.0
    for _ in range(sum(t != NEVER for t in times)):  # each reached time, in order, one run reaching it
        greenwood += 1 / (at_risk * (at_risk - 1))
        at_risk -= 1
        s = at_risk / n
        spread = z * math.sqrt(greenwood) / abs(math.log(s))
        survival.append(s), low.append(s ** math.exp(spread)), high.append(s ** math.exp(-spread))
    return survival, low, high


def test_the_interval_is_where_greenwood_s_log_log_band_crosses_one_half():
    times = [1, 2, 3, 4, 5, 6, 7, 8, 9, NEVER]  # one run of ten never reaches the target
    survival, low, high = greenwood_log_log(times)
    first = lambda curve: 1 + next(i for i, s in enumerate(curve) if s <= 0.5)  # noqa: E731 (epoch i + 1)
    expected = {"median": first(survival), "low": first(low), "high": first(high)}
    assert expected == {"median": 5, "low": 1, "high": 8}
    assert median_time(times, budget=10) == expected


def test_the_median_s_interval_holds_the_true_median_about_95_percent_of_the_time():
    """Exponential times (median 10), a budget of 25 epochs that 17% never reach in, 30 runs: over 400 samples the
    interval holds the true median 93-98% of the time (96.5% here)."""
    rng, truth, held = np.random.default_rng(4), 10.0, 0
    for _ in range(400):
        times = rng.exponential(truth / math.log(2), 30)
        found = median_time(np.where(times <= 25, times, NEVER), budget=25)
        held += found["low"] <= truth <= found["high"]
    assert 0.93 * 400 <= held <= 0.98 * 400, held


def test_a_study_without_a_target_is_refused_with_the_ones_that_have_one():
    with pytest.raises(ConfigError, match="declares no time-to-target target; valid: optimizers"):
        study_target("fit_basics", None)
    assert study_target("optimizers", None) == Target("accuracy", "test", 0.85)
