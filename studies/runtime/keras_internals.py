"""Every use of Keras's private API in studybench, each behind one small function that says why no public API does.

Keras may change any of these in a minor release without notice, so they were checked on the Keras versions in
CHECKED (major.minor): tests/test_keras_internals.py runs each function on the installed Keras and fails, naming
both, on another version; a run on another version stops at its start (`require_checked_version`), because a
changed internal could change results without an error. To use a new Keras: run that test file on it and, if it
passes, add its major.minor here.
"""
from __future__ import annotations

import sys

import keras
from keras.src.trainers import compile_utils
from keras.src.utils import module_utils

from studies.config.settings import ConfigError

CHECKED = ("3.15",)


def installed_version() -> str:
    """The running Keras's major.minor."""
    return ".".join(keras.version().split(".")[:2])


def version_problem() -> str | None:
    """Why the installed Keras is not one these internals were checked on (None: it is)."""
    if installed_version() in CHECKED:
        return None
    return (f"Keras {keras.version()} is not a version studybench's use of Keras internals was checked on "
            f"({', '.join(CHECKED)}): install one (pip install 'keras=={CHECKED[-1]}.*'), or run "
            f"tests/test_keras_internals.py on {installed_version()} and, if it passes, add {installed_version()!r} "
            "to CHECKED in studies/runtime/keras_internals.py")


def require_checked_version() -> None:
    """A ConfigError (one line, exit status 2 before anything is trained) on a Keras version not in CHECKED."""
    problem = version_problem()
    if problem is not None:
        raise ConfigError(problem)


def compile_metric(name: str, y_true, y_pred) -> keras.metrics.Metric:
    """The metric `compile(metrics=[name])` picks for these targets ("accuracy": binary, sparse or categorical by the
    shapes): Keras makes that choice only inside compile(), in the private compile_utils.get_metric."""
    return compile_utils.get_metric(name, y_true, y_pred)


def compiled_metrics(metrics: list):
    """`metrics` wrapped as compile() wraps them for `model.metrics`: EarlyStopping(mode="auto") finds a monitored
    metric's direction only inside such a wrapper (compile_utils.MetricsList)."""
    return compile_utils.MetricsList(metrics)


def per_sample_values(metric: keras.metrics.MeanMetricWrapper, y_true, y_pred):
    """The per-sample values a MeanMetricWrapper averages: its public API gives only the running mean; the function
    and its arguments are the private _fn and _fn_kwargs."""
    return metric._fn(y_true, y_pred, **metric._fn_kwargs)


def learning_rate_schedule(optimizer: keras.optimizers.Optimizer):
    """The optimizer's LearningRateSchedule, or None: the public `learning_rate` gives only the schedule's value at
    the current step; the schedule object is the private _learning_rate."""
    held = optimizer._learning_rate
    return held if isinstance(held, keras.optimizers.schedules.LearningRateSchedule) else None


def take_learning_rate_per_call(optimizer: keras.optimizers.Optimizer) -> None:
    """Make `optimizer` (not built yet) take its learning rate from each `apply_at_rate` or `stateless_apply_at_rate`
    call, as a value of any shape (a stack's is (replicas, 1, 1)).

    Keras 3's `apply` and `stateless_apply` take no learning rate, and an optimizer's own learning-rate variable is a
    scalar; the one way in is the public setter's callable, which `apply` calls for the rate of that update. Set here
    before `build`, it also drops the scalar variable from `optimizer.variables` (what a stack saves and restores);
    each call below sets the callable to its own rate, so no rate is held in a side attribute."""
    optimizer.learning_rate = _rate_not_given


def apply_at_rate(optimizer: keras.optimizers.Optimizer, learning_rate, gradients: list, variables: list) -> None:
    """`optimizer.apply(gradients, variables)` with `learning_rate` (see take_learning_rate_per_call)."""
    optimizer.learning_rate = lambda: learning_rate
    optimizer.apply(gradients, variables)


def stateless_apply_at_rate(optimizer: keras.optimizers.Optimizer, learning_rate, optimizer_values: list,
                            gradients: list, trainable: list) -> tuple[list, list]:
    """`optimizer.stateless_apply(...)` with `learning_rate` (see take_learning_rate_per_call)."""
    optimizer.learning_rate = lambda: learning_rate
    return optimizer.stateless_apply(optimizer_values, gradients, trainable)


def _rate_not_given() -> None:
    """The learning rate before the first call: none (Keras's TensorFlow attribute tracking reads the old value of an
    attribute each time it is set, so this must not raise)."""
    return None


def declare_tensorflow_absent() -> None:
    """Tell Keras that TensorFlow is not installed, unless something imported it already. Keras asks through a
    private LazyModule, whose `available` is answered by importing TensorFlow and then cached in _available."""
    if "tensorflow" not in sys.modules:
        module_utils.tensorflow._available = False
