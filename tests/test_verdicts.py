"""Verdicts on synthetic trial tables with known answers: one test per kind of claim and per hard case."""
import numpy as np
import pandas as pd
import pytest

from studies.contract import Claim
from studies.verdicts import holm, judge, paired_test

WEAK = np.array([-0.1, -0.2, 0.01, -0.15, -0.05])  # one-sided paired t-test p = 0.028


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


def test_paired_test_flags_a_null_effect_at_about_the_stated_rate():
    rng = np.random.default_rng(3)
    rejections = [paired_test(rng.normal(0, 1, 5)) < 0.05 for _ in range(4000)]
    assert 0.04 <= np.mean(rejections) <= 0.06


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
    assert without["verdict"] == "INCONCLUSIVE" and "zero spread" in without["measured"]


def test_zero_spread_is_inconclusive_not_a_zero_p_value():
    epochs, trials = tables({"a": [0.3, 0.5, 0.4, 0.6, 0.2], "b": [0.4, 0.6, 0.5, 0.7, 0.3]})  # 0.1 apart each seed
    verdict = one([claim("<", tolerance=0.01)], epochs, trials)
    assert verdict["verdict"] == "INCONCLUSIVE" and "zero spread (0.1 in every seed): no t-test" in verdict["measured"]
    assert "p=0" not in verdict["measured"] and "p_holm=0" not in verdict["measured"]
    near = one([claim("approx", versus=(), value=0.4, tolerance=0.5)], *tables({"a": [0.4] * 5}))
    assert near["verdict"] == "INCONCLUSIVE" and "zero spread" in near["measured"]


def test_two_seeds_are_inconclusive_with_the_reason():
    epochs, trials = tables({"a": [0.1, 0.2], "b": [0.1, 0.2]})
    for relation, extra in (("<", {}), ("approx", dict(versus=(), value=0.15, tolerance=1.0)),
                            ("runs_near", dict(versus=(), value=0.15, tolerance=1.0)),
                            ("identical", dict(point="curve"))):
        verdict = one([claim(relation, **extra)], epochs, trials)
        assert verdict["verdict"] == "INCONCLUSIVE" and "n = 2 seeds, fewer than 3" in verdict["measured"], relation


def test_holm_runs_across_claims_but_not_across_the_pairs_of_one_claim():
    base = np.random.default_rng(5).normal(0, 1, 5)
    others = {"b": base - WEAK, "c": base - WEAK[::-1], "d": base - WEAK[[1, 0, 3, 2, 4]]}  # a - each: p = 0.028
    epochs, trials = tables({"a": base, **others})
    separate = [claim("<", id=f"a_below_{arm}", versus=(arm,)) for arm in others]
    assert [one([c], epochs, trials)["verdict"] for c in separate] == ["PASS"] * 3
    assert judge(separate, epochs, trials)["verdict"].tolist() == ["INCONCLUSIVE"] * 3  # 3 x 0.028 > 0.05
    all_pairs = one([claim("lowest", versus=tuple(others))], epochs, trials)  # every pair at 0.05, no correction
    assert all_pairs["verdict"] == "PASS" and "p_holm=0.028" in all_pairs["measured"]


def test_alpha_decides_a_borderline_case():
    base = np.random.default_rng(6).normal(0, 1, 5)
    epochs, trials = tables({"a": base + WEAK, "b": base})
    assert one([claim("<")], epochs, trials)["verdict"] == "PASS"
    stricter = one([claim("<")], epochs, trials, alpha=0.01)
    assert stricter["verdict"] == "INCONCLUSIVE" and "not supported at 0.01" in stricter["measured"]


def test_a_seed_where_the_claimed_loser_diverged_counts_for_the_claim_and_is_named():
    rng = np.random.default_rng(7)
    base = rng.normal(0, 1, 5)
    epochs, trials = tables({"a": base, "b": base + 0.2 + rng.normal(0, 0.01, 5)})
    keep = ~((trials["arm"] == "b") & (trials["seed"] == 3))
    epochs, trials = epochs[epochs["trial_id"] != "b-3"], trials[keep]
    verdict = one([claim("<", tolerance=0.01)], epochs, trials, diverged={("b", 3)})
    assert (verdict["verdict"], verdict["seeds"]) == ("PASS", "5 of 5")
    assert verdict["measured"].endswith("seed 3: b diverged") and "(n=4," in verdict["measured"]
    lost = one([claim(">", tolerance=0.01)], epochs, trials, diverged={("b", 3)})  # b claimed the lower loss
    assert lost["verdict"] == "FAIL" and lost["seeds"] == "0 of 5" and "seed 3: b diverged" in lost["measured"]


