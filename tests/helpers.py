"""What several test modules share: the composed config, the one way tests run the CLI, stand-in results and
the engines' runners. Plain functions and constants, no fixtures and no pytest hooks (those are in conftest.py),
so that bench/ can import it too. Import it after conftest.py has set up the backend (pytest does that first).
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from studies.config.paths import CONF_DIR
from studies.config.settings import OptimizerSpec
from studies.data.datasets import Dataset
from studies.data.splits import make_splits
from studies.engines.fast import FastEngine
from studies.engines.keras_fit import KerasFitEngine
from studies.store.trial_result import TrialResult
from studies.store.trial_store import TrialStore

ROOT = Path(__file__).resolve().parent.parent


def compose_config(*overrides: str) -> dict:
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True)


class Quiet:
    """An engine's progress (studies.engines.Progress) that prints nothing."""
    def epoch(self, *args):
        pass

    def say(self, text):
        pass

    def resumed(self, *args):
        pass


# The CLI, run from this checkout (`python -m studies.run.cli` with PYTHONPATH set), never the `studybench` console
# script: that one is whichever checkout was installed last, maybe not the one under test.
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
CLI = ("-m", "studies.run.cli")


def command(*arguments, program: tuple = CLI) -> list:
    """The command line of the CLI; `program`: how Python starts it (`-c` code that ends by calling its main)."""
    return [sys.executable, *program, *arguments]


