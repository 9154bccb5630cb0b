"""The console script: --help lists the studies; bad input exits 2 with one line and writes nothing."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studies.cli import available

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def studybench(*arguments, cwd):
    script = Path(sys.executable).parent / "studybench"  # the venv's console script
    return subprocess.run([str(script), *arguments], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=300)


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
    (["nseeds=3"], "unknown key 'nseeds'; valid top-level keys:.*n_seeds"),
    (["n_seeds=-1"], "n_seeds=-1 is out of range"),
    (["n_seeds=auto", "max_seeds=3"], "max_seeds=3 is below first_round=5: with n_seeds=auto"),
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
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studybench: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_module_in_the_working_directory_names_an_optimizer_and_fallback_false_stops_before_training(tmp_path):
    (tmp_path / "my_components.py").write_text((Path(__file__).parent / "custom_components.py").read_text())
    done = studybench("~study.arms.adam.optimizer", "+study.arms.adam.optimizer={_target_:my_components.SignSGD,"
                      "learning_rate:0.01}", "engine.fallback=false", "profile=smoke", "n_seeds=1",
                      "results_dir=results", "reports_dir=reports", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studybench: error: engine fast cannot run 1 trial of arm adam "
                                                   "(optimizer SignSGD is not one whose update is known"), lines
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["hydra"]  # Hydra's job folder; no trial stored
    assert not (tmp_path / "reports").exists()
