"""beyond=tuning and beyond=heldout (studies/beyond/): the grid, the choice on validation data alone, the
held-out settings and their matrix; end to end on smoke-size data (slow)."""
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from studies.beyond.heldout import ARTICLE, claimed_arms_only, held_out, kept, matrix
from studies.beyond.runs import Judged
from studies.beyond.tuning import choose, grid_config, grid_values
from studies.config.contract import Claim
from studies.config.settings import ConfigError
from studies.config.tuning import NotTuned, Tuning
from studies.engines.model import build_optimizer
from studies.run.cli import available
from studies.run.plan import plan_study
from studies.run.sweeps import flat_settings, search_configs
from studies.stats.sequential import judge_looks
from studies.stats.verdicts import judge
from tests.helpers import assert_one_line_error, compose_config, studybench

LEARNING_RATE = Tuning("optimizer.learning_rate", article={"sgd": 0.1}, metric="loss", point="final")


def test_the_grid_spans_one_eighth_to_eight_times_the_article_value_with_it_in_the_middle():
    grid = LEARNING_RATE.values(7, 8.0)["sgd"]
    assert grid == pytest.approx([0.0125, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8])


def test_a_rate_grid_stays_inside_zero_to_one_spaced_on_its_odds():
    grid = Tuning("model.dropout_rate", article={"dropout": 0.15}, metric="accuracy", point="final",
                  rate=True).values(7, 8.0)["dropout"]
    odds = [p / (1 - p) for p in grid]
    assert grid[3] == 0.15 and all(0 < p < 1 for p in grid) and grid == sorted(grid)
    assert odds[-1] / odds[3] == pytest.approx(8.0, rel=1e-4) and odds[3] / odds[0] == pytest.approx(8.0, rel=1e-4)


def tuned_studies() -> list:
    return [study for study in available("study")
            if isinstance(plan_study(compose_config(f"study={study}")).contract.TUNING, Tuning)]


def test_every_study_declares_a_tuning_or_says_why_not():
    for study in available("study"):
        tuning = plan_study(compose_config(f"study={study}")).contract.TUNING
        assert isinstance(tuning, Tuning) or (isinstance(tuning, NotTuned) and tuning.reason), study
    assert set(tuned_studies()) == {"optimizers", "weight_decay", "dropout"}


@pytest.mark.parametrize("study", ["optimizers", "weight_decay", "dropout"])
def test_the_declared_article_values_are_what_the_study_trains(study):
    plan = plan_study(compose_config(f"study={study}"))
    tuning = plan.contract.TUNING
    for trial in {t.arm: t for t in plan.trials if t.arm in tuning.article}.values():
        trained = flat_settings(json.loads(json.dumps(dataclasses.asdict(trial), default=str))).get(tuning.setting)
        if trained is None:  # an optimizer left at its default learning rate
            trained = float(build_optimizer(trial.optimizer).learning_rate)
        assert trained == pytest.approx(tuning.article[trial.arm]), trial.arm


def test_the_grid_run_validates_on_training_data_at_every_value_of_every_tuned_arm():
    cfg = grid_config(compose_config("study=optimizers", "beyond=tuning", "profile=smoke"), plan_study(
        compose_config("study=optimizers")).contract.TUNING)
    settings = search_configs(cfg)
    plans = [plan_study(setting, components=False) for setting in settings]
    assert len(settings) == 7 and cfg["n_seeds"] == 3 and cfg["first_seed"] == 1000
    assert {t.dataset.validation for p in plans for t in p.trials} == {"split"}
    rates = {(t.arm, t.optimizer.params["learning_rate"]) for p in plans for t in p.trials}
    adam = sorted(rate for arm, rate in rates if arm == "adam")
    assert adam == pytest.approx(0.001 * 8.0 ** np.linspace(-1, 1, 7), rel=1e-5)


