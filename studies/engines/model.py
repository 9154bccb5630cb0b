"""Keras objects from specs: the MLP, its optimizer, initializers, regularizers, activations, losses, callbacks.

A name is looked up in Keras itself (an unknown one is a `ConfigError` listing the valid ones); an optimizer,
initializer, regularizer, callback or model may instead be given by import path, `{_target_: path, **arguments}`
(studies/config/components.py).

A model builder `{_target_: my_pkg.models.build, **arguments}` is called as
`build(input_shape, classes, **arguments)` and returns an uncompiled `keras.Model`: input_shape is one sample's
shape, e.g. (784,) for the flattened built-in datasets; classes the number of classes, whose outputs must
suit train.loss (softmax over `classes` units for categorical cross-entropy). It is called right after
the trial's seed is set (keras.utils.set_random_seed), so weights drawn by Keras initializers are the same
for a seed on either engine. engine=fast also calls it once per setting on a stand-in input of
STAND_IN_SHAPE, before any data is loaded, to see whether it can run its layers.
"""
from __future__ import annotations

import inspect
import math

import keras
import numpy as np

from studies.config.components import TARGET, build, check_call, is_target, locate_function, resolve_arguments
from studies.config.settings import ConfigError, ModelSpec, OptimizerSpec, is_import_path
from studies.engines.legacy_optimizers import LEGACY_OPTIMIZERS

STAND_IN_SHAPE = (784,)  # a sample's shape where no data is loaded yet: the built-in datasets' own


def _classes(module, base) -> dict:
    return {name: obj for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, base) and obj is not base}


def optimizer_classes() -> dict:
    found = _classes(keras.optimizers, keras.optimizers.Optimizer)
    found.pop("LossScaleOptimizer", None)  # a wrapper, not an optimizer of its own
    return {**found, **LEGACY_OPTIMIZERS}


def _instantiate(classes: dict, base: type, spec, what: str, example: str):
    """`spec` is a class name or {name: ClassName, **constructor arguments} (one of `classes`), or
    {_target_: import.path.Class, **constructor arguments} (a subclass of `base`)."""
    if is_target(spec):
        return build(spec, what, base, example)
    params = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = params.pop("name", None)
    if name not in classes:
        raise ConfigError(f"unknown {what} {name!r}; valid: {', '.join(sorted(classes))}, "
                          f"or {{{TARGET}: import.path, ...}} such as {example}")
    arguments = resolve_arguments(params, what)  # a learning_rate schedule given as a _target_
    try:
        return classes[name](**arguments)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{what} {name}: bad argument(s) {params}: {error}") from None


def build_optimizer(spec: OptimizerSpec) -> keras.optimizers.Optimizer:
    named = {TARGET if is_import_path(spec.name) else "name": spec.name, **spec.params}
    return _instantiate(optimizer_classes(), keras.optimizers.Optimizer, named, "optimizer", "keras.optimizers.Adam")


def make_initializer(spec) -> keras.initializers.Initializer:
    if isinstance(spec, str):
        try:
            return keras.initializers.get(spec)
        except ValueError:
            pass  # reported below with the list of valid names
    base = keras.initializers.Initializer
    return _instantiate(_classes(keras.initializers, base), base, spec, "initializer", "keras.initializers.HeNormal")


def make_regularizer(spec) -> keras.regularizers.Regularizer | None:
    if spec is None:
        return None
    base = keras.regularizers.Regularizer
    return _instantiate(_classes(keras.regularizers, base), base, spec, "regularizer", "keras.regularizers.L2")


TRIAL_PLACEHOLDER = "{trial}"


def trial_file_name(trial) -> str:
    """What `{trial}` stands for in a callback's arguments: the trial by study, arm and seed, readable, and its id,
    unique (trials of one arm and seed differ by variant, profile, engine, backend or swept settings)."""
    return f"{trial.study}-{trial.arm}-seed{trial.seed}-{trial.trial_id}"


