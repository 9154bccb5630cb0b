"""Seeds: what makes trial seed s reproducible bit for bit and paired across arms.

Every arm of seed s sees the same batch order (drawn here, independent of the model) and, where the
architecture matches, the same initial weights (Keras's global seed is set right before the model is built).
"""
from __future__ import annotations

import numpy as np


def epoch_order(seed: int, epoch: int, samples: int) -> np.ndarray:
    """The sample order of one epoch (0-based), a function of (seed, epoch) alone."""
    return np.random.default_rng([seed, epoch]).permutation(samples)


def training_order(seed: int, epochs: int, samples: int) -> np.ndarray:
    """(epochs, samples) indices: row e is the order of epoch e."""
    return np.stack([epoch_order(seed, epoch, samples) for epoch in range(epochs)])


def seed_everything(seed: int) -> None:
    """Python, NumPy, TensorFlow and Keras's global seed generator, for initial weights and dropout."""
    import keras

    keras.utils.set_random_seed(seed)
