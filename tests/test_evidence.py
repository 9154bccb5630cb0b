"""The per-seed evidence of a claim: the probability of improvement (rliable's, ties counting half) with its
bootstrap interval, which side of a metric is better, and the figure, robust to missing values."""
import math

import numpy as np
import pandas as pd
import pytest

from studies.contract import Claim
from studies.evidence import evidence_figure, improvement_texts, probability_of_improvement


def test_probability_of_improvement_matches_a_hand_count_with_ties_counting_half():
    # a = 1 beats one of b's three values, a = 2 beats one and ties two, a = 3 beats all: (1 + 2 + 3) / 9
    result = probability_of_improvement([1, 2, 3], [2, 2, 0])
    assert result["probability"] == pytest.approx(6 / 9) and result["n"] == (3, 3)
    assert probability_of_improvement([1, 1], [1, 1])["probability"] == 0.5
    assert probability_of_improvement([5, 6, math.nan], [1, 2])["probability"] == 1.0  # NaN left out


@pytest.mark.parametrize("a, b", [([1, 2, 3], [2, 2, 0]), ([0.81, 0.8, 0.82, 0.79, 0.8], [0.8, 0.78, 0.83, 0.8, 0.77]),
                                  ([3, 4, 5], [0, 1, 2]), ([1, 1, 1], [1, 1, 1]), ([1, 9], [5, 5, 5, 5])])
def test_the_interval_lies_in_0_1_and_holds_the_estimate(a, b):
    result = probability_of_improvement(a, b)
    assert 0 <= result["low"] <= result["probability"] <= result["high"] <= 1
    assert result == probability_of_improvement(a, b)  # a fixed generator: a rebuilt report says the same


def test_no_interval_from_a_single_seed_and_nothing_from_no_values():
    single = probability_of_improvement([2.0], [1.0])
    assert single["probability"] == 1.0 and math.isnan(single["low"]) and math.isnan(single["high"])
    assert math.isnan(probability_of_improvement([], [1.0, 2.0])["probability"])


def values(by_arm: dict) -> pd.DataFrame:
    return pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": seed, "value": value}
                         for arm, numbers in by_arm.items() for seed, value in enumerate(numbers)])


def claim(metric="loss", point="final", split="test", versus=("b",)):
    return Claim("c", "A beats B", metric=metric, split=split, point=point, relation="<", arms=("a",), versus=versus)


LOWER_A = values({"a": [0.1, 0.2, 0.3], "b": [0.4, 0.5, 0.25]})  # a lower in 8 of 9 pairs


def test_beats_follows_the_metric_and_epochs_read_plainly_greater():
    assert improvement_texts(claim("loss"), LOWER_A) == ["P(a beats b) = 0.89 [0.56, 1.00]"]
    assert improvement_texts(claim("mean_absolute_error"), LOWER_A)[0].startswith("P(a beats b) = 0.89")
    assert improvement_texts(claim("accuracy"), LOWER_A)[0].startswith("P(a beats b) = 0.11")
    assert improvement_texts(claim("loss", point="stop"), LOWER_A)[0].startswith("P(a > b) = 0.11")
    assert improvement_texts(claim("accuracy", split="train-test"), LOWER_A)[0].startswith("P(a > b) = 0.11")


def test_one_text_per_pair_and_none_for_a_claim_on_one_arm():
    three = values({"a": [1, 2], "b": [3, 4], "c": [0, 0]})
    assert [text.split(" =")[0] for text in improvement_texts(claim(versus=("b", "c")), three)] == [
        "P(a beats b)", "P(a beats c)"]
    one = Claim("c", "A near 1", metric="loss", split="test", point="final", relation="approx", arms=("a",), value=1)
    assert improvement_texts(one, three) == []


def test_missing_arms_single_seeds_and_diverged_values_are_said_not_computed(tmp_path):
    assert improvement_texts(claim(), values({"a": [1.0, 2.0]})) == ["P(a beats b): no values of b"]
    assert improvement_texts(claim(), values({"a": [1.0], "b": [2.0]})) == [
        "P(a beats b) = 1.00 (a single seed: no interval)"]
    ragged = values({"a": [0.1, np.nan, 0.3], "b": [0.4, 0.5, np.nan]})
    texts = improvement_texts(claim(versus=("b", "c")), ragged)
    assert texts[0].startswith("P(a beats b) = 1.00 [") and texts[1] == "P(a beats c): no values of c"
    paths = evidence_figure(claim(versus=("b", "c")), ragged, texts, "toy context", tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in paths] == ["claims/c.png", "claims/c.svg"]
    assert all(path.stat().st_size > 5_000 for path in paths)
    assert evidence_figure(claim(), values({}).reindex(columns=["arm", "seed", "value"]), [], "", tmp_path)
