"""Same-architecture Keras models (MLPs and small CNNs) trained as one: every weight gets a leading replica axis.

Each replica is first built by `studies.engines.model.build_model` under its own seed, so it starts from exactly
the weights engine=keras would give it (each kernel drawn by its own `(in, out)`-shaped initializer
call); then the weights are stacked. The forward pass uses the Keras layers' own activations, dropout
rates and BatchNormalization arithmetic (`keras.ops.moments`, Keras's batch-normalization formula, the same
moving-average update); losses, metrics, regularizers and the optimizer are Keras's. The training loss is
the sum of the replicas' losses, so each replica's gradient is its own.

Every stacked weight is 3-D: a kernel as (replicas, out, in) (a Conv2D kernel (h, w, in, out) as
(replicas, out, h * w * in)), a bias or batch-norm vector as (replicas, 1, n). Then a per-replica learning
rate, shaped (replicas, 1, 1), broadcasts onto every variable in the Keras optimizer's own update (elementwise,
so indifferent to the layout), which is how replicas with different learning rates share one optimizer.
Kernels are kept transposed because XLA's CPU dot is up to 3x faster contracting the last axis of both operands
when a layer is narrow (article 002's Dense(2)), and no slower for article 001's 784-100 layers.

This class holds what both backends share: the stacked initial values, the layer plan and the forward
pass, losses, metrics and penalties, written with `keras.ops` on explicit weight values. Keeping and
updating the weights, and compiling the epoch loop, is the backend's: `stack_tensorflow.TensorFlowStack`
(tf.function + XLA, tf.Variables) and `stack_jax.JaxStack` (jax.jit, the optimizer's stateless_apply);
`stack_backends.make_stack` picks the one of the running Keras backend.
"""
from __future__ import annotations

import copy
import math

import keras
import numpy as np
from keras import ops

from studies.config.settings import ConfigError
from studies.engines.legacy_optimizers import Keras2Adagrad, Keras2Nadam
from studies.runtime.keras_internals import (
    apply_at_rate,
    compile_metric,
    learning_rate_schedule,
    per_sample_values,
    take_learning_rate_per_call,
)
from studies.runtime.seeding import dropout_stream

SUPPORTED_LAYERS = (keras.layers.InputLayer, keras.layers.Dense, keras.layers.BatchNormalization,
                    keras.layers.Activation, keras.layers.Dropout, keras.layers.Conv2D, keras.layers.MaxPooling2D,
                    keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling2D, keras.layers.Flatten,
                    keras.layers.Reshape)