def test_a_diverged_claimed_winner_bars_support():
    rng = np.random.default_rng(8)
    base = rng.normal(0, 1, 6)
    epochs, trials = tables({"a": base, "b": base + 0.2 + rng.normal(0, 0.01, 6)})
    epochs, trials = epochs[epochs["trial_id"] != "a-5"], trials[trials["trial_id"] != "a-5"]
    verdict = one([claim("<", metric="loss")], epochs, trials, diverged={("a", 5)})  # a NaN loss loses to any
    assert (verdict["verdict"], verdict["seeds"]) == ("INCONCLUSIVE", "5 of 6")
    assert verdict["measured"].endswith("seed 5: a diverged")


def test_approx_is_a_tost_on_the_mean_with_its_interval_shown():
    epochs, trials = tables({"a": [0.55, 0.56, 0.54, 0.55, 0.55]})
    near = one([claim("approx", versus=(), value=0.55, tolerance=0.05)], epochs, trials)
    far = one([claim("approx", versus=(), value=2.3, tolerance=0.05)], epochs, trials)
    wide = one([claim("approx", versus=(), value=0.55, tolerance=0.005)], epochs, trials)
    assert (near["verdict"], far["verdict"], wide["verdict"]) == ("PASS", "FAIL", "INCONCLUSIVE")
    assert near["kind"] == "near" and near["seeds"] == "5 of 5" and far["seeds"] == "0 of 5"
    assert "a: mean 0.55, 90% CI [0.5433, 0.5567] (n=5)" in near["measured"]
    first_look = one([claim("approx", versus=(), value=0.55, tolerance=0.05)], epochs, trials, alpha=0.0014)
    assert "a: mean 0.55, 99.72% CI [" in first_look["measured"]  # a look's small level is not rounded to 100%


def test_approx_is_judged_on_the_stop_point_of_unequal_curves():
    epochs, trials = tables({"a": [1, 2, 3], "b": [1, 2, 3]})
    trials.loc[trials["arm"] == "a", "stop_epoch"] = [38, 41, 44]
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


def test_per_run_property_counts_seeds_with_a_clopper_pearson_interval():
    at_chance = [[0.1, 0.1, 0.1 + 0.001 * seed] for seed in range(5)]
    epochs, trials = curves_tables({"a": at_chance}, metric="accuracy")
    stays = claim("runs_near", metric="accuracy", versus=(), value=0.1, tolerance=0.02)
    verdict = one([stays], epochs, trials)
    assert (verdict["verdict"], verdict["seeds"], verdict["kind"]) == ("PASS", "5 of 5", "per-run")
    assert "95% Clopper-Pearson interval of the share [0.48, 1.00]" in verdict["measured"]
    assert "99.86% Clopper-Pearson" in one([stays], epochs, trials, alpha=0.0014)["measured"]


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
    assert judged(1, 5) == "FAIL"  # interval [0.005, 0.72] below 0.9
    assert judged(9, 10) == "PASS" and judged(8, 10) == "INCONCLUSIVE" and judged(3, 5, at_least=0.6) == "PASS"


def test_a_diverged_run_is_a_run_where_the_value_is_not_near():
    epochs, trials = curves_tables({"a": [[2.3, 2.3]] * 4})
    verdict = one([claim("runs_near", versus=(), value=2.3, tolerance=0.01)], epochs, trials, diverged={("a", 4)})
    assert (verdict["verdict"], verdict["seeds"]) == ("INCONCLUSIVE", "4 of 5")
    assert verdict["measured"].endswith("seed 4: a diverged")


def test_a_claim_on_an_arm_that_always_diverged_says_so():
    epochs, trials = tables({"a": [1.0, 1.1, 0.9]})
    diverged = {("b", 0), ("b", 1), ("b", 2)}
    verdicts = judge([claim("<"), claim("<", id="c2", versus=("z",))], epochs, trials, diverged=diverged)
    assert verdicts["verdict"].tolist() == ["DIVERGED", "NOT RUN"]
    assert verdicts["measured"].iloc[0] == "b diverged in all 3 seeds"
