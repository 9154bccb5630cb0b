"""n_seeds=auto: looking after every round keeps the error rate at 5%; rounds add seeds only where needed.

The simulations run the default schedule (looks at 5, 10, ..., 30 seeds) on per-seed paired differences
drawn from a normal distribution, with the tests `judge` runs (a two-sided paired t-test, the sign deciding
PASS or FAIL; for `equal`, the t interval against the tolerance), vectorised over many simulated studies;
`test_the_simulation_decides_as_judge_looks_does` holds the vectorised rule to the real `judge_looks`.
"""
import logging
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from studies.config import ConfigError
from studies.contract import Claim
from studies.harness import run_study
from studies.plan import plan_study
from studies.sequential import judge_looks, look_seeds, nominal_alphas, spent
from studies.verdicts import ALPHA
from tests.conftest import compose_config

STUDIES = 2000  # simulated sequential studies per scenario
LOOKS = look_seeds(5, 5, 30)
LEVELS = nominal_alphas(LOOKS)
FIXED = (ALPHA,) * len(LOOKS)  # no correction: every look at 5%


def upper_bound(rate: float) -> float:
    """`rate` plus three Monte Carlo standard errors over STUDIES."""
    return rate + 3 * math.sqrt(rate * (1 - rate) / STUDIES)


def differences(effect: float, seed: int) -> np.ndarray:
    """Per-seed paired differences (sd 1) of STUDIES studies, max_seeds each."""
    return np.random.default_rng(seed).normal(effect, 1.0, size=(STUDIES, LOOKS[-1]))


def sequential_t_test(values: np.ndarray, levels) -> tuple[np.ndarray, np.ndarray]:
    """Per study: +1 (a claim "mean > 0" passes), -1 (it fails: the opposite order) or 0 (inconclusive) at the
    first look whose one-sided paired t-test, either way, has p below its level, and the seeds run by then."""
    verdict, seeds = np.zeros(len(values)), np.full(len(values), LOOKS[-1])
    for count, level in zip(LOOKS, levels):
        greater = stats.ttest_1samp(values[:, :count], 0.0, axis=1, alternative="greater").pvalue
        for sign, p in ((1, greater), (-1, 1 - greater)):
            now = (verdict == 0) & (p < level)
            verdict[now], seeds[now] = sign, count
    return verdict, seeds


def sequential_interval(values: np.ndarray, levels, tolerance: float) -> np.ndarray:
    """Per study: whether a claim "within the tolerance" passes at some look, its 1 - 2 level t interval (TOST at
    level) inside the tolerance before any lies wholly outside."""
    verdict = np.zeros(len(values))
    for count, level in zip(LOOKS, levels):
        seen = values[:, :count]
        low, high = stats.t.interval(1 - 2 * level, count - 1, loc=seen.mean(axis=1), scale=stats.sem(seen, axis=1))
        verdict[(verdict == 0) & (low >= -tolerance) & (high <= tolerance)] = 1
        verdict[(verdict == 0) & ((high < -tolerance) | (low > tolerance))] = -1
    return verdict == 1


def test_the_levels_spend_alpha_by_the_planned_fractions():
    assert nominal_alphas((5,)) == (ALPHA,)  # n_seeds=N: one look at 5%, as before
    assert LOOKS == (5, 10, 15, 20, 25, 30) and look_seeds(5, 4, 15) == (5, 9, 13, 15) and look_seeds(5, 5, 5) == (5,)
    first, second = nominal_alphas((5, 10))
    bounds = stats.norm.isf(np.array([first, second]))  # one-sided, checked against scipy's bivariate normal
    z = stats.multivariate_normal(cov=[[1, math.sqrt(0.5)], [math.sqrt(0.5), 1]])
    assert first == pytest.approx(spent(0.5))
    assert 1 - z.cdf(bounds) == pytest.approx(ALPHA, rel=1e-3)  # crossing either boundary: alpha
    assert LEVELS[0] == pytest.approx(spent(5 / 30)) and all(np.diff(LEVELS) > 0) and LEVELS[-1] < ALPHA


