"""Bad input and runs that fail (issue #26): each ends with one line on stderr saying what is wrong and what is
valid (or what was kept), a non-zero exit status, no traceback, and nothing stored where nothing should be.
Exit status 2: bad input, before any training; 1: a run that trained no trial to its end or could not write;
130: interrupted."""
import signal
import subprocess
import sys

import pytest

from studies.run.plan import plan_study
from studies.store.trial_result import TrialResult
from studies.store.trial_store import TrialStore
from tests.helpers import DATASET, ENV, assert_one_line_error, compose_config, interrupted, studybench

STORE = ("results_dir=results", "reports_dir=reports")
SMOKE = ("profile=smoke", "n_seeds=1", "data.download=false", *STORE)
SGD = "study.arms.sgd.optimizer.learning_rate"
SGD_ALONE = tuple(f"study.arms.{arm}=drop" for arm in ("adagrad", "adadelta", "adam", "nadam", "rmsprop"))


def blobs(arguments: str = "") -> tuple:
    """Overrides that train the optimizers study on tests.custom_components.blobs, with more loader arguments."""
    return "~study.dataset", f"+study.dataset={{_target_:tests.custom_components.blobs,samples:150{arguments}}}"


@pytest.mark.parametrize("arguments, message", [
    ((f"{SGD}=-1.0",), r"study optimizers arm sgd optimizer.learning_rate=-1.0 is out of range: must be a finite "
                       "number > 0$"),
    ((f"{SGD}=-1",), "learning_rate=-1 is out of range: must be a finite number > 0$"),  # negative, not an int
    ((f"{SGD}=nan",), "learning_rate=nan is out of range"),
    ((f"{SGD}=inf",), "learning_rate=inf is out of range"),
    ((f"{SGD}=1,0.1",), rf"{SGD}=1,0.1 gives several values: add -m to sweep over them"),
    (("profile=smoke", "profile.name=full"), "profile.name=full renames profile smoke's settings as profile full.*"
                                             "valid: profile=full, or a new name"),
    (("study.train.epoch=3",), "unknown key 'study.train.epoch'; did you mean 'study.train.epochs'\\? valid keys under "
                               "study.train: batch_size, early_stopping, epochs, loss, metrics$"),
    (("study.trian.epochs=3",), "unknown key 'study.trian'; did you mean 'study.train'\\? valid keys under study: "),
    (("chekc",), "unknown command 'chekc'; did you mean 'check'\\? valid: report, check, agreement"),
    (("mode=chekc",), "mode: unknown value 'chekc'; valid: run, report, check, agreement"),
    (("+study.arms.sgd.model={_target_:tests.custom_components.small_mlp,outputs:3}",),
     r"arm sgd model _target_ tests.custom_components.small_mlp: its output of shape \(2, 3\) on a batch of 2 does "
     r"not suit loss categorical_crossentropy for 10 classes .*; give it one unit per class"),
])
def test_a_bad_value_is_one_line_before_anything_is_written(tmp_path, arguments, message):
    assert_one_line_error(studybench(*arguments, *STORE, cwd=tmp_path), message)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_value_stops_before_the_backend_is_imported(tmp_path):
    """The settings are checked before Keras (and TensorFlow) load: seconds, not the backend's import time."""
    probe = ("import sys\nfrom studies.run import cli\nsys.argv = ['studybench', 'variant=nope']\n"
             "try:\n    cli.main()\nexcept SystemExit as stopped:\n"
             "    print(stopped.code, 'keras' in sys.modules, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=ENV,
                          timeout=300)
    assert done.stdout.split() == ["2", "False", "False"], done.stderr[-2000:]
    assert "variant of study optimizers: unknown value 'nope'; valid: original, modern, book, cnn" in done.stderr


