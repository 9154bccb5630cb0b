"""The per-seed evidence of a claim: the paired probability of improvement (ties counting half) with its exact
interval at the deciding look's level, which side of a metric is better, only the seeds of the look that decided
the claim, and the figure: seeds in numeric order, arms as points, robust to missing values."""
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from studies.config.contract import Claim
from studies.report import evidence
from studies.report.evidence import (
    Look,
    claim_evidence,
    deciding_looks,
    draw_seeds,
    evidence_figure,
    improvement_texts,
    paired_improvement,
    seed_points,
    seeds_line,
)


def test_seed_by_seed_a_beats_b_where_over_all_pairs_it_would_not():
    """A loses to B on seeds 0 and 1 and wins seed 2 by far: over all 9 pairs of seeds A wins 6 (Mann-Whitney,
    rliable's unpaired probability 0.67), seed by seed it wins 1 of 3."""
    a, b = [10, 20, 30], [11, 21, 5]
    assert stats.mannwhitneyu(a, b).statistic / 9 == pytest.approx(6 / 9)
    result = paired_improvement(a, b)
    assert result["probability"] == pytest.approx(1 / 3) and (result["wins"], result["ties"], result["n"]) == (1, 0, 3)
    exact = stats.binomtest(1, 3).proportion_ci(0.95, method="exact")
    assert (result["low"], result["high"]) == pytest.approx((exact.low, exact.high))
    assert paired_improvement([1, 2, 3], [0, 1, 2])["probability"] == 1.0  # unpaired: 7/9


def test_ties_count_half_and_the_interval_is_the_untied_seeds_carried_to_the_share():
    # seed 0 won, seed 1 tied, seed 2 won, seed 3 lost; seed 4 has no value of b and is left out
    result = paired_improvement([1, 2, 3, 4, 9], [0, 2, 2, 5, math.nan])
    assert result["probability"] == pytest.approx(2.5 / 4)
    assert (result["wins"], result["ties"], result["n"]) == (2, 1, 4)
    untied = stats.binomtest(2, 3).proportion_ci(0.95, method="exact")
    assert (result["low"], result["high"]) == pytest.approx((0.75 * untied.low + 0.125, 0.75 * untied.high + 0.125))
    assert paired_improvement([1, 1], [1, 1]) == {"probability": 0.5, "low": 0.5, "high": 0.5, "n": 2, "wins": 0,
                                                 "ties": 2}  # every seed tied: exactly a half
    assert math.isnan(paired_improvement([1.0, math.nan], [math.nan, 2.0])["probability"])  # no seed has both


@pytest.mark.parametrize("a, b", [([1, 2, 3], [2, 2, 0]), ([0.81, 0.8, 0.82, 0.79, 0.8], [0.8, 0.78, 0.83, 0.8, 0.77]),
                                  ([3, 4, 5], [0, 1, 2]), ([1, 1, 1], [1, 1, 1]), ([2.0], [1.0])])
def test_the_interval_lies_in_0_1_holds_the_estimate_and_widens_with_the_level(a, b):
    usual, strict = paired_improvement(a, b), paired_improvement(a, b, confidence=1 - 2 * 0.0056)
    assert 0 <= usual["low"] <= usual["probability"] <= usual["high"] <= 1
    assert strict["low"] <= usual["low"] and usual["high"] <= strict["high"]


def values(by_arm: dict, seeds=None) -> pd.DataFrame:
    return pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": seed, "value": value}
                         for arm, numbers in by_arm.items() for seed, value in zip(seeds or range(99), numbers)])


def claim(metric="loss", point="final", split="test", versus=("b",)):
    return Claim("c", "A beats B", metric=metric, split=split, point=point, relation="<", arms=("a",), versus=versus)


LOWER_A = values({"a": [0.1, 0.2, 0.3], "b": [0.4, 0.5, 0.25]})  # a lower on seeds 0 and 1


def test_beats_follows_the_metric_and_epochs_read_plainly_greater():
    assert improvement_texts(claim("loss"), LOWER_A) == ["P(a beats b) = 0.67 [0.09, 0.99] (2 of 3 seeds; 95% CI)"]
    assert improvement_texts(claim("mean_absolute_error"), LOWER_A)[0].startswith("P(a beats b) = 0.67")
    assert improvement_texts(claim("accuracy"), LOWER_A)[0].startswith("P(a beats b) = 0.33")
    assert improvement_texts(claim("loss", point="stop"), LOWER_A)[0].startswith("P(a > b) = 0.33")
    assert improvement_texts(claim("accuracy", split="train-test"), LOWER_A)[0].startswith("P(a > b) = 0.33")


def test_seeds_are_paired_by_number_not_by_row_and_the_level_is_said():
    shuffled = LOWER_A.iloc[[5, 0, 3, 2, 4, 1]]
    assert improvement_texts(claim(), shuffled) == improvement_texts(claim(), LOWER_A)
    assert improvement_texts(claim(), LOWER_A, confidence=1 - 2 * 0.0056) == [
        "P(a beats b) = 0.67 [0.04, 1.00] (2 of 3 seeds; 98.88% CI)"]
    tied = values({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 4.0]})
    assert improvement_texts(claim(), tied)[0].endswith("(1 of 3 seeds, 2 tied; 95% CI)")


def test_one_text_per_pair_and_none_for_a_claim_on_one_arm():
    three = values({"a": [1, 2], "b": [3, 4], "c": [0, 0]})
    assert [text.split(" =")[0] for text in improvement_texts(claim(versus=("b", "c")), three)] == [
        "P(a beats b)", "P(a beats c)"]
    one = Claim("c", "A near 1", metric="loss", split="test", point="final", relation="approx", arms=("a",), value=1)
    assert improvement_texts(one, three) == []


