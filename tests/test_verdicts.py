"""Verdicts on synthetic trial tables with known answers."""
import numpy as np
import pandas as pd
import pytest

from studies.contract import Claim
from studies.verdicts import holm, judge, paired_test


def tables(values_by_arm: dict, metric="loss", split="train"):
    """Final-epoch values per arm and seed as tidy epochs/trials tables (2 epochs each)."""
    epochs, trials = [], []
    for arm, values in values_by_arm.items():
        for seed, value in enumerate(values):
            trial = f"{arm}-{seed}"
            epochs += [{"trial_id": trial, "arm": arm, "seed": seed, "epoch": e, "split": split, "metric": metric,
                        "value": v} for e, v in ((1, value + 1.0), (2, value))]
            trials.append({"trial_id": trial, "arm": arm, "seed": seed, "stop_epoch": 2, "final_json": "{}"})
    return pd.DataFrame(epochs), pd.DataFrame(trials)


def claim(relation, **changes):
    fields = dict(id="c", text="t", metric="loss", split="train", point="final", relation=relation,
                  arms=("a",), versus=("b",))
    return Claim(**{**fields, **changes})


def test_holm_adjusts_step_down_and_keeps_order():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert np.isnan(holm([np.nan, 0.2])[0]) and holm([np.nan, 0.2])[1] == pytest.approx(0.2)


def test_planted_effect_passes_and_the_opposite_fails():
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0, 1.0, 5)  # large between-seed noise, removed by pairing
    a, b = seed_effect + rng.normal(0, 0.01, 5), seed_effect + 0.2 + rng.normal(0, 0.01, 5)
    epochs, trials = tables({"a": a, "b": b})
    assert judge([claim("<")], epochs, trials)["verdict"].item() == "PASS"
    assert judge([claim(">")], epochs, trials)["verdict"].item() == "FAIL"
    assert judge([claim("lowest")], epochs, trials)["verdict"].item() == "PASS"


def test_noise_without_effect_is_inconclusive():
    rng = np.random.default_rng(2)
    epochs, trials = tables({"a": rng.normal(0, 1, 5), "b": rng.normal(0, 1, 5)})
    assert judge([claim("<")], epochs, trials)["verdict"].item() == "INCONCLUSIVE"


def test_paired_test_flags_a_null_effect_at_about_the_stated_rate():
    rng = np.random.default_rng(3)
    rejections = [paired_test(rng.normal(0, 1, 5)) < 0.05 for _ in range(4000)]
    assert 0.04 <= np.mean(rejections) <= 0.06


def test_paired_test_detects_a_planted_effect_most_of_the_time():
    rng = np.random.default_rng(4)
    assert np.mean([paired_test(rng.normal(2.0, 1, 5)) < 0.05 for _ in range(1000)]) > 0.8


def test_holm_is_applied_across_the_claims_of_a_study():
    rng = np.random.default_rng(5)
    base = rng.normal(0, 1, 5)
    # three weak effects, each p ~ 0.03 alone: none survives Holm's correction over the three
    weak = np.array([-0.1, -0.2, -0.02, -0.15, -0.05])  # paired t-test p = 0.033
    epochs, trials = tables({"a": base + weak, "b": base, "c": base + weak[::-1], "d": base + weak[[1, 0, 3, 2, 4]]})
    claims = [claim("<"), claim("<", id="c2", arms=("c",)), claim("<", id="c3", arms=("d",))]
    assert [judge([c], epochs, trials)["verdict"].item() for c in claims] == ["PASS"] * 3
    assert judge(claims, epochs, trials)["verdict"].tolist() == ["INCONCLUSIVE"] * 3


def test_equal_and_approx_use_the_confidence_interval():
    epochs, trials = tables({"a": [0.55, 0.56, 0.54, 0.55, 0.55], "b": [0.55, 0.56, 0.54, 0.55, 0.55]})
    assert judge([claim("equal", tolerance=1e-6)], epochs, trials)["verdict"].item() == "PASS"
    near = judge([claim("approx", versus=(), value=0.55, tolerance=0.05)], epochs, trials)
    far = judge([claim("approx", versus=(), value=2.3, tolerance=0.05)], epochs, trials)
    wide = judge([claim("approx", versus=(), value=0.55, tolerance=0.005)], epochs, trials)
    assert (near["verdict"].item(), far["verdict"].item(), wide["verdict"].item()) == ("PASS", "FAIL", "INCONCLUSIVE")
    assert "n=5" in near["measured"].item()


def test_unequal_stop_epochs_are_judged_on_the_stop_point():
    epochs, trials = tables({"a": [1, 2, 3], "b": [1, 2, 3]})
    trials.loc[trials["arm"] == "a", "stop_epoch"] = [38, 41, 44]
    verdict = judge([claim("approx", point="stop", versus=(), value=40, tolerance=10)], epochs, trials)
    assert verdict["verdict"].item() == "PASS" and "41" in verdict["measured"].item()


def test_a_claim_on_an_arm_that_always_diverged_says_so():
    epochs, trials = tables({"a": [1.0, 1.1, 0.9]})
    verdicts = judge([claim("<"), claim("<", id="c2", versus=("z",))], epochs, trials, diverged={"b"})
    assert verdicts["verdict"].tolist() == ["DIVERGED", "NOT RUN"]