@pytest.mark.slow  # trains: left out of `make test-fast`
def test_an_int_learning_rate_is_a_float(tmp_path):
    """`learning_rate=1` is 1.0 (Keras refuses ints), in a single run and in each job of a sweep."""
    done = studybench("-m", "study=optimizers", *SGD_ALONE, f"{SGD}=1,0.1", *SMOKE, "report=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    trials = TrialStore(tmp_path / "results").trials("optimizers")
    rates = sorted(plan_study(compose_config(*SMOKE, *SGD_ALONE, f"{SGD}={rate}")).trials[0].optimizer.params[
        "learning_rate"] for rate in (1, 0.1))
    assert rates == [0.1, 1.0] and sorted(trials["status"]) == ["ok", "ok"]


@pytest.mark.parametrize("arguments, message", [
    # (a sweep's paths are made absolute, for jobs that may run elsewhere: studies/run/cluster.py)
    (("results_dir=taken",), "results_dir=(/.*/)?taken cannot be a folder: .*/taken is a file; valid: a folder"),
    (("results_dir=taken/results",), "results_dir=(/.*/)?taken/results cannot be a folder: .*/taken is a file"),
    (("reports_dir=taken",), "reports_dir=(/.*/)?taken cannot be a folder: .*/taken is a file"),
    # /proc/self: read-only even to root, who may write anywhere else
    (("results_dir=/proc/self/results",), "results_dir=/proc/self/results cannot be written: /proc/self is "
                                          "read-only to this user; valid: a writable folder"),
])
@pytest.mark.parametrize("sweep", [(), ("-m", "study.optimizer.learning_rate=0.1,0.01")], ids=["single", "sweep"])
def test_a_results_or_reports_folder_that_cannot_be_written_stops_before_training(tmp_path, arguments, message,
                                                                                  sweep):
    (tmp_path / "taken").write_text("a file")
    done = studybench(*sweep, *STORE, *arguments, cwd=tmp_path)
    assert_one_line_error(done, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize("backend", ["torch", "nope"])
def test_an_unsupported_backend_is_one_line(tmp_path, backend):
    done = studybench(*STORE, cwd=tmp_path, environment={"KERAS_BACKEND": backend})
    assert_one_line_error(done, f"KERAS_BACKEND={backend} is not supported; valid: tensorflow, jax$")
    assert list(tmp_path.iterdir()) == []


def test_check_of_a_misspelled_store_is_an_error_and_makes_nothing(tmp_path):
    done = studybench("check", "results_dir=resluts", cwd=tmp_path)
    assert_one_line_error(done, r"no trial store at results_dir=resluts \(no folder resluts/trials\)")
    assert list(tmp_path.iterdir()) == []


def test_a_study_without_variants_says_so(tmp_path):
    (tmp_path / "conf" / "study").mkdir(parents=True)
    (tmp_path / "conf" / "study" / "bare.yaml").write_text("defaults: [/study/optimizers@_here_, _self_]\n"
                                                          "name: bare\nvariants: null\n")
    done = studybench("study=bare", *STORE, cwd=tmp_path, path=tmp_path / "conf")
    assert_one_line_error(done, "study bare has no variants; its YAML lists them under `variants:`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]


@pytest.mark.parametrize("loader, message", [
    (",first_value:nan", "dataset _target_ tests.custom_components.blobs: x_train holds 1 NaN or infinite value"),
    (",first_value:-inf", "x_train holds 1 NaN or infinite value\\(s\\) \\(first at row 0\\); give finite features"),
    (",label_shift:-1", "y_train holds labels -1..1; valid: 0..1, the classes y_train defines"),
])
def test_bad_data_from_a_loader_is_one_line_at_load(tmp_path, loader, message):
    done = studybench(*blobs(loader), *SMOKE, cwd=tmp_path)
    assert_one_line_error(done, message)
    assert not (tmp_path / "results" / "trials").exists() and not (tmp_path / "reports").exists()


def test_a_builder_whose_output_does_not_suit_the_loaded_classes_stops_before_training(tmp_path):
    """blobs has 3 classes, known only once it loads; the builder gives 4 units."""
    done = studybench(*blobs(), *SGD_ALONE, "+study.arms.sgd.model={_target_:tests.custom_components.small_mlp,"
                      "outputs:4}", *SMOKE, cwd=tmp_path)
    assert_one_line_error(done, r"arm sgd model _target_ tests.custom_components.small_mlp: its output of shape "
                                r"\(2, 4\) on a batch of 2 does not suit loss categorical_crossentropy for 3 classes")
    assert not (tmp_path / "results" / "trials").exists()


@pytest.mark.slow  # trains: left out of `make test-fast`
def test_a_run_in_which_no_trial_finished_exits_1_naming_them_and_keeps_them(tmp_path):
    """A learning rate of 1e300 (finite, so valid) makes the loss NaN: the trial is stored as diverged."""
    done = studybench(*blobs(), *SGD_ALONE, f"{SGD}=1e300", *SMOKE, cwd=tmp_path)
    assert_one_line_error(done, r"no trial of optimizers/original finished normally: 1 diverged: sgd seed=0$", status=1)
    assert TrialStore(tmp_path / "results").trials("optimizers")["status"].tolist() == ["diverged"]
    assert not (tmp_path / "reports").exists()


def test_report_with_no_trials_of_its_engine_names_the_engines_stored(tmp_path):
    store_engine_fast_trials(tmp_path / "results")
    done = studybench("report", "study=optimizers", *SMOKE, "engine=keras", cwd=tmp_path)
    assert_one_line_error(done, "no stored engine=keras trials for study optimizers variant original profile smoke in "
                                "results, which holds engine=fast trials of it .*: run `studybench study=optimizers "
                                "engine=keras` first$")
    assert not (tmp_path / "reports").exists()


def test_engine_agreement_with_nothing_to_compare_is_an_error_and_writes_nothing(tmp_path):
    store_engine_fast_trials(tmp_path / "results")
    done = studybench("agreement", cwd=tmp_path)
    assert_one_line_error(done, "^studybench: error: nothing to compare in results: no arm has the same seeds "
                                "stored under both engine=fast and engine=keras")
    assert done.stdout == "" and not (tmp_path / "reports").exists()


def store_engine_fast_trials(folder) -> None:
    """The optimizers study's smoke trials of seed 0 in a store at `folder`, as engine=fast stored them."""
    store = TrialStore(folder)
    for trial in plan_study(compose_config("profile=smoke", "n_seeds=1")).trials:
        store.write(TrialResult(trial, {("train", "loss"): [2.0, 1.0]}, {"loss": 1.0, "accuracy": 0.8}, 2, 2, 1.0,
                                "CPU: test"), DATASET)


RUN = ("study=dropout", *SMOKE, "report=false")


@pytest.mark.slow  # trains: left out of `make test-fast`
def test_ctrl_c_says_what_was_kept_and_that_a_rerun_resumes(tmp_path):
    status = interrupted("stored", 1, tmp_path / "paused", RUN, tmp_path, stop=signal.SIGINT)
    lines = (tmp_path / "interrupted.stderr").read_text().strip().splitlines()
    assert status == 130 and len(lines) == 1, lines
    assert lines[0] == ("studybench: error: interrupted; kept: 1 stored trial of study dropout in results and "
                        "engine=fast's checkpoints of running stacks; rerun the same command to resume")
    assert len(TrialStore(tmp_path / "results").trials("dropout")) == 1


@pytest.mark.slow  # trains: left out of `make test-fast`
def test_a_full_disk_is_one_line_and_keeps_what_was_stored(tmp_path):
    """The second trial's write finds the disk full (OSError ENOSPC, raised inside the run: tests/interrupt.py)."""
    marker = tmp_path / "full"
    done = subprocess.run([sys.executable, "-m", "tests.interrupt", "full_disk", "3", str(marker), "--", *RUN],
                          capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=600)
    lines = done.stderr.strip().splitlines()
    assert marker.exists() and done.returncode == 1 and len(lines) == 1, lines  # a trial is two files, epochs first
    assert lines[0].startswith("studybench: error: cannot write ([Errno 28] No space left on device: ")
    assert lines[0].endswith("); kept: 1 stored trial of study dropout in results and engine=fast's checkpoints of "
                             "running stacks; rerun the same command to resume")
    assert len(TrialStore(tmp_path / "results").trials("dropout")) == 1