def studybench(*arguments, cwd: Path, path: Path | None = None, environment: dict | None = None,
               program: tuple = CLI, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the CLI in `cwd` to its end; `path`: a folder for STUDYBENCH_PATH; `environment`: variables to add."""
    env = {**ENV, **({"STUDYBENCH_PATH": str(path)} if path else {}), **(environment or {})}
    return subprocess.run(command(*arguments, program=program), capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess, message: str, status: int = 2) -> None:
    """The CLI ended with `status` and said one line on stderr, an error matching `message`."""
    assert done.returncode == status, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studybench: error: ")
    assert re.search(message, lines[0]), lines[0]


def interrupted(point: str, calls: int, marker: Path, arguments: tuple, cwd: Path, stop=signal.SIGKILL) -> int:
    """Run the CLI until it pauses at `point` after `calls` calls (tests/interrupt.py), then send `stop` to its
    whole process group (the run and any worker it started), wait for it to end and return its exit status
    (stderr: in cwd/interrupted.stderr). Its stderr goes to a file:
    a pipe nobody reads until the end fills up (64 KiB; SIGINT's traceback comes on top of the run's warnings)
    and blocks the run, which then never ends."""
    with open(cwd / "interrupted.stderr", "w+") as errors:
        run = subprocess.Popen(command(point, str(calls), str(marker), "--", *arguments,
                                       program=("-m", "tests.interrupt")),
                               cwd=cwd, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            while not marker.exists():  # an event: the run reached the pause point
                assert run.poll() is None, f"the run ended before its pause point: {tail(errors)}"
                time.sleep(0.2)
            os.killpg(run.pid, stop)
            return run.wait(timeout=300)  # a guard against a hang, not a deadline: the run ends in seconds
        except subprocess.TimeoutExpired:
            run.send_signal(signal.SIGUSR1)  # every thread's stack into the stderr file (tests/interrupt.py)
            time.sleep(5)
            pytest.fail(f"the run did not end within 300 s of {stop.name}; where it hung: {tail(errors)}")
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)


def tail(file) -> str:
    """The last 2,000 characters written to `file` (open for reading and writing)."""
    file.seek(0)
    return file.read()[-2000:]


# The dropout study's `dropout` arm alone (profile=smoke, 2 seeds): a run of two trials (conftest's dropout_store).
DROPOUT_SMOKE = ("study=dropout", "study.arms.no_dropout=drop", "profile=smoke", "n_seeds=2", "data.download=false",
                 "results_dir=results", "reports_dir=reports")

# The dropout study's `dropout` arm alone (profile=smoke, 2 seeds) swept over two dropout rates: four trials.
RATES = (0.05, 0.3)
SWEEP = ("-m", "study=dropout", "study.arms.no_dropout=drop", "profile=smoke", "n_seeds=2", "data.download=false",
         "results_dir=results", "reports_dir=reports",
         f"study.arms.dropout.model.dropout_rate={','.join(map(str, RATES))}")
SHARED = tuple(argument for argument in SWEEP if argument != "study.arms.no_dropout=drop")  # both jobs run no_dropout


def stored(folder: Path) -> pd.DataFrame:
    """The dropout study's stored trials with their dropout rate, and whether every epoch row is there."""
    store = TrialStore(folder / "results")
    trials, epochs = store.trials("dropout"), store.epochs("dropout")
    rows_per_trial = epochs.groupby("trial_id").size()
    expected = trials["stop_epoch"] * 4  # (train, test) x (loss, accuracy) per epoch
    return trials.assign(rate=[json.loads(c)["model"]["dropout_rate"] for c in trials["config_json"]],
                         whole=rows_per_trial.reindex(trials["trial_id"]).to_numpy() == expected.to_numpy())


def trained(folder: Path) -> list:
    """(arm, seed) of every trial the sweep's jobs trained, from their job logs, sorted."""
    logs = "".join(path.read_text() for path in (folder / "results" / "hydra" / "multirun").rglob("cli.log"))
    return sorted((arm, int(seed)) for arm, seed in re.findall(r"\[done \d+/\d+\] ok (\w+) seed=(\d+)", logs))


def assert_every_trial_once_and_the_shared_arm_trained_once(folder: Path) -> None:
    """The SHARED sweep's store holds every (arm, rate, seed) once, and its jobs trained no_dropout once per seed."""
    trials = stored(folder)
    assert sorted(zip(trials["arm"], trials["rate"], trials["seed"])) == (
        [("dropout", rate, seed) for rate in RATES for seed in (0, 1)]
        + [("no_dropout", 0.0, 0), ("no_dropout", 0.0, 1)])
    assert trials["trial_id"].is_unique and trials["whole"].all() and (trials["status"] == "ok").all()
    assert trained(folder) == [("dropout", 0)] * 2 + [("dropout", 1)] * 2 + [("no_dropout", 0), ("no_dropout", 1)]
    assert not list((folder / "results" / "leases").rglob("*.lease"))


# A stand-in dataset record and trial result, for store tests that train nothing.
DATASET = Dataset("fashion_mnist", "test:fixture", "c" * 64, *(np.zeros((1, 1)),) * 4)


def result_for(trial, epochs=3):
    curves = {("train", "loss"): [2.0 / e for e in range(1, epochs + 1)],
              ("test", "accuracy"): [0.5 + 0.1 * e for e in range(epochs)]}
    return TrialResult(trial, curves, {"loss": 0.7, "accuracy": 0.8}, epochs, epochs, 12.5, "CPU: test")


# The engines, run in this process on trials made from conftest's `base_trial`.
def variant(trial, arm, optimizer="Adam", model=None, train=None, dataset=None, seed=0):
    settings = {"learning_rate": 0.01} if optimizer == "SGD" else {}
    return dataclasses.replace(trial, arm=arm, seed=seed, engine="fast", optimizer=OptimizerSpec(optimizer, settings),
                               model=dataclasses.replace(trial.model, **(model or {})),
                               train=dataclasses.replace(trial.train, **(train or {})),
                               dataset=dataclasses.replace(trial.dataset, **(dataset or {})))


def run_fast(trials, dataset, tmp_path, **settings):
    engine = FastEngine({"name": "fast", **settings}, tmp_path)
    splits = lambda trial: make_splits(dataset, trial.dataset, trial.seed)  # noqa: E731
    return {(result.trial.arm, result.trial.seed): result for result in engine.run(trials, splits, Quiet())}


def run_keras(trial, dataset, tmp_path):
    engine = KerasFitEngine({"name": "keras"}, tmp_path)
    return engine.train(trial, make_splits(dataset, trial.dataset, trial.seed), Quiet())


def assert_same_curves(first, second, relative):
    assert first.curves.keys() == second.curves.keys()
    for key in first.curves:
        np.testing.assert_allclose(first.curves[key], second.curves[key], rtol=relative, err_msg=str(key))


def assert_same_bits(results: dict, reference: dict) -> None:
    assert results.keys() == reference.keys()
    for key, result in results.items():
        expected = reference[key]
        assert result.status == expected.status == "ok", result.message
        assert result.curves == expected.curves, key  # float == float: bit for bit
        assert result.final == expected.final, key
        assert (result.stop_epoch, result.best_epoch) == (expected.stop_epoch, expected.best_epoch), key


# A study of the user's own: two SGD step sizes on article 001's settings, and its claim.
STUDY_YAML = """\
defaults:
  - /base/article001@_here_
  - _self_
name: steps
arms:
  small: {optimizer: {name: SGD, learning_rate: 0.001}}
  large: {optimizer: {name: SGD, learning_rate: 0.1}}
"""
STUDY_MODULE = """\
from studies.config.contract import Claim, Column, Figure

FIGURES = (Figure("loss", metric="loss", splits=("train",), ylabel="train loss"),)
SUMMARY = (Column("final train loss", metric="loss", split="train", point="final"),)
CLAIMS = (Claim("large_learns_faster", "SGD 0.1 ends below SGD 0.001", metric="loss", split="train",
                point="final", relation="<", arms=("large",), versus=("small",), tolerance=0.01),)
"""


def user_study(folder: Path, module: str | None) -> Path:
    """folder/conf/study/steps.yaml, and steps.py beside it unless module is None; returns folder/conf."""
    (folder / "conf" / "study").mkdir(parents=True)
    (folder / "conf" / "study" / "steps.yaml").write_text(STUDY_YAML)
    if module is not None:
        (folder / "conf" / "study" / "steps.py").write_text(module)
    return folder / "conf"
