"""Curve features (studies/config/features.py) on hand-made curves whose answer is known, through point_values as the
verdicts call it, on frames shaped like the store's (tests/test_stats.py builds them the same way)."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from studies.config.features import FALL, SEPARATION_WINDOW, TURN_WINDOW, is_feature
from studies.stats.across_seeds import point_values

N = 20  # epochs of the separation curves


def epochs_frame(curves: dict) -> pd.DataFrame:
    """curves: {trial_id: {(metric, split): values by epoch from 1}} -> the store's epochs rows."""
    rows = []
    for seed, (trial, by_curve) in enumerate(curves.items()):
        for (metric, split), values in by_curve.items():
            rows += [{"trial_id": trial, "arm": f"arm_{trial}", "seed": seed, "epoch": epoch, "metric": metric,
                      "split": split, "value": float(value)} for epoch, value in enumerate(values, start=1)]
    return pd.DataFrame(rows)


def trials_frame(runs: dict) -> pd.DataFrame:
    """runs: {trial_id: dict(stop, best, epochs, final)} -> the store's trials rows (the columns features read)."""
    return pd.DataFrame([{"trial_id": trial, "arm": f"arm_{trial}", "seed": seed,
                          "stop_epoch": run.get("stop", 1), "best_epoch": run.get("best", 1),
                          "config_json": json.dumps({"train": {"epochs": run.get("epochs", 1)}}),
                          "final_json": json.dumps(run.get("final", {}))}
                         for seed, (trial, run) in enumerate(runs.items())])


def feature(curves: dict, metric: str, split: str, point: str, runs: dict | None = None) -> dict:
    """{trial_id: the feature's value}."""
    epochs = epochs_frame(curves)
    trials = trials_frame(runs or dict.fromkeys(curves, {}))
    values = point_values(epochs, trials, metric, split, point)
    assert list(values.columns) == ["trial_id", "arm", "seed", "value"]
    return dict(zip(values["trial_id"], values["value"]))


def gap_curves(**gaps) -> dict:
    """Train and test accuracy whose train - test gap is `gaps[trial]`: test flat at 0.5, train 0.5 + gap."""
    return {trial: {("accuracy", "train"): 0.5 + np.asarray(gap, dtype=float), ("accuracy", "test"): [0.5] * len(gap)}
            for trial, gap in gaps.items()}


def below_then_above(k: int, below: float = -0.01, above: float = 0.05, n: int = N) -> np.ndarray:
    """A gap of `below` up to epoch k - 1, `above` from epoch k to the end."""
    return np.array([below] * (k - 1) + [above] * (n - k + 1))


# separation_epoch / separated ------------------------------------------------------------------------------------

def test_curves_that_part_for_good_from_epoch_k_separate_at_k():
    gaps = gap_curves(early=below_then_above(3), late=below_then_above(14), first=below_then_above(1))
    assert feature(gaps, "accuracy", "train-test", "separation_epoch") == {"early": 3, "late": 14, "first": 1}
    assert feature(gaps, "accuracy", "train-test", "separated") == {"early": 1, "late": 1, "first": 1}


def test_a_gap_that_opens_briefly_and_closes_again_does_not_count():
    gap = np.array([-0.01] * 4 + [0.05] * 3 + [-0.01] * 7 + [0.05] * 6)  # open at 5-7, closed 8-14, open from 15
    assert feature(gap_curves(run=gap), "accuracy", "train-test", "separation_epoch") == {"run": 15}


def test_curves_that_never_part_get_the_run_length_plus_one_and_are_not_separated():
    gaps = gap_curves(never=[-0.01] * N, short=[-0.02] * 7, zero=[0.0] * N)  # 0: train on test, not above it
    assert feature(gaps, "accuracy", "train-test", "separation_epoch") == {"never": N + 1, "short": 8, "zero": N + 1}
    assert feature(gaps, "accuracy", "train-test", "separated") == {"never": 0, "short": 0, "zero": 0}


