"""Keras backends: trials record the one they ran on, and a study runs on JAX with TensorFlow absent
(as on a GPU machine where only JAX can be installed). `make test` runs this file under both backends."""
import json
import os
import subprocess
import sys

import keras
import pytest

from studies.environment import device, versions
from studies.store import TrialStore

# Runs the console script with `tensorflow` made unimportable, so any import of it fails loudly.
WITHOUT_TENSORFLOW = "import sys; sys.modules['tensorflow'] = None; from studies.cli import main; main()"


def test_versions_name_the_running_backend_and_its_libraries():
    recorded = versions()
    assert recorded["keras_backend"] == keras.backend.backend()
    expected = {"tensorflow": {"tensorflow"}, "jax": {"jax", "jaxlib"}}[keras.backend.backend()]
    assert expected <= recorded.keys() and not ({"tensorflow", "jax"} - expected) & recorded.keys()
    assert device().startswith(("CPU: ", "GPU: "))


@pytest.mark.parametrize("engine", ["fast", "keras"])
def test_a_study_runs_on_jax_without_tensorflow(engine, tmp_path):
    command = [sys.executable, "-c", WITHOUT_TENSORFLOW, "study=dropout", "profile=smoke", f"engine={engine}",
               f"results_dir={tmp_path / 'results'}", f"reports_dir={tmp_path / 'reports'}"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**os.environ, "KERAS_BACKEND": "jax"})
    assert done.returncode == 0, done.stderr[-2000:]
    trials = TrialStore(tmp_path / "results").trials("dropout")
    assert len(trials) == 10 and set(trials["status"]) == {"ok"} and set(trials["engine"]) == {engine}
    recorded = [json.loads(text) for text in trials["versions_json"]]
    assert all(v["keras_backend"] == "jax" and "jaxlib" in v and "tensorflow" not in v for v in recorded)
    assert (tmp_path / "reports" / "dropout" / "smoke" / "summary.md").exists()
