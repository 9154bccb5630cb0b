"""The CLI (`studybench`, run from this checkout by tests/helpers.py): --help lists the studies (also those on
STUDYBENCH_PATH); bad input exits 2 with one line and writes nothing; a study from a folder outside the package
runs and is judged on its own claims."""
from pathlib import Path

import pandas as pd
import pytest

from studies.run.cli import available
from tests.helpers import STUDY_MODULE, STUDY_YAML, assert_one_line_error, studybench, user_study


def test_help_lists_the_studies(tmp_path):
    done = studybench("--help", cwd=tmp_path)
    assert done.returncode == 0
    study_line = next(line for line in done.stdout.splitlines() if line.startswith("study: "))
    assert study_line == "study: " + ", ".join(available("study")) and "optimizers" in study_line
    assert "profile: full, smoke" in done.stdout


@pytest.mark.parametrize("arguments, message", [
    (["study=nope"], "unknown study 'nope'; valid: batchnorm, dropout, early_stopping, .*optimizers"),
    (["engine=turbo"], "unknown engine 'turbo'; valid: fast, keras"),
    (["variant=ancient"], "unknown value 'ancient'; valid: original, modern"),
    (["nseeds=3"], "unknown key 'nseeds'; did you mean 'n_seeds'\\? valid top-level keys:.*n_seeds"),
    (["n_seeds=-1"], "n_seeds=-1 is out of range"),
    (["n_seeds=auto", "max_seeds=3"], "max_seeds=3 is below first_round=10: with n_seeds=auto"),
    (["study.arms.adam.optimizer.name=Adamax2"], "unknown optimizer 'Adamax2'"),
    (["tensorboard=maybe"], "tensorboard='maybe' is not a boolean; valid: true, false"),
    (["~study.arms.adam.optimizer", "+study.arms.adam.optimizer={_target_:my_pkg.Nope}"],
     r"optimizer _target_ 'my_pkg.Nope': no such class \(No module named 'my_pkg'\); give an importable path such as "
     "keras.optimizers.Adam$"),
    (["~study.arms.adam.optimizer", "+study.arms.adam.optimizer={_target_:keras.optimizers.Adam,lr:0.1}"],
     r"optimizer _target_ 'keras.optimizers.Adam': bad argument\(s\) \{'lr': 0.1\}: Argument\(s\) not recognized"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, arguments, message):
    done = studybench(*arguments, "results_dir=results", "reports_dir=reports", cwd=tmp_path)
    assert_one_line_error(done, message)
    assert list(tmp_path.iterdir()) == []


def test_a_module_in_the_working_directory_names_an_optimizer_and_fallback_false_stops_before_training(tmp_path):
    (tmp_path / "my_components.py").write_text((Path(__file__).parent / "custom_components.py").read_text())
    done = studybench("~study.arms.adam.optimizer", "+study.arms.adam.optimizer={_target_:my_components.NormalizedSGD,"
                      "learning_rate:0.01}", "engine.fallback=false", "profile=smoke", "n_seeds=1",
                      "results_dir=results", "reports_dir=reports", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studybench: error: engine fast cannot run 1 trial of arm adam "
                                                   "(optimizer NormalizedSGD's update of one replica depends"), lines
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["hydra"]  # Hydra's job folder; no trial stored
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow  # trains a study: left out of `make test-fast`
def test_a_study_outside_the_package_is_listed_run_and_judged_on_its_own_claims(tmp_path):
    conf = user_study(tmp_path / "mine", STUDY_MODULE)
    listed = studybench("--help", cwd=tmp_path, path=conf)
    assert "study: batchnorm, " in listed.stdout and ", steps, weight_decay" in listed.stdout
    done = studybench("study=steps", "profile=smoke", "n_seeds=2", "data.download=false", "results_dir=results",
                      "reports_dir=reports", cwd=tmp_path, path=conf)
    assert done.returncode == 0, done.stderr
    claims = pd.read_csv(tmp_path / "reports" / "steps" / "smoke" / "claims.csv")
    assert claims["claim"].tolist() == ["large_learns_faster"] and claims["seeds"].tolist() == ["2 of 2"]


def test_unknown_study_lists_those_on_the_search_path_too(tmp_path):
    done = studybench("study=stpes", cwd=tmp_path, path=user_study(tmp_path, STUDY_MODULE))
    assert_one_line_error(done, r"unknown study 'stpes'; valid: batchnorm, .*optimizers, steps, weight_decay$")


@pytest.mark.parametrize("module, message", [
    (STUDY_MODULE.replace("CLAIMS = ", "TYPO = "),
     r"study module .*/conf/study/steps.py lacks CLAIMS; a study module defines FIGURES, SUMMARY, CLAIMS"),
    ("import not_installed\n", r"study module .*/steps.py failed on import: ModuleNotFoundError: No module named"),
])
def test_a_broken_study_module_is_one_line(tmp_path, module, message):
    done = studybench("study=steps", "results_dir=results", cwd=tmp_path, path=user_study(tmp_path, module))
    assert_one_line_error(done, message)
    assert not (tmp_path / "results").exists()


def test_a_missing_contract_module_and_a_missing_search_folder_are_one_line(tmp_path):
    conf = user_study(tmp_path, None)
    (conf / "study" / "steps.yaml").write_text(STUDY_YAML + "contract: my_studies.steps\n")
    assert_one_line_error(studybench("study=steps", cwd=tmp_path, path=conf),
                          r"study steps: contract module 'my_studies.steps' cannot be imported "
                          r"\(ModuleNotFoundError: No module named 'my_studies'\)")
    assert_one_line_error(studybench("study=steps", cwd=tmp_path, path=tmp_path / "nowhere"),
                          r"STUDYBENCH_PATH entry '.*/nowhere' is not a folder")