def test_a_single_positive_spike_among_negative_gaps_does_not_separate():
    middle, last = np.full(N, -0.01), np.full(N, -0.01)
    middle[9] = 0.03  # epoch 10
    last[-1] = 0.03  # the last epoch: nothing after it closes the gap again, the window averages it away
    gaps = gap_curves(middle=middle, last=last)
    assert feature(gaps, "accuracy", "train-test", "separation_epoch") == {"middle": N + 1, "last": N + 1}
    assert feature(gaps, "accuracy", "train-test", "separated") == {"middle": 0, "last": 0}


def test_a_single_negative_dip_after_the_curves_part_does_not_join_them_again():
    gap = below_then_above(8)
    gap[13] = -0.02  # epoch 14: one epoch of test above train
    assert feature(gap_curves(run=gap), "accuracy", "train-test", "separation_epoch") == {"run": 8}


def test_the_window_ends_at_the_epoch_so_equal_gaps_either_side_part_late():
    """The gap averaged over the SEPARATION_WINDOW epochs ending at an epoch: -0.05 up to epoch 7 and +0.05 from
    epoch 8 averages above 0 only from epoch 10, where three of the five epochs are above."""
    assert SEPARATION_WINDOW == 5
    gap = below_then_above(8, below=-0.05, above=0.05)
    assert feature(gap_curves(run=gap), "accuracy", "train-test", "separation_epoch") == {"run": 10}


# turn_up_epoch ---------------------------------------------------------------------------------------------------

def v_shaped_loss(turn: int = 120, epochs: int = 300, parity: int = 0) -> np.ndarray:
    """A loss falling 0.01 an epoch to `turn` and rising 0.01 an epoch after it, +-0.003 alternately every epoch."""
    epoch = np.arange(1, epochs + 1)
    return 1 + 0.01 * np.abs(epoch - turn) + 0.003 * (-1.0) ** (epoch + parity)


@pytest.mark.parametrize("parity", [0, 1])
def test_a_noisy_v_shaped_loss_turns_up_at_its_smoothed_minimum(parity):
    loss = v_shaped_loss(parity=parity)
    loss[59] = 0.5  # epoch 60: one epoch far below the turn, the raw minimum
    loss[114] = 0.9  # epoch 115: one epoch below the turn, close to it
    loss[205] = 0.8  # epoch 206: one epoch low while rising
    assert loss.argmin() + 1 == 60
    assert feature({"run": {("loss", "val"): loss}}, "loss", "val", "turn_up_epoch") == {"run": 120}


def test_turn_up_epoch_is_read_per_run_and_a_loss_that_keeps_falling_turns_up_at_its_last_epoch():
    curves = {"early": {("loss", "val"): v_shaped_loss(turn=40, epochs=100)},
              "late": {("loss", "val"): v_shaped_loss(turn=200, epochs=260)},
              "falling": {("loss", "val"): np.linspace(2.0, 1.0, 50)},
              "rising": {("loss", "val"): np.linspace(1.0, 2.0, 50)}}
    assert TURN_WINDOW == 21
    assert feature(curves, "loss", "val", "turn_up_epoch") == {"early": 40, "late": 200, "falling": 50, "rising": 1}


# falls -----------------------------------------------------------------------------------------------------------

def test_falls_count_drops_of_more_than_one_point_and_not_of_exactly_one():
    assert FALL == 0.01
    accuracy = [0.80, 0.85, 0.83, 0.84, 0.83, 0.82, 0.70, 0.75, 0.8412, 0.8311]
    # +0.05, -0.02 (falls), +0.01, -0.01 (exactly one point), -0.01 (again), -0.12 (falls), +0.05, +0.0912,
    # -0.0101 (falls: 101 images of 10,000)
    stored32 = np.asarray(accuracy, dtype=np.float32).astype(float)  # as Keras logs it: float32 widened
    curves = {"exact": {("accuracy", "test"): accuracy}, "float32": {("accuracy", "test"): stored32},
              "rising": {("accuracy", "test"): np.linspace(0.1, 0.9, 9)}, "one": {("accuracy", "test"): [0.5]}}
    assert feature(curves, "accuracy", "test", "falls") == {"exact": 3, "float32": 3, "rising": 0, "one": 0}


