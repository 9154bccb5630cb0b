"""From a loaded dataset to what one trial trains, validates and tests on.

Order of operations: keep the chosen classes; keep the first pool_first training samples; take validation data
(the test set, the last fraction of the training arrays as Keras's validation_split does, or article 002's draws
with replacement); cap the training and test sets (train_first, test_first); compute the regression target where
asked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from studies.config.settings import DatasetSpec
from studies.data.datasets import Dataset
from studies.runtime.seeding import split_draws

MNIST_TRAIN_SIZE = 60000  # draw ranges are stated for this size and scaled down for smaller datasets


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray  # class labels 0..classes-1, or float regression targets
    validation: tuple[np.ndarray, np.ndarray] | None  # per-epoch validation data, or None
    validation_name: str  # the split its metrics are stored under: test | val
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    sizes: dict = field(default_factory=dict)  # samples actually used: train, val, test


def keras_validation_split(x: np.ndarray, y: np.ndarray, fraction: float):
    """The last `fraction` of the arrays, before any shuffling, exactly as model.fit(validation_split=...)."""
    split_at = int(math.floor(len(x) * (1.0 - fraction)))
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def draw_indices(draw: dict, available: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Article 002: np.random.choice(range, n) for train and validation, i.e. with replacement."""
    rng = split_draws(seed)
    scale = min(1.0, available / MNIST_TRAIN_SIZE)
    picks = []
    for part in ("train", "val"):
        low, high = (int(round(bound * scale)) for bound in draw[f"{part}_range"])
        picks.append(low + rng.choice(high - low, size=draw[f"{part}_n"], replace=True))
    return picks[0], picks[1]


def _keep_classes(x: np.ndarray, y: np.ndarray, classes) -> tuple[np.ndarray, np.ndarray]:
    kept = np.isin(y, classes)
    relabel = {label: index for index, label in enumerate(classes)}
    return x[kept], np.array([relabel[label] for label in y[kept]], dtype=np.int64)


def ink_fraction(x: np.ndarray) -> np.ndarray:
    """The regression target of fit_basics: the fraction of an image's pixels brighter than 0.5."""
    return (x > 0.5).mean(axis=1).astype(np.float32)


def class_count(dataset: Dataset, spec: DatasetSpec) -> int:
    """The classes a trial trains on: those kept, else every label of the training data."""
    return len(spec.classes) if spec.classes is not None else int(dataset.y_train.max()) + 1


def make_splits(dataset: Dataset, spec: DatasetSpec, seed: int) -> Splits:
    x_train, y_train, x_test, y_test = dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test
    classes = class_count(dataset, spec)
    if spec.classes is not None:
        (x_train, y_train), (x_test, y_test) = (_keep_classes(x, y, spec.classes)
                                                for x, y in ((x_train, y_train), (x_test, y_test)))
    x_test, y_test = x_test[:spec.test_first], y_test[:spec.test_first]
    x_train, y_train = x_train[:spec.pool_first], y_train[:spec.pool_first]  # the book's search: 500 images
    validation, name = ((x_test, y_test), "test") if spec.validation == "test" else (None, "val")
    if spec.validation == "split":
        (x_train, y_train), validation = keras_validation_split(x_train, y_train, spec.validation_split)
    elif spec.validation == "drawn":
        train_index, val_index = draw_indices(spec.draw, len(x_train), seed)
        validation = (x_train[val_index], y_train[val_index])
        x_train, y_train = x_train[train_index], y_train[train_index]
    x_train, y_train = x_train[:spec.train_first], y_train[:spec.train_first]
    if spec.target == "ink_fraction":
        y_train, y_test = ink_fraction(x_train), ink_fraction(x_test)
        validation = validation and (validation[0], ink_fraction(validation[0]))
    sizes = {"train": len(x_train), "val": len(validation[0]) if validation else 0, "test": len(x_test)}
    return Splits(x_train, y_train, validation, name, x_test, y_test, classes, sizes)
