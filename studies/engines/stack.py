"""Same-architecture Keras MLPs trained as one: every weight gets a leading replica axis.

Each replica is first built by `studies.model.build_model` under its own seed, so it starts from exactly
the weights engine=keras would give it (each kernel drawn by its own `(in, out)`-shaped initializer
call); then the weights are stacked. The forward pass uses the Keras layers' own activations, dropout
rates and BatchNormalization arithmetic (`keras.ops.moments`, `keras.ops.batch_normalization`, the same
moving-average update); losses, metrics, regularizers and the optimizer are Keras's. The training loss is
the sum of the replicas' losses, so each replica's gradient is its own.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras.src.trainers.compile_utils import get_metric  # how compile() resolves "accuracy" for a loss

from studies.config import ConfigError

SUPPORTED_LAYERS = (keras.layers.InputLayer, keras.layers.Dense, keras.layers.BatchNormalization,
                    keras.layers.Activation, keras.layers.Dropout)
COUPLING_OPTIMIZER_SETTINGS = ("clipnorm", "global_clipnorm")  # norms over a whole stacked variable


def resolve_metric(name: str, y_true, y_pred) -> keras.metrics.MeanMetricWrapper:
    """The Keras metric compile() would pick for `name` and these targets; it must be a per-sample mean."""
    metric = get_metric(name, y_true, y_pred)
    if not isinstance(metric, keras.metrics.MeanMetricWrapper):
        raise ConfigError(f"engine fast: metric {name!r} is not a per-sample mean; use engine=keras for it")
    return metric


def check_optimizer(optimizer: keras.optimizers.Optimizer) -> None:
    for setting in COUPLING_OPTIMIZER_SETTINGS:
        if getattr(optimizer, setting, None) is not None:
            raise ConfigError(f"engine fast: optimizer {setting}={getattr(optimizer, setting)} would clip the norm "
                              "of all replicas together; use clipvalue, or engine=keras")


class Stack:
    """Stacked weights of `models` (identical architectures), trained with one Keras optimizer."""

    def __init__(self, models: list, optimizer, loss: str, metrics: list, seeds: list, y_example, jit_compile=True):
        check_optimizer(optimizer)
        reference = models[0]
        self.replicas = len(models)
        self.weights = [tf.Variable(np.stack([m.weights[i].numpy() for m in models]), trainable=w.trainable)
                        for i, w in enumerate(reference.weights)]
        self.trainable = [w for w in self.weights if w.trainable]
        self.regularizers = [[m.weights[i].regularizer for m in models] for i in range(len(self.weights))]
        index = {id(w): i for i, w in enumerate(reference.weights)}
        self.layers = [self._layer([m.layers[k] for m in models], index) for k in range(len(reference.layers))]
        self.seeds = tf.constant(seeds, tf.int64)
        self.loss = keras.losses.get(loss)
        example_prediction = np.zeros((1, reference.output_shape[-1]), np.float32)
        self.metric_objects = [resolve_metric(name, y_example[:1], example_prediction) for name in metrics]
        self.optimizer = optimizer
        optimizer.build(self.trainable)
        self.train_steps = tf.function(self._train_steps, jit_compile=jit_compile)
        self.evaluate_chunk = tf.function(self._evaluate_chunk, jit_compile=jit_compile)

    def _layer(self, layers: list, index: dict):
        layer = layers[0]
        if not isinstance(layer, SUPPORTED_LAYERS):
            raise ConfigError(f"engine fast: layer {type(layer).__name__} is not supported; "
                              f"supported: {', '.join(c.__name__ for c in SUPPORTED_LAYERS)} (or use engine=keras)")
        positions = [index[id(w)] for w in layer.weights]
        if isinstance(layer, keras.layers.Dense):
            return self._dense, (positions, layer.activation)
        if isinstance(layer, keras.layers.BatchNormalization):
            if not (layer.center and layer.scale) or layer.renorm or layer.axis != -1:
                raise ConfigError("engine fast: only BatchNormalization(axis=-1, center, scale, no renorm) is supported")
            return self._batch_norm, (positions, layer.momentum, layer.epsilon)
        if isinstance(layer, keras.layers.Activation):
            return self._activation, layer.activation
        if isinstance(layer, keras.layers.Dropout):
            rates = tf.constant([[[m.rate]] for m in layers], tf.float32)  # (replicas, 1, 1)
            return self._dropout, (rates, id(layer))
        return None, None  # the input layer

    # The forward pass: x is (replicas, samples, features).
    def forward(self, x, training: bool, step):
        for number, (apply, settings) in enumerate(self.layers):
            if apply is not None:
                x = apply(x, settings, training, (step, number))
        return x

    def _dense(self, x, settings, training, where):
        (kernel, bias), activation = settings
        return activation(tf.matmul(x, self.weights[kernel]) + self.weights[bias][:, None, :])

    def _batch_norm(self, x, settings, training, where):
        (gamma, beta, moving_mean, moving_variance), momentum, epsilon = settings
        if training:
            mean, variance = keras.ops.moments(x, axes=[1], keepdims=True)
            for position, batch in ((moving_mean, mean), (moving_variance, variance)):
                moving = self.weights[position]
                moving.assign(moving * momentum + batch[:, 0, :] * (1.0 - momentum))
        else:
            mean, variance = self.weights[moving_mean][:, None, :], self.weights[moving_variance][:, None, :]
        return keras.ops.batch_normalization(x, mean, variance, axis=-1, offset=self.weights[beta][:, None, :],
                                             scale=self.weights[gamma][:, None, :], epsilon=epsilon)

    def _activation(self, x, activation, training, where):
        return activation(x)

    def _dropout(self, x, settings, training, where):
        if not training:
            return x
        rates, _ = settings
        step, layer_number = where
        # One stateless stream per replica, keyed by (replica seed, step, layer): a replica draws the same
        # masks whatever else is in its stack.
        shape = tf.shape(x)[1:]
        uniform = tf.stack([tf.random.stateless_uniform(shape, seed=tf.stack([self.seeds[r], step * 64 + layer_number]))
                            for r in range(self.replicas)])
        return tf.where(uniform >= rates, x / (1.0 - rates), tf.zeros_like(x))

    def penalties(self):
        """(replicas,) regularization loss of each replica, from its own Keras regularizers."""
        total = tf.zeros([self.replicas])
        for weight, regularizers in zip(self.weights, self.regularizers):
            if any(regularizers):
                total += tf.stack([r(weight[i]) if r else tf.constant(0.0) for i, r in enumerate(regularizers)])
        return total

    def _sums(self, y, prediction):
        """Per replica: summed per-sample loss, and summed per-sample value of each metric."""
        return (tf.reduce_sum(self.loss(y, prediction), axis=1),
                [self._sample_sums(m._fn(y, prediction, **m._fn_kwargs)) for m in self.metric_objects])

    def _sample_sums(self, values):
        """Per replica, the sum over samples of each sample's mean value (some metrics keep a last axis)."""
        values = tf.reshape(tf.cast(values, tf.float32), [self.replicas, tf.shape(values)[1], -1])
        return tf.reduce_sum(tf.reduce_mean(values, axis=2), axis=1)

    def _train_steps(self, x_pool, y_pool, positions, first_step):
        """Train on batches positions[:, s] ((replicas, batch) rows of the pools) for every s; return per
        replica the batch-size-weighted sums of batch loss (with regularization) and metric values, as
        Keras's epoch logs accumulate them."""
        batch = tf.cast(tf.shape(positions)[2], tf.float32)  # positions: (replicas, steps, batch)
        loss_sum = tf.zeros([self.replicas])
        metric_sums = [tf.zeros([self.replicas]) for _ in self.metric_objects]
        for s in tf.range(tf.shape(positions)[1]):
            x, y = tf.gather(x_pool, positions[:, s]), tf.gather(y_pool, positions[:, s])
            with tf.GradientTape() as tape:
                prediction = self.forward(x, True, first_step + tf.cast(s, tf.int64))
                losses = tf.reduce_mean(self.loss(y, prediction), axis=1) + self.penalties()
                total = tf.reduce_sum(losses)
            self.optimizer.apply(tape.gradient(total, self.trainable), self.trainable)
            _, sums = self._sums(y, prediction)
            loss_sum += losses * batch
            metric_sums = [m + v for m, v in zip(metric_sums, sums)]
        return loss_sum, metric_sums

    def _evaluate_chunk(self, x_pool, y_pool, positions):
        """Inference on rows positions ((replicas, n)): summed loss and metrics per replica, predictions."""
        x, y = tf.gather(x_pool, positions), tf.gather(y_pool, positions)
        prediction = self.forward(x, False, tf.constant(0, tf.int64))
        loss_sum, metric_sums = self._sums(y, prediction)
        return loss_sum, metric_sums, prediction

    def replica_weights(self, replica: int) -> list:
        return [w[replica].numpy() for w in self.weights]

    def all_weights(self) -> list:
        """Host copies of every stacked weight, (replicas, ...) each."""
        return [w.numpy() for w in self.weights]

    def set_replica_weights(self, replica: int, values: list) -> None:
        for weight, value in zip(self.weights, values):
            weight[replica].assign(value)
