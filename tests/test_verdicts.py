"""Verdicts on synthetic trial tables with known answers: one test per kind of claim and per hard case."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from studies.config.contract import KINDS, Claim
from studies.stats.verdicts import RULES, VERDICTS, holm, judge, sign_flip_interval, sign_flip_p, sign_patterns

WEAK = np.array([-0.1, -0.2, -0.01, -0.15, -0.05])  # one-sided sign-flip p = 2^-5 = 0.031, the least 5 seeds give


def curves_tables(curves_by_arm: dict, metric="loss", split="train"):
    """Tidy epochs/trials tables from {arm: [curve of seed 0, curve of seed 1, ...]}, a curve a list per epoch."""
    epochs, trials = [], []
    for arm, curves in curves_by_arm.items():
        for seed, curve in enumerate(curves):
            trial = f"{arm}-{seed}"
            epochs += [{"trial_id": trial, "arm": arm, "seed": seed, "epoch": epoch, "split": split, "metric": metric,
                        "value": value} for epoch, value in enumerate(curve, start=1)]
            trials.append({"trial_id": trial, "arm": arm, "seed": seed, "stop_epoch": len(curve), "final_json": "{}"})
    return pd.DataFrame(epochs), pd.DataFrame(trials)


def tables(values_by_arm: dict, metric="loss", split="train"):
    """Final values per arm and seed, as 2-epoch curves ending at them."""
    return curves_tables({arm: [[value + 1.0, value] for value in values] for arm, values in values_by_arm.items()},
                         metric, split)


def claim(relation, **changes):
    fields = dict(id="c", text="t", metric="loss", split="train", point="final", relation=relation,
                  arms=("a",), versus=("b",))
    return Claim(**{**fields, **changes})


def one(claims, epochs, trials, **options) -> pd.Series:
    return judge(claims, epochs, trials, **options).iloc[0]


def test_holm_adjusts_step_down_and_keeps_order():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert np.isnan(holm([np.nan, 0.2])[0]) and holm([np.nan, 0.2])[1] == pytest.approx(0.2)


def enumerated_p(differences, null=0.0) -> float:
    """The sign-flip p-value by brute force: every pattern of signs, one at a time."""
    centred = np.asarray(differences, dtype=float) - null
    sums = [np.dot(signs, np.abs(centred)) for signs in itertools.product((1, -1), repeat=len(centred))]
    return float(np.mean(np.asarray(sums) >= centred.sum() - 1e-12))


def test_the_sign_flip_test_counts_every_pattern_as_brute_force_does():
    rng = np.random.default_rng(3)
    cases = ([1, 2, 3, 4, 5], [1, 2, 3, 4, -5], [0, 0, 1], [0.3, -0.3, 0.3, -0.3], rng.exponential(1, 9) - 1)
    for differences in cases:
        assert sign_flip_p(differences) == pytest.approx(enumerated_p(differences), abs=1e-15), differences
        assert sign_flip_p(differences, "less") == pytest.approx(enumerated_p(-np.asarray(differences)), abs=1e-15)
    assert sign_flip_p([1, 2, 3, 4, 5]) == 2 ** -5 and sign_flip_p([0, 0, 1]) == 0.5  # zeros flip to ties
    shifted = rng.normal(0, 1, 8)
    assert sign_flip_p(shifted, "greater", null=-0.4) == enumerated_p(shifted, -0.4) == sign_flip_p(shifted + 0.4)
    rows = rng.normal(0, 1, (6, 8))
    np.testing.assert_array_equal(sign_flip_p(rows, "less"), [sign_flip_p(row, "less") for row in rows])


def test_the_sign_flip_test_is_exact_without_an_effect_whatever_the_shape():
    rng = np.random.default_rng(4)  # exchangeable arms: x - y with x, y exponential, skewed, differences symmetric
    p = sign_flip_p(rng.exponential(1, (20_000, 8)) - rng.exponential(1, (20_000, 8)))
    for level in (0.05, 0.2, 0.5):
        exact = math.floor(level * 2 ** 8) / 2 ** 8  # p is uniform on 1/256, 2/256, ..., 1
        assert abs(np.mean(p <= level) - exact) < 3 * math.sqrt(exact * (1 - exact) / 20_000), level


def test_beyond_16_seeds_random_patterns_estimate_the_exact_p_value_reproducibly():
    differences = np.random.default_rng(5).normal(0.3, 1, 20)
    exact = np.mean(np.abs(differences) @ (1 - 2 * ((np.arange(2 ** 20)[:, None] >> np.arange(20)) & 1)).T
                    >= differences.sum() - 1e-12)
    drawn = sign_flip_p(differences)
    assert len(sign_patterns(20)) == 2 ** 16 and (sign_patterns(20)[0] == 1).all()  # the data's own, then drawn
    assert abs(drawn - exact) < 4 * math.sqrt(exact * (1 - exact) / 2 ** 16) and drawn == sign_flip_p(differences)
    assert sign_flip_p(np.full(20, 0.1)) == 2 ** -16  # the floor: 1 / (65,535 + 1)


def test_only_below_stops_counting_what_cannot_matter():
    rows = np.random.default_rng(6).normal(0.2, 1, (200, 20))
    full, capped = sign_flip_p(rows), sign_flip_p(rows, only_below=0.05)
    np.testing.assert_array_equal(capped[full < 0.05], full[full < 0.05])
    assert (capped[full >= 0.05] == 1).all()
    with pytest.raises(ValueError, match="alternative='two-sided'; valid: greater, less"):
        sign_flip_p(rows, "two-sided")


def test_the_interval_holds_the_centers_the_tests_do_not_reject():
    values = np.random.default_rng(7).normal(1.0, 1, 12)
    low, high = sign_flip_interval(values, 0.025)
    assert low < values.mean() < high
    for center, rejected in ((low - 0.01, True), (low + 0.01, False), (high - 0.01, False), (high + 0.01, True)):
        p = sign_flip_p(values, "greater" if center < values.mean() else "less", null=center)
        assert (p < 0.025) == rejected, center
    assert sign_flip_interval(values[:5], 0.01) == (-math.inf, math.inf)  # 2^-5 > 0.01: no center rejected


def test_ordering_passes_a_planted_effect_fails_the_opposite_and_counts_the_seeds():
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0, 1.0, 5)  # large between-seed noise, removed by pairing
    a, b = seed_effect + rng.normal(0, 0.01, 5), seed_effect + 0.2 + rng.normal(0, 0.01, 5)
    epochs, trials = tables({"a": a, "b": b})
    passed = one([claim("<")], epochs, trials)
    assert (passed["verdict"], passed["seeds"], passed["kind"]) == ("PASS", "5 of 5", "ordering")
    assert passed["measured"].startswith("5 of 5 seeds in the claimed order; supported")
    failed = one([claim(">")], epochs, trials)
    assert failed["verdict"] == "FAIL" and "the opposite order" in failed["measured"] and failed["seeds"] == "0 of 5"
    assert one([claim("lowest")], epochs, trials)["verdict"] == "PASS"


def test_ordering_without_an_effect_is_inconclusive_without_tolerance_and_fails_by_equivalence_with_one():
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, 8)
    epochs, trials = tables({"a": base + rng.normal(0, 0.001, 8), "b": base + rng.normal(0, 0.001, 8)})
    assert one([claim("<")], epochs, trials)["verdict"] == "INCONCLUSIVE"
    equivalent = one([claim("<", tolerance=0.01)], epochs, trials)
    assert equivalent["verdict"] == "FAIL" and "no effect larger than 0.01: a - b (TOST" in equivalent["measured"]


def test_an_exact_zero_difference_in_every_seed_fails_by_equivalence():
    values = [0.3, 0.5, 0.4, 0.6, 0.2]
    epochs, trials = tables({"a": values, "b": values})
    verdict = one([claim("<", tolerance=0.005)], epochs, trials)
    assert verdict["verdict"] == "FAIL"
    assert "no effect larger than 0.005: a - b is 0 in every seed" in verdict["measured"]
    assert verdict["seeds"] == "0 of 5"
    without = one([claim("<")], epochs, trials)  # tolerance 0: no FAIL by equivalence
    assert without["verdict"] == "INCONCLUSIVE" and "not supported at 0.05 (p_holm=1)" in without["measured"]


def test_a_constant_difference_gives_the_least_p_value_n_seeds_allow_never_zero():
    epochs, trials = tables({"a": [0.3, 0.5, 0.4, 0.6, 0.2], "b": [0.4, 0.6, 0.5, 0.7, 0.3]})  # 0.1 apart each seed
    verdict = one([claim("<", tolerance=0.01)], epochs, trials)
    assert verdict["verdict"] == "PASS" and "p_holm=0.0312" in verdict["measured"]
    assert verdict["test"] == "sign-flip permutation (exact, 2^5 patterns)"
    assert one([claim("<", tolerance=0.01)], epochs, trials, alpha=0.01)["verdict"] == "INCONCLUSIVE"  # 2^-5 > 0.01
    near = one([claim("approx", versus=(), value=0.4, tolerance=0.5)], *tables({"a": [0.4] * 5}))
    assert near["verdict"] == "PASS" and near["test"] == "TOST, sign-flip permutation (exact, 2^5 patterns)"


def test_two_seeds_are_inconclusive_with_the_reason(single_run):
    epochs, trials = tables({"a": [0.1, 0.2], "b": [0.1, 0.2]})
    for relation, extra in (("<", {}), ("approx", dict(versus=(), value=0.15, tolerance=1.0)),
                            ("runs_near", dict(versus=(), value=0.15, tolerance=1.0)),
                            ("identical", dict(point="curve")), ("typical", dict(versus=(), value=0.15))):
        verdict = one([claim(relation, **extra)], epochs, trials)
        assert verdict["verdict"] == "INCONCLUSIVE" and "n = 2 seeds, fewer than 3" in verdict["measured"], relation


def test_holm_runs_across_claims_but_not_across_the_pairs_of_one_claim():
    base = np.random.default_rng(5).normal(0, 1, 5)
    others = {"b": base - WEAK, "c": base - WEAK[::-1], "d": base - WEAK[[1, 0, 3, 2, 4]]}  # a - each: p = 0.031
    epochs, trials = tables({"a": base, **others})
    separate = [claim("<", id=f"a_below_{arm}", versus=(arm,)) for arm in others]
    assert [one([c], epochs, trials)["verdict"] for c in separate] == ["PASS"] * 3
    assert judge(separate, epochs, trials)["verdict"].tolist() == ["INCONCLUSIVE"] * 3  # 3 x 0.031 > 0.05
    all_pairs = one([claim("lowest", versus=tuple(others))], epochs, trials)  # every pair at 0.05, no correction
    assert all_pairs["verdict"] == "PASS" and "p_holm=0.0312" in all_pairs["measured"]


def test_holm_runs_across_every_kind_of_claim_for_pass_and_again_for_fail():
    base = np.random.default_rng(5).normal(0, 1, 5)
    epochs, trials = tables({"a": base + WEAK, "b": base, "n": [0.55, 0.56, 0.54, 0.55, 0.57]})
    ordering, near = claim("<"), claim("approx", id="near", arms=("n",), versus=(), value=0.55, tolerance=0.05)
    assert [one([c], epochs, trials)["verdict"] for c in (ordering, near)] == ["PASS", "PASS"]
    assert judge([ordering, near], epochs, trials)["verdict"].tolist() == ["INCONCLUSIVE"] * 2  # 2 x 0.031 > 0.05
    opposite, far = claim(">", id="opposite"), claim("approx", id="far", arms=("n",), versus=(), value=2.3,
                                                      tolerance=0.05)
    assert [one([c], epochs, trials)["verdict"] for c in (opposite, far)] == ["FAIL", "FAIL"]
    assert judge([opposite, far], epochs, trials)["verdict"].tolist() == ["INCONCLUSIVE"] * 2


def test_alpha_decides_a_borderline_case():
    base = np.random.default_rng(6).normal(0, 1, 5)
    epochs, trials = tables({"a": base + WEAK, "b": base})
    assert one([claim("<")], epochs, trials)["verdict"] == "PASS"
    stricter = one([claim("<")], epochs, trials, alpha=0.01)  # 5 seeds cannot go below p = 0.031
    assert stricter["verdict"] == "INCONCLUSIVE" and "not supported at 0.01" in stricter["measured"]


def test_a_seed_where_the_claimed_loser_diverged_counts_for_the_claim_and_is_named():
    rng = np.random.default_rng(7)
    base = rng.normal(0, 1, 8)
    epochs, trials = tables({"a": base, "b": base + 0.2 + rng.normal(0, 0.01, 8)})
    keep = ~((trials["arm"] == "b") & (trials["seed"] == 3))
    epochs, trials = epochs[epochs["trial_id"] != "b-3"], trials[keep]
    verdict = one([claim("<", tolerance=0.01)], epochs, trials, diverged={("b", 3)})
    assert (verdict["verdict"], verdict["seeds"]) == ("PASS", "8 of 8")
    assert verdict["measured"].endswith("seed 3: b diverged (counted as its worst value: it did not learn)")
    assert "(n=7," in verdict["measured"]
    lost = one([claim(">", tolerance=0.01)], epochs, trials, diverged={("b", 3)})  # b claimed the lower loss
    assert lost["verdict"] == "FAIL" and lost["seeds"] == "0 of 8" and "seed 3: b diverged" in lost["measured"]


def test_a_diverged_claimed_winner_bars_support():
    rng = np.random.default_rng(8)
    base = rng.normal(0, 1, 6)
    epochs, trials = tables({"a": base, "b": base + 0.2 + rng.normal(0, 0.01, 6)})
    epochs, trials = epochs[epochs["trial_id"] != "a-5"], trials[trials["trial_id"] != "a-5"]
    verdict = one([claim("<", metric="loss")], epochs, trials, diverged={("a", 5)})  # a NaN loss loses to any
    assert (verdict["verdict"], verdict["seeds"]) == ("INCONCLUSIVE", "5 of 6")
    assert verdict["measured"].endswith("seed 5: a diverged (counted as its worst value: it did not learn)")


def test_approx_is_a_tost_on_the_mean_with_its_interval_shown():
    epochs, trials = tables({"a": [0.55, 0.56, 0.54, 0.55, 0.55]})
    near = one([claim("approx", versus=(), value=0.55, tolerance=0.05)], epochs, trials)
    far = one([claim("approx", versus=(), value=2.3, tolerance=0.05)], epochs, trials)
    wide = one([claim("approx", versus=(), value=0.55, tolerance=0.005)], epochs, trials)
    assert (near["verdict"], far["verdict"], wide["verdict"]) == ("PASS", "FAIL", "INCONCLUSIVE")
    assert near["kind"] == "near" and near["seeds"] == "5 of 5" and far["seeds"] == "0 of 5"
    assert "a: mean 0.55, 90% interval [0.54, 0.56] (n=5)" in near["measured"]  # inverts the tests at 5% each way
    first_look = one([claim("approx", versus=(), value=0.55, tolerance=0.05)], epochs, trials, alpha=0.0014)
    assert first_look["verdict"] == "INCONCLUSIVE"  # 5 seeds cannot show anything at 0.0014 ...
    assert "a: mean 0.55, 99.72% interval [-inf, inf]" in first_look["measured"]  # ... and the interval says so


def test_approx_is_judged_on_the_stop_point_of_unequal_curves():
    epochs, trials = tables({"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 4, 5]})
    trials.loc[trials["arm"] == "a", "stop_epoch"] = [38, 41, 44, 39, 43]
    verdict = one([claim("approx", point="stop", versus=(), value=40, tolerance=10)], epochs, trials)
    assert verdict["verdict"] == "PASS" and "mean 41" in verdict["measured"]


def test_identity_passes_bit_equal_curves_of_every_seed():
    curves = [[2.3 - 0.1 * epoch - 0.01 * seed for epoch in range(6)] for seed in range(5)]
    verdict = one([claim("identical", point="curve")], *curves_tables({"a": curves, "b": curves}))
    assert (verdict["verdict"], verdict["seeds"], verdict["kind"]) == ("PASS", "5 of 5", "identity")
    assert "identical in every seed (bit for bit); largest difference 0 (relative 0)" in verdict["measured"]


def test_identity_fails_on_errors_that_cancel_across_seeds_and_names_the_first():
    curves = [[2.3 - 0.1 * epoch for epoch in range(6)] for _ in range(4)]
    shifted = [[value + (0.02 if seed % 2 else -0.02) * (epoch >= 3) for epoch, value in enumerate(curve)]
               for seed, curve in enumerate(curves)]  # +-0.02 from epoch 4 on: the mean difference is 0
    verdict = one([claim("identical", point="curve")], *curves_tables({"a": shifted, "b": curves}))
    assert verdict["verdict"] == "FAIL" and verdict["seeds"] == "0 of 4"
    assert "seed 0, epoch 4: 0.02 apart (relative 0.01)" in verdict["measured"]
    tolerated = one([claim("identical", point="curve", tolerance=0.03)], *curves_tables({"a": shifted, "b": curves}))
    assert tolerated["verdict"] == "PASS" and "within 0.03" in tolerated["measured"]


def test_identity_fails_where_one_curve_is_longer_or_one_arm_diverged():
    curves = [[1.0, 0.9, 0.8]] * 4
    longer = one([claim("identical", point="curve")], *curves_tables({"a": curves[:3] + [[1.0, 0.9, 0.8, 0.7]],
                                                                       "b": curves}))
    assert longer["verdict"] == "FAIL" and "seed 3, epoch 4: only one arm ran it" in longer["measured"]
    epochs, trials = curves_tables({"a": curves, "b": curves[:3]})
    gone = one([claim("identical", point="curve")], epochs, trials, diverged={("b", 3)})
    assert gone["verdict"] == "FAIL" and gone["seeds"] == "3 of 4" and "seed 3, b diverged" in gone["measured"]


def test_identity_counts_nan_at_the_same_epoch_of_both_arms_as_equal_and_in_one_as_a_difference():
    curves = [[1.0, 0.9, math.nan, math.nan]] * 3
    both = one([claim("identical", point="curve")], *curves_tables({"a": curves, "b": curves}))
    assert both["verdict"] == "PASS" and both["test"] == "curves compared"
    assert "NaN in both arms at 6 epochs, counted equal" in both["measured"]
    one_only = one([claim("identical", point="curve")], *curves_tables({"a": curves, "b": [[1.0, 0.9, 0.8, 0.7]] * 3}))
    assert one_only["verdict"] == "FAIL" and "seed 0, epoch 3: NaN in one arm only" in one_only["measured"]


def test_per_run_property_counts_seeds_with_a_clopper_pearson_interval():
    at_chance = [[0.1, 0.1, 0.1 + 0.001 * seed] for seed in range(5)]
    epochs, trials = curves_tables({"a": at_chance}, metric="accuracy")
    stays = claim("runs_near", metric="accuracy", versus=(), value=0.1, tolerance=0.02, at_least=0.5)
    verdict = one([stays], epochs, trials)  # binomtest: 0.5^5 = 0.031
    assert (verdict["verdict"], verdict["seeds"], verdict["kind"]) == ("PASS", "5 of 5", "per-run")
    assert "90% Clopper-Pearson interval of the share [0.55, 1.00]" in verdict["measured"]
    assert verdict["test"] == "exact binomial"
    assert "99.72% Clopper-Pearson" in one([stays], epochs, trials, alpha=0.0014)["measured"]


def test_late_escapes_from_chance_are_counted_not_averaged_away():
    curves = [[0.1, 0.1, 0.1]] * 3 + [[0.1, 0.1, 0.4], [0.1, 0.1, 0.35]]  # 2 seeds learn in the last epoch
    epochs, trials = curves_tables({"a": curves}, metric="accuracy")
    verdict = one([claim("runs_near", metric="accuracy", versus=(), value=0.1, tolerance=0.02)], epochs, trials)
    assert (verdict["verdict"], verdict["seeds"]) == ("INCONCLUSIVE", "3 of 5")
    assert verdict["measured"].startswith("3 of 5 seeds within 0.1 ± 0.02 (claimed: at least 90%)")


def test_per_run_rule_fails_below_the_interval_and_passes_at_the_share():
    def judged(holding, total, at_least=0.9, diverged=frozenset()):
        curves = [[2.3, 2.3 if seed < holding else 1.0] for seed in range(total)]
        epochs, trials = curves_tables({"a": curves})
        return one([claim("runs_near", versus=(), value=2.3, tolerance=0.01, at_least=at_least)], epochs, trials,
                   diverged=diverged)["verdict"]
    assert judged(1, 5) == "FAIL" and judged(23, 30) == "FAIL" and judged(24, 30) == "INCONCLUSIVE"
    assert judged(30, 30) == "PASS" and judged(29, 30) == "INCONCLUSIVE"  # a share above 90%: 30 of 30 (p = 0.042)
    assert judged(9, 10) == "INCONCLUSIVE" and judged(5, 5, at_least=0.5) == "PASS"


def test_a_diverged_run_is_a_run_where_the_value_is_not_near():
    epochs, trials = curves_tables({"a": [[2.3, 2.3]] * 4})
    verdict = one([claim("runs_near", versus=(), value=2.3, tolerance=0.01)], epochs, trials, diverged={("a", 4)})
    assert (verdict["verdict"], verdict["seeds"]) == ("INCONCLUSIVE", "4 of 5")
    assert verdict["measured"].endswith("seed 4: a diverged (counted as its worst value: it did not learn)")


def test_an_arm_that_always_diverged_loses_an_ordering_and_leaves_a_claim_on_its_values_diverged():
    epochs, trials = tables({"a": [1.0, 1.1, 0.9, 1.2, 1.0, 0.8, 1.1, 0.9, 1.0, 1.05]})
    diverged = {("b", seed) for seed in range(10)}
    verdicts = judge([claim("<"), claim("approx", id="near_b", arms=("b",), versus=(), value=1.0, tolerance=0.1),
                      claim("<", id="c2", versus=("z",))], epochs, trials, diverged=diverged)
    assert verdicts["verdict"].tolist() == ["PASS", "DIVERGED", "NOT RUN"]
    assert "10 of 10 seeds in the claimed order" in verdicts["measured"].iloc[0]  # b did not learn: a wins outright
    assert "seed 9: b diverged (counted as its worst value: it did not learn)" in verdicts["measured"].iloc[0]
    assert verdicts["measured"].iloc[1] == "b diverged in all 10 seeds"


@pytest.fixture
def single_run(monkeypatch):
    """The relation `typical` (kind single-run), which studies/config/contract.py is given separately."""
    monkeypatch.setitem(KINDS, "typical", "single-run")


def test_a_single_run_value_passes_inside_our_prediction_interval_and_fails_outside(single_run):
    ours = [44, 47, 49, 51, 52, 53, 55, 56, 58, 61]  # mean 52.6, sd 5.1
    epochs, trials = tables({"a": [1.0] * 10})
    trials["stop_epoch"] = ours
    typical = claim("typical", point="stop", versus=(), value=50, tolerance=1)
    inside = one([typical], epochs, trials)
    assert (inside["verdict"], inside["kind"], inside["test"]) == ("PASS", "single-run", "t prediction interval")
    assert "it would rank 4th of 11 (smallest first)" in inside["measured"]
    assert ("the article's 50 ± 1 meets our 95% prediction interval of one run [40.39, 64.81]: a plausible run"
            in inside["measured"])
    assert "2 of 10 of our runs within 50 ± 1" in inside["measured"]
    assert "a: mean 52.6, 95% CI [" in inside["measured"] and inside["seeds"] == "10 seeds"
    outside = one([claim("typical", point="stop", versus=(), value=30, tolerance=5)], epochs, trials)
    assert outside["verdict"] == "FAIL"
    assert "the article's 30 ± 5 lies wholly outside our 95% prediction interval" in outside["measured"]
    assert "not a plausible run of ours" in outside["measured"]
    assert one([claim("typical", point="stop", versus=(), value=30, tolerance=5)], epochs, trials,
               alpha=0.0001)["verdict"] == "PASS"  # a stricter level: a wider interval
    reaching = one([claim("typical", point="stop", versus=(), value=30, tolerance=11)], epochs, trials)
    assert reaching["verdict"] == "PASS"  # the window [19, 41] meets the interval


def test_a_single_run_claim_without_spread_is_inconclusive(single_run):
    epochs, trials = tables({"a": [0.4] * 5})
    verdict = one([claim("typical", versus=(), value=0.4)], epochs, trials)
    assert verdict["verdict"] == "INCONCLUSIVE" and "zero spread (0.4 in every seed)" in verdict["measured"]


def test_an_every_run_claim_passes_when_every_measuring_run_agrees_and_one_run_refutes_it():
    epochs, trials = tables({"a": [1.0] * 4})
    trials["stop_epoch"] = [4, 4, 4, 4]
    every = claim("every_run", point="stop", versus=(), value=4)
    assert (one([every], epochs, trials)["verdict"], one([every], epochs, trials)["seeds"]) == ("PASS", "4 of 4")
    trials.loc[2, "stop_epoch"] = 5
    refuted = one([every], epochs, trials)
    assert refuted["verdict"] == "FAIL" and "seed 2: 5" in refuted["measured"] and refuted["seeds"] == "3 of 4"
    assert one([every], epochs.iloc[:0], trials.iloc[:2])["verdict"] == "INCONCLUSIVE"  # 2 runs prove nothing


def test_a_run_that_diverged_did_not_learn_so_it_holds_a_runs_below_claim():
    epochs, trials = tables({"a": [0.1] * 9}, metric="accuracy")
    stuck = claim("runs_below", metric="accuracy", versus=(), value=0.2, at_least=0.5)
    verdict = one([stuck], epochs, trials, diverged={("a", 9)})
    assert (verdict["verdict"], verdict["seeds"]) == ("PASS", "10 of 10") and "below 0.2" in verdict["measured"]
    learned = one([stuck], *tables({"a": [0.9] * 10}, metric="accuracy"))
    assert (learned["verdict"], learned["seeds"]) == ("FAIL", "0 of 10")


def test_every_kind_of_claim_has_one_rule_and_the_reports_print_each():
    assert set(RULES) == set(KINDS.values())
    assert all(rule in VERDICTS for rule in RULES.values())
