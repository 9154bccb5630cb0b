"""The engine comparison as an equivalence test (TOST against stated tolerances), and the claims whose verdict
differs between the engines."""
import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from studies.config.contract import Claim
from studies.report import engine_agreement
from studies.report.engine_agreement import (
    ENGINES,
    claim_verdicts,
    compare,
    decide,
    equivalence,
    markdown,
    study_claims,
    verdict_flips,
)
from studies.run.plan import plan_study
from studies.store.trial_result import TrialResult
from studies.store.trial_store import TrialStore
from tests.helpers import (
    DATASET,
    STUDY_MODULE,
    STUDY_YAML,
    assert_one_line_error,
    compose_config,
    studybench,
    user_study,
)
from tests.synthetic import CLAIMS, toy_tables


def trials_table(shift: dict, noise: dict, seeds: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for arm in shift:
        for seed in range(seeds):
            keras_loss = 0.5 + 0.05 * rng.standard_normal()
            for engine, loss in (("keras", keras_loss),
                                 ("fast", keras_loss + shift[arm] + noise[arm] * rng.standard_normal())):
                rows.append({"trial_id": f"{engine}{arm}{seed}", "variant": "original", "profile": "full",
                             "arm": arm, "seed": seed, "engine": engine, "status": "ok", "stop_epoch": 10,
                             "final_json": json.dumps({"loss": loss}), "sweep_json": None,
                             "versions_json": json.dumps({"keras_backend": "tensorflow"})})
    return pd.DataFrame(rows)


def verdict_of(differences, kind="accuracy", keras=0.9):
    differences = np.asarray(differences, dtype=float)
    row = equivalence(keras + differences, np.full(len(differences), keras), kind)
    return row, row["verdict"] or decide(row["p_equivalent"], row["p_different"])


def noisy(shift, spread, n=8):
    return shift + spread * np.random.default_rng(1).standard_normal(n)


@pytest.mark.parametrize("differences, expected", [
    (noisy(0.0, 0.001), "EQUIVALENT"),  # tolerance ±0.005: both one-sided tests reject
    (noisy(0.02, 0.002), "DIFFERENT"),  # the whole interval lies beyond +0.005
    (noisy(0.0, 0.02, n=5), "UNDECIDED"),  # too noisy to tell either way
    (noisy(0.006, 0.004, n=5), "UNDECIDED"),  # near the tolerance
])
def test_tost_tells_equivalent_different_and_undecided_apart(differences, expected):
    row, verdict = verdict_of(differences)
    assert verdict == expected and row["why"] == ""
    assert 0 < row["p_equivalent"] <= 1 and 0 < row["p_different"] <= 1
    assert row["largest"] == pytest.approx(differences[np.argmax(np.abs(differences))])


@pytest.mark.parametrize("differences, expected, why", [
    ([0.002] * 5, "EQUIVALENT", "by inspection: every seed differs by 0.002, inside ±0.005"),
    ([0.01] * 5, "DIFFERENT", "by inspection: every seed differs by 0.01, outside ±0.005"),
    ([0.002, 0.003], "UNDECIDED", "too few seeds (n = 2)"),
    ([0.0] * 3, "EQUIVALENT", "identical: every seed within 1e-4 relative"),
    ([1e-6, -1e-6, 2e-6], "EQUIVALENT", "identical: every seed within 1e-4 relative"),
])
def test_no_p_value_where_no_test_can_be_made(differences, expected, why):
    row, verdict = verdict_of(differences)
    assert verdict == expected and row["why"].startswith(why)
    assert math.isnan(row["p_equivalent"]) and math.isnan(row["p_different"])


@pytest.mark.parametrize("differences", [[0.0], [0.0, 0.0], [0.01], [0.01, 0.01]])
def test_one_or_two_seeds_say_nothing_however_alike_or_apart(differences):
    row, verdict = verdict_of(differences)
    assert (verdict, row["why"]) == ("UNDECIDED", f"too few seeds (n = {len(differences)})")
    assert math.isnan(row["p_equivalent"]) and math.isnan(row["p_different"])


def test_the_tolerance_is_relative_for_losses_absolute_for_accuracy_and_epochs():
    assert equivalence([2.02] * 3, [2.0] * 3, "loss or error")["tolerance"] == pytest.approx(0.02)
    assert equivalence([0.52] * 3, [0.5] * 3, "accuracy")["tolerance"] == 0.005
    assert equivalence([12, 11, 10], [10, 10, 10], "epochs")["tolerance"] == 2
    row, verdict = verdict_of(noisy(0.0, 0.01), kind=None)
    assert (verdict, row["why"]) == ("UNDECIDED", "no tolerance stated for this metric")


def test_compare_judges_each_arm_and_metric_with_holm():
    table = compare(trials_table(shift={"same": 0.0, "close": 0.0, "shifted": 0.1},
                                 noise={"same": 0.0, "close": 0.0005, "shifted": 0.01}))
    rows = table.set_index(["arm", "metric"])
    assert all(rows.loc[("same", metric), "why"].startswith("identical") for metric in ("loss", "stop_epoch"))
    assert rows.loc[("close", "loss"), "verdict"] == "EQUIVALENT"  # tolerance 1% of 0.5
    assert rows.loc[("shifted", "loss"), "verdict"] == "DIFFERENT"
    shifted = rows.loc[("shifted", "loss")]
    assert 0 < shifted["low"] and abs(shifted["difference"] - 0.1) < 0.03 and shifted["n"] == 8
    assert shifted["p_different_holm"] >= shifted["p_different"]  # corrected across the study's comparisons


def test_only_declared_arms_of_one_backend_run_by_both_engines_are_compared():
    table = trials_table(shift={"a": 0.0}, noise={"a": 0.0})
    assert compare(table[table["engine"] == "fast"]).empty
    swept = table.assign(sweep_json=json.dumps({"model.dropout_rate": 0.3}), final_json=json.dumps({"loss": 9.0}))
    jax = table.assign(versions_json=json.dumps({"keras_backend": "jax"}))
    rows = compare(pd.concat([table, swept, jax])).set_index(["backend", "metric"])
    assert rows.loc[("tensorflow", "loss"), "why"].startswith("identical")  # the swept trials' 9.0 is not averaged in
    assert set(rows.index.get_level_values("backend")) == {"tensorflow", "jax"}


def test_predict_argmax_accuracy_is_the_accuracy_again_and_counted_once():
    """fit_basics stores the test accuracy twice (evaluate(), and predict() with argmax): one quantity, so one
    comparison in the Holm correction, not two."""
    table = trials_table(shift={"a": 0.01}, noise={"a": 0.002})
    final = table["final_json"].map(json.loads)
    accuracy = [json.dumps({**numbers, "accuracy": 0.9 - numbers["loss"] / 10,
                            "predict_argmax_accuracy": 0.9 - numbers["loss"] / 10}) for numbers in final]
    rows = compare(table.assign(final_json=accuracy)).set_index("metric")
    assert sorted(rows.index) == ["accuracy", "loss", "stop_epoch"]
    tested = rows.dropna(subset=["p_equivalent"])
    assert sorted(tested.index) == ["accuracy", "loss"]  # the stop epochs are identical: no test
    smaller = tested["p_different"].idxmin()
    assert tested.loc[smaller, "p_different_holm"] == pytest.approx(min(1.0, 2 * tested.loc[smaller, "p_different"]))


def claims_table(verdicts: dict) -> pd.DataFrame:
    return pd.DataFrame([{"claim": claim, "says": f"{claim} says", "measured": f"{claim} measured {verdict}",
                          "verdict": verdict} for claim, verdict in verdicts.items()])


def test_verdict_flips_from_two_claims_tables_as_frames_or_paths(tmp_path):
    fast = claims_table({"same": "PASS", "borderline": "PASS", "opposite": "PASS", "diverged": "DIVERGED"})
    keras = claims_table({"same": "PASS", "borderline": "INCONCLUSIVE", "opposite": "FAIL", "diverged": "PASS"})
    fast.to_csv(tmp_path / "fast.csv", index=False)
    keras.to_csv(tmp_path / "keras.csv", index=False)
    for flips in (verdict_flips(fast, keras), verdict_flips(tmp_path / "fast.csv", tmp_path / "keras.csv")):
        rows = flips.set_index("claim")
        assert list(rows.index) == ["borderline", "opposite", "diverged"]
        assert rows.loc["borderline", ["fast", "keras"]].tolist() == ["PASS", "INCONCLUSIVE"]
        assert rows.loc["borderline", "measured_keras"] == "borderline measured INCONCLUSIVE"
        assert rows.loc["borderline", "why"].startswith("a borderline claim")
        assert rows.loc["opposite", "why"].startswith("opposite conclusions")
        assert rows.loc["diverged", "why"] == "under engine=fast an arm it needs diverged"


SEEDS = 8  # a sign-flip test at 5% decides nothing below five seeds (p >= 2^-n), and Holm shares it among claims


def both_engines(b_shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The toy study, SEEDS seeds per arm, run by both engines; under engine=fast arm b's accuracy is `b_shift`
    higher."""
    trials, epochs = toy_tables(SEEDS)
    fast_trials = trials.assign(engine="fast", trial_id="fast" + trials["trial_id"])
    raised = (epochs["arm"] == "b") & (epochs["metric"] == "accuracy")
    fast_epochs = epochs.assign(trial_id="fast" + epochs["trial_id"], value=epochs["value"] + raised * b_shift)
    run = {"variant": "original", "profile": "full", "sweep_json": None,
           "versions_json": json.dumps({"keras_backend": "tensorflow"})}
    return pd.concat([trials, fast_trials]).assign(**run), pd.concat([epochs, fast_epochs])


ONE_LOOK = (SEEDS,), 0  # the toy's seeds, n_seeds fixed: one look at 5% (looks, first_seed)


def test_a_claim_whose_verdict_flips_is_listed_with_both_verdicts_and_why():
    trials, epochs = both_engines(b_shift=0.3)
    table = claim_verdicts(CLAIMS, trials, epochs, *ONE_LOOK)
    flips = table[table["fast"] != table["keras"]].set_index("claim")
    assert list(flips.index) == ["a_beats_b"]  # the other two claims do not involve b's accuracy
    flip = flips.loc["a_beats_b"]
    assert (flip["fast"], flip["keras"]) == ("INCONCLUSIVE", "PASS")
    assert "a - b: mean 0.32," in flip["measured_keras"] and "a - b: mean 0.02," in flip["measured_fast"]
    assert "a EQUIVALENT (fast - keras 0" in flip["why"] and "b DIFFERENT (fast - keras 0.3 " in flip["why"]
    agreeing = claim_verdicts(CLAIMS, *both_engines(b_shift=0.0), *ONE_LOOK)
    assert (agreeing["fast"] == agreeing["keras"]).all()


def test_every_claim_is_listed_with_each_engine_s_verdict_and_seeds_why_only_where_they_differ():
    table = claim_verdicts(CLAIMS, *both_engines(b_shift=0.3), *ONE_LOOK).set_index("claim")
    assert list(table.index) == [claim.id for claim in CLAIMS]
    assert (table["look_seeds_fast"] == 8).all() and (table["look_seeds_keras"] == 8).all()
    same = table[table.index != "a_beats_b"]
    assert (same["fast"] == same["keras"]).all() and (same["why"] == "").all()
    assert table.loc["a_beats_b", "seeds_keras"] == "8 of 8" and table.loc["a_beats_b", "why"] != ""


def test_under_n_seeds_auto_each_engine_is_judged_look_by_look_as_its_report_is():
    """Under n_seeds=auto the first look (8 of at most 30 seeds here) is judged at its share of the 5%, 0.0036:
    a in front in all 8 seeds (sign-flip p = 2^-8 = 0.0039) is enough for a single 5% test, not there."""
    trials, epochs = both_engines(b_shift=0.0)
    fixed = claim_verdicts(CLAIMS, trials, epochs, *ONE_LOOK).set_index("claim")
    looked = claim_verdicts(CLAIMS, trials, epochs, (8, 15, 30), 0).set_index("claim")
    assert fixed.loc["a_beats_b", ["fast", "keras"]].tolist() == ["PASS", "PASS"]
    assert looked.loc["a_beats_b", ["fast", "keras"]].tolist() == ["INCONCLUSIVE", "INCONCLUSIVE"]
    assert "[look 1 of 3: 8 seeds" in looked.loc["a_beats_b", "measured_fast"]


def test_a_verdict_that_differs_because_an_engine_has_not_finished_its_trials_says_so():
    """engine=keras stopped halfway through arm b: its look at 8 seeds judges four pairs (p >= 2^-4, above 5%), not
    a borderline claim."""
    trials, epochs = both_engines(b_shift=0.0)
    lost = trials[(trials["engine"] == "keras") & (trials["arm"] == "b") & (trials["seed"] >= 4)]["trial_id"]
    trials = trials[~trials["trial_id"].isin(lost)]
    table = claim_verdicts(CLAIMS, trials, epochs[~epochs["trial_id"].isin(lost)], *ONE_LOOK).set_index("claim")
    assert table.loc["a_beats_b", ["fast", "keras"]].tolist() == ["PASS", "INCONCLUSIVE"]
    assert table.loc["a_beats_b", "why"] == ("unfinished: engine=keras has not trained 4 of the 16 trials its look "
                                             "at 8 seeds judges (arms a, b); rerun it to compare")


def test_a_verdict_left_undecided_by_an_engine_whose_next_round_is_not_trained_says_so():
    """n_seeds=auto with looks at 4 and 8 seeds: engine=keras stopped after its first round (4 seeds: p >= 2^-4,
    above that look's level of 0.0125), so its INCONCLUSIVE is a round not yet run, not a borderline claim."""
    trials, epochs = both_engines(b_shift=0.0)
    lost = trials[(trials["engine"] == "keras") & (trials["seed"] >= 4)]["trial_id"]
    table = claim_verdicts(CLAIMS, trials[~trials["trial_id"].isin(lost)], epochs[~epochs["trial_id"].isin(lost)],
                           (4, 8), 0).set_index("claim")
    assert table.loc["a_beats_b", ["fast", "keras"]].tolist() == ["PASS", "INCONCLUSIVE"]
    assert table.loc["a_beats_b", ["look_seeds_fast", "look_seeds_keras"]].tolist() == [8, 4]
    assert table.loc["a_beats_b", "why"] == ("unfinished: engine=keras left the claim INCONCLUSIVE at 4 seeds and has "
                                             "not trained 8 of the 16 trials its next look, at 8 seeds, judges "
                                             "(arms a, b); rerun it to compare")


def test_an_identity_claim_that_holds_under_one_engine_only_is_explained_by_its_curves_final_values():
    """Arm a2 repeats arm a; under engine=fast its test accuracy is 1e-6 higher at every epoch."""
    trials, epochs = (table.reset_index(drop=True) for table in both_engines(b_shift=0.0))
    copy = {"arm": "a2", "trial_id": "2" + trials["trial_id"]}
    trials = pd.concat([trials, trials[trials["arm"] == "a"].assign(**copy)], ignore_index=True)
    second = epochs[epochs["arm"] == "a"].assign(arm="a2", trial_id="2" + epochs["trial_id"])
    nudged = second["trial_id"].str.startswith("2fast") & (second["metric"] == "accuracy")
    epochs = pd.concat([epochs, second.assign(value=second["value"] + nudged * 1e-6)], ignore_index=True)
    same = Claim("a_equals_a2", "A and A2 give identical curves", metric="accuracy", split="test", point="curve",
                 relation="identical", arms=("a",), versus=("a2",))
    row = claim_verdicts((same,), trials, epochs, *ONE_LOOK).iloc[0]
    assert (row["fast"], row["keras"]) == ("FAIL", "PASS")
    assert "the claim's final values, fast vs keras (TOST, uncorrected): a EQUIVALENT" in row["why"]


def test_study_claims_and_the_report_list_every_claim_per_study_run(monkeypatch):
    monkeypatch.setattr(engine_agreement, "stored_study_module", lambda name: type("toy", (), {"CLAIMS": CLAIMS}))
    trials, epochs = both_engines(b_shift=0.3)
    runs = study_claims("toy", trials, epochs, *ONE_LOOK)
    assert list(runs) == [("original", "full", "tensorflow")] and len(runs[("original", "full", "tensorflow")]) == 3
    text = markdown({"toy": compare(trials)}, {"toy": runs})
    assert "| accuracy | ±0.005 | half a percentage point" in text and "| loss or error | ±0.01 relative |" in text
    assert "original: the verdict differs in 1 of 3 claims." in text
    assert "| a_beats_b | INCONCLUSIVE | 5 of 8 (8) | PASS | 8 of 8 (8) | a borderline claim" in text
    assert "- a_beats_b (fast): " in text and "a - b: mean 0.02," in text


def test_a_missing_store_is_a_one_line_error(tmp_path):
    done = studybench("agreement", "results_dir=nowhere", cwd=tmp_path)
    assert_one_line_error(done, "no trial store at results_dir=nowhere")
    assert not (tmp_path / "reports").exists()


def test_the_agreement_command_reports_agreement_and_flips_from_a_real_store(tmp_path):
    """The optimizers study (smoke, eight seeds: a sign-flip test at 5% decides nothing below five, and Holm
    shares it among the claims) in a trial store under both engines; under engine=fast SGD's train loss ends far
    lower, so `sgd_slower` flips from PASS to FAIL. The seeds setting is the command's, as the runs had it."""
    store = TrialStore(tmp_path / "results")
    for trial in plan_study(compose_config("profile=smoke", "n_seeds=8")).trials:
        for engine in ENGINES:
            spec = dataclasses.replace(trial, engine=engine)
            end = 0.1 if (engine, trial.arm) == ("fast", "sgd") else {"sgd": 2.0, "adadelta": 1.5}.get(trial.arm, 0.5)
            curves = {("train", "loss"): [2.5, end + 0.01 * trial.seed * (1 + len(trial.arm) % 3)]}  # seeds vary
            result = TrialResult(spec, curves, {"loss": end, "accuracy": 0.8}, 2, 2, 1.0, "CPU: test")
            store.write(result, DATASET)
    done = studybench("agreement", "study=optimizers", "n_seeds=8", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "reports" / "bench" / "engine_agreement.md").read_text()
    assert text.strip() in done.stdout and done.stdout.endswith("written: reports/bench/engine_agreement.md\n")
    assert "| original, smoke | adam | loss | 8 | 0.5 | 0.5 |" in text and "identical" in text
    assert "| original, smoke | sgd | loss | 8 | 2 | 0.1 | -1.9 [-1.9, -1.9] | ±0.02 (1%) | -1.9 | — | DIFFERENT | " \
           "by inspection: every seed differs by -1.9, outside ±0.02" in text
    assert "| sgd_slower | FAIL | 0 of 8 (8) | PASS | 8 of 8 (8) | opposite conclusions" in text


@pytest.mark.parametrize("value", ["0", "five", "-3"])
def test_a_bad_n_seeds_is_a_one_line_error(value, tmp_path):
    done = studybench("agreement", f"n_seeds={value}", cwd=tmp_path)
    assert_one_line_error(done, "n_seeds=.* or auto")


def test_studies_are_found_as_a_run_finds_them_beside_their_yaml_on_the_path_or_by_contract(tmp_path, monkeypatch):
    """A study of the user's own on STUDYBENCH_PATH (its module beside its YAML), and one whose YAML names its
    module with `contract:`: both compared on their own claims; a study without a module has none."""
    conf = user_study(tmp_path, STUDY_MODULE)
    (conf / "study" / "named.yaml").write_text(STUDY_YAML.replace("name: steps", "name: named")
                                               + "contract: studies.catalog.optimizers\n")
    monkeypatch.setenv("STUDYBENCH_PATH", str(conf))
    assert [claim.id for claim in engine_agreement.stored_study_module("steps").CLAIMS] == ["large_learns_faster"]
    assert engine_agreement.stored_study_module("named").__name__ == "studies.catalog.optimizers"
    assert engine_agreement.stored_study_module("no_such_study") is None
