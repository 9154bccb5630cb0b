"""Typed, validated settings of one trial, resolved from the Hydra config.

Every field has a one-line doc comment; unknown keys and out-of-range values are rejected with a
`ConfigError` whose message names the bad value and the valid ones.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

IDENTITY_VERSION = 1


def _non_default(spec) -> dict:
    """A dataclass as a dict without the fields left at their defaults (recursively)."""
    kept = {}
    for item in dataclasses.fields(spec):
        value = getattr(spec, item.name)
        default = item.default_factory() if item.default_factory is not dataclasses.MISSING else item.default
        if dataclasses.is_dataclass(value):
            kept[item.name] = _non_default(value)
        elif isinstance(value, tuple) and value != default and all(dataclasses.is_dataclass(v) for v in value):
            kept[item.name] = [_non_default(v) for v in value]  # ModelSpec.convolutions
        elif value != default:
            kept[item.name] = value
    return kept


class ConfigError(ValueError):
    """A setting is unknown or out of range; the message is one line meant for the user."""


@dataclass(frozen=True)
class DatasetSpec:
    # fashion_mnist | mnist | with `_target_`, a loader's import path (studies/data/datasets.py)
    name: str = "fashion_mnist"
    arguments: dict = field(default_factory=dict)  # with `_target_`: the loader's keyword arguments
    train_first: int | None = None  # keep only the first N training samples (None: all)
    test_first: int | None = None  # keep only the first N test samples (None: all)
    pool_first: int | None = None  # take training and validation data from the first N training samples only
    validation: str = "test"  # per-epoch validation data: test (the test set) | split (the last fraction
    #                           of the training arrays, as Keras's validation_split) | drawn (see draw) | none
    validation_split: float = 0.2  # with validation=split: the fraction held out
    draw: dict | None = None  # article 002: {train_range: [a, b], train_n, val_range: [c, d], val_n}, with replacement
    classes: tuple[int, ...] | None = None  # keep only these classes, relabelled 0..k-1 in this order
    target: str = "class"  # class | ink_fraction (regression: fraction of pixels above 0.5)


POOLINGS = ("max", "average")  # ConvolutionSpec.pool: MaxPooling2D, AveragePooling2D
PADDINGS = ("valid", "same")


@dataclass(frozen=True)
class ConvolutionSpec:
    """One Conv2D block (channels last; the model's activation, kernel initializer and regularizer)."""

    filters: int  # output channels
    kernel_size: tuple[int, int]  # (height, width); an integer n means (n, n)
    strides: tuple[int, int] = (1, 1)  # an integer n means (n, n)
    padding: str = "valid"  # valid | same
    pool: str | None = None  # after the convolution: max | average | None (no pooling)
    pool_size: int = 2  # the pooling window, and its stride


@dataclass(frozen=True)
class ModelSpec:
    convolutions: tuple[ConvolutionSpec, ...] = ()  # Conv2D blocks before the hidden Dense layers (a CNN)
    input_shape: tuple[int, ...] | None = None  # with convolutions: each flat sample as (height, width, channels)
    global_pooling: bool = False  # after the convolutions: GlobalAveragePooling2D (true) or Flatten (false)
    hidden_units: tuple[int, ...] = (100, 100, 100, 100)  # width of each hidden Dense layer
    activation: str = "relu"  # hidden activation, a keras.activations name
    kernel_initializer: Any = "glorot_uniform"  # hidden kernels: a name or {name: Class, **params}
    batch_norm: bool = False  # BatchNormalization between each hidden Dense and its activation
    batch_norm_momentum: float = 0.99  # its moving-average momentum (Keras's default; the book's is 0.9)
    batch_norm_epsilon: float = 1e-3  # added to the variance before the square root (Keras's; the book's 1e-6)
    batch_norm_moving_variance_initializer: Any = "ones"  # the moving variance's start (Keras's; the book's zeros)
    dropout_rate: float = 0.0  # Dropout after each hidden activation; 0 means no Dropout layer
    kernel_regularizer: Any = None  # hidden kernels: None or {name: L2, l2: 0.1}
    output_activation: str = "softmax"  # output Dense keeps glorot_uniform, no regularizer
    output_units: int | None = None  # None: one per class; 1 for a sigmoid or regression output
    output_initializer: Any = "glorot_uniform"  # the output kernel's initializer; "same": as the hidden ones
    output_regularizer: Any = None  # the output kernel's regularizer; "same": as the hidden ones (the book)
    builder: str | None = None  # with `_target_`: import path of build(input_shape, classes, **arguments) ->
    #                             keras.Model (studies/engines/model.py), which replaces the MLP the fields above
    #                             describe
    arguments: dict = field(default_factory=dict)  # with `_target_`: the builder's keyword arguments


@dataclass(frozen=True)
class OptimizerSpec:
    name: str = "SGD"  # a keras.optimizers class name, a studybench legacy one (Keras2Adagrad...), or with
    #                    `_target_` an import path (a name never has a dot, a path always does)
    params: dict = field(default_factory=dict)  # constructor arguments, e.g. learning_rate


@dataclass(frozen=True)
class EarlyStoppingSpec:
    monitor: str = "val_loss"  # keras.callbacks.EarlyStopping arguments, same names and defaults
    min_delta: float = 0.0
    patience: int = 0
    mode: str = "auto"
    baseline: float | None = None
    restore_best_weights: bool = False
    start_from_epoch: int = 0


@dataclass(frozen=True)
class TrainSpec:
    batch_size: int = 32  # samples per gradient step
    epochs: int = 1  # epochs to train (an upper bound with early stopping)
    steps_per_epoch: int | None = None  # None: one pass over the data; 1: log every iteration (the book's plots)
    loss: str = "categorical_crossentropy"  # a keras.losses name
    metrics: tuple[str, ...] = ("accuracy",)  # keras metric names, logged every epoch
    early_stopping: EarlyStoppingSpec | None = None  # None: train all epochs
    checkpoint_best: bool = False  # ModelCheckpoint(save_best_only) keeps best_model.keras per trial
    sampling: str = "epoch"  # epoch: each pass visits every sample once, in a seeded order | with_replacement:
    #                          each step draws batch_size samples with replacement (the book's np.random.choice)
    evaluate_train: bool = False  # after each epoch, evaluate() the whole training data in inference mode (batch
    #                               norm's moving statistics), stored as split train_eval (the book's accuracy)
    callbacks: tuple[dict, ...] = ()  # extra Keras callbacks, each {_target_: import path, **arguments}


@dataclass(frozen=True)
class TrialSpec:
    """One trial: (study, variant, arm, seed, engine, profile) plus every setting that shapes it."""

    study: str
    variant: str
    arm: str
    label: str  # the arm in the article's words, for legends
    seed: int
    engine: str
    profile: str
    dataset: DatasetSpec
    model: ModelSpec
    optimizer: OptimizerSpec
    train: TrainSpec
    data_checksum: str = ""  # the loaded dataset's checksum: other data means another trial
    backend: str = "tensorflow"  # Keras's backend: another one draws other initial weights, so another trial
    seeds: dict | None = None  # {source: seed} for some of studies.runtime.seeding.SOURCES, drawn apart from `seed`
    #                            (studies/beyond/variance.py); None: `seed` draws every source, as ever

    def identity(self) -> dict:
        """What determines the trial's results; its hash is the trial's content hash.

        Settings left at their defaults are omitted, so that adding a setting later (with a default that
        keeps the old behaviour) does not orphan stored trials. Changing a default's meaning, or any
        other change to what a trial computes, must bump IDENTITY_VERSION.
        """
        content = _non_default(self)
        content.pop("label")
        return {"identity_version": IDENTITY_VERSION, **content}

    @property
    def config_hash(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def trial_id(self) -> str:
        return self.config_hash[:20]


def check_keys(mapping: Any, valid, where: str) -> None:
    """A mapping with no keys outside `valid`, else a one-line error naming them and the valid ones."""
    if not isinstance(mapping, dict):
        raise ConfigError(f"{where} must be a mapping, got {mapping!r}")
    unknown = sorted(set(mapping) - set(valid))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(valid)}")


def build_spec(cls, values: Any, where: str):
    """Build dataclass `cls` from a mapping, rejecting unknown keys with a one-line error."""
    values = {} if values is None else values
    check_keys(values, sorted(f.name for f in dataclasses.fields(cls)), where)
    return cls(**values)


def require_int(value: Any, where: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}={value!r} is out of range: must be an integer >= {minimum}")


def require_optional_int(value: Any, where: str, minimum: int) -> None:
    if value is not None:
        require_int(value, where, minimum)


def require_choice(value: Any, where: str, valid) -> None:
    if value not in valid:
        raise ConfigError(f"{where}: unknown value {value!r}; valid: {', '.join(map(str, valid))}")


def require_bool(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}={value!r} is not a boolean; valid: true, false")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require_fraction(value: Any, where: str) -> None:
    if not _is_number(value) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{where}={value!r} is out of range: must be in [0, 1)")


def require_positive(value: Any, where: str) -> None:
    if not _is_number(value) or not 0.0 < value < math.inf:
        raise ConfigError(f"{where}={value!r} is out of range: must be a finite number > 0")


def optimizer_arguments(params: dict, where: str) -> dict:
    """An optimizer's constructor arguments with a numeric learning rate checked (finite, > 0) and made a float:
    Keras refuses an int (`learning_rate=1`, as a command line writes 1.0). A schedule (a mapping) is Keras's."""
    rate = params.get("learning_rate")
    if rate is None or isinstance(rate, dict):
        return params
    require_positive(rate, f"{where}.learning_rate")
    return {**params, "learning_rate": float(rate)}


SAMPLINGS = ("epoch", "with_replacement")  # TrainSpec.sampling
DATASETS = ("fashion_mnist", "mnist")  # DatasetSpec.name, besides a loader's import path
DRAW_KEYS = ("train_range", "train_n", "val_range", "val_n")


def is_import_path(name: Any) -> bool:
    """A `_target_` path where a spec's name may also be a built-in's name: a name never has a dot."""
    return isinstance(name, str) and "." in name


def validate_dataset(spec: DatasetSpec, where: str) -> None:
    if not is_import_path(spec.name):  # a loader's path is checked where it is resolved (studies/run/plan.py)
        require_choice(spec.name, f"{where}.name", DATASETS)
    require_optional_int(spec.train_first, f"{where}.train_first", 1)
    require_optional_int(spec.test_first, f"{where}.test_first", 1)
    require_optional_int(spec.pool_first, f"{where}.pool_first", 1)
    require_choice(spec.validation, f"{where}.validation", ("test", "split", "drawn", "none"))
    require_choice(spec.target, f"{where}.target", ("class", "ink_fraction"))
    if not 0.0 < spec.validation_split < 1.0:
        raise ConfigError(f"{where}.validation_split={spec.validation_split!r} is out of range: must be in (0, 1)")
    if (spec.validation == "drawn") != (spec.draw is not None):
        raise ConfigError(f"{where}: validation=drawn and draw go together (validation={spec.validation!r})")
    if spec.draw is not None:
        if sorted(spec.draw) != sorted(DRAW_KEYS):
            raise ConfigError(f"{where}.draw must have exactly the keys {', '.join(DRAW_KEYS)}, "
                              f"got {sorted(spec.draw)}")
        for key in ("train_n", "val_n"):
            require_int(spec.draw[key], f"{where}.draw.{key}", 1)
        for key in ("train_range", "val_range"):
            low, high = spec.draw[key]
            if not 0 <= low < high:
                raise ConfigError(f"{where}.draw.{key}={[low, high]} is out of range: need 0 <= start < end")


def _pair(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def with_convolutions(spec: ModelSpec, where: str) -> ModelSpec:
    """`spec` with its convolutions' mappings (from the config) as ConvolutionSpecs, sizes as pairs."""
    blocks = []
    for number, values in enumerate(spec.convolutions):
        block = f"{where}.convolutions[{number}]"
        check_keys(values, [f.name for f in dataclasses.fields(ConvolutionSpec)], block)
        if "filters" not in values or "kernel_size" not in values:
            raise ConfigError(f"{block}={values!r} lacks filters or kernel_size; both are required")
        blocks.append(ConvolutionSpec(**{**values, "kernel_size": _pair(values["kernel_size"]),
                                         "strides": _pair(values.get("strides", 1))}))
    shape = None if spec.input_shape is None else tuple(spec.input_shape)
    return dataclasses.replace(spec, convolutions=tuple(blocks), input_shape=shape)


def validate_convolutions(spec: ModelSpec, where: str) -> None:
    if bool(spec.convolutions) != (spec.input_shape is not None):
        raise ConfigError(f"{where}: convolutions and input_shape go together (input_shape={spec.input_shape!r}, "
                          f"{len(spec.convolutions)} convolutions); valid: both, e.g. input_shape [28, 28, 1], "
                          "or neither")
    if spec.global_pooling and not spec.convolutions:
        raise ConfigError(f"{where}.global_pooling=true needs convolutions to pool")
    if spec.input_shape is not None:
        if len(spec.input_shape) != 3:
            raise ConfigError(f"{where}.input_shape={list(spec.input_shape)} must be [height, width, channels]")
        for size in spec.input_shape:
            require_int(size, f"{where}.input_shape", 1)
    for number, block in enumerate(spec.convolutions):
        name = f"{where}.convolutions[{number}]"
        require_int(block.filters, f"{name}.filters", 1)
        for setting in ("kernel_size", "strides"):
            if len(getattr(block, setting)) != 2:
                raise ConfigError(f"{name}.{setting}={list(getattr(block, setting))} must be n or [height, width]")
            for size in getattr(block, setting):
                require_int(size, f"{name}.{setting}", 1)
        require_choice(block.padding, f"{name}.padding", PADDINGS)
        require_choice(block.pool, f"{name}.pool", (*POOLINGS, None))
        require_int(block.pool_size, f"{name}.pool_size", 1)


def validate_model(spec: ModelSpec, where: str) -> None:
    validate_convolutions(spec, where)
    if not spec.hidden_units:
        raise ConfigError(f"{where}.hidden_units is empty: give at least one layer width")
    for units in spec.hidden_units:
        require_int(units, f"{where}.hidden_units", 1)
    require_optional_int(spec.output_units, f"{where}.output_units", 1)
    require_fraction(spec.dropout_rate, f"{where}.dropout_rate")
    require_fraction(spec.batch_norm_momentum, f"{where}.batch_norm_momentum")
    require_positive(spec.batch_norm_epsilon, f"{where}.batch_norm_epsilon")


def validate_train(spec: TrainSpec, where: str) -> None:
    require_int(spec.batch_size, f"{where}.batch_size", 1)
    require_int(spec.epochs, f"{where}.epochs", 1)
    require_optional_int(spec.steps_per_epoch, f"{where}.steps_per_epoch", 1)
    require_choice(spec.sampling, f"{where}.sampling", SAMPLINGS)
    require_bool(spec.evaluate_train, f"{where}.evaluate_train")
    if spec.early_stopping is not None:
        require_int(spec.early_stopping.patience, f"{where}.early_stopping.patience", 0)
        require_choice(spec.early_stopping.mode, f"{where}.early_stopping.mode", ("auto", "min", "max"))
