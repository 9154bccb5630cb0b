"""Where B1's engine=fast epoch goes: the engine's compiled training loop against stripped-down loops on
the same stacked shapes, each timed over one epoch after a compiling one, beside a float32 matmul.

    python -m bench.profile_fast [--samples 16384] [--replicas 8]

Rows: the engine's whole epoch (StackRun via the stepper), its Stack.train_steps alone (no Python epoch
bookkeeping), and hand-written XLA loops over the same (replicas, batch, features) batches: with Keras's
Adam, and with plain SGD. Their gaps say what the engine's extras (loss, metrics, penalties, Adam) cost.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import tensorflow as tf

from bench.flops import matmul_flops_per_second
from bench.workloads import article001_mlp, fast_stepper

BATCH = 128


def stacked_mlp(replicas: int, widths: list[int]) -> list[tf.Variable]:
    weights = []
    for inputs, outputs in zip(widths[:-1], widths[1:]):
        weights += [tf.Variable(tf.random.normal((replicas, inputs, outputs), stddev=0.05)),
                    tf.Variable(tf.zeros((replicas, 1, outputs)))]
    return weights


def hand_loop(weights: list, update):
    """An XLA epoch: gather each step's (replicas, batch) rows, forward, backward, `update`."""
    def forward(x):
        for layer in range(0, len(weights) - 2, 2):
            x = tf.nn.relu(tf.matmul(x, weights[layer]) + weights[layer + 1])
        return tf.matmul(x, weights[-2]) + weights[-1]

    @tf.function(jit_compile=True)
    def epoch(x_pool, y_pool, positions):  # positions: (steps, replicas, batch)
        for step in tf.range(tf.shape(positions)[0]):
            x, y = tf.gather(x_pool, positions[step]), tf.gather(y_pool, positions[step])
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y, forward(x)), axis=1))
            update(tape.gradient(loss, weights), weights)
    return epoch


def timed(run) -> float:
    run()  # compiles
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--replicas", type=int, default=8)
    args = parser.parse_args(argv)
    workload = article001_mlp(args.samples, epochs=3)
    workload = type(workload)(workload.trial, workload.dataset, args.replicas)
    flops = workload.training_flops_per_epoch(args.samples) * args.replicas
    stepper = fast_stepper(workload)
    seconds = {"engine epoch (StackRun)": stepper.timed_step()}
    stepper.finish()

    rng = np.random.default_rng(0)
    x_pool = tf.constant(rng.random((args.samples, 784), np.float32))
    y_pool = tf.one_hot(rng.integers(0, 10, args.samples), 10)
    steps = args.samples // BATCH
    positions = tf.constant(np.stack([rng.permutation(args.samples)[:steps * BATCH].reshape(steps, BATCH)
                                      for _ in range(args.replicas)], axis=1), tf.int32)
    widths = [784, *workload.trial.model.hidden_units, 10]
    adam_weights = stacked_mlp(args.replicas, widths)
    adam = tf.keras.optimizers.Adam()
    adam.build(adam_weights)
    sgd_weights = stacked_mlp(args.replicas, widths)
    loops = {"hand XLA loop, Keras Adam": hand_loop(adam_weights, adam.apply),
             "hand XLA loop, plain SGD": hand_loop(sgd_weights, lambda grads, weights: [
                 w.assign_sub(0.01 * g) for g, w in zip(grads, weights)])}
    for name, loop in loops.items():
        seconds[name] = timed(lambda loop=loop: loop(x_pool, y_pool, positions))
    peak = matmul_flops_per_second()
    print(f"{args.replicas} replicas x {args.samples} samples, batch {BATCH}; matmul {peak / 1e9:.1f} GFLOP/s")
    for name, value in seconds.items():
        print(f"{name:32s} {value:7.3f} s  {flops / value / 1e9:6.1f} GFLOP/s  {flops / value / peak:5.1%} of matmul")


if __name__ == "__main__":
    main()