@pytest.mark.parametrize("high, low", [(0.5, 0.49), (0.85, 0.84), (0.8512, 0.8412), (0.1, 0.09), (1.0, 0.99)])
def test_a_fall_of_exactly_one_point_is_not_counted_whatever_its_rounding(high, low):
    for dtype in (np.float64, np.float32):
        curve = np.asarray([high, low], dtype=dtype).astype(float)
        assert feature({"run": {("accuracy", "test"): curve}}, "accuracy", "test", "falls") == {"run": 0}


# mean ------------------------------------------------------------------------------------------------------------

def test_mean_is_the_mean_over_the_epochs_each_run_ran():
    curves = {"four": {("loss", "train"): [1.0, 2.0, 3.0, 6.0]}, "two": {("loss", "train"): [5.0, 1.0]},
              "other_split": {("loss", "test"): [9.0, 9.0]}}
    assert feature(curves, "loss", "train", "mean") == {"four": 3.0, "two": 3.0}


def test_curve_features_read_the_curve_in_epoch_order_however_the_rows_are_stored():
    epochs = epochs_frame({"run": {("accuracy", "test"): [0.5, 0.6, 0.4, 0.7]}}).iloc[::-1]
    trials = trials_frame({"run": {}})
    assert point_values(epochs, trials, "accuracy", "test", "falls")["value"].tolist() == [1.0]


# epochs_after_best -----------------------------------------------------------------------------------------------

def test_epochs_after_best_is_stop_minus_best_and_nan_where_the_run_used_all_its_epochs():
    runs = {"stopped": {"stop": 40, "best": 38, "epochs": 100}, "patience_0": {"stop": 50, "best": 49, "epochs": 3000},
            "ran_out": {"stop": 100, "best": 90, "epochs": 100},
            "ran_out_at_best": {"stop": 15, "best": 15, "epochs": 15}}
    values = feature(dict.fromkeys(runs, {}), "loss", "val", "epochs_after_best", runs)
    assert values["stopped"] == 2 and values["patience_0"] == 1
    assert math.isnan(values["ran_out"]) and math.isnan(values["ran_out_at_best"])


def test_epochs_after_best_is_nan_where_the_store_has_no_best_epoch():
    trials = trials_frame({"a": {"stop": 10, "best": 7, "epochs": 50}, "b": {"stop": 10, "epochs": 50}})
    trials["best_epoch"] = [7.0, math.nan]  # a null int64 column reads back as float with NaN
    values = point_values(pd.DataFrame(columns=["trial_id", "arm", "seed", "epoch", "metric", "split", "value"]),
                          trials, "loss", "val", "epochs_after_best")["value"].tolist()
    assert values[0] == 3 and math.isnan(values[1])


# evaluate_gap:METRIC ---------------------------------------------------------------------------------------------

def test_evaluate_gap_is_the_claims_metric_minus_the_other_from_evaluate():
    runs = {"equal": {"final": {"predict_argmax_accuracy": 0.8512, "accuracy": 0.8512}},
            "apart": {"final": {"predict_argmax_accuracy": 0.85, "accuracy": 0.84, "loss": 0.4}},
            "missing": {"final": {"accuracy": 0.84}}}
    values = feature(dict.fromkeys(runs, {}), "predict_argmax_accuracy", "test", "evaluate_gap:accuracy", runs)
    assert values["equal"] == 0 and values["apart"] == pytest.approx(0.01) and math.isnan(values["missing"])
    assert feature(dict.fromkeys(runs, {}), "loss", "test", "evaluate_gap:accuracy", runs)["apart"] == pytest.approx(
        0.4 - 0.84)


@pytest.mark.parametrize("point, expected", [("mean", True), ("separation_epoch", True), ("separated", True),
                                             ("turn_up_epoch", True), ("falls", True), ("epochs_after_best", True),
                                             ("evaluate_gap:accuracy", True), ("final", False), ("best_epoch", False),
                                             ("epoch:3", False), ("evaluate", False)])
def test_is_feature_names_the_features_and_nothing_else(point, expected):
    assert is_feature(point) is expected
