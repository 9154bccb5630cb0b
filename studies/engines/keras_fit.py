"""engine=keras: each trial is one `model.fit` with real Keras callbacks (the reference engine).

The batch order comes from `studies.runtime.seeding`, fed through tf.data (a NumPy generator on other Keras
backends) with `shuffle` off, so arms of one seed see the same batches; `steps_per_epoch` keeps Keras
reading one iterator across epochs. With train.steps_per_epoch set (the book's per-iteration curves) an
"epoch" is that many batches of the same stream of passes over the data; with train.sampling=
with_replacement the stream is the per-step draws instead. train.evaluate_train adds an evaluate() of the
training data after each epoch (a callback), logged as train_eval_<metric>.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from studies.config.run_settings import engine_defaults
from studies.config.settings import TrialSpec, check_keys
from studies.data.splits import Splits
from studies.engines.labels import encode_targets
from studies.engines.model import build_model, build_optimizer
from studies.engines.shared import finished_result, prediction_scores, trial_callbacks
from studies.runtime.backend import deterministic_ops
from studies.runtime.keras_internals import require_checked_version
from studies.runtime.phases import timed
from studies.runtime.provenance import device
from studies.runtime.seeding import replacement_order, seed_everything, source_seed, training_order
from studies.store.trial_result import TRAIN_EVALUATION, TrialResult, failed_result, split_metric

SETTINGS = ("name", "evaluation_batch_size", "jit_compile")
DEFAULTS = engine_defaults("keras")  # conf/engine/keras.yaml: the one place they are set


def batches(x: np.ndarray, y: np.ndarray, order: np.ndarray, batch_size: int):
    """All epochs' batches in `order` ((epochs, samples) indices), last partial batch of each kept."""
    if keras.backend.backend() != "tensorflow":
        return ((x[epoch[start:start + batch_size]], y[epoch[start:start + batch_size]])
                for epoch in order for start in range(0, len(epoch), batch_size))
    import tensorflow as tf

    x, y = tf.constant(x), tf.constant(y)
    epochs = tf.data.Dataset.from_tensor_slices(order)
    indices = epochs.flat_map(lambda epoch: tf.data.Dataset.from_tensor_slices(epoch).batch(batch_size))
    return indices.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx))).prefetch(2)


def batch_order(trial: TrialSpec, steps: int, samples: int) -> np.ndarray:
    """Rows of every step of the trial, as `batches` reads them: (passes, samples) epoch orders, or the
    draws with replacement end to end."""
    spec, seed = trial.train, source_seed(trial, "order")
    if spec.sampling == "with_replacement":
        return replacement_order(seed, spec.epochs * steps, samples, spec.batch_size)
    return training_order(seed, math.ceil(spec.epochs * steps / math.ceil(samples / spec.batch_size)), samples)


class _TrainEvaluation(keras.callbacks.Callback):
    """evaluate() on the training data after each epoch, in inference mode (batch norm's moving statistics,
    no dropout), added to the epoch's logs as train_eval_<metric> for History and the callbacks after it."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def on_epoch_end(self, epoch, logs=None):
        results = self.model.evaluate(self.x, self.y, batch_size=self.batch_size, return_dict=True, verbose=0)
        logs.update({f"{TRAIN_EVALUATION}_{name}": value for name, value in results.items()})


class _EpochReport(keras.callbacks.Callback):
    def __init__(self, trial: TrialSpec, progress):
        super().__init__()
        self.trial, self.progress = trial, progress

    def on_epoch_end(self, epoch, logs=None):
        self.progress.epoch(self.trial, epoch + 1, self.trial.train.epochs, logs or {})


class KerasFitEngine:
    name = "keras"

    def __init__(self, settings: dict, results_dir):
        check_keys(settings, SETTINGS, "engine keras")
        settings = {**DEFAULTS, **settings}  # the YAML's defaults, for settings given in part (tests, bench/)
        self.evaluation_batch_size = settings["evaluation_batch_size"]
        self.jit_compile = settings["jit_compile"]
        self.artifacts_dir = Path(results_dir) / "artifacts"
        require_checked_version()  # on JAX, runtime.keep_tensorflow_out uses a Keras internal
        deterministic_ops()

    def unsupported(self, trial: TrialSpec) -> str | None:
        """None: model.fit runs every trial (the engine others fall back to)."""
        return None

    def run(self, trials, splits_for, progress):
        for trial in trials:
            try:
                result = self.train(trial, splits_for(trial), progress)
            except Exception as error:  # one trial's failure is stored as such; the study goes on
                result = failed_result(trial, error, device())
            yield result

    def _callbacks(self, trial: TrialSpec, progress, x_train, y_train) -> tuple[list, list]:
        """Train evaluation first, so that the progress report, EarlyStopping and ModelCheckpoint see it."""
        callbacks, artifacts = trial_callbacks(trial, self.artifacts_dir)
        callbacks = [_EpochReport(trial, progress), keras.callbacks.TerminateOnNaN(), *callbacks]
        if trial.train.evaluate_train:
            callbacks.insert(0, _TrainEvaluation(x_train, y_train, self.evaluation_batch_size))
        return callbacks, artifacts

    def train(self, trial: TrialSpec, splits: Splits, progress) -> TrialResult:
        spec = trial.train
        seed_everything(source_seed(trial, "weights"))  # and the dropout masks: see studies/runtime/seeding.py
        with timed("build"):
            model = build_model(trial.model, splits.x_train.shape[1], splits.classes)
            model.compile(optimizer=build_optimizer(trial.optimizer), loss=spec.loss, metrics=list(spec.metrics),
                          jit_compile=self.jit_compile)
        y_train = encode_targets(splits.y_train, spec.loss, splits.classes)
        steps = spec.steps_per_epoch or math.ceil(len(splits.x_train) / spec.batch_size)
        order = batch_order(trial, steps, len(splits.x_train))
        validation = None
        if splits.validation is not None:
            x_val, y_val = splits.validation
            validation = (x_val, encode_targets(y_val, spec.loss, splits.classes))
        callbacks, artifacts = self._callbacks(trial, progress, splits.x_train, y_train)
        started = time.perf_counter()
        with timed("train"):  # with model.fit's compilation and validation: Keras times them as one
            history = model.fit(batches(splits.x_train, y_train, order, spec.batch_size), epochs=spec.epochs,
                                steps_per_epoch=steps,
                                validation_data=validation, validation_batch_size=self.evaluation_batch_size,
                                callbacks=callbacks, shuffle=False, verbose=0)
        with timed("evaluate"):
            final = model.evaluate(splits.x_test, encode_targets(splits.y_test, spec.loss, splits.classes),
                                   batch_size=self.evaluation_batch_size, return_dict=True, verbose=0)
            final.update(prediction_scores(
                trial, splits, lambda: model.predict(splits.x_test, batch_size=self.evaluation_batch_size, verbose=0)))
        wall = time.perf_counter() - started
        curves = {split_metric(key, splits.validation_name): [float(v) for v in values]
                  for key, values in history.history.items()}
        return finished_result(trial, splits, curves, {k: float(v) for k, v in final.items()}, len(history.epoch),
                               wall, artifacts)
