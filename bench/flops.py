"""FLOP counts of the studies' MLPs, and the float32 matmul rate they are compared with.

Only the Dense matmuls are counted (2 FLOPs per multiply-add): biases, activations, batch norm, dropout,
losses and optimizer updates are elementwise and small beside them. Training a sample costs its forward
pass, the weight gradients of every Dense layer, and the input gradients of every layer but the first
(nothing needs the gradient with respect to the data).
"""
from __future__ import annotations

import time

import keras
import numpy as np

FEATURES = 784  # every study's images are 28x28, flattened


def dense_sizes(hidden_units, outputs: int, features: int = FEATURES) -> list[tuple[int, int]]:
    """(inputs, outputs) of each Dense layer of the MLP."""
    widths = [features, *hidden_units, outputs]
    return list(zip(widths[:-1], widths[1:]))


def forward_flops(sizes: list[tuple[int, int]]) -> int:
    """FLOPs of one sample's forward pass."""
    return sum(2 * inputs * outputs for inputs, outputs in sizes)


def training_flops(sizes: list[tuple[int, int]]) -> int:
    """FLOPs of one sample's training step: forward, weight gradients, input gradients but the first's."""
    first_inputs, first_outputs = sizes[0]
    return 3 * forward_flops(sizes) - 2 * first_inputs * first_outputs


def matmul_variants() -> list:
    """The running Keras backend's float32 matmuls: TensorFlow's plain (oneDNN) and XLA-compiled ones, or
    JAX's jit-compiled one."""
    if keras.backend.backend() == "jax":
        import jax

        return [jax.jit(jax.numpy.matmul)]
    import tensorflow as tf

    return [tf.matmul, tf.function(tf.matmul, jit_compile=True)]


def _timed_matmul(left, right, multiply) -> float:
    keras.ops.convert_to_numpy(multiply(left, right))  # compile, and touch the memory, outside the timing
    started = time.perf_counter()
    keras.ops.convert_to_numpy(multiply(left, right))
    return time.perf_counter() - started


def matmul_flops_per_second(size: int = 4096, repeats: int = 2) -> float:
    """Best float32 FLOP/s of a size x size matmul in the running backend, over `repeats` tries of each of
    its matmuls."""
    rng = np.random.default_rng(0)
    left, right = (keras.ops.convert_to_tensor(rng.random((size, size), np.float32)) for _ in range(2))
    best = min(_timed_matmul(left, right, multiply) for multiply in matmul_variants() for _ in range(repeats))
    return 2 * size ** 3 / best
