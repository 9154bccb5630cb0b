"""`make reproduce`'s one process (studies/run/reproduce.py) and its wall-time breakdown (studies/runtime/phases.py)."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from studies.run.reproduce import PARTS, run_commands
from studies.runtime.phases import Phases, first_call
from studies.store.trial_store import TrialStore
from tests.helpers import ROOT, studybench

RUNS = ("initializers:book", "initializers")
SETTINGS = ("profile=smoke", "results_dir=results", "reports_dir=reports", "data.download=false")


def reproduce(*runs: str, cwd) -> subprocess.CompletedProcess:
    return studybench("--seeds", "n_seeds=2", "--record", "bench", "--make-started", str(time.time()), *runs, "--",
                      *SETTINGS, cwd=cwd, program=("-m", "studies.run.reproduce"))


def test_a_nested_phase_pauses_the_outer_one():
    phases, started = Phases(), time.perf_counter()
    with phases.timed("report"):
        with phases.timed("store"):
            time.sleep(0.01)
        with phases.timed("planning"):
            pass
    elapsed = time.perf_counter() - started
    assert set(phases.seconds) == {"report", "store", "planning"}
    assert phases.seconds["store"] >= 0.01  # the sleep is the inner phase's, not the report's
    assert sum(phases.seconds.values()) <= elapsed
    assert phases.running == []


def test_only_a_programs_first_call_on_new_shapes_is_compilation():
    class Program:  # stands for an engine=fast stack
        pass

    program, other = Program(), Program()
    calls = [first_call(program, ((8, 4),), "train"), first_call(program, ((8, 4),), "train"),
             first_call(program, ((2, 4),), "train"), first_call(other, ((8, 4),), "train")]
    assert calls == ["compile", "train", "compile", "compile"]


def test_runs_become_the_makefiles_commands_training_first_reports_after():
    training, reporting = run_commands(["batchnorm:book", "optimizers", "hyperparameters"], ["n_seeds=auto"],
                                       ["profile=smoke"])
    assert training == [["n_seeds=auto", "study=batchnorm", "variant=book", "report=false", "profile=smoke"],
                        ["n_seeds=auto", "study=optimizers", "variant=original", "report=false", "profile=smoke"],
                        ["-m", "study=hyperparameters", "hydra/sweeper=book_random_search", "n_seeds=1",
                         "report=false", "profile=smoke"]]
    assert reporting == [["report", "n_seeds=auto", "study=batchnorm", "variant=book", "profile=smoke"],
                         ["report", "n_seeds=auto", "study=optimizers", "variant=original", "profile=smoke"],
                         ["report", "study=hyperparameters", "n_seeds=1", "profile=smoke"]]


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """Two smoke runs reproduced in one process into a fresh folder: (the folder, the finished process)."""
    folder = tmp_path_factory.mktemp("reproduce")
    return folder, reproduce(*RUNS, cwd=folder)


@pytest.mark.slow  # trains two studies: left out of `make test-fast`
def test_every_run_trains_then_each_report_is_built_once_at_the_end(reproduced):
    folder, done = reproduced
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    trained = [n for n, line in enumerate(lines) if "to train with engine=" in line]
    reported = [n for n, line in enumerate(lines) if "reporting" in line and "trials from the store" in line]
    assert len(trained) == len(reported) == len(RUNS) and max(trained) < min(reported)
    for report in ("initializers/book/smoke", "initializers/smoke"):  # the original variant's has no variant folder
        assert (folder / "reports" / report / "summary.md").exists(), report
    assert set(TrialStore(folder / "results").trials("initializers")["variant"]) == {"book", "original"}


@pytest.mark.slow
def test_the_breakdown_has_every_part_and_they_sum_to_the_total(reproduced):
    folder, done = reproduced
    assert done.returncode == 0, done.stderr[-2000:]
    times = json.loads((folder / "bench" / "reproduce-smoke.json").read_text())
    parts = times["parts_s"]
    assert list(parts) == ["install", *PARTS, "other"]
    assert all(seconds >= 0 for seconds in parts.values()), parts
    assert sum(parts.values()) == pytest.approx(times["total_s"])
    assert all(parts[part] > 0 for part in ("import", "planning", "compile", "train", "store", "report")), parts
    assert times["runs"] == list(RUNS)
    table = (folder / "bench" / "reproduce-smoke.md").read_text()
    for part in parts:
        assert f"| {part} |" in table and f"| {part} |" in done.stdout


@pytest.mark.slow
def test_a_failing_run_is_named_and_a_rerun_trains_nothing_again(reproduced):
    folder, first = reproduced
    assert first.returncode == 0, first.stderr[-2000:]
    stored = set(TrialStore(folder / "results").trials("initializers")["trial_id"])
    done = reproduce(RUNS[0], "fit_basics:nope", cwd=folder)
    assert done.returncode == 2
    assert "6 already stored, skipped; 0 to train" in done.stdout  # the stored run resumed: nothing trained again
    assert "studybench reproduce: run `" in done.stderr and "variant=nope" in done.stderr.splitlines()[-1]
    assert "reporting" not in done.stdout  # reports come after every run, and the runs stopped
    assert set(TrialStore(folder / "results").trials("initializers")["trial_id"]) == stored


def test_the_makefile_runs_reproduce_in_one_process():
    # Without the calling make's variables: under `make test EXTRAS=test,ray` (CI) MAKEFLAGS would pass EXTRAS on.
    outside = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "EXTRAS")}
    dry = subprocess.run(["make", "-n", "reproduce", "VENV=/nonexistent", "RUNS=fit_basics hyperparameters",
                          "ARGS=profile=smoke"], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=outside).stdout
    reproduction = [line for line in dry.splitlines() if "studybench" in line or "studies.run.reproduce" in line]
    assert len(reproduction) == 1 and "-m studies.run.reproduce" in reproduction[0], dry
    assert "pip install --quiet -e '.[optuna]'" in dry  # no test extras for the studies alone