def for_trial(value, name: str):
    """`value` with `{trial}` in each string, also within lists and mappings, replaced by `name`. Only that
    placeholder: a callback's own ones, such as ModelCheckpoint's `{epoch}`, stay for it to fill."""
    if isinstance(value, str):
        return value.replace(TRIAL_PLACEHOLDER, name)
    if isinstance(value, dict):
        return {key: for_trial(item, name) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(for_trial(item, name) for item in value)
    return value


def make_callbacks(specs, trial=None) -> list[keras.callbacks.Callback]:
    """train.callbacks: fresh instances for one trial (a callback keeps state over its training), `{trial}` in
    their string arguments filled with `trial_file_name(trial)`, so that each trial writes its own files (every
    seed's CSVLogger wrote one file over); without a trial (checking the settings), the placeholder stays."""
    name = trial_file_name(trial) if trial is not None else TRIAL_PLACEHOLDER
    return [build(for_trial(spec, name), "callback", keras.callbacks.Callback, "keras.callbacks.CSVLogger")
            for spec in specs]


def check_activation(name: str) -> None:
    valid = sorted(n for n, f in vars(keras.activations).items()
                   if inspect.isfunction(f) and n not in {"get", "serialize", "deserialize"})
    if name not in valid:
        raise ConfigError(f"unknown activation {name!r}; valid: {', '.join(valid)}")


def check_loss(name: str) -> None:
    try:
        keras.losses.get(name)
    except ValueError:
        raise ConfigError(f"unknown loss {name!r}; valid: a keras.losses name such as "
                          "categorical_crossentropy, sparse_categorical_crossentropy, "
                          "binary_crossentropy, mean_squared_error") from None


def check_model(spec: ModelSpec) -> None:
    """Resolve every name in `spec` without building anything, so bad input fails before training."""
    if spec.builder is not None:
        check_call(spec.builder, spec.arguments, "model", STAND_IN_SHAPE, 10)
        return
    check_activation(spec.activation)
    check_activation(spec.output_activation)
    make_initializer(spec.kernel_initializer)
    make_initializer(_output_initializer(spec))
    make_regularizer(_output_regularizer(spec))
    make_regularizer(spec.kernel_regularizer)
    make_initializer(spec.batch_norm_moving_variance_initializer)


def check_builder_output(spec: ModelSpec, loss: str, classes: int, where: str) -> None:
    """A builder's model, on a stand-in batch of STAND_IN_SHAPE, gives what `loss` takes for `classes` classes
    (targets encoded as the engines encode them); a one-line ConfigError otherwise."""
    from studies.engines.labels import encode_targets

    what = f"{where} model _target_ {spec.builder}"
    try:
        outputs = _built(spec, STAND_IN_SHAPE, classes)(np.zeros((2, *STAND_IN_SHAPE), np.float32))
    except Exception as error:
        raise ConfigError(f"{what} failed on a stand-in input of shape {STAND_IN_SHAPE}: "
                          f"{error}".splitlines()[0]) from None
    try:
        keras.losses.get(loss)(encode_targets(np.zeros(2, np.int64), loss, classes), outputs)
    except Exception as error:
        raise ConfigError(f"{what}: its output of shape {tuple(outputs.shape)} on a batch of 2 does not suit loss "
                          f"{loss} for {classes} classes ({error}".splitlines()[0]
                          + "); give it one unit per class (the builder's `classes` argument)") from None


def _output_initializer(spec: ModelSpec):
    return spec.kernel_initializer if spec.output_initializer == "same" else spec.output_initializer


def _output_regularizer(spec: ModelSpec):
    return spec.kernel_regularizer if spec.output_regularizer == "same" else spec.output_regularizer


POOLING_LAYERS = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}


def build_model(spec: ModelSpec, input_dim: int, classes: int) -> keras.Model:
    """[The convolutions,] Dense [-> BatchNorm] -> activation [-> Dropout] per hidden layer, then
    Dense(output_units or classes); or what the spec's builder returns.

    Each layer gets its own initializer instance, drawn in layer order from Keras's global seed, so two
    models of one architecture built after the same `keras.utils.set_random_seed` start identical.
    """
    if spec.builder is not None:
        return _built(spec, (input_dim,), classes)
    inputs = keras.Input(shape=(input_dim,))
    x = _convolutions(spec, inputs, input_dim)
    for units in spec.hidden_units:
        x = keras.layers.Dense(units, kernel_initializer=make_initializer(spec.kernel_initializer),
                               kernel_regularizer=make_regularizer(spec.kernel_regularizer),
                               activation=None if spec.batch_norm else spec.activation)(x)
        if spec.batch_norm:
            x = keras.layers.BatchNormalization(
                momentum=spec.batch_norm_momentum, epsilon=spec.batch_norm_epsilon,
                moving_variance_initializer=make_initializer(spec.batch_norm_moving_variance_initializer))(x)
            x = keras.layers.Activation(spec.activation)(x)
        if spec.dropout_rate > 0:
            x = keras.layers.Dropout(spec.dropout_rate)(x)
    outputs = keras.layers.Dense(spec.output_units or classes, activation=spec.output_activation,
                                 kernel_initializer=make_initializer(_output_initializer(spec)),
                                 kernel_regularizer=make_regularizer(_output_regularizer(spec)))(x)
    return keras.Model(inputs, outputs)


def _built(spec: ModelSpec, input_shape: tuple, classes: int) -> keras.Model:
    """The builder's model; called directly, so that its own errors fail the trial with their message."""
    model = locate_function(spec.builder, "model", "my_package.models.build")(input_shape, classes, **spec.arguments)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model _target_ {spec.builder} returned {type(model).__name__}, not a keras.Model")
    return model


def _convolutions(spec: ModelSpec, x, input_dim: int):
    """The flat samples reshaped to spec.input_shape, each Conv2D block [-> pooling], then Flatten or global
    average pooling; x itself when the model has no convolutions."""
    if not spec.convolutions:
        return x
    if math.prod(spec.input_shape) != input_dim:
        raise ConfigError(f"model.input_shape={list(spec.input_shape)} holds {math.prod(spec.input_shape)} values "
                          f"but each sample has {input_dim}; valid: a shape whose product is {input_dim}")
    x = keras.layers.Reshape(spec.input_shape)(x)
    for block in spec.convolutions:
        x = keras.layers.Conv2D(block.filters, block.kernel_size, strides=block.strides, padding=block.padding,
                                activation=spec.activation,
                                kernel_initializer=make_initializer(spec.kernel_initializer),
                                kernel_regularizer=make_regularizer(spec.kernel_regularizer))(x)
        if block.pool is not None:
            x = POOLING_LAYERS[block.pool](block.pool_size)(x)
    return keras.layers.GlobalAveragePooling2D()(x) if spec.global_pooling else keras.layers.Flatten()(x)