def test_missing_arms_unshared_seeds_and_diverged_values_are_said_not_computed(tmp_path):
    assert improvement_texts(claim(), values({"a": [1.0, 2.0]})) == ["P(a beats b): no values of b"]
    apart = pd.concat([values({"a": [1.0]}, seeds=[0]), values({"b": [2.0]}, seeds=[1])])
    assert improvement_texts(claim(), apart) == ["P(a beats b): no seed with values of both"]
    ragged = values({"a": [0.1, np.nan, 0.3], "b": [0.4, 0.5, np.nan]})
    texts = improvement_texts(claim(versus=("b", "c")), ragged)
    assert texts == ["P(a beats b) = 1.00 [0.03, 1.00] (1 of 1 seeds; 95% CI)", "P(a beats c): no values of c"]
    paths = evidence_figure(claim(versus=("b", "c")), ragged, texts, "toy context", tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in paths] == ["claims/c.png", "claims/c.svg"]
    assert all(path.stat().st_size > 5_000 for path in paths)
    assert evidence_figure(claim(), values({}).reindex(columns=["arm", "seed", "value"]), [], "", tmp_path)
    assert evidence_figure(claim(), values({"a": [1.0], "b": [2.0]}), [], "", tmp_path)  # one seed: nothing to dodge


def test_seeds_are_drawn_in_numeric_order_as_points_with_no_line_between_arms():
    """Seeds stored in the order 10, 2, 0, 1: the legend reads 0, 1, 2, 10; each seed sits at the same offset
    within both arms, and nothing joins the arms (categories, not a scale)."""
    points = seed_points(values({"a": [5, 6, 7, 8], "b": [6, 7, 8, 9]}, seeds=[10, 2, 0, 1]), ["a", "b"])
    assert list(points["seed"].unique()) == ["0", "1", "2", "10"]
    figure, axis = plt.subplots()
    draw_seeds(axis, points, ["a", "b"])
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["0", "1", "2", "10"]
    seeds = [line for line in axis.lines if len(line.get_xdata())]  # the rest: the legend's markers
    assert len(seeds) == 4 and all(line.get_linestyle() == "None" for line in seeds)
    offsets = [line.get_xdata() - [0, 1] for line in seeds]  # a seed's position within arm a and within arm b
    assert all(offset[0] == pytest.approx(offset[1]) for offset in offsets)
    assert len({round(offset[0], 6) for offset in offsets}) == 4  # each seed in its own slot
    plt.close(figure)


def verdicts_table(rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"claim": claim_id, "verdict": verdict, "look_seeds": seeds, "alpha": alpha}
                         for claim_id, (verdict, seeds, alpha) in rows.items()])


def test_the_deciding_look_comes_from_the_verdicts_and_is_named_in_the_figure():
    looks = deciding_looks(verdicts_table({"c": ("PASS", 10, 0.0056), "d": ("INCONCLUSIVE", 30, 0.05)}), 0)
    assert looks == {"c": Look(0, 10, 0.0056), "d": Look(0, 30, 0.05, decided=False)}
    assert looks["c"].confidence == pytest.approx(0.9888)
    assert seeds_line(looks["c"]) == "seeds 0-9 (the look that decided it, at alpha 0.0056)"
    assert seeds_line(Look(5, 1, 0.05, decided=False)) == (
        "seed 5 (its last look, which left it INCONCLUSIVE, at alpha 0.05)")
    assert seeds_line(None) == "every stored seed (95% intervals)"
    assert deciding_looks(verdicts_table({"c": ("PASS", 3, 0.05)}).drop(columns=["look_seeds", "alpha"]), 0) == {}


def toy_run(first_seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(epochs, trials): a's final loss below b's on the first three seeds; on the three after them, which no
    look judged, far above."""
    finals = {"a": [0.1, 0.2, 0.3, 9.0, 9.0, 9.0], "b": [0.4, 0.5, 0.6, 0.0, 0.0, 0.0]}
    epochs = pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": first_seed + seed, "epoch": 1,
                            "split": "test", "metric": "loss", "value": value}
                           for arm, numbers in finals.items() for seed, value in enumerate(numbers)])
    return epochs, epochs[["trial_id", "arm", "seed"]]


@pytest.mark.parametrize("first_seed", [0, 7])
def test_a_claim_s_evidence_comes_from_the_seeds_of_its_deciding_look_only(tmp_path, monkeypatch, first_seed):
    drawn = []
    monkeypatch.setattr(evidence, "draw_seeds", lambda axis, points, arms: drawn.append(points))
    epochs, trials = toy_run(first_seed)
    look = Look(first_seed, 3, 0.0056)
    found, written = claim_evidence((claim(),), epochs, trials, "toy", tmp_path, {"c": look})
    assert found["c"]["improvement"] == "P(a beats b) = 1.00 [0.18, 1.00] (3 of 3 seeds; 98.88% CI)"
    assert sorted(drawn[0]["seed"].astype(int)) == [first_seed + seed for seed in (0, 0, 1, 1, 2, 2)]
    assert drawn[0]["value"].max() < 1  # the later seeds' 9.0 is not drawn
    every, _ = claim_evidence((claim(),), epochs, trials, "toy", tmp_path)
    assert every["c"]["improvement"].startswith("P(a beats b) = 0.50 [")  # all six seeds, without a look
    assert [path.relative_to(tmp_path).as_posix() for path in written] == ["claims/c.png", "claims/c.svg"]