def grid_tables(val_best: float, test_best: float, diverged: tuple = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trials of arm sgd at three learning rates, two seeds: the validation loss lowest at `val_best`, the test
    loss lowest at `test_best`; (rate, seed) pairs in `diverged` stored as diverged."""
    trials, epochs = [], []
    for rate in (0.01, 0.1, 1.0):
        for seed in (0, 1):
            trial_id = f"sgd-{rate}-{seed}"
            config = {"dataset": {}, "model": {}, "optimizer": {"name": "SGD", "params": {"learning_rate": rate}},
                      "train": {}}
            trials.append({"trial_id": trial_id, "arm": "sgd", "seed": seed, "config_json": json.dumps(config),
                           "status": "diverged" if (rate, seed) in diverged else "ok"})
            for split, best in (("val", val_best), ("test", test_best)):
                epochs.append({"trial_id": trial_id, "arm": "sgd", "seed": seed, "epoch": 1, "split": split,
                               "metric": "loss", "value": 1.0 + abs(np.log10(rate / best)) + 0.01 * seed})
    return pd.DataFrame(trials), pd.DataFrame(epochs)


def test_the_choice_follows_validation_where_the_test_set_disagrees():
    trials, epochs = grid_tables(val_best=0.01, test_best=1.0)
    chosen = choose(grid_values(trials, epochs, LEARNING_RATE), "loss")
    assert chosen[["arm", "setting"]].values.tolist() == [["sgd", 0.01]]
    trials, epochs = grid_tables(val_best=1.0, test_best=0.01)
    assert choose(grid_values(trials, epochs, LEARNING_RATE), "loss")["setting"].tolist() == [1.0]


def test_a_value_with_a_diverged_seed_is_never_chosen():
    trials, epochs = grid_tables(val_best=0.01, test_best=0.01, diverged=((0.01, 1),))
    assert choose(grid_values(trials, epochs, LEARNING_RATE), "loss")["setting"].tolist() == [0.1]


def test_held_out_settings_are_the_other_dataset_and_the_variants_a_study_has():
    optimizers = held_out(compose_config("study=optimizers", "beyond=heldout"))
    assert list(optimizers) == ["variant=modern", "variant=cnn", "dataset=mnist"]
    other = plan_study(optimizers["dataset=mnist"], components=False)
    assert {t.dataset.name for t in other.trials} == {"mnist"} and other.first_seed == 3000
    assert list(held_out(compose_config("study=early_stopping_mnist", "beyond=heldout"))) == [
        "variant=modern", "dataset=fashion_mnist"]


def test_leave_out_drops_the_named_settings_and_rejects_names_that_are_not_held_out():
    settings = held_out(compose_config("study=optimizers", "beyond=heldout"))
    assert list(kept(settings, ["variant=cnn"])) == ["variant=modern", "dataset=mnist"]
    assert kept(settings, []) == settings
    with pytest.raises(ConfigError, match=r"beyond.leave_out: unknown value 'cnn'; valid: variant=modern, "
                                          r"variant=cnn, dataset=mnist"):
        kept(settings, ["cnn"])
    with pytest.raises(ConfigError, match="not a list of setting names"):
        kept(settings, "variant=cnn")
    with pytest.raises(ConfigError, match="leaves no held-out setting to run"):
        kept(settings, list(settings))


def test_a_held_out_setting_trains_only_the_arms_its_claims_compare_as_the_same_trials():
    cnn = held_out(compose_config("study=optimizers", "beyond=heldout"))["variant=cnn"]
    full = plan_study(cnn, components=False)
    claims = (Claim("c", "", "loss", "train", "mean", ">", arms=("sgd",), versus=("adam", "nadam")),)
    pruned = plan_study(claimed_arms_only(cnn, claims), components=False)
    assert list(pruned.arms) == ["sgd", "adam", "nadam"] and list(full.arms)[-1] == "rmsprop"
    kept_ids = {t.trial_id for t in full.trials if t.arm in pruned.arms}
    assert {t.trial_id for t in pruned.trials} == kept_ids  # so the store's trials resume, nothing trains again
    assert {t.model.convolutions[0].filters for t in pruned.trials} == {6}  # still the cnn variant


def test_an_unknown_setting_to_leave_out_stops_before_anything_is_stored(tmp_path):
    done = studybench("study=optimizers", "beyond=heldout", 'beyond.leave_out=["variant=cnn","dataset=cifar"]',
                      f"results_dir={tmp_path / 'r'}", cwd=tmp_path)
    assert_one_line_error(done, r"beyond.leave_out: unknown value 'dataset=cifar'; valid: variant=modern, "
                                r"variant=cnn, dataset=mnist")
    assert not (tmp_path / "r" / "trials").exists()


def test_the_matrix_judges_each_claim_with_its_own_kinds_test():
    claims = (Claim("a_beats_b", "A beats B", metric="accuracy", split="test", point="final", relation=">",
                    arms=("a",), versus=("b",)),
              Claim("a_near", "A ends near 0.8", metric="accuracy", split="test", point="final", relation="approx",
                    arms=("a",), value=0.8, tolerance=0.1),
              Claim("b_runs_below", "B's runs end below 0.9", metric="accuracy", split="test", point="final",
                    relation="runs_below", arms=("b",), value=0.9, at_least=0.5))
    rng = np.random.default_rng(0)
    trials = pd.DataFrame([{"trial_id": f"{arm}{seed}", "arm": arm, "seed": seed, "status": "ok"}
                           for arm in "ab" for seed in range(10)])
    epochs = trials.assign(epoch=1, split="test", metric="accuracy",
                           value=np.where(trials["arm"] == "a", 0.8, 0.6) + rng.normal(0, 0.01, len(trials)))
    verdicts = judge_looks(claims, epochs, trials, (10,), 0).verdicts
    run = Judged(plan=None, verdicts=verdicts, outcome=None, seconds=0.0)
    table = matrix({ARTICLE: run, "dataset=mnist": run}).set_index("claim")
    for claim in claims:
        alone = judge([claim], epochs, trials)["test"].iloc[0]
        assert table.loc[claim.id, f"{ARTICLE} test"] == table.loc[claim.id, "dataset=mnist test"] == alone
    assert table["dataset=mnist test"].nunique() == 3  # three kinds, three tests
    assert table["holds everywhere"].all()


@pytest.mark.slow
def test_beyond_tuning_runs_from_one_command_and_resumes(tmp_path):
    arguments = ("study=dropout", "beyond=tuning", "profile=smoke", "n_seeds=2", "beyond.points=3",
                 "beyond.grid_seeds=2", f"results_dir={tmp_path / 'results'}", f"reports_dir={tmp_path / 'reports'}",
                 "data.download=false")
    first = studybench(*arguments, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    folder = tmp_path / "reports" / "beyond" / "dropout" / "smoke"
    arms = pd.read_csv(folder / "tuning_arms.csv")
    grid = plan_study(compose_config("study=dropout")).contract.TUNING.values(3, 8.0)["dropout"]
    assert arms["arm"].tolist() == ["dropout 0.15"] and arms["chosen"].iloc[0] in grid
    assert set(pd.read_csv(folder / "tuning_claims.csv")["claim"]) == {"narrower_gap", "lower_test_loss"}
    assert (folder / "sensitivity.png").is_file() and "equal tuning" in (folder / "tuning.md").read_text()
    again = studybench(*arguments, cwd=tmp_path)
    assert again.returncode == 0 and " 0 to train" in again.stdout and "[1/" not in again.stdout


@pytest.mark.slow
def test_a_study_with_nothing_to_tune_is_skipped_with_its_reason(tmp_path):
    done = studybench("study=initializers", "beyond=tuning", "profile=smoke", f"results_dir={tmp_path / 'r'}",
                      f"reports_dir={tmp_path / 'p'}", "data.download=false", cwd=tmp_path)
    assert done.returncode == 0 and "beyond=tuning skipped: its arms are initialisations" in done.stdout
    assert not (tmp_path / "r" / "trials").exists()


def test_an_unknown_beyond_is_one_line_listing_the_valid_ones(tmp_path):
    done = studybench("study=optimizers", "beyond=nope", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == \
        "studybench: error: unknown beyond 'nope'; valid: heldout, none, time_to_target, tuning, variance"


def test_an_unknown_beyond_setting_lists_the_parts_own_settings(tmp_path):
    done = studybench("study=optimizers", "beyond=tuning", "beyond.point=3", cwd=tmp_path)
    assert_one_line_error(done, r"unknown key 'beyond.point'; did you mean 'beyond.points'\? valid keys under beyond: "
                                r"fresh_first_seed, grid_first_seed, grid_seeds, name, points, span, validation_split")


@pytest.mark.slow
def test_a_bad_tuning_setting_stops_before_anything_is_stored(tmp_path):
    done = studybench("study=optimizers", "beyond=tuning", "beyond.span=0.5", f"results_dir={tmp_path / 'r'}",
                      cwd=tmp_path)
    assert_one_line_error(done, r"beyond.span=0.5 is out of range: must be a number > 1")
    assert not (tmp_path / "r" / "trials").exists()


@pytest.mark.slow
def test_beyond_heldout_judges_the_claims_on_each_held_out_setting(tmp_path):
    arguments = ("study=dropout", "beyond=heldout", "profile=smoke", "n_seeds=2", f"results_dir={tmp_path / 'r'}",
                 f"reports_dir={tmp_path / 'p'}", "data.download=false", 'beyond.leave_out=["variant=modern"]')
    done = studybench(*arguments, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    folder = tmp_path / "p" / "beyond" / "dropout" / "smoke"
    table = pd.read_csv(folder / "heldout.csv").set_index("claim")
    assert list(table.index) == ["narrower_gap", "lower_test_loss"]
    for setting in (ARTICLE, "dataset=mnist"):
        assert table[setting].str.match(r"(PASS|FAIL|INCONCLUSIVE) \(\d+ of 2; 2 seeds per arm\)").all(), setting
    assert "variant=modern" not in table.columns
    assert "Not run here (beyond.leave_out): variant=modern." in (folder / "heldout.md").read_text()
    again = studybench(*arguments, cwd=tmp_path)
    assert again.returncode == 0 and " 0 to train" in again.stdout and "[1/" not in again.stdout


def test_a_beyond_part_has_no_report_mode(tmp_path):
    done = studybench("report", "study=optimizers", "beyond=heldout", cwd=tmp_path)
    assert_one_line_error(done, r"mode=report with beyond=heldout: a beyond part reports as it runs; valid: "
                                r"studybench study=optimizers beyond=heldout")
