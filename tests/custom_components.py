"""Components a user names by import path (`_target_`), for tests/test_components.py."""
import keras
import numpy as np
from keras import ops


class SignSGD(keras.optimizers.Optimizer):
    """p -= lr * sign(g): elementwise, not a class engine=fast knows, so checked on a small stack and stacked."""

    def update_step(self, gradient, variable, learning_rate):
        self.assign_sub(variable, ops.multiply(ops.cast(learning_rate, variable.dtype), ops.sign(gradient)))


class NormalizedSGD(keras.optimizers.Optimizer):
    """p -= lr * g / |g|, the norm over the whole variable: on a stack it would mix the replicas, so trials
    with it fall back to engine=keras."""

    def update_step(self, gradient, variable, learning_rate):
        step = ops.divide(gradient, ops.sqrt(ops.sum(ops.square(gradient))) + 1e-12)
        self.assign_sub(variable, ops.multiply(ops.cast(learning_rate, variable.dtype), step))


class Unrecreatable(SignSGD):
    """SignSGD with a setting its get_config() leaves out, so it cannot be re-created for the check."""

    def __init__(self, momentum, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum


class ScaledGlorot(keras.initializers.GlorotUniform):
    """Glorot uniform times `scale`."""

    def __init__(self, scale=1.0, seed=None):
        super().__init__(seed=seed)
        self.scale = scale

    def __call__(self, shape, dtype=None):
        return super().__call__(shape, dtype) * self.scale


def small_mlp(input_shape, classes, units=16, layer_norm=False, outputs=None):
    """A model builder: Dense(units) [-> LayerNormalization, which engine=fast cannot stack] -> softmax over
    `outputs` units (None: one per class; another number is a builder that ignores `classes`)."""
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(units, activation="relu")(inputs)
    if layer_norm:
        x = keras.layers.LayerNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(outputs or classes, activation="softmax")(x))


def blobs(samples=300, features=8, seed=0, first_value=None, label_shift=0):
    """A dataset loader: three Gaussian blobs, ((x_train, y_train), (x_test, y_test)); `first_value` replaces
    the first feature of the first sample (e.g. nan), `label_shift` is added to every label (bad data for tests)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, samples) + label_shift
    x = rng.normal(size=(samples, features)).astype(np.float32) + y[:, None]
    if first_value is not None:
        x[0, 0] = first_value
    cut = samples * 2 // 3
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