COUPLING_OPTIMIZER_SETTINGS = ("clipnorm", "global_clipnorm")  # norms over a whole stacked variable
# Optimizers whose update is elementwise (so per replica on stacked variables), by class: a subclass may
# override the update. Lamb, Adafactor and Muon take norms or factorizations over a whole variable, which
# would mix the replicas; any other class is tested on a small stack first (`replicas_kept_apart`).
ELEMENTWISE_OPTIMIZERS = tuple(getattr(keras.optimizers, name) for name in (
    "SGD", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Ftrl", "Lion")) + (
    Keras2Adagrad, Keras2Nadam)


def resolve_metric(name: str, y_true, y_pred) -> keras.metrics.MeanMetricWrapper:
    """The Keras metric compile() would pick for `name` and these targets; it must be a per-sample mean."""
    metric = compile_metric(name, y_true, y_pred)
    if not isinstance(metric, keras.metrics.MeanMetricWrapper):
        raise ConfigError(f"engine fast: metric {name!r} is not a per-sample mean; use engine=keras for it")
    return metric


def optimizer_problem(optimizer: keras.optimizers.Optimizer) -> str | None:
    """Why a stack cannot train with `optimizer` (None: it can)."""
    for setting in COUPLING_OPTIMIZER_SETTINGS:
        if getattr(optimizer, setting, None) is not None:
            return f"optimizer {setting}={getattr(optimizer, setting)} would clip the norm of all replicas together"
    # The stack gives the optimizer its per-replica learning rates at each update (take_learning_rate_per_call).
    schedule = learning_rate_schedule(optimizer)
    if schedule is not None:
        return f"learning-rate schedule {type(schedule).__name__} is not supported"
    if type(optimizer) in ELEMENTWISE_OPTIMIZERS:
        return None
    return replicas_kept_apart(optimizer)


# Two replicas whose gradients differ 10^6-fold in scale: an update that takes a norm or a statistic over a
# whole variable moves the small one by the large one's measure. Elementwise arithmetic on a stacked weight
# and on a lone one may still differ in the last bit (vector and scalar code paths), hence a tolerance.
CHECK_SCALES, CHECK_STEPS, CHECK_SHAPES, CHECK_TOLERANCE = (1e-3, 1e3), 3, ((3, 4), (4,)), 1e-5


def replicas_kept_apart(optimizer: keras.optimizers.Optimizer) -> str | None:
    """None when `optimizer`'s class updates two stacked replicas (a kernel and a bias, as a stack holds them,
    with a learning rate per replica) exactly as it updates each alone (as Keras holds them) over a few steps;
    else why not."""
    name = type(optimizer).__name__
    try:
        fresh = [type(optimizer).from_config(optimizer.get_config()) for _ in range(1 + len(CHECK_SCALES))]
        rate = float(fresh[0].learning_rate)
        for each in fresh:
            take_learning_rate_per_call(each)
        rng = np.random.default_rng(0)
        starts = [[rng.normal(size=shape).astype("float32") for shape in CHECK_SHAPES] for _ in CHECK_SCALES]
        gradients = [[[scale * rng.normal(size=shape).astype("float32") for shape in CHECK_SHAPES]
                      for _ in range(CHECK_STEPS)] for scale in CHECK_SCALES]
        alone = [_steps(fresh[1 + r], starts[r], gradients[r], ops.convert_to_tensor(rate))
                 for r in range(len(CHECK_SCALES))]
        stacked = _steps(fresh[0], _stacked(starts), [_stacked(step) for step in zip(*gradients)],
                         ops.full((len(CHECK_SCALES), 1, 1), rate))  # one per replica, as a Stack has them
    except Exception as error:  # a class that cannot be re-created or run this way cannot be checked
        return (f"optimizer {name} could not be checked on a stack of two replicas "
                f"({type(error).__name__}: {error})".splitlines()[0])
    for r, values in enumerate(alone):
        for lone, start, together in zip(values, starts[r], stacked):
            moved = to_stacked(lone - start)
            if np.max(np.abs(moved - (together[r] - to_stacked(start)))) > CHECK_TOLERANCE * np.max(np.abs(moved)):
                return (f"optimizer {name}'s update of one replica depends on the others, as with a norm or "
                        "statistic over a whole variable: replicas cannot share a stack")
    return None


def _stacked(replicas) -> list:
    """[replica][weight] -> [weight] of stacked values, as a stack holds them."""
    return [np.stack([to_stacked(value) for value in values]) for values in zip(*replicas)]


def _steps(optimizer, starts: list, gradients: list, learning_rate) -> list:
    """The weights after applying `gradients` (one list per step) from `starts` at `learning_rate`, as numpy
    arrays."""
    variables = [keras.Variable(start) for start in starts]
    optimizer.build(variables)
    for step in gradients:
        apply_at_rate(optimizer, learning_rate, [ops.convert_to_tensor(g) for g in step], variables)
    return [np.asarray(ops.convert_to_numpy(v)) for v in variables]


def layer_problem(layer: keras.layers.Layer) -> str | None:
    """Why a stack cannot run `layer` (None: it can)."""
    if not isinstance(layer, SUPPORTED_LAYERS):
        return (f"layer {type(layer).__name__} is not supported; "
                f"supported: {', '.join(c.__name__ for c in SUPPORTED_LAYERS)}")
    valid = {"data_format": "channels_last", "dilation_rate": (1, 1), "groups": 1}
    for setting, value in valid.items():
        if getattr(layer, setting, value) != value:
            return f"{type(layer).__name__} {setting}={getattr(layer, setting)!r} is not supported; valid: {value!r}"
    if isinstance(layer, keras.layers.BatchNormalization) and (
            not (layer.center and layer.scale) or layer.renorm or layer.axis != -1):
        return "only BatchNormalization(axis=-1, center, scale, no renorm) is supported"
    return None


# A layer's settings that only choose its initial weights, or that a stack holds per replica beside the
# weights (a Dropout rate): stacks differing in them share compiled code. Its other settings are traced into it.
UNTRACED_LAYER_SETTINGS = {"name", "seed", "rate", "kernel_initializer", "bias_initializer", "gamma_initializer",
                           "beta_initializer", "moving_mean_initializer", "moving_variance_initializer"}


# Regularizers whose one factor a stack holds per replica, like the learning rate (by class: a subclass may
# compute otherwise), so that stacks of other strengths share compiled code; Keras's own __call__ computes
# the penalty, with the factor as a value. Any other regularizer is traced into the code with its settings.
FACTOR_REGULARIZERS = {keras.regularizers.L1: "l1", keras.regularizers.L2: "l2"}


def regularizer_factor(regularizer) -> float | None:
    """The factor a stack holds per replica for `regularizer` (None: none, its settings are traced)."""
    name = FACTOR_REGULARIZERS.get(type(regularizer))
    return None if name is None else float(getattr(regularizer, name))


def program_key(models: list, optimizer, loss: str, metrics: list, y_example, jit_compile) -> str:
    """Everything a `Stack`'s compiled code is traced from: the backend and float type, every replica's layers
    (types, settings, activations, its own regularizers, of L1 and L2 the class only) and weight shapes, the
    optimizer's class and settings but its name and learning rate, the loss, the metrics and the targets' type.
    Stacks of one key differ only in what the code takes as input (initial weights, learning and dropout rates,
    L1 and L2 factors, seeds, data), so one compiled program serves them."""
    # The activation object too, not only its config: a custom function's config may hold just its name.
    layers = [[(type(layer), getattr(layer, "activation", None),
                {k: _traced(layer, k, v) for k, v in layer.get_config().items() if k not in UNTRACED_LAYER_SETTINGS})
               for layer in model.layers] for model in models]
    settings = {k: v for k, v in optimizer.get_config().items() if k not in ("name", "learning_rate")}
    # The weights' shapes too: a layer's settings omit its input width (Dense(8) on 4 or 5 features).
    shapes = [tuple(weight.shape) for weight in models[0].weights]
    return repr((keras.backend.backend(), keras.config.floatx(), jit_compile, layers, shapes, type(optimizer),
                 settings, loss, list(metrics), np.shape(y_example)[1:], np.asarray(y_example).dtype.str))


def _traced(layer, setting: str, value):
    """What of a layer's setting is traced: a weight's L1 or L2 regularizer without its factor (held per replica)."""
    if setting.endswith("_regularizer") and setting != "activity_regularizer":
        regularizer = getattr(layer, setting, None)
        if regularizer_factor(regularizer) is not None:
            return type(regularizer)
    return value


def _refuse(problem: str | None) -> None:
    """A stack built anyway (the harness routes such trials to engine=keras first, studies/engines/fast.py)."""
    if problem is not None:
        raise ConfigError(f"engine fast: {problem} (or use engine=keras)")


def to_stacked(value: np.ndarray) -> np.ndarray:
    """A replica's Keras weight as its slice of the stacked weight: a kernel (..., out) as (out, ...
    flattened), a vector (n,) as (1, n)."""
    return np.transpose(np.reshape(value, (-1, value.shape[-1]))) if value.ndim >= 2 else value[None, :]


def to_keras(value, shape: tuple):
    """Inverse of `to_stacked`, for a slice whose Keras weight has `shape` (host or in-graph)."""
    return ops.reshape(ops.transpose(value) if len(shape) >= 2 else value, shape)


def rows(x):
    """(replicas, ..., n) as (replicas, rows, n): per-replica products and statistics over every position."""
    return ops.reshape(x, (ops.shape(x)[0], -1, ops.shape(x)[-1]))


def image_windows(x, size: tuple, strides: tuple, padding: str, pad_value: float = 0.0) -> list:
    """(replicas, batch, height, width, channels) -> one strided slice per window offset, in row-major order,
    each (replicas, batch, out_height, out_width, channels): output position p's window is element p of
    every slice. Padded with pad_value as Keras's "same" (the extra row or column at the end)."""
    x, out = _padded(x, size, strides, padding, pad_value)
    return [x[:, :, i:i + (out[0] - 1) * strides[0] + 1:strides[0], j:j + (out[1] - 1) * strides[1] + 1:strides[1], :]
            for i in range(size[0]) for j in range(size[1])]


def stacked_windows(x, size: tuple, strides: tuple, padding: str, pad_value: float = 0.0):
    """image_windows stacked on a last axis: (replicas, batch, out_height, out_width, channels, window offsets).
    Windows that tile the image (stride = size, as pooling's default) are cut by a reshape, whose gradient is
    one too: the strided slices' gradients are one padded copy each, which cost a pooled CNN's step a quarter."""
    if tuple(size) != tuple(strides):
        return ops.stack(image_windows(x, size, strides, padding, pad_value), axis=-1)
    x, out = _padded(x, size, strides, padding, pad_value)
    replicas, batch, channels = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[4]
    x = ops.reshape(x[:, :, :out[0] * size[0], :out[1] * size[1]],
                    (replicas, batch, out[0], size[0], out[1], size[1], channels))
    return ops.reshape(ops.transpose(x, (0, 1, 2, 4, 6, 3, 5)),
                       (replicas, batch, out[0], out[1], channels, size[0] * size[1]))


def _padded(x, size: tuple, strides: tuple, padding: str, pad_value: float) -> tuple:
    """x padded as Keras pads for `padding`, and the output's (height, width)."""
    if padding == "same":
        pads = [_same_padding(n, k, s) for n, k, s in zip(ops.shape(x)[2:4], size, strides)]
        x = ops.pad(x, [(0, 0), (0, 0), *pads, (0, 0)], constant_values=pad_value)
    return x, [(n - k) // s + 1 for n, k, s in zip(ops.shape(x)[2:4], size, strides)]


def image_patches(x, size: tuple, strides: tuple, padding: str):
    """Each output position's window as one vector, in a Conv2D kernel's (row, column, channel) order:
    copies only, so exact; a convolution is then a per-replica product like Dense's."""
    return ops.concatenate(image_windows(x, size, strides, padding), axis=-1)


def max_pool(x, size: tuple, strides: tuple, padding: str):
    """Max pooling as MaxPool computes it, value and gradient: each window's first maximum, which alone gets the
    gradient (TensorFlow's XLA MaxPool gradient refuses to run with deterministic ops). A one-hot of the windows'
    argmax picks it: the gradient is one select, where a chain of comparisons cost a CNN's step a quarter more."""
    windows = stacked_windows(x, size, strides, padding, -math.inf)
    first = ops.one_hot(ops.argmax(ops.stop_gradient(windows), axis=-1), ops.shape(windows)[-1]) > 0
    return ops.sum(ops.where(first, windows, 0.0), axis=-1)


def _same_padding(length: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max((-(-length // stride) - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


class Stack:
    """Stacked weights of `models` (identical architectures), trained with one Keras optimizer; the
    replicas' `learning_rates` may differ (the optimizer's other settings are shared), and so may their
    dropout rates and L1 or L2 regularizer factors.

    What a stack compiles depends only on its `program_key`: a later stack of the same key `restart`s an idle
    one (studies.engines.stack_backends) with its own weights, per-replica settings and seeds, and runs the
    same compiled code."""

    def __init__(self, models: list, optimizer, learning_rates: list, loss: str, metrics: list, seeds: list,
                 y_example, jit_compile=True):
        _refuse(optimizer_problem(optimizer))
        reference = models[0]
        self.replicas, self.seeds, self.jit_compile = len(models), seeds, jit_compile
        self.shapes = [tuple(w.shape) for w in reference.weights]
        self.trainable_positions = [i for i, w in enumerate(reference.weights) if w.trainable]
        self.regularizers = [[m.weights[i].regularizer for m in models] for i in range(len(self.shapes))]
        self.dropout_layers = [k for k, layer in enumerate(reference.layers) if isinstance(layer, keras.layers.Dropout)]
        index = {id(w): i for i, w in enumerate(reference.weights)}
        self.layers = [self._layer(number, layer, index) for number, layer in enumerate(reference.layers)]
        self.learning_rate_position = len(self.shapes) + len(self.dropout_layers)
        factored = [i for i, regularizers in enumerate(self.regularizers)
                    if any(regularizer_factor(r) is not None for r in regularizers)]
        self.factor_positions = {i: self.learning_rate_position + 1 + k for k, i in enumerate(factored)}
        self.initial = self.initial_values(models, learning_rates)
        self.loss = keras.losses.get(loss)
        example_prediction = np.zeros((1, reference.output_shape[-1]), np.float32)
        self.metric_objects = [resolve_metric(name, y_example[:1], example_prediction) for name in metrics]
        self.optimizer = optimizer
        take_learning_rate_per_call(optimizer)  # the backend's training step passes the per-replica rates

    def initial_values(self, models: list, learning_rates: list) -> list:
        """What a stack of `models` starts from: each stacked weight, then the per-replica settings as
        (replicas, 1, 1) values: each Dropout layer's rate, the learning rate, then the factor of each weight's
        L1 or L2 regularizer (0 for a replica without one)."""
        # The learning rate, like the dropout rates, is held beside the weights, even when all replicas share
        # it: as a compile-time constant XLA could fold it (a scalar, or all-equal values) into other
        # arithmetic, and a replica's bits must not depend on what else is in its stack. Being values, not
        # constants, they also leave the compiled code to the stacks of other rates (`restart`).
        weights = [np.stack([to_stacked(keras.ops.convert_to_numpy(m.weights[i].value)) for m in models])
                   for i in range(len(self.shapes))]
        settings = [[m.layers[k].rate for m in models] for k in self.dropout_layers] + [learning_rates] + [
            [regularizer_factor(m.weights[i].regularizer) or 0.0 for m in models] for i in self.factor_positions]
        return weights + [np.reshape(np.asarray(values, np.float32), (-1, 1, 1)) for values in settings]

    def restart(self, models: list, learning_rates: list, seeds: list) -> None:
        """Train `models`, a stack of this one's `program_key`, on this stack and its compiled code: their
        initial weights, rates and seeds loaded, the optimizer's variables as they were built (each backend
        keeps them as `optimizer_start`)."""
        self.seeds = seeds
        self.load_state([*self.initial_values(models, learning_rates), *self.optimizer_start])

    def _layer(self, number: int, layer, index: dict):
        _refuse(layer_problem(layer))
        positions = [index[id(w)] for w in layer.weights]
        if isinstance(layer, keras.layers.Dense):
            return self._dense, (positions, layer.activation)
        if isinstance(layer, keras.layers.Conv2D):
            return self._convolution, (positions, layer.activation, layer.kernel_size, layer.strides, layer.padding)
        if isinstance(layer, keras.layers.MaxPooling2D):
            return self._max_pool, (layer.pool_size, layer.strides, layer.padding)
        if isinstance(layer, keras.layers.AveragePooling2D):
            return self._average_pool, (layer.pool_size, layer.strides, layer.padding)
        if isinstance(layer, keras.layers.GlobalAveragePooling2D):
            return self._global_average, layer.keepdims
        if isinstance(layer, (keras.layers.Flatten, keras.layers.Reshape)):
            return self._reshape, tuple(layer.output.shape[1:])
        if isinstance(layer, keras.layers.BatchNormalization):
            return self._batch_norm, (positions, layer.momentum, layer.epsilon)
        if isinstance(layer, keras.layers.Activation):
            return self._activation, layer.activation
        if isinstance(layer, keras.layers.Dropout):
            return self._dropout, len(self.shapes) + self.dropout_layers.index(number)
        return None, None  # the input layer

    # The forward pass: x is (replicas, samples, features) or (replicas, samples, height, width, channels);
    # `values` holds every stacked weight.
    def forward(self, values: list, x, training: bool, step):
        """The predictions, and the batch-norm moving averages updated by this batch ({position: value})."""
        moving = {}
        for number, (apply, settings) in enumerate(self.layers):
            if apply is not None:
                x = apply(values, x, settings, training, (step, number), moving)
        return x, moving

    def _dense(self, values, x, settings, training, where, moving):
        positions, activation = settings
        return activation(_linear(values, x, *positions))

    def _convolution(self, values, x, settings, training, where, moving):
        positions, activation, size, strides, padding = settings
        return activation(_linear(values, image_patches(x, size, strides, padding), *positions))

    def _max_pool(self, values, x, settings, training, where, moving):
        return max_pool(x, *settings)

    def _average_pool(self, values, x, settings, training, where, moving):
        # Replicas folded into the batch: pooling has no weights, and each window is pooled on its own.
        shape = ops.shape(x)
        pooled = ops.average_pool(ops.reshape(x, (-1, *shape[2:])), *settings)
        return ops.reshape(pooled, (*shape[:2], *ops.shape(pooled)[1:]))

    def _global_average(self, values, x, keepdims, training, where, moving):
        return ops.mean(x, axis=[2, 3], keepdims=keepdims)

    def _reshape(self, values, x, shape, training, where, moving):
        return ops.reshape(x, (*ops.shape(x)[:2], *shape))

    def _batch_norm(self, values, x, settings, training, where, moving):
        shape = ops.shape(x)
        return ops.reshape(self._normalize(values, rows(x), settings, training, moving), shape)

    def _normalize(self, values, x, settings, training, moving):
        """Batch normalization of (replicas, rows, features): statistics over rows."""
        (gamma, beta, moving_mean, moving_variance), momentum, epsilon = settings
        if training:
            mean, variance = ops.moments(x, axes=[1], keepdims=True)
            for position, batch in ((moving_mean, mean), (moving_variance, variance)):
                moving[position] = values[position] * momentum + batch * (1.0 - momentum)
        else:
            mean, variance = values[moving_mean], values[moving_variance]
        # keras.ops.batch_normalization's formula (as tf.nn and Keras's jax backend write it), spelled out
        # because that op takes 1-D statistics and these are per replica.
        inverse = ops.rsqrt(variance + epsilon) * values[gamma]
        return x * inverse + (values[beta] - mean * inverse)

    def _activation(self, values, x, activation, training, where, moving):
        return activation(x)

    def _dropout(self, values, x, rates_position, training, where, moving):
        if not training:
            return x
        rates = ops.reshape(values[rates_position], (-1,) + (1,) * (len(ops.shape(x)) - 1))
        step, layer_number = where
        uniform = self.replica_uniform(ops.shape(x)[1:], dropout_stream(step, layer_number))
        return ops.where(uniform >= rates, x / (1.0 - rates), ops.zeros_like(x))

    def replica_uniform(self, shape, stream):
        """(replicas, *shape) uniform [0, 1) draws, replica r's from the stateless stream (seed r, stream)."""
        raise NotImplementedError

    def current_values(self) -> list:
        """Every stacked weight as the backend holds it now (variables or arrays)."""
        raise NotImplementedError

    def state(self) -> list:
        """Host copies of everything training changes: the stacked weights, then the optimizer's variables."""
        raise NotImplementedError

    def load_state(self, arrays: list) -> None:
        raise NotImplementedError

    def check_state(self, saved: dict) -> None:
        """ValueError unless `saved["stack"]` (a checkpoint's) has this stack's arrays, shapes and types."""
        mine, theirs = self.state(), saved["stack"]
        if [(a.shape, a.dtype) for a in mine] != [(np.shape(a), np.asarray(a).dtype) for a in theirs]:
            raise ValueError("its arrays do not fit this stack")

    def penalties(self, values: list):
        """(replicas,) regularization loss of each replica, from its own Keras regularizers."""
        total = ops.zeros([self.replicas])
        for position, (weight, shape, regularizers) in enumerate(zip(values, self.shapes, self.regularizers)):
            if any(regularizers):
                total += ops.stack([self._regularizer(r, values, position, i)(to_keras(weight[i], shape)) if r
                                    else ops.convert_to_tensor(0.0) for i, r in enumerate(regularizers)])
        return total

    def _regularizer(self, regularizer, values: list, position: int, replica: int):
        """Replica `replica`'s regularizer of weight `position`, its factor (if the stack holds it) read from
        `values`."""
        if regularizer_factor(regularizer) is None:
            return regularizer
        held = copy.copy(regularizer)
        factor = values[self.factor_positions[position]][replica]
        setattr(held, FACTOR_REGULARIZERS[type(regularizer)], ops.reshape(factor, ()))
        return held

    def training_losses(self, values: list, x, y, step):
        """Per replica its batch loss with regularization (what the gradient is taken of); per replica and
        sample its loss plus the replica's penalty (for the epoch's log); the predictions; the moving averages."""
        prediction, moving = self.forward(values, x, True, step)
        sample_losses, penalties = self.loss(y, prediction), self.penalties(values)
        return ops.mean(sample_losses, axis=1) + penalties, sample_losses + penalties[:, None], prediction, moving

    # Logged values leave the stack per sample, (replicas, samples), and are summed on the host
    # (`per_replica_sums`): a sum over samples compiled into the stack may be vectorised across replicas and
    # round differently with the number of replicas that share it.
    def sample_metrics(self, y, prediction) -> list:
        """Per replica and sample, its value of each metric (some metrics keep a last axis: its mean)."""
        return [self._per_sample(per_sample_values(m, y, prediction)) for m in self.metric_objects]

    def _per_sample(self, values):
        values = ops.reshape(ops.cast(values, "float32"), (self.replicas, ops.shape(values)[1], -1))
        return ops.mean(values, axis=2)

    def evaluation(self, values: list, x_pool, y_pool, positions):
        """Inference on rows positions (replicas, n): per replica and sample, the loss and each metric; the
        predictions."""
        x, y = ops.take(x_pool, positions, axis=0), ops.take(y_pool, positions, axis=0)
        prediction, _ = self.forward(values, x, False, 0)
        return self.loss(y, prediction), self.sample_metrics(y, prediction), prediction

    def evaluate_chunk(self, x_pool, y_pool, positions: np.ndarray):
        """`evaluation` compiled, on the current weights; host arrays out."""
        loss, metrics, prediction = self.compiled_evaluation(self.current_values(), x_pool, y_pool,
                                                             ops.convert_to_tensor(positions))
        return ops.convert_to_numpy(loss), [ops.convert_to_numpy(m) for m in metrics], ops.convert_to_numpy(prediction)

    def current_penalties(self) -> np.ndarray:
        return ops.convert_to_numpy(self.penalties(self.current_values()))

    def replica_weights(self, replica: int) -> list:
        """One replica's weights, shaped as its Keras model's."""
        return [ops.convert_to_numpy(to_keras(weight[replica], shape))
                for weight, shape in zip(self.current_values(), self.shapes)]


def _linear(values: list, x, kernel: int, bias: int | None = None):
    """x (replicas, ..., in) times each replica's kernel (replicas, out, in), plus its bias if it has one."""
    # One product per replica: a shared (samples, in) x (in, replicas * out) product is faster, but its
    # rounding depends on how many replicas share it.
    product = ops.einsum("rbi,roi->rbo", rows(x), values[kernel])
    if bias is not None:
        product = product + values[bias]  # (replicas, 1, out): added while the product is 3-D
    return ops.reshape(product, (*ops.shape(x)[:-1], ops.shape(product)[-1]))


def per_replica_sums(values) -> np.ndarray:
    """(replicas, samples) -> (replicas,) exactly rounded sums (math.fsum: independent of order and layout)."""
    return np.array([math.fsum(row) for row in np.asarray(values, np.float64)])

