"""studies/runtime/keras_internals.py on the installed Keras: each function does what the engines rely on, and the
installed major.minor is one the module records it was checked on (a new Keras: run this file, then add it to
CHECKED)."""
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
from packaging.requirements import Requirement

from studies.config.settings import ConfigError
from studies.engines.fast import FastEngine
from studies.runtime import keras_internals
from studies.runtime.keras_internals import (
    CHECKED,
    apply_at_rate,
    compile_metric,
    compiled_metrics,
    declare_tensorflow_absent,
    installed_version,
    learning_rate_schedule,
    per_sample_values,
    require_checked_version,
    stateless_apply_at_rate,
    take_learning_rate_per_call,
)
from tests.helpers import ENV, ROOT, assert_one_line_error, studybench

ONE_HOT = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], np.float32)
PREDICTIONS = np.array([[0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]], np.float32)  # right, wrong, right


def test_the_installed_keras_is_a_version_the_internals_were_checked_on():
    assert installed_version() in CHECKED, (
        f"Keras {keras.version()} is installed, but studies/runtime/keras_internals.py was checked on Keras {CHECKED} "
        "only: "
        "if every other test in this file passes, add its major.minor to CHECKED; else mend the failing function")
    require_checked_version()  # no error


def test_an_unchecked_keras_version_is_refused_naming_both(monkeypatch, tmp_path):
    monkeypatch.setattr(keras_internals, "CHECKED", ("2.99",))
    with pytest.raises(ConfigError, match=rf"Keras {keras.version()} is not a version .* checked on \(2\.99\)"):
        require_checked_version()
    with pytest.raises(ConfigError, match="tests/test_keras_internals.py"):
        FastEngine({"name": "fast"}, tmp_path)


def test_a_run_on_an_unchecked_keras_stops_with_one_line_and_stores_nothing(tmp_path):
    program = ("-c", "from studies.runtime.backend import import_backend_quietly; import_backend_quietly(); "
                     "import studies.runtime.keras_internals as k; k.CHECKED = ('2.99',); "
                     "from studies.run.cli import main; main()")
    done = studybench("study=optimizers", "profile=smoke", "n_seeds=1", "results_dir=results", "report=false",
                      "data.download=false", cwd=tmp_path, program=program)
    assert_one_line_error(done, r"Keras \S+ is not a version studybench's use of Keras internals was checked on "
                                r"\(2\.99\): install one")
    assert not (tmp_path / "results" / "trials").exists()


@pytest.mark.parametrize("y_true, y_pred, expected", [
    (ONE_HOT, PREDICTIONS, keras.metrics.CategoricalAccuracy),
    (np.array([[1], [0], [2]]), PREDICTIONS, keras.metrics.SparseCategoricalAccuracy),
    (np.array([[1], [0], [1]], np.float32), PREDICTIONS[:, 1:2], keras.metrics.BinaryAccuracy),
])
def test_compile_metric_picks_accuracy_by_the_targets_as_compile_does(y_true, y_pred, expected):
    metric = compile_metric("accuracy", y_true, y_pred)
    assert type(metric) is expected and metric.name == "accuracy"


def test_per_sample_values_are_the_values_a_metric_averages():
    metric = compile_metric("accuracy", ONE_HOT, PREDICTIONS)
    values = np.asarray(keras.ops.convert_to_numpy(per_sample_values(metric, ONE_HOT, PREDICTIONS)))
    np.testing.assert_array_equal(values.ravel(), [1.0, 0.0, 1.0])
    metric.update_state(ONE_HOT, PREDICTIONS)
    assert float(metric.result()) == pytest.approx(values.mean())