def test_without_a_difference_errors_stay_at_5_percent_and_uncorrected_looks_inflate_them():
    values = differences(0.0, seed=1)
    corrected, _ = sequential_t_test(values, LEVELS)
    uncorrected, _ = sequential_t_test(values, FIXED)
    print(f"\nno effect, {STUDIES} studies: decided (PASS or FAIL) {np.mean(corrected != 0):.4f}, false PASS "
          f"{np.mean(corrected == 1):.4f}; at 5% every look: {np.mean(uncorrected != 0):.4f}, "
          f"{np.mean(uncorrected == 1):.4f}")
    assert np.mean(corrected == 1) <= upper_bound(ALPHA)  # each direction spends alpha (one-sided tests)
    assert np.mean(corrected != 0) <= upper_bound(2 * ALPHA)
    assert np.mean(uncorrected == 1) > upper_bound(ALPHA)


def test_with_a_difference_of_one_sd_nearly_every_study_passes_early():
    verdict, seeds = sequential_t_test(differences(1.0, seed=2), LEVELS)
    print(f"\neffect 1 sd: PASS {np.mean(verdict == 1):.4f}, FAIL {np.mean(verdict == -1):.4f}, "
          f"mean seeds {seeds.mean():.1f} of {LOOKS[-1]}")
    assert np.mean(verdict == 1) > 0.8 and not (verdict == -1).any()
    assert seeds.mean() < 20


def test_equal_at_the_tolerance_passes_at_most_5_percent_and_uncorrected_more():
    values = differences(0.5, seed=3)  # the true difference sits on the tolerance: PASS would be wrong
    corrected, uncorrected = (sequential_interval(values, levels, 0.5).mean() for levels in (LEVELS, FIXED))
    print(f"\nequal, true difference at the tolerance: false PASS {corrected:.4f}; at 5% every look {uncorrected:.4f}")
    assert corrected <= upper_bound(ALPHA) < uncorrected


def synthetic_frames(values_by_arm: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(epochs, trials): each arm's final train loss at seeds 0, 1, ..., one epoch per trial."""
    epochs = pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": seed, "value": value}
                           for arm, values in values_by_arm.items() for seed, value in enumerate(values)])
    return epochs.assign(epoch=1, split="train", metric="loss"), epochs.drop(columns="value").assign(status="ok")


def test_the_simulation_decides_as_judge_looks_does():
    values = differences(0.7, seed=4)[:25]
    expected, expected_seeds = sequential_t_test(values, LEVELS)
    claim = Claim("higher", "a > b", metric="loss", split="train", point="final", relation=">", arms=("a",),
                  versus=("b",))
    for row, verdict, seeds in zip(values, expected, expected_seeds):
        frames = synthetic_frames({"a": row, "b": np.zeros(len(row))})
        judged = judge_looks([claim], *frames, LOOKS, first_seed=0).verdicts.iloc[0]
        assert (judged["verdict"], judged["look_seeds"]) == ({1: "PASS", -1: "FAIL", 0: "INCONCLUSIVE"}[verdict], seeds)
    assert set(expected) == {0, 1}  # both outcomes compared


def test_a_decided_claim_frees_its_arms_and_a_round_without_stored_seeds_is_no_look():
    rng = np.random.default_rng(5)
    # a - b = 5 +- 0.1: decided at the first look, so a stopped at 5 seeds; c - b: no effect, 10 seeds stored
    epochs, trials = synthetic_frames({"a": 5 + rng.normal(0, 0.1, 5), "b": np.zeros(10), "c": rng.normal(0, 1, 10)})
    claims = [Claim("clear", "a > b", metric="loss", split="train", point="final", relation=">", arms=("a",),
                    versus=("b",)),
              Claim("unclear", "c > b", metric="loss", split="train", point="final", relation=">", arms=("c",),
                    versus=("b",))]
    after_first = judge_looks(claims, epochs, trials, LOOKS, first_seed=0, upto=1)
    assert (after_first.looks, after_first.undecided, after_first.needed) == (1, ("unclear",), ("c", "b"))
    sequence = judge_looks(claims, epochs, trials, LOOKS, first_seed=0)  # b and c ran 10 seeds, a 5
    assert (sequence.looks, sequence.seeds) == (2, {"a": 5, "b": 10, "c": 10})
    assert sequence.verdicts[["verdict", "look_seeds"]].values.tolist() == [["PASS", 5], ["INCONCLUSIVE", 10]]


