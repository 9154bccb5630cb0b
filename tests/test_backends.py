"""Keras backends: trials record the one they ran on, and a study runs on JAX with TensorFlow absent
(as on a GPU machine where only JAX can be installed). `make test` runs this file under both backends."""
import dataclasses
import json

import keras
import pytest

from studies.run.plan import plan_study
from studies.runtime.provenance import device, versions
from studies.store.trial_store import TrialStore
from tests.helpers import CLI, compose_config, studybench

# Runs the CLI with `tensorflow` made unimportable, so any import of it fails loudly.
WITHOUT_TENSORFLOW = "import sys; sys.modules['tensorflow'] = None; from studies.run.cli import main; main()"


def test_versions_name_the_running_backend_and_its_libraries():
    recorded = versions()
    assert recorded["keras_backend"] == keras.backend.backend()
    expected = {"tensorflow": {"tensorflow"}, "jax": {"jax", "jaxlib"}}[keras.backend.backend()]
    assert expected <= recorded.keys() and not ({"tensorflow", "jax"} - expected) & recorded.keys()
    assert device().startswith(("CPU: ", "GPU: "))


def test_the_backend_is_part_of_a_trials_identity_except_tensorflow_the_default():
    trial = plan_study(compose_config("study=dropout", "profile=smoke")).trials[0]
    assert trial.backend == keras.backend.backend()
    tensorflow, jax = (dataclasses.replace(trial, backend=name) for name in ("tensorflow", "jax"))
    assert "backend" not in tensorflow.identity() and jax.identity()["backend"] == "jax"  # stored ids kept
    assert tensorflow.trial_id != jax.trial_id


def run_study(backend: str, engine: str, where):
    """The CLI on `backend`; on JAX with TensorFlow made unimportable."""
    program = ("-c", WITHOUT_TENSORFLOW) if backend == "jax" else CLI
    done = studybench("study=dropout", "profile=smoke", f"engine={engine}", f"results_dir={where / 'results'}",
                      f"reports_dir={where / 'reports'}", cwd=where, environment={"KERAS_BACKEND": backend},
                      program=program)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow  # trains a study on each backend: left out of `make test-fast`
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="starts its own JAX and TensorFlow processes: run once, in make test's TensorFlow pass")
@pytest.mark.parametrize("engine", ["fast", "keras"])
def test_a_study_runs_on_jax_without_tensorflow_beside_tensorflow_runs(engine, tmp_path):
    if engine == "fast":  # a TensorFlow run first: the JAX run must not take its trials as its own
        assert "10 to train with engine=fast on tensorflow" in run_study("tensorflow", engine, tmp_path)
    assert f"10 to train with engine={engine} on jax" in run_study("jax", engine, tmp_path)
    trials = TrialStore(tmp_path / "results").trials("dropout")
    recorded = trials["versions_json"].map(json.loads)
    on_jax = trials[recorded.map(lambda v: v["keras_backend"] == "jax")]
    assert len(on_jax) == 10 and set(on_jax["status"]) == {"ok"} and set(on_jax["engine"]) == {engine}
    assert all("jaxlib" in v and "tensorflow" not in v for v in recorded[on_jax.index])
    assert len(trials) == (20 if engine == "fast" else 10)
    summary = (tmp_path / "reports" / "dropout" / "smoke" / "summary.md").read_text()
    assert "jax" in summary  # the report of the last run names its training libraries
