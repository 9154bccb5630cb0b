"""The optimizer study end to end under profile=smoke: trials stored, report written, rerun skips. (Its modern
variant's report folder: tests/test_studies_smoke.py.)"""
import logging
import shutil

import pandas as pd
import pytest

from studies.config.settings import ConfigError
from studies.run.boundary import prepare_run
from studies.run.harness import run_study
from tests.helpers import compose_config

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`


@pytest.fixture(scope="module")
def seed_zero(tmp_path_factory):
    """The study's seed 0 (6 trials) trained once, for the tests that go on from a store holding it: they copy
    its results folder."""
    folder = tmp_path_factory.mktemp("seed_zero")
    run_study(prepare_run(compose_config("profile=smoke", "n_seeds=1", f"results_dir={folder / 'results'}",
                             f"reports_dir={folder / 'reports'}", "data.download=false", "report=false")))
    return folder / "results"


def test_smoke_run_stores_every_epoch_and_writes_the_report(smoke_config, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    outcome = run_study(prepare_run(smoke_config()))
    assert (outcome.trained, outcome.skipped) == (12, 0)
    folder = tmp_path / "reports" / "optimizers" / "smoke"
    assert sorted(p.name for p in folder.iterdir()) == [
        "accuracy.png", "accuracy.svg", "claims", "claims.csv", "loss.png", "loss.svg", "run.json", "summary.csv",
        "summary.md"]
    claim_figures = sorted(p.name for p in (folder / "claims").iterdir())
    assert claim_figures[:2] == ["adadelta_slower.png", "adadelta_slower.svg"]
    assert all((folder / name).stat().st_size > 10_000 for name in ("loss.png", "accuracy.png"))
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["arm"].tolist() == ["sgd", "adagrad", "adadelta", "adam", "nadam", "rmsprop"]
    assert (summary["n"] == 2).all() and summary["final_train_loss_mean"].between(0, 10).all()
    assert (summary["final_test_accuracy_low"] <= summary["final_test_accuracy_mean"]).all()
    markdown = (folder / "summary.md").read_text()
    assert "Fashion-MNIST · variant original · engine fast · n = 2 seeds" in markdown
    assert "| Nadam |" in markdown and "debian:" in markdown
    epochs = pd.read_parquet(tmp_path / "results" / "epochs" / "optimizers")
    assert len(epochs) == 12 * 2 * 4  # trials x epochs x (split, metric)
    assert "12 to train" in caplog.text


def test_rerun_trains_nothing_and_says_so(smoke_config, tmp_path, caplog, seed_zero):
    caplog.set_level(logging.INFO)
    shutil.copytree(seed_zero, tmp_path / "results")
    outcome = run_study(prepare_run(smoke_config("n_seeds=2")))  # seed 0 stored already: only seed 1 trains
    assert (outcome.trained, outcome.skipped) == (6, 6)
    again = run_study(prepare_run(smoke_config("n_seeds=2")))
    assert (again.trained, again.skipped) == (0, 12)
    assert "12 already stored, skipped; 0 to train" in caplog.text
    assert len(pd.read_parquet(tmp_path / "results" / "trials" / "optimizers")) == 12


def test_report_mode_rebuilds_from_the_store_without_training(smoke_config, tmp_path, seed_zero):
    with pytest.raises(ConfigError, match="no stored engine=fast trials for study optimizers"):
        run_study(prepare_run(smoke_config("n_seeds=1", "mode=report")))
    shutil.copytree(seed_zero, tmp_path / "results")  # trained without a report
    folder = tmp_path / "reports" / "optimizers" / "smoke"
    assert not folder.exists()
    outcome = run_study(prepare_run(smoke_config("n_seeds=1", "mode=report")))
    assert (outcome.trained, outcome.skipped) == (0, 6)
    assert {"loss.png", "accuracy.png", "summary.md", "claims.csv", "run.json"} <= {p.name for p in folder.iterdir()}
    claims = pd.read_csv(folder / "claims.csv")
    assert claims["claim"].tolist() == ["nadam_fastest", "sgd_slower", "adadelta_slower"]
    assert set(claims["verdict"]) <= {"PASS", "FAIL", "INCONCLUSIVE"}  # one seed: no interval, INCONCLUSIVE
    assert "## Claims" in (folder / "summary.md").read_text()