@pytest.mark.parametrize("overrides, message", [
    (("n_seeds=0",), r"n_seeds=0 is out of range: must be an integer >= 1, or auto"),
    (("n_seeds=2.5",), r"n_seeds=2.5 is out of range: must be an integer >= 1, or auto"),
    (("n_seeds=many",), r"n_seeds='many' is out of range: must be an integer >= 1, or auto"),
    (("n_seeds=auto", "max_seeds=3"), r"max_seeds=3 is below first_round=5: with n_seeds=auto it must be >= "
                                       "first_round$"),
    (("n_seeds=auto", "first_round=1"), r"first_round=1 is out of range: must be an integer >= 2"),
    (("n_seeds=auto", "round_size=0"), r"round_size=0 is out of range: must be an integer >= 1"),
    (("n_seeds=auto", "max_seeds=ten"), r"max_seeds='ten' is out of range"),
])
def test_bad_seed_settings_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        plan_study(compose_config(*overrides))


def test_auto_plans_max_seeds_and_looks():
    plan = plan_study(compose_config("n_seeds=auto", "max_seeds=12", "round_size=4", "first_seed=3"))
    assert plan.looks == (5, 9, 12) and plan.first_seed == 3
    assert sorted({t.seed for t in plan.trials}) == list(range(3, 15))


# Decided at the first look: `approx` with a tolerance nothing misses. Never decided: epoch 50 of 2-epoch runs.
SETTLED = Claim("settled", "N(0, 0.01) ends anywhere", metric="loss", split="train", point="final",
                relation="approx", arms=("normal_0_01",), value=2.3, tolerance=100.0)
OPEN = Claim("open", "He beats Glorot at epoch 50", metric="loss", split="train", point="epoch:50", relation="<",
             arms=("he_uniform",), versus=("glorot_uniform",))
AUTO = ("study=initializers", "n_seeds=auto", "first_round=3", "round_size=2", "max_seeds=5")  # verdicts need 3


def test_rounds_add_seeds_only_for_undecided_claims_and_a_rerun_trains_nothing(smoke_config, tmp_path, caplog,
                                                                                monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr("studies.catalog.initializers.CLAIMS", (SETTLED, OPEN))
    first = run_study(smoke_config("study=initializers", "n_seeds=3", "report=false"))  # round 1, as if interrupted
    assert first.trained == 9
    outcome = run_study(smoke_config(*AUTO))
    out = caplog.text
    assert "round 1: 0 -> 3 seeds for arms glorot_uniform, he_uniform, normal_0_01: first round; 9 already stored" in out
    assert ("round 2: 3 -> 5 seeds for arms he_uniform, glorot_uniform: claims open undecided; 6 already stored, "
            "skipped; 4 to train") in out
    assert "claims open still undecided (INCONCLUSIVE) after round 2 of 2 (5 seeds per arm at most)" in out
    assert (outcome.trained, outcome.skipped) == (4, 9)
    folder = tmp_path / "reports" / "initializers" / "smoke"
    claims = pd.read_csv(folder / "claims.csv").set_index("claim")
    assert claims.loc["settled", ["verdict", "look_seeds"]].tolist() == ["PASS", 3]
    assert claims.loc["open", ["verdict", "look_seeds"]].tolist() == ["INCONCLUSIVE", 5]
    assert "[look 1 of 2: 3 seeds, alpha " in claims.loc["settled", "measured"]
    assert pd.read_csv(folder / "summary.csv").set_index("arm")["n"].to_dict() == {
        "glorot_uniform": 5, "he_uniform": 5, "normal_0_01": 3}
    again = run_study(smoke_config(*AUTO))
    assert (again.trained, again.skipped) == (0, 13)
    assert pd.read_csv(folder / "claims.csv").equals(claims.reset_index())
    reported = run_study(smoke_config(*AUTO, "mode=report"))  # `studybench report`: the same rounds, from the store
    assert sorted(reported.trial_ids) == sorted(outcome.trial_ids)
    assert pd.read_csv(folder / "claims.csv").equals(claims.reset_index())
