"""The batches of one epoch for every replica of a stack, in engine=keras's order.

Pass p over the training data visits `epoch_order(seed, p)` in batches of `batch_size`, the last one
partial; an epoch is `steps` consecutive batches of that stream (one pass unless steps_per_epoch is set).
With train.sampling=with_replacement, step s's batch is `replacement_batch(seed, s)` instead.
"""
from __future__ import annotations

import math

import numpy as np

from studies.runtime.seeding import epoch_order, replacement_batch


def epoch_batches(seeds: list, epoch: int, samples: int, batch_size: int, steps: int,
                  sampling: str = "epoch") -> list[np.ndarray]:
    """Rows of each step, grouped into runs of one batch size: a list of (replicas, steps, batch) arrays."""
    numbers = range(epoch * steps, (epoch + 1) * steps)
    if sampling == "with_replacement":  # every batch full: one run
        return [np.array([[replacement_batch(seed, step, samples, batch_size) for step in numbers] for seed in seeds])]
    per_pass = math.ceil(samples / batch_size)
    orders, runs = {}, [[]]
    for step in numbers:
        done, batch = divmod(step, per_pass)
        if done not in orders:
            orders[done] = np.stack([epoch_order(seed, done, samples) for seed in seeds])
        rows = orders[done][:, batch * batch_size:(batch + 1) * batch_size]
        if runs[-1] and runs[-1][-1].shape != rows.shape:
            runs.append([])
        runs[-1].append(rows)
    return [np.stack(run, axis=1) for run in runs]
