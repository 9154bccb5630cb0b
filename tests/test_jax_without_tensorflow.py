"""Under KERAS_BACKEND=jax a study run never imports TensorFlow, even where it is installed: Keras would import it
to seed it and to serialize layer configs, and its C++ start-up lines reached the terminal (issue #26.4).
`make test` runs this file in its JAX pass."""
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parent.parent  # this checkout's studies, whatever the venv installed
# The console script, then (at exit, after the report) whether anything imported TensorFlow.
WATCHED = ("import atexit, sys; "
           "atexit.register(lambda: print('tensorflow imported:', 'tensorflow' in sys.modules)); "
           "from studies.run.cli import main; main()")


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="a JAX run's imports: make test's JAX pass")
@pytest.mark.parametrize("engine", ["fast", "keras"])
def test_a_jax_study_run_imports_no_tensorflow(engine, tmp_path):
    done = subprocess.run([sys.executable, "-c", WATCHED, "study=dropout", "profile=smoke", "n_seeds=1",
                           f"engine={engine}", f"results_dir={tmp_path / 'results'}",
                           f"reports_dir={tmp_path / 'reports'}", "data.download=false"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"2 to train with engine={engine} on jax" in done.stdout  # trials did train here
    assert "tensorflow imported: False" in done.stdout, done.stdout[-2000:]
    assert "oneDNN" not in done.stderr and "absl" not in done.stderr  # TensorFlow's C++ start-up lines