@pytest.mark.parametrize("accuracies, stops", [([0.5, 0.6, 0.7], False), ([0.7, 0.6, 0.5], True)])
def test_early_stopping_finds_an_accuracy_maximized_in_compiled_metrics(accuracies, stops):
    model = types.SimpleNamespace(metrics=[compiled_metrics([keras.metrics.CategoricalAccuracy(name="accuracy")])],
                                  stop_training=False)
    stopping = keras.callbacks.EarlyStopping(monitor="accuracy", patience=1)  # mode="auto"
    stopping.set_model(model)
    stopping.on_train_begin()
    for epoch, accuracy in enumerate(accuracies):
        stopping.on_epoch_end(epoch, {"accuracy": accuracy})
    assert model.stop_training is stops


def test_learning_rate_schedule_is_found_only_where_there_is_one():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert learning_rate_schedule(keras.optimizers.Adam(schedule)) is schedule
    assert learning_rate_schedule(keras.optimizers.Adam(0.1)) is None


def stacked_sgd():
    """An SGD taking its rate per call, built for one (2, 1, 3) variable of ones: two replicas' rows."""
    optimizer = keras.optimizers.SGD(0.5)
    take_learning_rate_per_call(optimizer)
    variable = keras.Variable(np.ones((2, 1, 3), np.float32))
    optimizer.build([variable])
    return optimizer, variable


RATES = np.array([0.1, 1.0], np.float32).reshape(2, 1, 1)  # one per replica
EXPECTED = np.array([[[0.9] * 3], [[0.0] * 3]], np.float32)  # 1 - rate * gradient 1


def test_apply_at_rate_updates_each_replica_at_its_own_rate():
    optimizer, variable = stacked_sgd()
    assert "learning_rate" not in [v.name for v in optimizer.variables]  # a stack's saved state: slots only
    apply_at_rate(optimizer, keras.ops.convert_to_tensor(RATES), [keras.ops.ones((2, 1, 3))], [variable])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), EXPECTED, rtol=1e-6)


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="Keras has stateless_apply on JAX: its pass")
def test_stateless_apply_at_rate_returns_what_apply_at_rate_assigns():
    optimizer, variable = stacked_sgd()
    values = [keras.ops.convert_to_tensor(v.value) for v in optimizer.variables]
    trainable, _ = stateless_apply_at_rate(optimizer, keras.ops.convert_to_tensor(RATES), values,
                                           [keras.ops.ones((2, 1, 3))], [variable.value])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(trainable[0]), EXPECTED, rtol=1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), np.ones((2, 1, 3)))  # stateless


# Keras seeds TensorFlow too where it finds it installed: the import declare_tensorflow_absent prevents.
SEEDED = ("import sys, keras; from studies.runtime.keras_internals import declare_tensorflow_absent; {call}"
          "keras.utils.set_random_seed(1); print('tensorflow imported:', 'tensorflow' in sys.modules)")


@pytest.mark.parametrize("call, imported", [("declare_tensorflow_absent(); ", False), ("", True)])
def test_declare_tensorflow_absent_keeps_keras_on_jax_from_importing_tensorflow(call, imported):
    done = subprocess.run([sys.executable, "-c", SEEDED.format(call=call)], capture_output=True, text=True,
                          cwd=ROOT, env={**ENV, "KERAS_BACKEND": "jax"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"tensorflow imported: {imported}" in done.stdout


def test_declare_tensorflow_absent_leaves_an_imported_tensorflow_alone():
    if "tensorflow" not in sys.modules:
        pytest.skip("TensorFlow not imported in this process (a JAX pass)")
    declare_tensorflow_absent()
    from keras.src.utils.module_utils import tensorflow

    assert tensorflow.available


def test_the_pyproject_admits_the_checked_keras_versions_and_no_newer_one():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    requirements = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                    ["dependencies"]]
    admitted = next(r.specifier for r in requirements if r.name == "keras")
    major, newest = max(tuple(map(int, version.split("."))) for version in CHECKED)
    assert all(f"{version}.0" in admitted for version in CHECKED), (admitted, CHECKED)
    assert f"{major}.{newest + 1}.0" not in admitted, f"pip would install a Keras a run refuses: {admitted}"
